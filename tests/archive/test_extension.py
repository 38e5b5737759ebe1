"""WarcArchiver in a real in-process crawl against a loopback server."""

from __future__ import annotations

import gzip
import json
import logging
import socket
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request, Spider
from scrapy.exceptions import NotConfigured
from scrapy.http import Headers, Response
from scrapy.utils.defer import deferred_f_from_coro_f
from scrapy.utils.test import get_crawler

from gkcrawl.archive import ARCHIVE_DOWNLOADER_MIDDLEWARES, ARCHIVE_EXTENSIONS
from gkcrawl.archive.extension import WarcArchiver, _header_pairs
from gkcrawl.archive.framing import WarcRecord, iter_file
from gkcrawl.archive.middlewares import CrawlLogMiddleware
from gkcrawl.archive.reader import iter_archive
from gkcrawl.archive.signals import warc_metadata
from gkcrawl.archive.verify import verify
from gkcrawl.archive.writer import WarcWriter

GBK_DISPOSITION = 'attachment; filename="2023年度报告.pdf"'.encode("gbk")
HTML = "<html><head><title>2023年政府信息公开工作年度报告</title></head><body>报告</body></html>"
PATHS = ["/gzip.html", "/attach-gbk", "/cookies", "/a/report.pdf", "/b/report.pdf", "/old",
         "/missing", "/list?page=2&t=1"]
CRAWL_ID = "test-crawl"


class ArchiveSpider(Spider):
    """Fetches the mock server's routes; records what callbacks see."""

    name = "archive_test"
    handle_httpstatus_list = [404]  # noqa: RUF012
    base = ""
    refused = ""
    seen: list[dict[str, Any]]

    async def start(self):  # type: ignore[override]
        for path in PATHS:
            yield Request(self.base + path, callback=self.parse)
        yield Request(self.refused, callback=self.parse, errback=self.failed)

    def parse(self, response: Response) -> None:
        self.seen.append({"url": response.url, "status": response.status,
                          "warc": response.meta.get("warc")})
        self.crawler.signals.send_catch_log(
            warc_metadata, response=response,
            fields={"role": "test", "depth": response.meta.get("depth", 0)},
        )

    def failed(self, failure: Any) -> None:
        pass


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _crawler(tmp_path: Path, **extra: Any) -> Any:
    settings = {
        "EXTENSIONS": ARCHIVE_EXTENSIONS,
        "DOWNLOADER_MIDDLEWARES": ARCHIVE_DOWNLOADER_MIDDLEWARES,
        "ARCHIVE_DIR": str(tmp_path),
        "CRAWL_ID": CRAWL_ID,
        "RETRY_ENABLED": False,
        "DOWNLOAD_TIMEOUT": 10,
        **extra,
    }
    return get_crawler(ArchiveSpider, settings)


def _records(crawl_dir: Path) -> list[WarcRecord]:
    return [r for path in sorted(crawl_dir.glob("*.warc.gz")) for r in iter_file(path)
            if isinstance(r, WarcRecord)]


