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
