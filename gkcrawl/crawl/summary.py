"""Project extensions: the end-of-run summary per portal, items that failed in a pipeline
quarantined, and the runtime tuned while a spider runs (GC, Twisted's timers).

:class:`PortalSummary`: pages fetched, reports found per year, errors, bounds hit. Logged as a
table when the crawl closes and written to ``<ARCHIVE_DIR>/<crawl id>/summary.json`` next to the
WARC files, so a scheduled run leaves a record a person can read.

:class:`PipelineErrorQuarantine`, and the :class:`WhileRunning` extensions
:class:`FreezeStartupHeap`, :class:`GcThreshold` and :class:`PurgeCancelledTimers`: see their
docstrings.
"""

from __future__ import annotations

import gc
import json
import logging
from collections import defaultdict
from typing import Any, Self

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.reactor import is_asyncio_reactor_installed

from gkcrawl import PARSER_VERSION
from gkcrawl.archive.config import crawl_dir_for, crawl_id_for
from gkcrawl.items import DocumentItem, QuarantineItem, ReportItem
from gkcrawl.pipelines.extract import quarantine
from gkcrawl.store import QuarantineRow, store_for

logger = logging.getLogger(__name__)
#: How often PurgeCancelledTimers lets Twisted drop its cancelled delayed calls (seconds).
TIMER_PURGE_SECONDS = 1.0
SUMMARY_FILE = "summary.json"
#: ``gc.set_threshold`` takes a threshold for each of the collector's generations
GC_GENERATIONS = 3
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
            lambda: {"pages": 0, "errors": 0, "antibot": 0, "reports": {}, "roles": {}, "bounded": {}})
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
            lines.append(f"{portal:<16} {row['pages']:>6} {row['errors']:>6} {row['antibot']:>4}  {years}")
        logger.info("Run summary (%s):\n%s", path, "\n".join(lines))


#: ``QuarantineItem.code`` of an item a pipeline raised on (a bug, a store that could not open).
PIPELINE_ERROR = "pipeline_error"
#: The most of an exception's text kept as the quarantine reason.
REASON_CHARS = 300


