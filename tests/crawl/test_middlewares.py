"""Retries back off; 412 challenges are counted and not retried; a redirect chain may come
back to a URL once (a cookie check), not twice (a loop); failures are named."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from scrapy import Request, Spider, signals
from scrapy.http import Response
from scrapy.utils.defer import deferred_f_from_coro_f
from scrapy.utils.test import get_crawler

from gkcrawl.crawl.failures import (
    REDIRECT_LOOP,
    TOO_MANY_REDIRECTS,
    RedirectLoop,
    TooManyRedirects,
    failure_kind,
)
from gkcrawl.crawl.middlewares import BackoffRetryMiddleware, ChainRedirectMiddleware

FAILURES_BEFORE_SUCCESS = 2
BASE = 0.3


class Flaky(BaseHTTPRequestHandler):
    hits: ClassVar[list[tuple[str, float]]] = []

    def do_GET(self) -> None:
        Flaky.hits.append((self.path, time.monotonic()))
        tries = sum(1 for p, _ in Flaky.hits if p == self.path)
        status = 200
        if self.path == "/flaky" and tries <= FAILURES_BEFORE_SUCCESS:
            status = 503
        elif self.path == "/challenge":
            status = 412
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    Flaky.hits = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Flaky)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


class Fetch(Spider):
    name = "fetch"

    async def start(self) -> Iterator[Request]:  # type: ignore[override]
        for url in self.urls:  # type: ignore[attr-defined]
            yield Request(url, errback=lambda failure: None)

    def parse(self, response: Response) -> None:
        pass


def test_delay_doubles_and_honours_retry_after() -> None:
    crawler = get_crawler(Fetch, {"RETRY_BACKOFF_BASE": 2.0, "RETRY_BACKOFF_MAX": 10.0})
    mw = BackoffRetryMiddleware.from_crawler(crawler)
    delays = [mw.delay(Request("http://a", meta={"retry_times": n})) for n in (1, 2, 3, 4)]
    assert delays == [2.0, 4.0, 8.0, 10.0]
    assert mw.delay(Request("http://a", meta={"retry_times": 1}), b"7") == 7.0


@deferred_f_from_coro_f
async def test_retries_are_spaced_and_412_is_not_retried(server: str) -> None:
    crawler = get_crawler(Fetch, {
        "RETRY_BACKOFF_BASE": BASE, "RETRY_TIMES": 3,
        "DOWNLOADER_MIDDLEWARES": {"scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
                                   "gkcrawl.crawl.middlewares.BackoffRetryMiddleware": 550,
                                   "gkcrawl.crawl.middlewares.AntiBotMiddleware": 560},
    })
    statuses: list[int] = []

    def on_response(response: Response) -> None:
        statuses.append(response.status)

    crawler.signals.connect(on_response, signal=signals.response_received)
    await crawler.crawl_async(urls=[f"{server}/flaky", f"{server}/challenge"])
    times = [t for p, t in Flaky.hits if p == "/flaky"]
    assert len(times) == FAILURES_BEFORE_SUCCESS + 1
    assert times[1] - times[0] >= BASE and times[2] - times[1] >= 2 * BASE
    assert sum(1 for p, _ in Flaky.hits if p == "/challenge") == 1
    assert crawler.stats.get_value("antibot/412") == 1
    assert crawler.stats.get_value("retry/count") == FAILURES_BEFORE_SUCCESS
    assert sorted(statuses) == [200, 412]  # the 503s were retried, never handed on


def test_cookies_use_the_shipped_public_suffix_list(monkeypatch: pytest.MonkeyPatch) -> None:
    """No download of the public suffix list: the snapshot in tldextract's wheel answers."""
    import socket

    from scrapy.downloadermiddlewares import cookies

    from gkcrawl.crawl.middlewares import OfflineSuffixCookiesMiddleware

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("the public suffix list was fetched from the network")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    OfflineSuffixCookiesMiddleware.from_crawler(
        get_crawler(settings_dict={"COOKIES_ENABLED": True}))
    assert cookies._is_public_domain("gov.cn")
    assert not cookies._is_public_domain("www.gov.cn")
    assert not cookies._is_public_domain("xizang.gov.cn")


def _redirect(mw: ChainRedirectMiddleware, request: Request, to: str) -> Request:
    response = Response(request.url, status=302, headers={"Location": to}, request=request)
    result = mw.process_response(request, response)
    assert isinstance(result, Request)
    return result


def test_a_redirect_back_to_the_same_url_is_followed_once_a_loop_is_given_up() -> None:
    mw = ChainRedirectMiddleware.from_crawler(get_crawler(Fetch, {"REDIRECT_MAX_TIMES": 10}))
    page, other = "http://a.gov.cn/nb/t1.html", "http://a.gov.cn/check.jsp"
    # a cookie check: the same URL again, past the dupefilter that saw it a moment ago
    again = _redirect(mw, Request(page), page)
    assert again.url == page and again.dont_filter
    # a loop: page -> other -> page (allowed: it may be the cookie check) -> other -> page
    hop = _redirect(mw, Request(page), other)
    assert not hop.dont_filter
    hop = _redirect(mw, _redirect(mw, hop, page), other)
    with pytest.raises(RedirectLoop) as loop:
        _redirect(mw, hop, page)
    assert failure_kind(loop.value) == REDIRECT_LOOP
    # a chain of new URLs past REDIRECT_MAX_TIMES
    short = ChainRedirectMiddleware.from_crawler(get_crawler(Fetch, {"REDIRECT_MAX_TIMES": 2}))
    hop = _redirect(short, _redirect(short, Request(page), f"{page}?1"), f"{page}?2")
    with pytest.raises(TooManyRedirects) as chain:
        _redirect(short, hop, f"{page}?3")
    assert failure_kind(chain.value) == TOO_MANY_REDIRECTS

