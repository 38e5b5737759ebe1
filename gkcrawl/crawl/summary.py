"""The end-of-run summary per portal (an extension): pages fetched, reports found per year,
errors, anti-bot blocks, bounds hit.

Logged as a table when the crawl closes and written to ``<ARCHIVE_DIR>/<crawl id>/summary.json``
next to the WARC files, so a scheduled run leaves a record a person can read.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from typing import Any, Self

from scrapy import signals
from scrapy.crawler import Crawler

from gkcrawl.archive.config import crawl_dir_for, crawl_id_for

logger = logging.getLogger(__name__)
SUMMARY_FILE = "summary.json"
_PREFIX = "portal/"


class PortalSummary:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def summary(self) -> dict[str, dict[str, Any]]:
        """``{portal: {"pages": n, "errors": n, "reports": {year: n}, "roles": {...}, ...}}``."""
        out: dict[str, dict[str, Any]] = defaultdict(
            lambda: {"pages": 0, "errors": 0, "antibot": 0,
                     "reports": {}, "roles": {}, "bounded": {}})
        for key, value in (self.crawler.stats.get_stats() or {}).items():
            if not key.startswith(_PREFIX):
                continue
            portal, _, rest = key[len(_PREFIX):].partition("/")
            head, _, tail = rest.partition("/")
            if head in ("pages", "errors", "antibot"):
                out[portal][head] = value
            elif head in ("reports", "roles", "role", "bounded"):
                out[portal]["roles" if head == "role" else head][tail] = value
        return {k: out[k] for k in sorted(out)}

    def spider_closed(self, spider: object, reason: str) -> None:
        summary = self.summary()
        stats = self.crawler.stats
        record = {"crawl_id": crawl_id_for(self.crawler), "finish_reason": reason,
                  "items": stats.get_value("item_scraped_count", 0),
                  "quarantined": stats.get_value("quarantine/items", 0),
                  "warc_write_errors": stats.get_value("warc/write_error", 0),
                  "portals": summary}
        path = crawl_dir_for(self.crawler) / SUMMARY_FILE
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")
        except OSError as exc:
            logger.error("Could not write the run summary to %s: %s", path, exc)
        lines = [f"{'portal':<16} {'pages':>6} {'errors':>6} {'412':>4}  reports by year"]
        for portal, row in summary.items():
            years = ", ".join(f"{y}: {n}" for y, n in sorted(row["reports"].items())) or "-"
            lines.append(f"{portal:<16} {row['pages']:>6} {row['errors']:>6} "
                         f"{row['antibot']:>4}  {years}")
        logger.info("Run summary (%s):\n%s", path, "\n".join(lines))
