"""Replay: the archive stands in for the network, so the crawl's own chain re-parses it offline.

``archived_response`` turns an archived exchange (raw header bytes, body still content-encoded)
into the Response the downloader would have produced; ``ArchiveDecoder`` passes it through
Scrapy's own HttpCompressionMiddleware, which decodes it exactly as in a live crawl. The replay
spider does both itself and yields the items from ``start()``: nothing is downloaded, so
nothing needs the scheduler, the downloader or the spider middlewares. ``ArchiveResponseMiddleware``
still answers any request a replay makes from the archive, and refuses the network.

The processes of ``gkcrawl replay --jobs N`` are started by :mod:`gkcrawl.replay.jobs`.
"""

from __future__ import annotations

from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Headers, Response
from scrapy.responsetypes import responsetypes
from scrapy.settings import BaseSettings
from scrapy.utils.misc import load_object

from gkcrawl.archive import ARCHIVE_DOWNLOADER_MIDDLEWARES, ARCHIVE_EXTENSIONS
from gkcrawl.archive.reader import ArchivedExchange

EXCHANGE_KEY = "gk_exchange"

REPLAY_SETTINGS: dict[str, Any] = {
    # nothing touches the network (so nothing is retried); nothing is archived again
    # (``leave_out_archiving``)
    "ROBOTSTXT_OBEY": False,
    "RETRY_ENABLED": False,
    "COOKIES_ENABLED": False,
    "DOWNLOAD_DELAY": 0,
    "AUTOTHROTTLE_ENABLED": False,
    "CONCURRENT_REQUESTS": 16,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
    "DOWNLOADER_MIDDLEWARES": {"gkcrawl.replay.responses.ArchiveResponseMiddleware": 950},
    # no network handlers at all: a request that got past the archive middleware cannot be sent
    "DOWNLOAD_HANDLERS": dict.fromkeys(("http", "https", "ftp", "s3", "data")),
}


def leave_out_archiving(settings: BaseSettings) -> None:
    """Leave the archive's extensions and middlewares out of a replay: it archives nothing again.

    They are set to None in EXTENSIONS and DOWNLOADER_MIDDLEWARES (the crawl's other extensions
    stay), at the spider's priority like ``custom_settings``: ``scrapy crawl`` merges the
    project's settings into the crawler's, and a value of the project's priority would be
    replaced. WARC_ENABLED = False would have the components disable themselves, which Scrapy
    reports as a warning on every run; it stays the setting of a crawl that does not archive."""
    for setting, components in (("EXTENSIONS", ARCHIVE_EXTENSIONS),
                                ("DOWNLOADER_MIDDLEWARES", ARCHIVE_DOWNLOADER_MIDDLEWARES)):
        settings.set(setting, settings.getdict(setting), priority="spider")
        for name in components:
            settings.set_in_component_priority_dict(setting, load_object(name), None)


def archived_response(exchange: ArchivedExchange, request: Request, *,
                      encoded_as_bytes: bool = False) -> Response:
    """The Response the downloader would have produced for the archived exchange: every header
    as archived (raw bytes, repeats kept), the body still content-encoded.

    With ``encoded_as_bytes``, a content-encoded body makes a plain Response: it is not text
    until HttpCompressionMiddleware decodes it (and picks the class then)."""
    headers = Headers(exchange.headers)
    if encoded_as_bytes and b"Content-Encoding" in headers:
        cls: type[Response] = Response
    else:
        cls = responsetypes.from_args(headers=headers, url=exchange.url, body=exchange.body)
    return cls(url=exchange.url, status=exchange.status, headers=headers,
               body=exchange.body or b"",
               request=request, protocol=exchange.protocol, flags=["replay"], ip_address=None)


class ArchiveDecoder:
    """Archived exchanges as decoded Responses, through Scrapy's HttpCompressionMiddleware (so
    Content-Encoding, DOWNLOAD_MAXSIZE and the httpcompression stats behave as in a live crawl)."""

    def __init__(self, crawler: Crawler) -> None:
        self.compression = (HttpCompressionMiddleware.from_crawler(crawler)
                            if crawler.settings.getbool("COMPRESSION_ENABLED") else None)

    def response(self, exchange: ArchivedExchange) -> Response:
        """Raises IgnoreRequest when the body cannot be decoded within DOWNLOAD_MAXSIZE."""
        request = Request(exchange.url, dont_filter=True, meta={EXCHANGE_KEY: exchange})
        response = archived_response(exchange, request,
                                     encoded_as_bytes=self.compression is not None)
        if self.compression is None:
            return response
        decoded = self.compression.process_response(request, response)
        assert isinstance(decoded, Response)  # the middleware returns a Response, never a Request
        return decoded


class ArchiveResponseMiddleware:
    """Answers replay requests from the archive; any other request is refused (no network)."""

    def process_request(self, request: Request) -> Response:
        exchange = request.meta.get(EXCHANGE_KEY)
        if exchange is None:
            raise IgnoreRequest(f"replay: {request.url} is not from the archive (no network)")
        return archived_response(exchange, request)


def older_version(version: str | None, than: str) -> bool:
    """Parser versions compare as dotted integers (``"2" < "10"``); unknown is oldest."""
    def key(v: str) -> tuple[int, ...]:
        return tuple(int(p) for p in v.split(".") if p.isdigit())

    return version is None or key(version) < key(than)
