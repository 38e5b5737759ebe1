"""The archive's downloader middlewares: archivable codings, and a log of failed fetches.

:class:`ArchiveAcceptEncodingMiddleware` (585) asks servers only for codings every WARC tool
can decode.  :class:`CrawlLogMiddleware` (950) logs the fetches that produced no response,
which a WARC cannot hold.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING, Self

from scrapy import Request, signals
from scrapy.exceptions import IgnoreRequest, NotConfigured

from gkcrawl.archive.config import CRAWL_LOG_NAME, ArchiveSettings, crawl_dir_for

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

ARCHIVE_ACCEPT_ENCODING = b"gzip, deflate"
#: Order in DOWNLOADER_MIDDLEWARES: ``process_request`` runs from low to high numbers, so this
#: comes before HttpCompressionMiddleware (590), which only sets a default Accept-Encoding.
ACCEPT_ENCODING_MIDDLEWARE_ORDER = 585
_UNARCHIVABLE = (b"br", b"zstd")
#: Order in DOWNLOADER_MIDDLEWARES: ``process_exception`` runs from high to low numbers, so this
#: sees every failed attempt before RetryMiddleware (550) turns it into a retry.
CRAWL_LOG_MIDDLEWARE_ORDER = 950
STAT_CRAWL_LOG_LINES = "crawllog/lines"
STAT_CRAWL_LOG_WRITE_ERROR = "crawllog/write_error"


def _coding(value: bytes) -> bytes:
    """The content-coding of one ``Accept-Encoding`` item (``gzip;q=0.5`` → ``gzip``)."""
    return value.split(b";")[0].strip().lower()


class ArchiveAcceptEncodingMiddleware:
    """Set ``Accept-Encoding: gzip, deflate``; strip br and zstd from an explicit value.

    Scrapy sends ``gzip, deflate, br, zstd``; warcio cannot decode br (brotli/brotlipy API
    clash) or zstd, and pywb replays zstd as garbage.
    """

    def process_request(self, request: Request) -> None:
        current = request.headers.get(b"Accept-Encoding")
        if current is None:
            request.headers[b"Accept-Encoding"] = ARCHIVE_ACCEPT_ENCODING
            return
        codings = [c.strip() for c in current.split(b",")]
        kept = [c for c in codings if _coding(c) not in _UNARCHIVABLE]
        if kept != codings:
            request.headers[b"Accept-Encoding"] = b", ".join(kept) or ARCHIVE_ACCEPT_ENCODING


class CrawlLogMiddleware:
    """Appends one JSON line per failed fetch attempt (DNS errors, timeouts, refused
    connections) to ``<crawl dir>/crawl.log.jsonl``, so a crawl's coverage can be audited
    (Heritrix keeps the same in its crawl.log); never alters the download outcome."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self._fh: IO[str] | None = None
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not ArchiveSettings.from_crawler(crawler).enabled:
            raise NotConfigured("WARC_ENABLED is False")
        return cls(crawler)

    def _file(self) -> IO[str]:
        if self._fh is None:
            crawl_dir = crawl_dir_for(self.crawler)
            crawl_dir.mkdir(parents=True, exist_ok=True)
            self._fh = open(crawl_dir / CRAWL_LOG_NAME, "a", encoding="utf-8")  # noqa: SIM115
        return self._fh

    def process_exception(self, request: Request, exception: Exception) -> None:
        if isinstance(exception, IgnoreRequest):  # filtered, not fetched
            return
        cls = type(exception)
        line = {
            "time": datetime.now(UTC).isoformat(timespec="microseconds"),
            "url": request.url,
            "method": request.method,
            "error": f"{cls.__module__}.{cls.__qualname__}",
            "message": str(exception),
            "retry_times": request.meta.get("retry_times", 0),
        }
        try:
            fh = self._file()
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")
            fh.flush()
        except OSError:
            # the download already failed; do not replace its error, but do not hide ours
            self.crawler.stats.inc_value(STAT_CRAWL_LOG_WRITE_ERROR)
            logger.exception("Cannot write crawl log line for %s", request.url)
            return
        self.crawler.stats.inc_value(STAT_CRAWL_LOG_LINES)

    def spider_closed(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
