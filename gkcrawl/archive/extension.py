"""Scrapy extension that writes every downloaded exchange to WARC.

It listens to ``response_downloaded``, which fires straight after the download handler and
before any downloader middleware: the body is still content-encoded (what the server sent,
minus chunking) and no redirect has been followed yet, so 301s are archived too and cached
or replayed responses are not.  A failed write is counted, logged as an ERROR with the URL
and closes the spider with reason ``warc_write_error``: an archive crawl that silently
loses records is worse than one that stops.

Enable it with the middlewares of ``gkcrawl.archive.middlewares`` (settings.py)::

    from gkcrawl.archive import ARCHIVE_DOWNLOADER_MIDDLEWARES, ARCHIVE_EXTENSIONS

    EXTENSIONS = {**ARCHIVE_EXTENSIONS}
    DOWNLOADER_MIDDLEWARES = {**ARCHIVE_DOWNLOADER_MIDDLEWARES}
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urlsplit

import scrapy
from scrapy import Request, signals
from scrapy.exceptions import NotConfigured
from scrapy.http import Headers, Response
from scrapy.utils.defer import deferred_from_coro

from gkcrawl.archive.config import ArchiveSettings, crawl_id_for
from gkcrawl.archive.signals import warc_conversion, warc_exchange, warc_metadata
from gkcrawl.archive.writer import Exchange, WarcWriter

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from twisted.internet.defer import Deferred
    from twisted.python.failure import Failure

logger = logging.getLogger(__name__)

CLOSE_REASON = "warc_write_error"
META_KEY = "warc"
ARCHIVED_SCHEMES = ("http", "https")
#: ``WARC-Truncated`` for a body cut short by a lost connection (Scrapy flags it "dataloss").
TRUNCATED_DATALOSS = "disconnect"
#: A response flagged so is not the bytes that came over the wire (a page as a browser rendered
#: it): whoever fetched it archives its exchanges (``warc_exchange``), not this extension.
ARCHIVED_BY_FETCHER = "archived-by-fetcher"
STAT_RECORDS = "warc/records"
STAT_REVISITS = "warc/revisits"
STAT_BYTES = "warc/bytes"
STAT_FILES = "warc/files"
STAT_WRITE_ERROR = "warc/write_error"
STAT_METADATA_SKIPPED = "warc/metadata_skipped"


def _header_pairs(headers: Headers) -> list[tuple[bytes, bytes]]:
    """Every value of every header (``headers[key]`` would keep only the last Set-Cookie)."""
    return [(name, value) for name, values in headers.items() for value in values]


class WarcArchiver:
    """Writes request/response pairs (and ``warc_metadata`` records) to WARC files."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.settings = ArchiveSettings.from_crawler(crawler)
        self.writer: WarcWriter | None = None
        self._closing: Deferred[None] | None = None
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.response_downloaded, signal=signals.response_downloaded)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(self.metadata, signal=warc_metadata)
        crawler.signals.connect(self.exchange, signal=warc_exchange)
        crawler.signals.connect(self.conversion, signal=warc_conversion)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not ArchiveSettings.from_crawler(crawler).enabled:
            raise NotConfigured("WARC_ENABLED is False")
        return cls(crawler)

    def _warcinfo(self) -> dict[str, str]:
        settings = self.crawler.settings
        return {
            "robots": "obey" if settings.getbool("ROBOTSTXT_OBEY") else "ignore",
            "http-header-user-agent": settings.get("USER_AGENT") or "",
            "operator": self.settings.operator,
            "scrapy-version": scrapy.__version__,
        }

    def spider_opened(self) -> None:
        try:
            self.writer = WarcWriter(
                self.settings.archive_dir,
                crawl_id_for(self.crawler),
                prefix=self.settings.prefix,
                max_size=self.settings.max_size,
                warcinfo=self._warcinfo(),
            )
        except Exception as exc:  # noqa: BLE001 - any failure must stop an archive crawl
            self._fail("<opening the WARC writer>", exc)

    def response_downloaded(self, response: Response, request: Request) -> None:
        if ARCHIVED_BY_FETCHER in response.flags:
            return
        latency = request.meta.get("download_latency") or 0.0
        pointer = self.exchange(Exchange(
            url=response.url,
            method=request.method,
            request_headers=_header_pairs(request.headers),
            request_body=request.body,
            status=response.status,
            protocol=response.protocol,
            response_headers=_header_pairs(response.headers),
            response_body=response.body,
            ip_address=str(response.ip_address) if response.ip_address else None,
            fetch_date=datetime.now(UTC) - timedelta(seconds=latency),
            truncated=TRUNCATED_DATALOSS if "dataloss" in response.flags else None,
        ))
        if pointer is not None:
            request.meta[META_KEY] = pointer

    def exchange(self, exchange: Exchange) -> dict[str, Any] | None:
        """Write a request/response pair; the response record's pointer, or None when it was not
        written. Also the handler of ``warc_exchange`` (a fetch made outside the downloader)."""
        if urlsplit(exchange.url).scheme not in ARCHIVED_SCHEMES:
            return None
        if self.writer is None:
            self._fail(exchange.url, RuntimeError("WARC writer not open"))
            return None
        try:
            pointer = self.writer.write_exchange(**exchange.arguments())
        except Exception as exc:  # noqa: BLE001 - counted, logged and closes the spider
            self._fail(exchange.url, exc)
            return None
        self._update_stats()
        return pointer.to_dict()

    def conversion(self, refers_to: str, url: str, body: bytes, content_type: str) -> None:
        """Handler of ``warc_conversion``: another form of an archived response's content."""
        if self.writer is None:
            self._fail(url, RuntimeError("WARC writer not open"))
            return
        try:
            self.writer.write_conversion(refers_to, url, body, content_type)
        except Exception as exc:  # noqa: BLE001 - counted, logged and closes the spider
            self._fail(url, exc)
            return
        self._update_stats()

    def metadata(self, response: Response, fields: Mapping[str, object],
                 request: Request | None = None) -> None:
        """Handler of ``warc_metadata``: a metadata record concurrent to the response's.

        ``request`` is the response's; a downloader middleware must give it, since Scrapy
        attaches a response to its request only once the downloader is done with it."""
        request = request if request is not None else response.request
        pointer = request.meta.get(META_KEY) if request is not None else None
        if not pointer or pointer.get("from_archive"):
            # not downloaded now (cache, replay, resumed from the archive): nothing to attach to
            self.crawler.stats.inc_value(STAT_METADATA_SKIPPED)
            logger.debug("No WARC record for %s; metadata not written", response.url)
            return
        if self.writer is None:
            self._fail(response.url, RuntimeError("WARC writer not open"))
            return
        try:
            self.writer.write_metadata(pointer["record_id"], response.url, fields)
        except Exception as exc:  # noqa: BLE001 - counted, logged and closes the spider
            self._fail(response.url, exc)
            return
        self._update_stats()

    def _update_stats(self) -> None:
        assert self.writer is not None
        stats = self.crawler.stats
        stats.set_value(STAT_RECORDS, self.writer.records_written)
        stats.set_value(STAT_REVISITS, self.writer.revisits_written)
        stats.set_value(STAT_BYTES, self.writer.bytes_written)
        stats.set_value(STAT_FILES, len(self.writer.files))

    def _fail(self, url: str, exc: BaseException) -> None:
        """Count, log (with traceback) and stop the crawl once."""
        self.crawler.stats.inc_value(STAT_WRITE_ERROR)
        logger.error("WARC write failed for %s", url, exc_info=exc)
        if self._closing is not None:
            return
        try:
            engine = self.crawler.engine
        except RuntimeError:  # no crawl running (component used outside a crawl)
            return
        logger.error("Closing the spider: an archive crawl must not lose records")
        self._closing = deferred_from_coro(engine.close_spider_async(reason=CLOSE_REASON))
        self._closing.addErrback(self._close_failed)

    @staticmethod
    def _close_failed(failure: Failure) -> None:
        logger.error("Could not close the spider after a WARC write error: %s", failure.value)

    def spider_closed(self) -> None:
        if self.writer is None:
            return
        try:
            self.writer.close()
        except Exception:
            self.crawler.stats.inc_value(STAT_WRITE_ERROR)
            logger.exception("Closing the WARC writer failed (%s)", self.writer.crawl_dir)
        self._update_stats()