@deferred_f_from_coro_f
async def test_crawl_is_archived(mockserver: Any, tmp_path: Path) -> None:
    crawler = _crawler(tmp_path)
    seen: list[dict[str, Any]] = []
    refused = f"http://127.0.0.1:{_closed_port()}/refused"
    await crawler.crawl_async(base=mockserver.url, refused=refused, seen=seen)
    stats = crawler.stats
    assert stats.get_value("finish_reason") == "finished"

    crawl_dir = tmp_path / CRAWL_ID
    exchanges = list(iter_archive([crawl_dir]))
    base = mockserver.url
    expected = {base + p: 200 for p in PATHS} | {base + "/old": 301, base + "/missing": 404,
                                                  base + "/new.html": 200}
    assert Counter((e.url, e.status) for e in exchanges) == Counter(expected.items())
    by_url = {e.url: e for e in exchanges}

    page = by_url[base + "/gzip.html"]
    assert (b"Content-Encoding", b"gzip") in page.headers
    assert page.body is not None and page.body[:2] == b"\x1f\x8b"
    assert gzip.decompress(page.body) == HTML.encode()
    assert (b"Content-Disposition", GBK_DISPOSITION) in by_url[base + "/attach-gbk"].headers
    cookies = [v for k, v in by_url[base + "/cookies"].headers if k == b"Set-Cookie"]
    assert cookies == [b"a=1; Path=/", b"b=2; Path=/"]

    pdfs = [by_url[base + "/a/report.pdf"], by_url[base + "/b/report.pdf"]]
    assert sorted(p.is_revisit for p in pdfs) == [False, True]
    assert pdfs[0].body == pdfs[1].body
    assert pdfs[0].body is not None and pdfs[0].body.startswith(b"%PDF")
    revisit = next(r for r in _records(crawl_dir) if r.rec_type == "revisit")
    original = next(p for p in pdfs if not p.is_revisit)
    assert revisit.get("WARC-Refers-To") == original.record_id
    assert revisit.get("WARC-Refers-To-Target-URI") == original.url
    assert revisit.get("WARC-Refers-To-Date") == original.warc_date

    for exchange in exchanges:  # the archive-friendly Accept-Encoding, exactly once
        encodings = [v for k, v in exchange.request_headers if k.lower() == b"accept-encoding"]
        assert encodings == [b"gzip, deflate"], exchange.url

    assert len(seen) == len(PATHS)  # /old arrives as /new.html
    locations = {(f"{CRAWL_ID}/{e.location.path.name}", e.location.offset): e for e in exchanges}
    for item in seen:
        pointer = item["warc"]
        archived = locations[(pointer["filename"], pointer["offset"])]
        assert archived.url == item["url"] and archived.record_id == pointer["record_id"]
        assert archived.metadata == {"role": "test", "depth": "0"}

    log = [json.loads(line) for line in (crawl_dir / "crawl.log.jsonl").read_text().splitlines()]
    assert [entry["url"] for entry in log] == [refused]
    assert log[0]["error"].endswith("ConnectionRefusedError")

    assert verify([crawl_dir]).ok
    assert (crawl_dir / "index.cdxj").read_text().count("\n") == len(expected)
    assert stats.get_value("warc/revisits") == 1
    assert stats.get_value("warc/files") == 1
    assert stats.get_value("warc/records") == 2 * len(expected) + len(seen)
    assert stats.get_value("warc/bytes") == sum(p.stat().st_size
                                                for p in crawl_dir.glob("*.warc.gz"))
    assert stats.get_value("warc/write_error") is None


@deferred_f_from_coro_f
async def test_write_failure_stops_the_crawl(
    mockserver: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(self: WarcWriter, **kwargs: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(WarcWriter, "write_exchange", broken)
    crawler = _crawler(tmp_path, CONCURRENT_REQUESTS=1)
    with caplog.at_level(logging.ERROR, logger="gkcrawl.archive.extension"):
        await crawler.crawl_async(base=mockserver.url, refused=mockserver.url + "/x", seen=[])
    assert crawler.stats.get_value("warc/write_error") > 0
    assert crawler.stats.get_value("finish_reason") == "warc_write_error"
    failures = [r for r in caplog.records if r.levelno == logging.ERROR
                and r.getMessage().startswith("WARC write failed for " + mockserver.url)]
    assert failures and failures[0].exc_info is not None


@deferred_f_from_coro_f
async def test_unusable_archive_dir_stops_the_crawl(mockserver: Any, tmp_path: Path) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    crawler = _crawler(not_a_dir)
    await crawler.crawl_async(base=mockserver.url, refused=mockserver.url + "/x", seen=[])
    assert crawler.stats.get_value("finish_reason") == "warc_write_error"
    assert crawler.stats.get_value("warc/write_error") >= 1


def test_disabled_components_are_not_configured(tmp_path: Path) -> None:
    crawler = get_crawler(ArchiveSpider, {"WARC_ENABLED": False, "ARCHIVE_DIR": str(tmp_path)})
    for component in (WarcArchiver, CrawlLogMiddleware):
        with pytest.raises(NotConfigured):
            component.from_crawler(crawler)
    assert not any(tmp_path.iterdir())


def test_header_pairs_keep_every_value() -> None:
    headers = Headers({"set-cookie": ["a=1", "b=2"], "X-Gbk": GBK_DISPOSITION})
    headers.appendlist("Set-Cookie", "c=3")
    assert _header_pairs(headers) == [
        (b"Set-Cookie", b"a=1"), (b"Set-Cookie", b"b=2"), (b"Set-Cookie", b"c=3"),
        (b"X-Gbk", GBK_DISPOSITION)]
