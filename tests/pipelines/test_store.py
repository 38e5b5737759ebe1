"""StorePipeline and DedupPipeline write runs, report copies, reports and quarantine entries
during a crawl; a replay of the same items adds nothing; the pipelines share one connection."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from scrapy import Spider
from scrapy.settings import Settings
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.defer import deferred_f_from_coro_f
from scrapy.utils.test import get_crawler

from gkcrawl import PARSER_VERSION
from gkcrawl.items import DocumentItem, ReportItem
from gkcrawl.parsing import parse_document
from gkcrawl.pipelines.base import Pipeline
from gkcrawl.pipelines.dedup import DedupPipeline
from gkcrawl.pipelines.store import StorePipeline
from gkcrawl.store import close_store_for, is_postgres_url, open_store, store_for, store_target
from gkcrawl.store.__init__ import _stores
from tests.samples import WZS, quarantine_item, report_item
from tests.shared import seed_path

CRAWL_ID = "crawl-a"


def store_settings(target: str, tmp_path: Path) -> dict[str, Any]:
    key = "STORE_URL" if is_postgres_url(target) else "STORE_PATH"
    return {key: target, "ARCHIVE_DIR": str(tmp_path / "archive"), "CRAWL_ID": CRAWL_ID}


class ItemSpider(Spider):
    """Yields the given items from start(): a crawl without the network."""

    name = "store_test"
    items: list[Any]

    async def start(self):  # type: ignore[override]
        for item in self.items:
            yield item


class StoreProbe(Pipeline):
    """Notes the store the pipelines of a crawl use."""

    stores: list[Any] = []  # noqa: RUF012 - test probe

    def process_item(self, item: object) -> object:
        self.stores.append(store_for(self.crawler))
        return item


def seed_item() -> ReportItem:
    seed = seed_path("004")
    result = parse_document(seed.read_bytes(), "text/plain")
    assert result.ok
    report = {**result.to_dict(), "source_url": "http://www.gongbujiangda.gov.cn/1.html"}
    warc = {"filename": "crawl-a/x.warc.gz", "offset": 0, "length": 10, "record_id": "<seed>",
            "digest": "sha1:SEED"}
    return ReportItem(**report, portal="xizang", crawl_id=CRAWL_ID, warc=warc)


def crawl_items() -> list[Any]:
    return [
        report_item(),
        report_item(url="http://www.wzs.gov.cn/zwgk/ndbg/2023-copy.html", record_id="<second>"),
        report_item(url="http://mirror.example.com/2023.html", record_id="<mirror>"),
        report_item(organ=None, record_id="<no-organ>"),
        seed_item(),
        quarantine_item(),
    ]


async def crawl(target: str, tmp_path: Path) -> Any:
    crawler = get_crawler(ItemSpider, {
        **store_settings(target, tmp_path),
        "ITEM_PIPELINES": {DedupPipeline: 400, StoreProbe: 500, StorePipeline: 800,
                           "gkcrawl.pipelines.quarantine.QuarantinePipeline": 900},
    })
    await crawler.crawl_async(items=crawl_items())
    return crawler


@deferred_f_from_coro_f
async def test_crawl_then_replay(target: str, tmp_path: Path) -> None:
    StoreProbe.stores.clear()
    first = await crawl(target, tmp_path)
    assert first.stats.get_value("dedup/chosen") == 3
    assert first.stats.get_value("dedup/without_organ_or_year") == 1
    assert first.stats.get_value("store/quarantine") == 1
    assert first.stats.get_value("quarantine/items") == 1  # passed on to QuarantinePipeline
    assert first not in _stores and all(s.closed for s in StoreProbe.stores)
    second = await crawl(target, tmp_path)  # a replay of the same records
    assert second.stats.get_value("item_scraped_count") == 5

    with open_store(target) as store:
        [run] = store.runs()
        assert (run.crawl_id, run.spider, run.parser_version) == (CRAWL_ID, "store_test",
                                                                  PARSER_VERSION)
        assert run.starts == 2 and run.finish_reason == "finished" and run.finished_at
        assert run.stats is not None and run.stats["item_scraped_count"] == 5
        assert isinstance(run.stats["start_time"], str)  # datetimes stored as ISO strings

        sources = store.sources()
        assert len(sources) == 5
        organ = WZS
        copies = {s.url: s.role for s in store.sources(organ, 2023)}
        assert copies == {"http://www.wzs.gov.cn/zwgk/ndbg/2023.html": "copy",
                          "http://www.wzs.gov.cn/zwgk/ndbg/2023-copy.html": "chosen",
                          "http://mirror.example.com/2023.html": "copy"}
        assert {s.url: s.official for s in store.sources(organ, 2023)}[
            "http://mirror.example.com/2023.html"] is False
        report = store.report(organ, 2023)
        assert report is not None and report.n_sources == 3
        assert report.source_id == next(s.id for s in sources if s.record_id == "<second>")
        assert [(r.organ_key, r.year) for r in store.reports()] == [
            ("五指山市政府办公室", 2023), ("工布江达县政府", 2020)]
        seed = store.report("工布江达县政府", 2020)
        assert seed is not None and seed.format == "2019"
        assert seed.report["active_disclosure"]["centralized_procurement"]["amount_10k_yuan"] \
            == 2359.4197
        [entry] = store.quarantine()
        assert entry.code == "scanned_pdf" and entry.warc_offset == 99
    # every pipeline of a crawl used its one connection
    assert len({id(s) for s in StoreProbe.stores}) == 2


def test_process_item_by_hand(target: str, tmp_path: Path) -> None:
    """StorePipeline stores quarantine entries and passes report items on untouched."""
    crawler = get_crawler(Spider, store_settings(target, tmp_path))
    crawler.stats = MemoryStatsCollector(crawler)
    pipeline = StorePipeline.from_crawler(crawler)
    spider = SimpleNamespace(name="manual")
    pipeline.spider_opened(spider)
    item = report_item()
    assert pipeline.process_item(item) is item and item.dedup is None
    q = quarantine_item()
    assert pipeline.process_item(q) is q
    pipeline.spider_closed(spider, "finished")
    store = store_for(crawler)
    assert store.sources() == [] and len(store.quarantine()) == 1
    [run] = store.runs()
    assert run.finish_reason == "finished" and run.stats == {"store/quarantine": 1}
    close_store_for(crawler)
    assert store.closed


def test_store_target_settings(tmp_path: Path) -> None:
    assert store_target(Settings({"ARCHIVE_DIR": str(tmp_path)})) == str(
        tmp_path / "gkcrawl.sqlite3")
    assert store_target(Settings({})) == str(Path("archive") / "gkcrawl.sqlite3")
    assert store_target(Settings({"STORE_PATH": "/x/s.db", "ARCHIVE_DIR": "/a"})) == "/x/s.db"
    assert store_target(Settings({"STORE_URL": "postgresql://u@h/db",
                                  "STORE_PATH": "/x/s.db"})) == "postgresql://u@h/db"


class FailingPipeline(Pipeline):
    """Raises on one document, as a parser bug or a store that cannot open would."""

    def process_item(self, item: object) -> object:
        if isinstance(item, DocumentItem) and item.url.endswith("/broken.html"):
            raise RuntimeError("something broke")
        return item


@deferred_f_from_coro_f
async def test_an_item_a_pipeline_raised_on_is_quarantined_not_lost(target: str,
                                                                    tmp_path: Path) -> None:
    warc = {"filename": "crawl-a/x.warc.gz", "offset": 500, "length": 99,
            "record_id": "<broken>", "digest": "sha1:BROKEN"}
    broken = DocumentItem(url="http://www.wzs.gov.cn/zwgk/ndbg/broken.html", body=b"<html/>",
                          content_type="text/html", portal="wzs", role="report",
                          crawl_id=CRAWL_ID, warc=warc)
    crawler = get_crawler(ItemSpider, {
        **store_settings(target, tmp_path),
        "EXTENSIONS": {"gkcrawl.pipelines.quarantine.PipelineErrorQuarantine": 25},
        "ITEM_PIPELINES": {FailingPipeline: 100, DedupPipeline: 400, StorePipeline: 800},
    })
    await crawler.crawl_async(items=[broken, report_item()])
    assert crawler.stats.get_value("quarantine/pipeline_errors") == 1
    assert crawler.stats.get_value("quarantine/unstored") is None
    with open_store(target) as store:
        [entry] = store.quarantine()
        assert (entry.url, entry.code, entry.record_id, entry.warc_offset) == (
            broken.url, "pipeline_error", "<broken>", 500)
        assert entry.reason == "pipeline error: RuntimeError: something broke"
        assert len(store.sources()) == 1  # the other item went on
