"""ArchiveLookupMiddleware records fetches in batches: one transaction per FETCH_BATCH rows, the
rest when the spider closes; a URL this crawl fetched is never given an older run's validators."""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from gkcrawl.crawl import resume as incremental
from gkcrawl.crawl.resume import FETCH_BATCH, PREVIOUS_KEY, ArchiveLookupMiddleware
from gkcrawl.spiders.portals import PortalsSpider
from gkcrawl.store import FetchRow, close_store_for, open_store, store_for

BASE = "http://www.example.gov.cn/zfxxgk"


def fetched(middleware: ArchiveLookupMiddleware, n: int) -> None:
    """``n`` archived 200 responses pass the middleware."""
    url = f"{BASE}/{n}.html"
    request = Request(url, meta={"warc": {"filename": "bench/f.warc.gz", "offset": n,
                                          "length": 10, "record_id": f"<urn:uuid:{n}>",
                                          "digest": "sha1:X"}})
    response = HtmlResponse(url, body=b"<html></html>", headers={"ETag": f'"{n}"'},
                            request=request)
    assert middleware.process_response(request, response) is response


def test_fetches_are_written_in_batches_and_at_close(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(incremental, "FETCH_FLUSH_SECONDS", 3600.0)  # batches by size only
    db = tmp_path / "store.sqlite3"
    crawler = get_crawler(PortalsSpider, {"CRAWL_ID": "run-2", "STORE_PATH": str(db),
                                          "ARCHIVE_DIR": str(tmp_path / "archive")})
    with open_store(db) as earlier:  # the previous run fetched page 0 with an ETag
        earlier.record_fetch(FetchRow(url=f"{BASE}/0.html", status=200, etag='"old"',
                                      crawl_id="run-1"))
    middleware = ArchiveLookupMiddleware.from_crawler(crawler)
    store = store_for(crawler)
    try:
        first = Request(f"{BASE}/0.html")
        middleware.process_request(first)
        assert first.headers[b"If-None-Match"] == b'"old"' and PREVIOUS_KEY in first.meta

        for n in range(FETCH_BATCH - 1):
            fetched(middleware, n)
        assert len(middleware.pending) == FETCH_BATCH - 1
        assert store.fetch(f"{BASE}/1.html") is None  # not written yet
        # fetched by this run, not yet written: no validators from the previous run
        again = Request(f"{BASE}/0.html")
        middleware.process_request(again)
        assert b"If-None-Match" not in again.headers and PREVIOUS_KEY not in again.meta

        fetched(middleware, FETCH_BATCH - 1)  # the batch is full: one transaction
        assert middleware.pending == {}
        row = store.fetch(f"{BASE}/0.html")
        assert row is not None and (row.crawl_id, row.etag, row.warc_offset) == ("run-2", '"0"', 0)
        assert store.fetch(f"{BASE}/{FETCH_BATCH - 1}.html") is not None

        fetched(middleware, FETCH_BATCH)
        assert store.fetch(f"{BASE}/{FETCH_BATCH}.html") is None
        middleware.flush()  # what the spider_closed signal calls
        row = store.fetch(f"{BASE}/{FETCH_BATCH}.html")
        assert row is not None and row.warc_file == "bench/f.warc.gz"
    finally:
        close_store_for(crawler)


def test_a_first_crawl_asks_the_store_nothing_per_request(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "store.sqlite3"
    crawler = get_crawler(PortalsSpider, {"CRAWL_ID": "run-1", "STORE_PATH": str(db),
                                          "ARCHIVE_DIR": str(tmp_path / "archive")})
    middleware = ArchiveLookupMiddleware.from_crawler(crawler)
    try:
        store = store_for(crawler)
        store.record_fetch(FetchRow(url=f"{BASE}/0.html", status=200, etag='"x"',
                                    crawl_id="run-1"))  # this crawl's own, e.g. before a kill
        middleware.spider_opened()
        assert middleware.earlier_fetches is False

        def no_lookup(url: str) -> None:
            raise AssertionError(f"looked up {url}")

        monkeypatch.setattr(store, "fetch", no_lookup)
        request = Request(f"{BASE}/0.html")
        middleware.process_request(request)
        assert b"If-None-Match" not in request.headers
        monkeypatch.undo()
        store.record_fetch(FetchRow(url=f"{BASE}/1.html", status=200, etag='"y"',
                                    crawl_id="run-0"))
        middleware.spider_opened()
        assert middleware.earlier_fetches is True
        request = Request(f"{BASE}/1.html")
        middleware.process_request(request)
        assert request.headers[b"If-None-Match"] == b'"y"'
    finally:
        close_store_for(crawler)
