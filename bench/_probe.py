"""Two Scrapy extensions bench/crawl.py adds to the crawls it measures (``-s EXTENSIONS=...``).

:class:`BenchProbe` samples, every second, the pages parsed, the process's CPU time and its RSS;
when the engine stops it writes those samples and Scrapy's final stats to ``BENCH_PROBE_FILE``
(JSON; the crawl runs at LOG_LEVEL WARNING, so the stats are not in its log). The first and last
samples give the crawl's CPU time from spider open to close, without start-up.

:class:`ArchiveTimers` (loaded before every other extension, archiving on only) wraps the
archive's entry points (``ARCHIVE_ENTRY_POINTS``: the WARC extension, the archive's downloader
middlewares and the incremental-fetch lookup) with CPU timers (``time.thread_time``), so that the
probe's file also says how much CPU the archive's own code took in that crawl. It leaves out
what Scrapy spends dispatching to it and the garbage it makes; the timers add two clock reads
and a call (~1 µs) to each of the ~6 calls a page.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import create_looping_call

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
#: [CPU seconds, calls] of each entry point.
ARCHIVE_CPU: dict[str, list[float]] = {}
_depth = [0]  # an entry point called from another one is counted once, in its caller


def _timed(function: Callable[..., Any], key: str) -> Callable[..., Any]:
    """``function`` timed into ARCHIVE_CPU[key]. It takes ``**kwargs`` and passes on only the
    ones ``function`` names: Scrapy's signal dispatch offers every argument to such a handler."""
    parameters = inspect.signature(function).parameters
    takes_any = any(p.kind is p.VAR_KEYWORD for p in parameters.values())
    slot = ARCHIVE_CPU.setdefault(key, [0.0, 0])
    clock = time.thread_time

    def timed(*args: Any, **kwargs: Any) -> Any:
        if not takes_any:
            kwargs = {k: v for k, v in kwargs.items() if k in parameters}
        if _depth[0]:
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
    def __init__(self) -> None:
        for module, cls_name, method in ARCHIVE_ENTRY_POINTS:
            cls = getattr(importlib.import_module(module), cls_name)
            if method in cls.__dict__:
                setattr(cls, method, _timed(cls.__dict__[method], f"{cls_name}.{method}"))

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.getbool("WARC_ENABLED", True):
            raise NotConfigured("archiving off: nothing to time")
        return cls()


def _rss_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:"))


class BenchProbe:
    def __init__(self, crawler: Crawler, path: str) -> None:
        self.crawler = crawler
        self.path = Path(path)
        self.samples: list[dict[str, Any]] = []
        self.task: Any = None
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(self.engine_stopped, signal=signals.engine_stopped)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        path = crawler.settings.get("BENCH_PROBE_FILE")
        if not path:
            raise NotConfigured("BENCH_PROBE_FILE not set")
        return cls(crawler, path)

    def spider_opened(self) -> None:
        self.task = create_looping_call(self.sample)
        self.task.start(1.0, now=True)

    def sample(self) -> None:
        stats = self.crawler.stats.get_stats()
        pages = sum(v for k, v in stats.items() if k.startswith("portal/") and k.endswith("/pages"))
        self.samples.append({"pages": pages, "cpu_s": time.process_time(), "rss_kib": _rss_kib()})

    def spider_closed(self) -> None:
        if self.task is not None and self.task.running:
            self.task.stop()
        self.sample()

    def engine_stopped(self) -> None:
        stats = {k: v if isinstance(v, int | float | str) else str(v)
                 for k, v in self.crawler.stats.get_stats().items()}
        out = {"samples": self.samples, "stats": stats, "archive_cpu": ARCHIVE_CPU}
        self.path.write_text(json.dumps(out, ensure_ascii=False), encoding="utf-8")
