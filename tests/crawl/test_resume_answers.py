"""What a resumed crawl takes from its archive: for each URL the last final answer archived; a
failure (5xx, an anti-bot challenge, a body cut short) is fetched again."""

from __future__ import annotations

from pathlib import Path

from scrapy import Request
from scrapy.utils.test import get_crawler

from gkcrawl.archive.writer import WarcWriter
from gkcrawl.crawl.resume import ArchiveLookupMiddleware
from gkcrawl.spiders.portals import PortalsSpider
from gkcrawl.store import close_store_for

BASE = "http://www.example.gov.cn/zfxxgk"
HTML = [(b"Content-Type", b"text/html; charset=utf-8")]


def test_a_resumed_crawl_is_answered_only_with_final_answers(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    with WarcWriter(archive, "run-1") as writer:
        for path, status, body, truncated in [
            ("list.html", 503, b"busy", None),       # failed, then answered
            ("list.html", 200, b"<p>list</p>", None),
            ("down.html", 503, b"busy", None),       # only ever failed
            ("wall.html", 412, b"challenge", None),  # an anti-bot challenge
            ("cut.pdf", 200, b"%PDF-1.4 ...", "disconnect"),  # cut short
            ("gone.html", 404, b"not found", None),  # a final answer too
            ("page.html", 200, b"<p>old</p>", None),  # the last good answer wins
            ("page.html", 200, b"<p>new</p>", None),
        ]:
            writer.write_exchange(url=f"{BASE}/{path}", status=status, response_headers=HTML,
                                  response_body=body, truncated=truncated)
    crawler = get_crawler(PortalsSpider, {"CRAWL_ID": "run-1", "ARCHIVE_DIR": str(archive),
                                          "STORE_PATH": str(tmp_path / "store.sqlite3")})
    middleware = ArchiveLookupMiddleware.from_crawler(crawler)
    try:
        middleware.spider_opened()

        def answer(path: str) -> tuple[int, bytes] | None:
            response = middleware.process_request(Request(f"{BASE}/{path}"))
            return None if response is None else (response.status, response.body)

        assert answer("list.html") == (200, b"<p>list</p>")
        assert answer("page.html") == (200, b"<p>new</p>")
        assert answer("gone.html") == (404, b"not found")
        for fetched_again in ("down.html", "wall.html", "cut.pdf", "never.html"):
            assert answer(fetched_again) is None
    finally:
        close_store_for(crawler)


def test_posts_to_one_url_are_answered_by_their_body(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    proxy = f"{BASE}/module/web/jpage/dataproxy.jsp?startrecord=5&endrecord=8&perpage=2"
    with WarcWriter(archive, "run-1") as writer:
        for method, body, answer in [("POST", b"columnid=5001", b"<datastore>5001</datastore>"),
                                     ("POST", b"columnid=5004", b"<datastore>5004</datastore>"),
                                     ("GET", b"", b"<datastore>get</datastore>")]:
            writer.write_exchange(url=proxy, method=method, request_body=body, status=200,
                                  response_headers=HTML, response_body=answer)
    crawler = get_crawler(PortalsSpider, {"CRAWL_ID": "run-1", "ARCHIVE_DIR": str(archive),
                                          "STORE_PATH": str(tmp_path / "store.sqlite3")})
    middleware = ArchiveLookupMiddleware.from_crawler(crawler)
    try:
        middleware.spider_opened()

        def answer(method: str, body: bytes) -> bytes | None:
            response = middleware.process_request(Request(proxy, method=method, body=body))
            return None if response is None else response.body

        assert answer("POST", b"columnid=5004") == b"<datastore>5004</datastore>"
        assert answer("POST", b"columnid=5001") == b"<datastore>5001</datastore>"
        assert answer("GET", b"") == b"<datastore>get</datastore>"
        assert answer("POST", b"columnid=5002") is None  # never asked: fetched
    finally:
        close_store_for(crawler)
