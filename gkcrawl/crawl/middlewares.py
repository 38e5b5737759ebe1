"""Downloader middlewares of the crawl (the archive's own live in gkcrawl/archive): anti-bot
challenges counted, retries spaced out and counted by what failed, redirect chains that come
back to a URL, gzip bombs named as such, cookies without a download of the public suffix
list."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares import cookies as scrapy_cookies
from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware, RedirectMiddleware
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.settings import BaseSettings
from scrapy.utils.defer import maybe_deferred_to_future
from tldextract import TLDExtract

from gkcrawl.archive.signals import warc_metadata
from gkcrawl.crawl import META_KEY
from gkcrawl.crawl.failures import (
    DecodedTooLarge,
    RedirectLoop,
    TooManyRedirects,
    failure_kind,
    http_kind,
)

logger = logging.getLogger(__name__)

#: 瑞数 (RiverSecurity) and similar WAFs answer the first request with 412 and a JS challenge.
CHALLENGE_STATUSES = frozenset({412})


class AntiBotMiddleware:
    """Record anti-bot challenges as such instead of retrying them blindly.

    The challenge response is archived like any other (the archive hooks the download itself);
    here it is counted per domain, marked in a WARC metadata record, and passed on so that
    HttpErrorMiddleware drops it: solving JavaScript challenges is out of scope.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.warned: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> AntiBotMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        if response.status in CHALLENGE_STATUSES:
            domain = request.url.split("/")[2]
            stats = self.crawler.stats
            stats.inc_value(f"antibot/{response.status}")
            stats.inc_value(f"antibot/{response.status}/{domain}")
            portal = request.meta.get(META_KEY, {}).get("portal")
            if portal:
                stats.inc_value(f"portal/{portal}/antibot")
            if domain not in self.warned:
                self.warned.add(domain)
                logger.warning("Anti-bot challenge (HTTP %s) from %s; not retried",
                               response.status, domain)
            self.crawler.signals.send_catch_log(
                warc_metadata, response=response, request=request,
                fields={"role": "antibot-challenge", "portal": portal or "",
                        "status": str(response.status)})
        return response


