"""Crawl log of fetches that produced no response (DNS errors, timeouts, refused connections).

A WARC can only hold exchanges that happened; these failures go to
``<crawl_dir>/crawl.log.jsonl`` so a crawl's coverage can be audited (Heritrix keeps the same
in its crawl.log).  Order 950: ``process_exception`` runs from high to low numbers, so this
sees every attempt before RetryMiddleware (550) turns it into a retry.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from typing import IO, TYPE_CHECKING, Self

from scrapy import Request, signals
from scrapy.exceptions import IgnoreRequest, NotConfigured

from gkcrawl.archive.config import CRAWL_LOG_NAME, ArchiveSettings, crawl_dir_for

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

CRAWL_LOG_MIDDLEWARE_ORDER = 950
STAT_WRITE_ERROR = "crawllog/write_error"
STAT_LINES = "crawllog/lines"


class CrawlLogMiddleware:
    """Appends one JSON line per failed fetch attempt; never alters the download outcome."""

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
            "time": datetime.now(timezone.utc).isoformat(timespec="microseconds"),
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
            self.crawler.stats.inc_value(STAT_WRITE_ERROR)
            logger.exception("Cannot write crawl log line for %s", request.url)
            return
        self.crawler.stats.inc_value(STAT_LINES)

    def spider_closed(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
