"""A Scrapy extension bench/crawl.py adds to the crawl it measures (``-s EXTENSIONS=...``).

Passive: every ``BENCH_SAMPLE_INTERVAL`` seconds it samples the process's RSS (``/proc/self``),
the pages parsed, the scheduler's queue length, live ``Request`` objects (scrapy.utils.trackref)
and the spider's ``seen`` set; when the engine stops it writes those samples and the final
Scrapy stats to ``BENCH_PROBE_FILE`` as JSON (the crawl runs at LOG_LEVEL WARNING, so the stats
dump is not in the log).

With ``BENCH_TRACEMALLOC_SEEN=a,b`` it also starts tracemalloc when the spider opens and takes a
snapshot when the spider has scheduled (``seen``) ``a`` and then ``b`` URLs; the allocations that
grew between them (by line and by traceback) go into the JSON as ``tracemalloc``. Diagnosis only: tracemalloc
slows the crawl several times, so never combine it with a timed run.

:class:`ArchiveTimers` (``bench/crawl.py --archive-timers``; another extension, loaded before
every other) times the archive's own code in the crawl: the CPU time (``time.thread_time``) of
every call into the WARC extension and the archive's downloader middlewares, including the
close (index merge, digest store), as ``archive_cpu_s`` in the probe's file. Its share of the
crawl's CPU time, measured in the same run, does not depend on how fast the shared machine
happens to be during that run, as pages/s and CPU ms/page do. It leaves out what Scrapy spends
dispatching the two signals and three middleware calls, and the garbage the archive makes; the
timers themselves add two clock reads per call.

``BENCH_GC_FREEZE=True`` (an experiment, off by default) calls ``gc.freeze()`` when the spider
opens, so full collections stop traversing the objects of the imports and start-up. The project
now does this itself (``gkcrawl.crawl.summary.FreezeStartupHeap``, ``GC_FREEZE_STARTUP``); to measure
a crawl without it, pass ``-s GC_FREEZE_STARTUP=False``.
"""

from __future__ import annotations

import functools
import gc
import importlib
import inspect
import json
import time
import tracemalloc
from pathlib import Path
from typing import Any

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import create_looping_call
from scrapy.utils.trackref import live_refs

TOP = 25
#: (module, class, method) of every entry point into the archive's code during a crawl.
ARCHIVE_ENTRY_POINTS = [
    ("gkcrawl.archive.extension", "WarcArchiver", "response_downloaded"),
    ("gkcrawl.archive.extension", "WarcArchiver", "metadata"),
    ("gkcrawl.archive.extension", "WarcArchiver", "spider_opened"),
    ("gkcrawl.archive.extension", "WarcArchiver", "spider_closed"),
    ("gkcrawl.archive.middlewares", "ArchiveAcceptEncodingMiddleware", "process_request"),
    ("gkcrawl.archive.middlewares", "CrawlLogMiddleware", "process_exception"),
    ("gkcrawl.archive.middlewares", "CrawlLogMiddleware", "spider_closed"),
    ("gkcrawl.crawl.resume", "ArchiveLookupMiddleware", "spider_opened"),
    ("gkcrawl.crawl.resume", "ArchiveLookupMiddleware", "process_request"),
    ("gkcrawl.crawl.resume", "ArchiveLookupMiddleware", "process_response"),
    ("gkcrawl.crawl.resume", "ArchiveLookupMiddleware", "flush"),
]
#: CPU seconds spent in each entry point, and calls (ArchiveTimers; read by BenchProbe).
ARCHIVE_CPU: dict[str, list[float]] = {}
#: Timed calls in progress: an entry point called from another is counted once, in the caller.
_depth = [0]


def _timed(function: Any, key: str) -> Any:
    """``function`` timed into ARCHIVE_CPU[key]. It takes ``**kwargs`` and passes on only the
    arguments ``function`` names: Scrapy's signal dispatch offers every argument to a handler
    that takes ``**kwargs``."""
    parameters = inspect.signature(function).parameters
    takes_any = any(p.kind is p.VAR_KEYWORD for p in parameters.values())
    names = set(parameters)
    slot = ARCHIVE_CPU.setdefault(key, [0.0, 0])
    clock = time.thread_time

    def timed(*args: Any, **kwargs: Any) -> Any:
        if not takes_any:
            kwargs = {k: v for k, v in kwargs.items() if k in names}
        if _depth[0]:  # called from another entry point (flush from process_response): counted
            return function(*args, **kwargs)
        _depth[0] += 1
        start = clock()
        try:
            return function(*args, **kwargs)
        finally:
            slot[0] += clock() - start
            slot[1] += 1
            _depth[0] -= 1

    functools.update_wrapper(timed, function)
    del timed.__wrapped__  # type: ignore[attr-defined]  # inspect must see (*args, **kwargs)
    return timed