#: request.meta key: seconds to wait before this retry is sent
RETRY_DELAY_KEY = "gk_retry_delay"
#: Settings: the first retry's wait (doubled for each further retry) and the longest, in seconds.
RETRY_BACKOFF_BASE = 2.0
RETRY_BACKOFF_MAX = 60.0


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retries, spaced out: the n-th retry of a request waits
    ``RETRY_BACKOFF_BASE``·2^(n-1) seconds (at most ``RETRY_BACKOFF_MAX``), or what a
    ``Retry-After`` header asks for.

    Retrying a struggling government server at once only adds to its load; Scrapy retries
    immediately. The wait happens before the request reaches a download slot, so other requests
    go on meanwhile.
    """

    def __init__(self, settings: BaseSettings) -> None:
        super().__init__(settings)
        self.base = settings.getfloat("RETRY_BACKOFF_BASE", RETRY_BACKOFF_BASE)
        self.cap = settings.getfloat("RETRY_BACKOFF_MAX", RETRY_BACKOFF_MAX)

    def delay(self, retry: Request, retry_after: bytes | None = None) -> float:
        attempt: int = retry.meta.get("retry_times", 1)
        delay: float = min(self.cap, self.base * 2 ** (attempt - 1))
        if retry_after and retry_after.strip().isdigit():
            delay = min(self.cap, max(delay, float(retry_after.strip())))
        return delay

    # Scrapy 2.19 calls middleware methods without the deprecated spider argument; its
    # RetryMiddleware still declares it, for older callers.
    def process_response(  # type: ignore[override]
            self, request: Request, response: Response) -> Request | Response:
        result = super().process_response(request, response)
        if isinstance(result, Request):
            result.meta[RETRY_DELAY_KEY] = self.delay(result, response.headers.get(b"Retry-After"))
            self._count(request, http_kind(response.status))
        return result

    def process_exception(  # type: ignore[override]
            self, request: Request, exception: Exception) -> Request | Response | None:
        result = super().process_exception(request, exception)
        if isinstance(result, Request):
            result.meta[RETRY_DELAY_KEY] = self.delay(result)
            self._count(request, failure_kind(exception))
        return result

    def _count(self, request: Request, kind: str) -> None:
        """``portal/<id>/retried/<kind>``: what failed on an attempt that is tried again."""
        portal = request.meta.get(META_KEY, {}).get("portal")
        if portal:
            self.crawler.stats.inc_value(f"portal/{portal}/retried/{kind}")

    async def process_request(self, request: Request) -> None:
        delay = request.meta.pop(RETRY_DELAY_KEY, 0)
        if delay > 0:
            from twisted.internet import reactor
            from twisted.internet.task import deferLater

            await maybe_deferred_to_future(deferLater(reactor, delay, lambda: None))


#: tldextract with the public suffix list snapshot its wheel ships, and no cache on disk.
OFFLINE_SUFFIXES = TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)


class OfflineSuffixCookiesMiddleware(scrapy_cookies.CookiesMiddleware):
    """Scrapy's cookie handling, with the public suffix list that ships inside tldextract.

    Scrapy's own middleware makes tldextract download the live list from publicsuffix.org at the
    first cookie; where that download fails (a crawler of government sites often runs where it
    does) every run starts with a long traceback. The snapshot tells a public suffix (``gov.cn``)
    from a site's domain as well as the live list for these portals. Scrapy looks the list up
    through a module-level extractor, which is replaced here.
    """

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> OfflineSuffixCookiesMiddleware:
        scrapy_cookies._split_domain = OFFLINE_SUFFIXES
        return super().from_crawler(crawler)


#: A redirect chain may come back to a URL it passed this many times (a WAF's cookie check
#: sends the browser back once); once more is a loop.
REDIRECT_RETURNS = 1


def _follow(redirect: Callable[[Request, Request, Any], Request], redirected: Request,
            request: Request, reason: Any) -> Request:
    """Scrapy's ``_redirect`` for a chain that may come back to a URL: the request passes the
    dupefilter (which saw the URL when the chain began); a loop and a chain past
    REDIRECT_MAX_TIMES are raised as such."""
    chain = [*request.meta.get("redirect_urls", ()), request.url]
    returns = chain.count(redirected.url)
    if returns > REDIRECT_RETURNS:
        raise RedirectLoop(f"redirect loop: {' -> '.join([*chain, redirected.url])}")
    try:
        result = redirect(redirected, request, reason)
    except IgnoreRequest as exc:  # Scrapy's only reason: REDIRECT_MAX_TIMES reached
        raise TooManyRedirects(f"more than {len(chain) - 1} redirects from {chain[0]}") from exc
    if returns:
        result.dont_filter = True
    return result


class ChainRedirectMiddleware(RedirectMiddleware):
    """Scrapy's HTTP redirects, with a redirect back to a URL of the chain followed once.

    安全狗- and 云锁-style WAFs answer a first request with a 302 to the very same URL and a
    cookie; Scrapy schedules that request, its dupefilter drops it as a duplicate, and the page
    is lost without a word. Here it is fetched (with the cookie); a chain that comes back a
    second time is a loop, given up as :class:`RedirectLoop` and counted as such.
    """

    def _redirect(self, redirected: Request, request: Request, reason: Any) -> Request:
        return _follow(super()._redirect, redirected, request, reason)


class ChainMetaRefreshMiddleware(MetaRefreshMiddleware):
    """Scrapy's meta-refresh redirects, with :class:`ChainRedirectMiddleware`'s rule for a
    refresh back to a URL of the chain."""

    def _redirect(self, redirected: Request, request: Request, reason: Any) -> Request:
        return _follow(super()._redirect, redirected, request, reason)


class BoundedDecompressionMiddleware(HttpCompressionMiddleware):
    """Scrapy's decompression; a body that inflates past DOWNLOAD_MAXSIZE (a gzip bomb), which
    Scrapy refuses with a plain IgnoreRequest, is refused as :class:`DecodedTooLarge`, so that
    the crawl counts it by name. The archive holds the compressed bytes as they came."""

    def process_response(  # type: ignore[override]
            self, request: Request, response: Response) -> Request | Response:
        try:
            return super().process_response(request, response)
        except IgnoreRequest as exc:  # Scrapy's only reason here: past DOWNLOAD_MAXSIZE
            raise DecodedTooLarge(str(exc)) from exc
