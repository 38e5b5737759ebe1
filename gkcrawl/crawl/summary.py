"""The end-of-run summary per portal (an extension): pages fetched, reports found per year,
errors and what they were (fetches given up, attempts retried, by kind: ``timeout``,
``connection_lost``, ``too_large``, ``redirect_loop``, ``http_503``… of
:mod:`gkcrawl.crawl.failures`), anti-bot blocks, pages whose header charset was wrong, bounds
hit; and the documents quarantined, by reason.

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
_QUARANTINE = "quarantine/"
#: ``quarantine/*`` stats that are totals, not reasons
_QUARANTINE_TOTALS = ("items", "unstored")
_SCALARS = ("pages", "errors", "antibot", "charset_mismatch")
#: stats ``portal/<id>/<head>/<name>`` counted by name, and the summary key of each
_COUNTS = {"reports": "reports", "roles": "roles", "role": "roles", "bounded": "bounded",
           "failed": "failed", "retried": "retried"}


class PortalSummary:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def summary(self) -> dict[str, dict[str, Any]]:
        """``{portal: {"pages": n, "errors": n, "reports": {year: n}, "failed": {kind: n},
        "retried": {kind: n}, "roles": {...}, ...}}``."""
        out: dict[str, dict[str, Any]] = defaultdict(
            lambda: {**dict.fromkeys(_SCALARS, 0), **{k: {} for k in _COUNTS.values()}})
        for key, value in (self.crawler.stats.get_stats() or {}).items():
            if not key.startswith(_PREFIX):
                continue
            portal, _, rest = key[len(_PREFIX):].partition("/")
            head, _, tail = rest.partition("/")
            if head in _SCALARS:
                out[portal][head] = value
            elif head in _COUNTS:
                out[portal][_COUNTS[head]][tail] = value
        return {k: out[k] for k in sorted(out)}

    def quarantined(self) -> dict[str, int]:
        """Documents quarantined in this run, by reason code (``quarantine/<code>``)."""
        stats = self.crawler.stats.get_stats() or {}
        return {key[len(_QUARANTINE):]: value for key, value in sorted(stats.items())
                if key.startswith(_QUARANTINE) and key[len(_QUARANTINE):] not in _QUARANTINE_TOTALS}

    def spider_closed(self, spider: object, reason: str) -> None:
        summary = self.summary()
        stats = self.crawler.stats
        record = {"crawl_id": crawl_id_for(self.crawler), "finish_reason": reason,
                  "items": stats.get_value("item_scraped_count", 0),
                  "quarantined": stats.get_value("quarantine/items", 0),
                  "quarantine": self.quarantined(),
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
            lines += [f"{'':<16} {head}: {_counts(row[head])}"
                      for head in ("failed", "retried") if row[head]]
        if record["quarantine"]:
            lines.append(f"quarantined: {_counts(record['quarantine'])}")
        logger.info("Run summary (%s):\n%s", path, "\n".join(lines))


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {n}" for name, n in sorted(counts.items()))
