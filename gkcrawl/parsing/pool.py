"""Parse documents under a wall-time and a memory limit, in worker processes.

What a PDF, DOCX or legacy Word file costs to parse is up to its bytes: a 1.5 MB PDF may hold a
Flate bomb, a 75 KB one a million text operators, a 6 MB DOCX a 2 GiB ``document.xml``. A thread
cannot be stopped, so these documents are parsed in a pool of worker processes (pebble's
``ProcessPool``, which stops the worker of a task past its timeout and starts another):

* a parse that runs longer than ``PARSE_TIME_LIMIT`` seconds has its worker killed (and any
  legacy-Word converter it started) and replaced: ``parse_timeout``;
* a worker cannot take more than ``PARSE_MEMORY_LIMIT`` MiB beyond the address space it starts
  with (``RLIMIT_AS``): an allocation past it fails, the parse ends with ``parse_memory``;
* a DOCX or PDF that would inflate past ``PARSE_MAX_INFLATED`` bytes is refused before it is
  inflated (gkcrawl.parsing.extract.inflate): ``parse_inflated``.

Bytes go to the worker, the :class:`~gkcrawl.parsing.Parsed` result comes back: the report (or
the reason it is none) and the prose its signature is made of, a few objects where the rows of
cells are hundreds. HTML and plain text, a millisecond or two each, are parsed in the calling
process.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import resource
import signal
import threading
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from types import FrameType
from typing import TYPE_CHECKING, Any

from pebble import ProcessExpired, ProcessPool

from gkcrawl.parsing import PARSE_MEMORY, NotAReport, Parsed, parse_with_text
from gkcrawl.parsing.extract import decode
from gkcrawl.parsing.extract.inflate import PARSE_INFLATED, PARSE_MAX_INFLATED
from gkcrawl.parsing.regions import divisions

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

#: Setting: seconds one document may take to parse (a report's PDF takes well under ten).
PARSE_TIME_LIMIT = 60.0
#: Setting: MiB a parse worker may allocate beyond what it holds when it starts.
PARSE_MEMORY_LIMIT = 1024
#: Setting: worker processes: a document held up to the time limit does not stall the others.
PARSE_WORKERS = 2
#: Keep every cell printed blank or lost null: only what the document prints, nothing inferred
#: (docs/parsing.md, "Blank and missing cells").
PARSE_STRICT_BLANKS = False
#: The code of a document whose parse ran past PARSE_TIME_LIMIT.
PARSE_TIMEOUT = "parse_timeout"
#: The codes of a document over one of the limits: kept in the store with the limit's value, so
#: that the same record is not parsed again under the same limit (gkcrawl.pipelines.extract).
LIMIT_CODES = frozenset({PARSE_TIMEOUT, PARSE_MEMORY, PARSE_INFLATED})
#: Documents parsed in the calling process; the others go to a worker.
IN_PLACE = frozenset({decode.HTML, decode.TEXT})
#: Documents a worker parses before a fresh one takes its place: what the libraries cache and
#: what a failed allocation leaves fragmented stays bounded.
WORKER_TASKS = 200
#: What the fork server imports once, before it forks the workers: the main script (the
#: multiprocessing default: else each worker runs it again, and ``scrapy``'s imports Scrapy), the
#: parser and the libraries of the documents a worker is sent.
PRELOAD = ["__main__", "gkcrawl.parsing.extract.docx", "gkcrawl.parsing.extract.legacy",
           "gkcrawl.parsing.extract.pdf", __name__]
#: The most of an error's text kept as a reason.
REASON_CHARS = 300
MiB = 1 << 20
_PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class Limits:
    """The limits a document is parsed under (the settings above)."""

    time: float = PARSE_TIME_LIMIT
    memory: int = PARSE_MEMORY_LIMIT
    inflated: int = PARSE_MAX_INFLATED
    workers: int = PARSE_WORKERS

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> Limits:
        return cls(time=settings.getfloat("PARSE_TIME_LIMIT", PARSE_TIME_LIMIT),
                   memory=settings.getint("PARSE_MEMORY_LIMIT", PARSE_MEMORY_LIMIT),
                   inflated=settings.getint("PARSE_MAX_INFLATED", PARSE_MAX_INFLATED),
                   workers=max(1, settings.getint("PARSE_WORKERS", PARSE_WORKERS)))

    def value(self, code: str) -> float:
        """The limit that ``code`` (one of LIMIT_CODES) is about."""
        return {PARSE_TIMEOUT: self.time, PARSE_MEMORY: self.memory,
                PARSE_INFLATED: self.inflated}[code]

    def would_stop(self, code: str, over_limit: float | None) -> bool:
        """Whether a document that went over ``over_limit`` (``code``) would go over these
        limits again: the same limit, or a lower one."""
        return code in LIMIT_CODES and over_limit is not None and self.value(code) <= over_limit


class ParsePool:
    """Parses documents: HTML and text in place, the others in a worker process under the
    limits. Workers start with the first document that needs one, or with :meth:`start`;
    :meth:`close` stops them."""

    def __init__(self, limits: Limits | None = None, strict: bool = False) -> None:
        self.limits = limits or Limits()
        #: the strict reading of blank and lost cells (PARSE_STRICT_BLANKS)
        self.strict = strict
        self._pool: ProcessPool | None = None
        #: set when the pool broke: the next document starts another
        self._broken = False
        #: whether the workers have started and answered (see :meth:`start`)
        self.started = False
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> ParsePool:
        return cls(Limits.from_settings(settings),
                   settings.getbool("PARSE_STRICT_BLANKS", PARSE_STRICT_BLANKS))

    def start(self) -> None:
        """Start the workers and wait until one answers: a second or more, while the fork
        server imports the parser. :meth:`submit` starts them itself when needed, blocking its
        caller meanwhile; an event loop calls this from another thread first."""
        self._workers().schedule(_ready).result()
        self.started = True

    @staticmethod
    def in_place(body: bytes, content_type: str | None = None, url: str | None = None) -> bool:
        """Whether the document is parsed in the calling process (HTML, plain text)."""
        return decode.sniff(body, content_type, url) in IN_PLACE

    def submit(self, body: bytes, content_type: str | None = None,
               url: str | None = None) -> Future[Parsed]:
        """The parse of one document; the future never fails: a document over a limit, or
        whose worker died, is a :class:`NotAReport` saying so."""
        done: Future[Parsed] = Future()
        if self.in_place(body, content_type, url):
            done.set_result(parse_with_text(body, content_type, url,
                                            max_inflated=self.limits.inflated,
                                            strict=self.strict))
            return done
        task = self._workers().schedule(parse_with_text, (body, content_type, url),
                                        {"max_inflated": self.limits.inflated,
                                         "strict": self.strict},
                                        timeout=self.limits.time)
        task.add_done_callback(lambda task: done.set_result(self._outcome(task, url)))
        return done

    def close(self) -> None:
        """Stop the workers (a parse still running is abandoned)."""
        with self._lock:
            pool, self._pool, self.started = self._pool, None, False
        if pool is not None:
            pool.stop()  # type: ignore[no-untyped-call]  # (pebble leaves it unannotated)
            pool.join()

    def __enter__(self) -> ParsePool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _workers(self) -> ProcessPool:
        if self._broken:
            self._broken = False
            self.close()
        with self._lock:
            if self._pool is None:
                # forkserver: a worker starts from a clean process with the parser imported,
                # not from a copy of the crawler (its reactor, threads and open connections)
                context = multiprocessing.get_context("forkserver")
                context.set_forkserver_preload(PRELOAD)
                self._pool = ProcessPool(max_workers=self.limits.workers,
                                         max_tasks=WORKER_TASKS, initializer=_start_worker,
                                         initargs=(self.limits.memory,), context=context)
            return self._pool

    def _outcome(self, task: Future[Parsed], url: str | None) -> Parsed:
        """The worker's result, or the failure to get one as a NotAReport."""
        limits = self.limits
        try:
            parsed = task.result()
        except TimeoutError:
            return Parsed(NotAReport(
                PARSE_TIMEOUT, f"parsing took longer than the PARSE_TIME_LIMIT of "
                               f"{limits.time:g} s; the worker was stopped", url,
                over_limit=limits.time))
        except ProcessExpired as exc:
            return Parsed(NotAReport("parser_error", f"the parse worker died (exit code "
                                                     f"{exc.exitcode})", url))
        except BrokenProcessPool as exc:  # the pool itself failed: the next document starts another
            logger.warning("parse pool failed on %s", url or "<bytes>", exc_info=True)
            self._broken = True  # (not stopped here: this runs on one of the pool's threads)
            self.started = False
            return Parsed(NotAReport("parser_error", f"the parse pool failed: {exc}"[:REASON_CHARS],
                                     url))
        except Exception as exc:  # a bug past parsing's own guard: the document is quarantined
            logger.warning("parser error on %s", url or "<bytes>", exc_info=True)
            return Parsed(NotAReport("parser_error", f"parser error: {type(exc).__name__}: "
                                                     f"{exc}"[:REASON_CHARS], url))
        result = parsed.result
        if isinstance(result, NotAReport) and result.code == PARSE_MEMORY:
            result.reason = (f"parsing needed more than the PARSE_MEMORY_LIMIT of "
                             f"{limits.memory} MiB")
            result.over_limit = limits.memory
        return parsed


def _ready() -> None:
    """A task that does nothing: its answer says a worker is up."""


def _start_worker(memory_mib: int) -> None:
    """In each new worker: read the division list (most of a second: not in a document's
    time), cap its address space, and let the pool's stop (SIGTERM) end any converter the worker
    is running."""
    divisions()
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = _address_space() + memory_mib * MiB
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    stop = signal.getsignal(signal.SIGTERM)

    def stopped(signum: int, frame: FrameType | None) -> Any:
        from gkcrawl.parsing.extract.legacy import stop_converters

        stop_converters()
        return stop(signum, frame) if callable(stop) else os._exit(1)

    signal.signal(signal.SIGTERM, stopped)


def _address_space() -> int:
    """This process's virtual memory size in bytes (what RLIMIT_AS limits)."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[0]) * _PAGE
