"""The crawl's pipelines under the parsing limits: a document over one is quarantined with its
reason and counted while the crawl goes on; a resumed crawl does not parse it again; a replay
with the limit raised does."""

from __future__ import annotations

import random
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest
from scrapy.utils.defer import deferred_f_from_coro_f
from scrapy.utils.project import get_project_settings
from scrapy.utils.test import get_crawler

from gkcrawl.demo.render.pdf import render_pdf
from gkcrawl.demo.render.reports import random_report
from gkcrawl.items import DocumentItem
from gkcrawl.parsing import Parsed
from gkcrawl.parsing.pool import ParsePool
from gkcrawl.store import open_store
from tests.bombs import MiB, docx_bomb, pdf_bomb, pdf_of_operators
from tests.pipelines.test_store import ItemSpider

SITE = "http://www.wzs.gov.cn/zwgk/ndbg/"
OPERATORS, DOCX_BOMB, PDF_BOMB, REPORT = (SITE + name for name in (
    "operators.pdf", "bomb.docx", "bomb.pdf", "2023.pdf"))
#: a time limit the million-operator PDF goes over (it takes minutes) and the rest stays well
#: under on a busy machine; a small inflation limit: the bombs are measured in a fraction of it
LIMITS = {"PARSE_TIME_LIMIT": 5, "PARSE_MAX_INFLATED": 64 * MiB, "PARSE_WORKERS": 1}


@pytest.fixture(scope="module")
def documents() -> list[DocumentItem]:
    """A document over each limit, and a report."""
    bodies = {OPERATORS: pdf_of_operators(1_000_000), DOCX_BOMB: docx_bomb(300 * MiB),
              PDF_BOMB: pdf_bomb(1024 * MiB), REPORT: render_pdf(random_report(random.Random(5)))}
    return [DocumentItem(url=url, body=body, content_type=None, portal="hainan", role="attachment",
                         crawl_id="crawl-a",
                         warc={"filename": "crawl-a/a.warc.gz", "offset": n * 1000, "length": 999,
                               "record_id": f"<urn:uuid:{n}>", "digest": f"sha1:{n}"})
            for n, (url, body) in enumerate(bodies.items())]


@pytest.fixture
def submitted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The URLs sent to a parse worker."""
    urls: list[str] = []
    submit = ParsePool.submit

    def spy(pool: ParsePool, body: bytes, content_type: str | None = None,
            url: str | None = None) -> Future[Parsed]:
        if not pool.in_place(body, content_type, url):
            urls.append(url or "")
        return submit(pool, body, content_type, url)

    monkeypatch.setattr(ParsePool, "submit", spy)
    return urls


async def crawl(items: list[DocumentItem], tmp_path: Path, **settings: Any) -> Any:
    """The project's pipelines over ``items`` (fresh copies: a pipeline sets fields on them)."""
    project = get_project_settings()
    crawler = get_crawler(ItemSpider, {
        "ITEM_PIPELINES": project.getdict("ITEM_PIPELINES"),
        "ARCHIVE_DIR": str(tmp_path / "archive"), "CRAWL_ID": "crawl-a", **LIMITS, **settings})
    copies = [DocumentItem(**{**vars(item), "parsed": None}) for item in items]
    await crawler.crawl_async(items=copies)
    return crawler


def stored(tmp_path: Path) -> dict[str, tuple[str, str, float | None]]:
    """The quarantine entries by URL (one each: a record quarantined again is the same row)."""
    with open_store(tmp_path / "archive" / "gkcrawl.sqlite3") as store:
        rows = store.quarantine()
    entries = {q.url: (q.code, q.reason, q.over_limit) for q in rows}
    assert len(entries) == len(rows)
    return entries


@deferred_f_from_coro_f
async def test_over_a_limit_quarantined_and_not_parsed_again(
        documents: list[DocumentItem], submitted: list[str], tmp_path: Path) -> None:
    first = await crawl(documents, tmp_path)
    assert sorted(submitted) == sorted([OPERATORS, DOCX_BOMB, PDF_BOMB, REPORT])
    stats = first.stats.get_stats()
    assert stats["quarantine/parse_timeout"] == 1 and stats["quarantine/parse_inflated"] == 2
    assert stats["parse/reports"] == 1  # the crawl went on
    assert stats["parse/pool/documents"] == 4
    inflated = "over the PARSE_MAX_INFLATED limit of 64.0 MiB"
    timeout = "parsing took longer than the PARSE_TIME_LIMIT of 5 s; the worker was stopped"
    assert stored(tmp_path) == {
        OPERATORS: ("parse_timeout", timeout, 5.0),
        DOCX_BOMB: ("parse_inflated", f"DOCX package (11 parts) inflates to 300.0 MiB, {inflated}",
                    64 * MiB),
        PDF_BOMB: ("parse_inflated",
                   f"the PDF stream at byte 369 inflates to more than 64.0 MiB, {inflated}",
                   64 * MiB)}

    # resumed: the same records, answered from the archive (their pointers name the record
    # only); the three are quarantined from the store, unparsed
    submitted.clear()
    resumed = await crawl([DocumentItem(**{**vars(d), "warc": {**(d.warc or {}), "digest": None}})
                           for d in documents], tmp_path)
    assert submitted == [REPORT]
    stats = resumed.stats.get_stats()
    assert stats["parse/over_limit_known"] == 3
    assert stats["quarantine/parse_timeout"] == 1 and stats["quarantine/parse_inflated"] == 2
    assert stats["parse/reports"] == 1
    assert stored(tmp_path)[OPERATORS][2] == 5.0

    # a replay with a higher time limit parses the slow one again (and it is slow again)
    submitted.clear()
    await crawl(documents, tmp_path, PARSE_TIME_LIMIT=6)
    assert sorted(submitted) == sorted([OPERATORS, REPORT])
    assert stored(tmp_path)[OPERATORS][1:] == (
        "parsing took longer than the PARSE_TIME_LIMIT of 6 s; the worker was stopped", 6.0)


@deferred_f_from_coro_f
async def test_a_new_capture_of_the_same_payload_is_not_parsed_again(
        documents: list[DocumentItem], submitted: list[str], tmp_path: Path) -> None:
    bomb = next(d for d in documents if d.url == PDF_BOMB)
    await crawl([bomb], tmp_path)
    assert submitted == [PDF_BOMB]
    submitted.clear()
    again = DocumentItem(**{**vars(bomb), "warc": {**(bomb.warc or {}), "record_id": "<new>"}})
    crawler = await crawl([again], tmp_path)
    assert submitted == []  # same URL and payload digest, another WARC record
    assert crawler.stats.get_value("quarantine/parse_inflated") == 1
