"""Incremental runs: conditional requests from the last run, unchanged documents neither
re-archived nor re-parsed (a page whose bytes were first archived under another URL included),
new reports in old lists found."""

from __future__ import annotations

import random
import subprocess
import sys
import threading
from collections.abc import Iterator
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from gkcrawl.archive.reader import iter_archive
from gkcrawl.demo.render.html import render_html
from gkcrawl.demo.render.reports import random_report
from gkcrawl.store import open_store
from tests.crawling import ROOT

LIST = "/zfxxgk/zfxxgknb/index.html"
ETAG_PAGE = "/zfxxgk/zfxxgknb/t20220120_1.html"  # answers 304 to a matching If-None-Match
PLAIN_PAGE = "/zfxxgk/zfxxgknb/t20220121_2.html"  # no validators: the same bytes again
NEW_PAGE = "/zfxxgk/zfxxgknb/t20230118_3.html"  # appears in the list in the second run
LAST_MODIFIED = formatdate(1_650_000_000, usegmt=True)


class Portal(BaseHTTPRequestHandler):
    pages: ClassVar[dict[str, bytes]] = {}
    log: ClassVar[list[tuple[str, int, dict[str, str]]]] = []

    def do_GET(self) -> None:
        body = self.pages.get(self.path)
        if body is None:
            self.reply(404, b"not found")
            return
        etag = f'"{hash(body) & 0xFFFFFF:x}"' if self.path == ETAG_PAGE else None
        if etag and self.headers.get("If-None-Match") == etag:
            self.reply(304, b"", etag=etag)
            return
        self.reply(200, body, etag=etag)

    def reply(self, status: int, body: bytes, etag: str | None = None) -> None:
        Portal.log.append((self.path, status, dict(self.headers)))
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        if etag:
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", LAST_MODIFIED)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def listing(*paths: str) -> bytes:
    links = "".join(f"<li><a href='{p}'>示例县{2020 + i}年政府信息公开工作年度报告</a></li>"
                    for i, p in enumerate(paths, start=1))
    return (f"<html><head><title>政府信息公开年报</title></head><body><ul>{links}</ul>"
            "</body></html>").encode()


@pytest.fixture
def portal() -> Iterator[str]:
    reports = {path: render_html(random_report(random.Random(n), "2021", 2020 + n,
                                               "示例县人民政府"))
               for n, path in enumerate((ETAG_PAGE, PLAIN_PAGE, NEW_PAGE), start=1)}
    Portal.pages = {"/": b"<html><body><a href='/zfxxgk/zfxxgknb/index.html'>"
                         b"\xe5\xb9\xb4\xe6\x8a\xa5</a></body></html>",
                    "/robots.txt": b"User-agent: *\n", LIST: listing(ETAG_PAGE, PLAIN_PAGE),
                    **reports}
    Portal.log = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Portal)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def crawl(base: str, tmp_path: Path, crawl_id: str) -> None:
    registry = tmp_path / "portals.csv"
    registry.write_text("id,name,start_url,report_url,allowed_domains,region_code,level\n"
                        f"demo,示例县,{base}/,,127.0.0.1,,county\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "portals", "-a", f"portals={registry}",
         "-s", f"ARCHIVE_DIR={tmp_path / 'archive'}", "-s", f"CRAWL_ID={crawl_id}",
         "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "LOG_LEVEL=INFO"],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]


def test_second_run_is_incremental(portal: str, tmp_path: Path) -> None:
    crawl(portal, tmp_path, "run-1")
    Portal.log.clear()
    Portal.pages[LIST] = listing(ETAG_PAGE, PLAIN_PAGE, NEW_PAGE)  # a new report in an old list
    crawl(portal, tmp_path, "run-2")

    # the ETag page was asked for conditionally and answered 304
    asked = {path: (status, headers) for path, status, headers in Portal.log}
    assert asked[ETAG_PAGE][0] == 304 and asked[ETAG_PAGE][1].get("If-None-Match")
    assert asked[ETAG_PAGE][1].get("If-Modified-Since") == LAST_MODIFIED
    assert asked[NEW_PAGE][0] == 200

    with open_store(tmp_path / "archive" / "gkcrawl.sqlite3") as store:
        stats = store.run("run-2").stats
        assert stats["parse/reports"] == 1  # only the new report was parsed
        assert stats["incremental/not_modified"] == 1 and stats["incremental/unchanged"] >= 1
        assert stats["incremental/not_reparsed"] == 2
        assert sorted(r.year for r in store.reports()) == [2021, 2022, 2023]

    # nothing unchanged was archived again: a 304 record and revisits, not full copies
    second = {e.url.removeprefix(portal): e for e in iter_archive([tmp_path / "archive" / "run-2"])}
    assert second[ETAG_PAGE].status == 304 and second[ETAG_PAGE].body == b""
    assert second[PLAIN_PAGE].is_revisit
    assert not second[NEW_PAGE].is_revisit and not second[LIST].is_revisit


def test_a_page_first_archived_under_another_url_is_unchanged_when_it_had_that_payload(
        tmp_path: Path) -> None:
    """A report re-published at a second URL was archived there first: the page's own revisit
    points at the other URL, and is still the page's unchanged payload."""
    from scrapy import Request
    from scrapy.http import HtmlResponse
    from scrapy.utils.test import get_crawler

    from gkcrawl.crawl.resume import UNCHANGED, ArchiveLookupMiddleware
    from gkcrawl.spiders.portals import PortalsSpider
    from gkcrawl.store import FetchRow, close_store_for

    page, copy = "http://www.example.gov.cn/nb/t1.pdf", "http://www.example.gov.cn/zwgk/t1.pdf"
    db = tmp_path / "store.sqlite3"
    with open_store(db) as earlier:
        for url, digest in ((page, "sha1:SAME"), (copy, "sha1:SAME")):
            earlier.record_fetch(FetchRow(url=url, status=200, payload_digest=digest,
                                          crawl_id="run-1"))
    crawler = get_crawler(PortalsSpider, {"CRAWL_ID": "run-2", "STORE_PATH": str(db),
                                          "ARCHIVE_DIR": str(tmp_path / "archive")})
    middleware = ArchiveLookupMiddleware.from_crawler(crawler)
    try:
        middleware.spider_opened()

        def answer(url: str, digest: str) -> list[str]:
            request = Request(url)
            middleware.process_request(request)
            request.meta["warc"] = {"filename": "run-2/f.warc.gz", "offset": 0, "length": 1,
                                    "record_id": "<urn:uuid:1>", "digest": digest,
                                    "is_revisit": True, "original": {"uri": copy}}
            response = HtmlResponse(url, body=b"%PDF-1.4", request=request)
            return middleware.process_response(request, response).flags

        assert UNCHANGED in answer(page, "sha1:SAME")
        assert UNCHANGED not in answer(page, "sha1:OTHER")  # the page took another's bytes
    finally:
        close_store_for(crawler)