class ArchiveTimers:
    """Wraps the archive's entry points with CPU timers; must be built before the archive's
    components connect their methods (an extension with the lowest order)."""

    def __init__(self) -> None:
        for module, cls_name, method in ARCHIVE_ENTRY_POINTS:
            cls = getattr(importlib.import_module(module), cls_name)
            if method in cls.__dict__ and not hasattr(cls.__dict__[method], "_bench_timed"):
                timed = _timed(cls.__dict__[method], f"{cls_name}.{method}")
                timed._bench_timed = True  # type: ignore[attr-defined]
                setattr(cls, method, timed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchiveTimers:
        if not crawler.settings.getbool("WARC_ENABLED", True):
            raise NotConfigured("archiving off: nothing to time")
        return cls()


def _proc_status() -> dict[str, int]:
    out = {}
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(("VmRSS:", "VmHWM:")):
                out[line.split(":")[0]] = int(line.split()[1])
    return out


class BenchProbe:
    def __init__(self, crawler: Crawler, path: str) -> None:
        self.crawler = crawler
        self.path = Path(path)
        settings = crawler.settings
        self.interval = settings.getfloat("BENCH_SAMPLE_INTERVAL", 1.0)
        marks = settings.get("BENCH_TRACEMALLOC_SEEN") or ""
        self.marks = sorted(int(m) for m in str(marks).split(",") if m.strip())
        self.frames = settings.getint("BENCH_TRACEMALLOC_FRAMES", 12)
        self.snapshots: list[tuple[int, tracemalloc.Snapshot]] = []
        self.samples: list[dict[str, Any]] = []
        self.t0 = time.monotonic()
        self.task: Any = None
        self.gc_seconds = 0.0
        self.gc_full = 0
        self._gc_start = 0.0
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(self.engine_stopped, signal=signals.engine_stopped)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BenchProbe:
        path = crawler.settings.get("BENCH_PROBE_FILE")
        if not path:
            raise NotConfigured("BENCH_PROBE_FILE not set")
        return cls(crawler, path)

    def _gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_start = time.perf_counter()
        else:
            self.gc_seconds += time.perf_counter() - self._gc_start
            self.gc_full += info.get("generation") == 2

    def spider_opened(self) -> None:
        if self.crawler.settings.getbool("BENCH_GC_FREEZE"):
            # experiment: what GC would cost if start-up objects were not traversed again
            gc.collect()
            gc.freeze()
        gc.callbacks.append(self._gc)
        if self.marks:
            tracemalloc.start(self.frames)
        self.t0 = time.monotonic()
        self.task = create_looping_call(self.sample)
        self.task.start(self.interval, now=True)

    def _pages(self) -> int:
        stats = self.crawler.stats.get_stats()
        return sum(v for k, v in stats.items() if k.startswith("portal/") and k.endswith("/pages"))

    def sample(self) -> None:
        engine = self.crawler.engine
        scheduler = engine.scheduler if engine is not None else None
        spider = self.crawler.spider
        status = _proc_status()
        pages = self._pages()
        seen = len(getattr(spider, "seen", ()))
        self.samples.append({
            "t": round(time.monotonic() - self.t0, 2), "pages": pages,
            "cpu_s": round(time.process_time(), 2), "gc_s": round(self.gc_seconds, 3),
            "gc_full": self.gc_full,
            "rss_kb": status.get("VmRSS"), "hwm_kb": status.get("VmHWM"),
            "scheduled_pending": len(scheduler) if scheduler is not None else None,
            "live_requests": len(live_refs.get(Request, ())),
            "seen": seen,
        })
        if self.marks and len(self.snapshots) < len(self.marks) and seen >= self.marks[len(self.snapshots)]:
            self.snapshots.append((seen, tracemalloc.take_snapshot()))

    def spider_closed(self) -> None:
        if self.task is not None and self.task.running:
            self.task.stop()
        self.sample()

    def engine_stopped(self) -> None:
        if self._gc in gc.callbacks:
            gc.callbacks.remove(self._gc)
        out: dict[str, Any] = {"samples": self.samples,
                               "stats": {k: v if isinstance(v, (int, float, str)) else str(v)
                                         for k, v in self.crawler.stats.get_stats().items()}}
        if ARCHIVE_CPU:
            out["archive_cpu"] = {k: [round(s, 4), n] for k, (s, n) in ARCHIVE_CPU.items()}
        if len(self.snapshots) >= 2:
            (p0, first), (p1, last) = self.snapshots[0], self.snapshots[-1]
            filters = [tracemalloc.Filter(False, tracemalloc.__file__)]
            first, last = first.filter_traces(filters), last.filter_traces(filters)
            out["tracemalloc"] = {
                "seen": [p0, p1],
                "total_kib": [round(sum(s.size for s in first.statistics("filename")) / 1024),
                              round(sum(s.size for s in last.statistics("filename")) / 1024)],
                "by_line": [_stat(s) for s in last.compare_to(first, "lineno")[:TOP]],
                "by_traceback": [_stat(s, tb=True) for s in last.compare_to(first, "traceback")[:10]],
            }
        if self.marks:
            tracemalloc.stop()
        self.path.write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")


def _stat(stat: tracemalloc.StatisticDiff, tb: bool = False) -> dict[str, Any]:
    frames = [f"{f.filename}:{f.lineno}" for f in stat.traceback]
    return {"size_diff_kib": round(stat.size_diff / 1024, 1), "count_diff": stat.count_diff,
            "size_kib": round(stat.size / 1024, 1),
            "where": frames if tb else frames[0]}
