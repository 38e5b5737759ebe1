"""A replay ends as soon as its last document is through, not at the engine's next heartbeat.

``start()`` learns that an item is done from ``item_scraped``, while the scraper still counts
it; the engine looks for the end of a run once, when ``start()`` ends, and then only every 5 s.
An ``item_scraped`` handler that takes a few event-loop turns (any async one) must not make a
replay that has finished wait those 5 s.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.settings import Settings
from scrapy.utils.defer import deferred_f_from_coro_f
from scrapy.utils.test import get_crawler

from gkcrawl.archive.writer import WarcWriter
from gkcrawl.demo.render.html import render_html
from gkcrawl.demo.render.reports import random_report
from gkcrawl.spiders.replay import ReplaySpider

REPORTS = 3
#: what the slow handler takes per item; the run itself takes well under a second
HANDLER_S = 0.05
#: the engine's idle heartbeat is 5 s: a run that waited for it takes longer than this
PROMPT_S = 3.0


class SlowScrapedHandler:
    """An extension with an async ``item_scraped`` handler (a feed to a remote store, say)."""

    def __init__(self, crawler: Crawler) -> None:
        crawler.signals.connect(self.item_scraped, signal=signals.item_scraped)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SlowScrapedHandler:
        return cls(crawler)

    async def item_scraped(self, item: object) -> None:
        await asyncio.sleep(HANDLER_S)


def write_archive(root: Path) -> Path:
    with WarcWriter(root, "end-crawl") as writer:
        for n in range(REPORTS):
            report = random_report(random.Random(n), "2021", organ=f"示例县第{n + 1}街道办事处")
            url = f"http://www.example.gov.cn/zfxxgk/ndbg/t{n}.html"
            pointer = writer.write_exchange(
                url=url, status=200, protocol="HTTP/1.1",
                response_headers=[(b"Content-Type", b"text/html; charset=utf-8")],
                response_body=render_html(report))
            writer.write_metadata(pointer.record_id, url, {"portal": "test", "role": "report",
                                                           "in-portal": "true"})
    return root / "end-crawl"


async def replay(tmp_path: Path, settings: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """Replay a fresh archive of REPORTS pages with the project's pipelines and ``settings``:
    the run's stats and the number of reports stored."""
    crawl_dir = write_archive(tmp_path / "archive")
    project = Settings()
    project.setmodule("gkcrawl.settings")
    store = tmp_path / "store.sqlite3"
    crawler = get_crawler(ReplaySpider, {
        "ITEM_PIPELINES": project.getdict("ITEM_PIPELINES"),
        "ARCHIVE_DIR": str(tmp_path / "archive"), "STORE_PATH": str(store),
        "CRAWL_ID": "replay-end-test", "LOG_LEVEL": "WARNING", **settings,
    })
    await crawler.crawl_async(archive=str(crawl_dir))
    with sqlite3.connect(store) as conn:
        stored = conn.execute("SELECT count(*) FROM reports").fetchone()[0]
    return crawler.stats.get_stats(), stored


@deferred_f_from_coro_f
async def test_replay_ends_without_waiting_for_the_heartbeat(tmp_path: Path) -> None:
    stats, stored = await replay(tmp_path, {"EXTENSIONS": {SlowScrapedHandler: 0}})
    assert stats["finish_reason"] == "finished"
    assert stored == REPORTS
    assert stats["elapsed_time_seconds"] < PROMPT_S, "the run waited for the engine's heartbeat"
