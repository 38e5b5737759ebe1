"""``scrapy crawl replay -a archive=PATH``: re-parse archived reports offline, through the same
pipelines as a live crawl.

Every archived report response (and report attachment) is fed back, with the portal, role and
referrer of its WARC metadata record; revisits are resolved to their original bytes; header blocks
are read as raw bytes; the still-encoded body goes through Scrapy's own HttpCompressionMiddleware
as in a live crawl. Nothing is downloaded, so nothing is scheduled: ``start()`` yields the
documents as items straight to the pipelines (at most ``REPLAY_ITEMS_IN_FLIGHT`` at a time), and
any request would be answered from the archive or refused. Corrupt or truncated records are
counted, reported and skipped.

Spider arguments:
    archive              WARC files, directories or globs, separated by the OS path separator
    reparse_older_than   re-parse only records whose stored copy has an older parser version
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.settings import BaseSettings
from scrapy.utils.asyncio import call_later
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import Deferred

from gkcrawl import PARSER_VERSION
from gkcrawl.archive.config import ArchiveSettings
from gkcrawl.archive.paths import OPEN_SUFFIX, expand_warc_paths
from gkcrawl.archive.reader import ArchivedExchange, ReadError, ReadStats, iter_archive
from gkcrawl.items import DocumentItem
from gkcrawl.replay.jobs import DONE_PREFIX, PROGRESS_EVERY, PROGRESS_PREFIX, FileClaims
from gkcrawl.replay.responses import (
    REPLAY_SETTINGS,
    ArchiveDecoder,
    leave_out_archiving,
    older_version,
)
from gkcrawl.store import store_for

#: Setting: documents handed to the pipelines and not yet through them: enough to keep a PDF in
#: a parse worker from stalling the HTML behind it, few enough to bound memory.
REPLAY_ITEMS_IN_FLIGHT = 32
#: Setting: with several processes (``gkcrawl replay --jobs N``), the share of a WARC file each
#: claims at a time (~60 report pages): the processes end within one part's time of each other.
REPLAY_PART_BYTES = 256 * 1024
#: Roles of archived pages whose documents go to the pipelines (as in the live crawl).
DOCUMENT_ROLES = frozenset({"report", "attachment"})
OK = 200
#: After its last item, start() looks whether the scraper is idle at once, then every
#: IDLE_POLL_S (a few event-loop turns after the item_scraped handlers, or as long as async ones
#: run), for at most IDLE_WAIT_S: by then the engine's own heartbeat (5 s) ends the run
IDLE_POLL_S, IDLE_WAIT_S = 0.001, 5.0


class ReplaySpider(Spider):
    name = "replay"
    custom_settings = REPLAY_SETTINGS
    #: ARCHIVE_DIR, which the WARC pointers' file names are relative to (set by from_crawler)
    archive_root: Path
    in_flight: InFlight

    def __init__(self, archive: str = "", reparse_older_than: str | None = None,
                 claims: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not archive:
            raise ValueError("replay needs -a archive=PATH (WARC files, directories or globs)")
        self.paths = expand_warc_paths(p for p in archive.split(os.pathsep) if p)
        self.reparse_older_than = reparse_older_than
        # several processes sharing the files (gkcrawl replay --jobs N): each reads the parts
        # of files it claims first in this directory
        self.claims = FileClaims(claims, self.paths) if claims else None
        self.read_stats = ReadStats()
        self.records = 0  #: records read so far (``replay/records``)

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        super().update_settings(settings)
        leave_out_archiving(settings)

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> ReplaySpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.archive_root = ArchiveSettings.from_crawler(crawler).archive_dir
        spider.in_flight = InFlight(crawler.settings.getint("REPLAY_ITEMS_IN_FLIGHT",
                                                            REPLAY_ITEMS_IN_FLIGHT))
        for signal in (signals.item_scraped, signals.item_dropped, signals.item_error):
            crawler.signals.connect(spider.in_flight.done, signal=signal)
        return spider

    async def start(self) -> AsyncIterator[DocumentItem]:
        current = self._current_records()
        decoder = ArchiveDecoder(self.crawler)  # needs the crawler's stats: not before start
        progress = self.crawler.settings.getbool("REPLAY_PROGRESS")
        # the rest of each crawl is read for metadata records that landed in a sibling file
        crawl_dirs = sorted({str(p.parent) for p in self.paths})
        claim = self.claims.claim if self.claims is not None else None
        part_bytes = self.crawler.settings.getint("REPLAY_PART_BYTES", REPLAY_PART_BYTES)
        for n, exchange in enumerate(iter_archive(self.paths, stats=self.read_stats,
                                                  on_error=self._on_error, context=crawl_dirs,
                                                  claim=claim, part_bytes=part_bytes),
                                     start=1):
            self.records = n  # the replay/records stat, set at close
            if progress and n % PROGRESS_EVERY == 0:
                _tell_parent(f"{PROGRESS_PREFIX}{n}")
            role = exchange.metadata.get("role")
            if exchange.status != OK or role not in DOCUMENT_ROLES or exchange.body is None:
                continue
            if (exchange.url, exchange.record_id) in current:
                self.crawler.stats.inc_value("replay/skipped_current")
                continue
            self.crawler.stats.inc_value("replay/documents")
            try:
                response = decoder.response(exchange)
            except IgnoreRequest as exc:  # e.g. beyond DOWNLOAD_MAXSIZE once decompressed
                self.crawler.stats.inc_value("replay/undecodable")
                self.logger.warning("Skipping %s: %s", exchange.url, exc)
                continue
            await self.in_flight.wait()
            self.in_flight.started()
            yield self.document(exchange, response, role)
        # the engine looks for the end of a run when start() ends (else only at its 5 s
        # heartbeat): end once the last documents are through the pipelines, and the scraper
        # counts them as done (it does only once every item_scraped handler has returned)
        await self.in_flight.wait(below=1)
        await _scraper_done(self.crawler)

    def document(self, exchange: ArchivedExchange, response: Response, role: str) -> DocumentItem:
        """The item the live crawl yielded for this response (same fields, same WARC pointer)."""
        meta = exchange.metadata
        ctype = response.headers.get(b"Content-Type")
        return DocumentItem(
            url=exchange.url, body=response.body,
            content_type=ctype.decode("latin-1") if ctype else None,
            portal=meta.get("portal"), role=role, referrer=meta.get("via"),
            warc=self._pointer(exchange), crawl_id=_crawl_id(exchange),
            in_portal={"true": True, "false": False}.get(meta.get("in-portal", "")),
            fetched_at=exchange.warc_date,
        )

    def closed(self, reason: str) -> None:
        stats = self.crawler.stats
        stats.set_value("replay/records", self.records)
        read = self.read_stats
        for name in ("files", "incomplete_files", "records", "exchanges", "revisits_resolved",
                     "revisits_unresolved", "damaged"):
            stats.set_value(f"replay/read/{name}", getattr(read, name))
        stats.set_value("replay/read/errors", len(read.errors))
        self.logger.info("Replay read %d files, %d records (%d damaged, %d unresolved revisits)",
                         read.files, read.records, read.damaged, read.revisits_unresolved)
        if self.crawler.settings.getbool("REPLAY_PROGRESS"):
            _tell_parent(f"{PROGRESS_PREFIX}{stats.get_value('replay/records', 0)}")
            _tell_parent(DONE_PREFIX + json.dumps({
                "records": stats.get_value("replay/records", 0),
                "documents": stats.get_value("replay/documents", 0),
                "reports": stats.get_value("parse/reports", 0),
                "quarantined": stats.get_value("quarantine/items", 0),
                "damaged": read.damaged, "read_errors": len(read.errors)}))

    # --- helpers ---------------------------------------------------------------------------

    def _current_records(self) -> set[tuple[str, str | None]]:
        """(url, record id) of stored copies parsed by ``reparse_older_than`` or newer."""
        if not self.reparse_older_than:
            return set()
        return {(s.url, s.record_id) for s in store_for(self.crawler).sources()
                if not older_version(s.parser_version, self.reparse_older_than)}

    def _on_error(self, error: ReadError) -> None:
        self.logger.warning("Skipping a broken WARC record: %s @ %s: %s", error.path, error.offset,
                            error.message)

    def _pointer(self, exchange: ArchivedExchange) -> dict[str, Any]:
        """The same WARC pointer the live crawl put on the item."""
        location = exchange.location
        name = str(location.path)
        name = name.removesuffix(OPEN_SUFFIX)
        return {"filename": os.path.relpath(name, self.archive_root), "offset": location.offset,
                "length": location.length, "record_id": exchange.record_id,
                "digest": exchange.payload_digest or "", "is_revisit": exchange.is_revisit,
                "date": exchange.warc_date, "parser_version": PARSER_VERSION}


class InFlight:
    """How many yielded items the pipelines still hold: ``start()`` waits below ``limit``, since
    Scrapy itself only holds back requests, not items."""

    def __init__(self, limit: int) -> None:
        self.limit = max(1, limit)
        self._below = self.limit
        self.count = 0
        self._waiter: Deferred[None] | None = None

    def started(self) -> None:
        self.count += 1

    def done(self, **_: Any) -> None:
        self.count -= 1
        if self._waiter is not None and self.count < self._below:
            waiter, self._waiter = self._waiter, None
            waiter.callback(None)

    async def wait(self, below: int | None = None) -> None:
        """Until fewer than ``below`` (default: ``limit``) items are held."""
        self._below = self.limit if below is None else below
        while self.count >= self._below:
            self._waiter = Deferred()
            await maybe_deferred_to_future(self._waiter)


async def _scraper_done(crawler: Crawler) -> None:
    """Until the scraper holds no item. :class:`InFlight` hears of an item's end from
    ``item_scraped``, while the scraper still counts the item: a ``start()`` that ended then
    would have the engine find the run not idle and wait for its next heartbeat, 5 s."""
    slot = getattr(getattr(crawler.engine, "scraper", None), "slot", None)
    deadline = time.monotonic() + IDLE_WAIT_S
    delay = 0.0
    while slot is not None and not slot.is_idle() and time.monotonic() < deadline:
        turn: Deferred[None] = Deferred()
        call_later(delay, turn.callback, None)
        await maybe_deferred_to_future(turn)
        delay = IDLE_POLL_S


def _tell_parent(line: str) -> None:
    """``gkcrawl replay`` reads these lines from our stdout for its progress bar."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _crawl_id(exchange: ArchivedExchange) -> str:
    """The crawl that archived the record: its files live in ``<archive>/<crawl id>/``."""
    return exchange.location.path.parent.name