class PipelineErrorQuarantine:
    """Quarantine a document or report on which a pipeline raised, with the error as the reason.

    A page that does not parse is quarantined by the pipelines themselves; an exception (a
    parser bug past ``safely``, a store that could not open) made Scrapy log the item and drop
    it, so nothing in the store said that the archived record was never stored. Now the record
    goes into the quarantine table (``code`` ``pipeline_error``), where a later replay resolves
    it, and ``quarantine/pipeline_errors`` counts it. If even that write fails, the URL and the
    WARC pointer are logged as an ERROR (``quarantine/unstored``).
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        crawler.signals.connect(self.item_error, signal=signals.item_error)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def item_error(self, item: Any, response: Any, spider: Any, failure: Any) -> None:
        entry = _quarantined(item, failure)
        if entry is None:
            return
        stats = self.crawler.stats
        stats.inc_value("quarantine/pipeline_errors")
        try:
            store_for(self.crawler).upsert_quarantine(QuarantineRow.from_item(entry))
        except Exception:  # noqa: BLE001 - the item is lost to the store: say where it lives
            stats.inc_value("quarantine/unstored")
            logger.exception("Could not quarantine %s (WARC %s) after a pipeline error: %s",
                             entry.url, entry.warc, entry.reason)


def _quarantined(item: Any, failure: Any) -> QuarantineItem | None:
    """The quarantine entry for a document or report item (None for any other item)."""
    error = getattr(failure, "value", failure)
    reason = f"pipeline error: {type(error).__name__}: {error}"[:REASON_CHARS]
    if isinstance(item, DocumentItem):
        return quarantine(item, PIPELINE_ERROR, reason)
    if isinstance(item, ReportItem) and item.source_url:
        return QuarantineItem(url=item.source_url, code=PIPELINE_ERROR, reason=reason,
                              portal=item.portal, crawl_id=item.crawl_id,
                              fetched_at=item.fetched_at, warc=item.warc,
                              parser_version=PARSER_VERSION)
    return None


class WhileRunning:
    """An extension that changes something for as long as the spider runs: its
    ``spider_opened`` and ``spider_closed`` are connected by :meth:`connect`."""

    def connect(self, crawler: Crawler) -> Self:
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)
        return self

    def spider_opened(self) -> None:
        raise NotImplementedError

    def spider_closed(self) -> None:
        raise NotImplementedError


class FreezeStartupHeap(WhileRunning):
    """``gc.freeze()`` once the spider is open, ``gc.unfreeze()`` when it closes.

    The ~100k objects of the imports and start-up live as long as the crawl, yet every full
    collection traversed them again; a long crawl runs hundreds of full collections (258 at
    20,000 pages). Frozen, they are left out: each full collection became about three times
    cheaper in bench/crawl.py. Unfrozen at close, so that a process running several crawls
    (the tests) does not keep each one's garbage. Setting ``GC_FREEZE_STARTUP`` (True).
    """

    def __init__(self) -> None:
        self.frozen = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.getbool("GC_FREEZE_STARTUP", True):
            raise NotConfigured("GC_FREEZE_STARTUP is False")
        return cls().connect(crawler)

    def spider_opened(self) -> None:
        gc.collect()  # start-up garbage is freed, not frozen for the whole crawl
        gc.freeze()
        self.frozen = True

    def spider_closed(self) -> None:
        if self.frozen:
            gc.unfreeze()
            self.frozen = False


class GcThreshold(WhileRunning):
    """The collector's thresholds (``gc.set_threshold``) from ``GC_THRESHOLD`` while the spider
    runs, Python's again when it closes; empty (the default): Python's own.

    A replay parses one report after another on the CPU, and the parser allocates and frees
    containers by the thousand per report: at Python's default of 700 the collector ran
    ~4,600 young and ~40 full collections over 5,000 reports, 0.5 s of a 19 s replay
    (bench/replay.py). At 10,000 it runs ~190 young and 2 full ones for 0.07 s, with the same
    peak RSS: the parser's garbage has few reference cycles, so little waits longer to be freed.
    """

    def __init__(self, threshold: tuple[int, ...]) -> None:
        self.threshold = threshold
        self.previous: tuple[int, ...] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        # from the command line a string: "-s GC_THRESHOLD=10000,10,10", or "-s GC_THRESHOLD="
        given = [str(n).strip() for n in crawler.settings.getlist("GC_THRESHOLD")]
        given = [n for n in given if n]
        if not given:
            raise NotConfigured("GC_THRESHOLD is empty: Python's own thresholds")
        try:
            threshold = tuple(int(n) for n in given)
        except ValueError:
            threshold = ()
        if not 1 <= len(threshold) <= GC_GENERATIONS or min(threshold) < 0:
            raise ValueError(f"GC_THRESHOLD: one to {GC_GENERATIONS} integers of at least 0 "
                             f"(10000,10,10), or empty for Python's own; not "
                             f"{crawler.settings.get('GC_THRESHOLD')!r}")
        return cls(threshold).connect(crawler)

    def spider_opened(self) -> None:
        self.previous = gc.get_threshold()
        gc.set_threshold(*self.threshold)

    def spider_closed(self) -> None:
        if self.previous is not None:
            gc.set_threshold(*self.previous)
            self.previous = None


class PurgeCancelledTimers(WhileRunning):
    """A Twisted timer that fires every ``TIMER_PURGE_SECONDS`` (1 s), so that the reactor drops
    the delayed calls that were cancelled.

    Every download sets Twisted timers (its DOWNLOAD_TIMEOUT, the connection's) and cancels them
    when it is done. Twisted forgets a cancelled call only when one of its timers fires (it
    then purges them once they outnumber the live ones); under the asyncio reactor Scrapy's own
    timers are asyncio's, so in a crawl no Twisted timer fires before the first timeout, 60 s
    on. Each cancelled call (~0.5 KB) stayed that long: at 300 pages/s, 28,000 of them and
    ~12 MiB of RSS (bench/crawl.py, docs/benchmarks.md), and more work for every full GC. With
    the tick, at most about a second of them is kept. Setting ``TIMER_PURGE_SECONDS`` (0: off).
    """

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.tick: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        interval = crawler.settings.getfloat("TIMER_PURGE_SECONDS", TIMER_PURGE_SECONDS)
        if interval <= 0:
            raise NotConfigured("TIMER_PURGE_SECONDS is 0")
        if not is_asyncio_reactor_installed():
            raise NotConfigured("other reactors purge cancelled calls at every loop iteration")
        return cls(interval).connect(crawler)

    def spider_opened(self) -> None:
        # Twisted's LoopingCall, not Scrapy's create_looping_call: that one runs on asyncio's
        # timers, which is the very reason Twisted's never fire
        from twisted.internet.task import LoopingCall

        self.tick = LoopingCall(_nothing)
        self.tick.start(self.interval, now=False)

    def spider_closed(self) -> None:
        if self.tick is not None and self.tick.running:
            self.tick.stop()
        self.tick = None


def _nothing() -> None:
    """The tick's work is done by the reactor around it (runUntilCurrent)."""
