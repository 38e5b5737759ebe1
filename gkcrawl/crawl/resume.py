"""Resumed and incremental crawls: what is archived already is not fetched or archived again.

* **Resume** (the same ``CRAWL_ID``/``JOBDIR`` after a crash or a kill): at start the crawl's own
  WARC files are read, the unfinished ``.open`` one included; a request archived there is
  answered from the archive (a GET by its URL, a POST by its URL and body: two ranges POSTed to
  one data endpoint are two answers), so the crawl walks through what it had done without
  fetching it, and reaches what it had not. A page the browser renders is rendered again (the
  archive cannot answer what its script asks). Scrapy's request queue and dupefilter files cannot
  be trusted after a SIGKILL (their index is written on a clean close), so they are not used:
  queue and dupefilter stay in memory (:class:`ArchiveResumeScheduler`,
  :class:`MemoryDupeFilter`, whose fingerprints hold method and body too) and the archive is
  the record of what was done. JOBDIR keeps the crawl id.
* **Incremental** (a later run, a new crawl id): the store remembers the last good fetch of
  every URL (``fetches``: ETag, Last-Modified, payload digest, WARC location). Requests carry
  ``If-None-Match``/``If-Modified-Since``; a 304 is answered with the earlier archived response
  and flagged ``not-modified``, so lists are still read (new reports in old lists are found) and
  unchanged report pages are not parsed again. A 200 whose payload was archived before becomes a
  revisit record in the archive (digest store), and is flagged ``unchanged`` when the URL had
  that payload: its first capture was this URL's, or the URL's last good fetch had the same
  digest (the first capture may be another URL's, a re-publication's). Fetches are recorded
  in batches (``FETCH_BATCH`` rows or ``FETCH_FLUSH_SECONDS``, and at close), one transaction
  each: a kill loses at most a batch, and the next run then fetches those URLs without
  validators (their payloads still become revisits). A POST has no fetch row and no
  validators: its answer depends on its body, the store keeps one row per URL.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Self

from scrapy import Request, signals
from scrapy.core.scheduler import Scheduler
from scrapy.crawler import Crawler
from scrapy.dupefilters import RFPDupeFilter
from scrapy.exceptions import NotConfigured
from scrapy.http import Headers, Response
from scrapy.responsetypes import responsetypes

from gkcrawl.archive.config import ArchiveSettings, crawl_dir_for, crawl_id_for
from gkcrawl.archive.extension import META_KEY as WARC_META
from gkcrawl.archive.reader import ReadStats, RecordLocation, iter_archive, load_response
from gkcrawl.archive.recover import recover
from gkcrawl.crawl.browser import is_rendered
from gkcrawl.crawl.middlewares import CHALLENGE_STATUSES
from gkcrawl.crawl.urls import request_key
from gkcrawl.store import FetchRow, store_for
from gkcrawl.store.rows import utcnow

logger = logging.getLogger(__name__)

#: Setting: send the validators of the last good fetch (If-None-Match, If-Modified-Since).
INCREMENTAL_CONDITIONAL = True
PREVIOUS_KEY = "gk_previous_fetch"
FROM_ARCHIVE, NOT_MODIFIED, UNCHANGED = "from-archive", "not-modified", "unchanged"
NOT_MODIFIED_STATUS, OK, SERVER_ERROR = 304, 200, 500
#: Fetch rows written to the store per transaction (a commit per page would be most of the
#: middleware's work), and the longest a row waits.
FETCH_BATCH = 64
FETCH_FLUSH_SECONDS = 2.0
class ArchiveResumeScheduler(Scheduler):
    """Scrapy's scheduler with its queue in memory even when JOBDIR is set: after a SIGKILL the
    disk queue is corrupt (its index is written on a clean close only, so stale entries are read
    back and new ones lost). A resumed crawl rebuilds its frontier by walking the archive."""

    def _dqdir(self, jobdir: str | None) -> str | None:
        return None


class MemoryDupeFilter(RFPDupeFilter):
    """Scrapy's dupefilter without its JOBDIR file: after a SIGKILL that file lists requests
    that were never answered, which would then never be fetched."""

    def __init__(self, path: str | None = None, debug: bool = False, **kwargs: Any) -> None:
        super().__init__(None, debug, **kwargs)  # ``path`` (JOBDIR) is ignored, see above

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(path=None, debug=crawler.settings.getbool("DUPEFILTER_DEBUG"),
                   fingerprinter=crawler.request_fingerprinter)


class ArchiveLookupMiddleware:
    """Downloader middleware (after HttpCompressionMiddleware on the way in, before it on the way
    out: the archived body is still encoded and is decoded like a fresh one)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.conditional = crawler.settings.getbool("INCREMENTAL_CONDITIONAL",
                                                    INCREMENTAL_CONDITIONAL)
        #: request key (canonical URL; method and body too for a POST) -> (location, original
        #: location for a revisit, record id, date), this crawl's records
        self.archived: dict[str, tuple[RecordLocation, RecordLocation | None, str, str]] = {}
        #: this crawl's fetches not yet in the store, by URL
        self.pending: dict[str, FetchRow] = {}
        #: whether another crawl recorded fetches (set when the spider opens)
        self.earlier_fetches = True
        self._flushed_at = time.monotonic()
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.flush, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not ArchiveSettings.from_crawler(crawler).enabled:
            raise NotConfigured("no archive to resume from (WARC_ENABLED is False)")
        return cls(crawler)

    def spider_opened(self) -> None:
        # a first crawl has no earlier fetch to look up: it asks the store nothing per request
        self.earlier_fetches = store_for(self.crawler).has_fetches_besides(
            crawl_id_for(self.crawler))
        crawl_dir = crawl_dir_for(self.crawler)
        recover(crawl_dir)  # a killed run's files closed, so that every location read stays true
        if not crawl_dir.exists() or not any(crawl_dir.glob("*.warc.gz*")):
            return
        stats = ReadStats()
        transient = {int(code) for code in self.crawler.settings.getlist("RETRY_HTTP_CODES")}
        transient |= CHALLENGE_STATUSES
        for exchange in iter_archive([crawl_dir], stats=stats):
            # only a final answer stands for the URL, the last one archived: a failure (a 5xx,
            # a timeout's retry, an anti-bot challenge, a body cut short) is fetched again
            if (exchange.status >= SERVER_ERROR or exchange.status in transient
                    or exchange.truncated):
                continue
            key = request_key(exchange.url, exchange.method or "GET", exchange.request_body)
            self.archived[key] = (
                exchange.location, exchange.original, exchange.record_id, exchange.warc_date)
        self.crawler.stats.set_value("resume/archived_urls", len(self.archived))
        logger.info("Resuming crawl %s: %d URLs already archived (%d files, %d damaged records)",
                    crawl_id_for(self.crawler), len(self.archived), stats.files, stats.damaged)

    def process_request(self, request: Request) -> Response | None:
        # (the key costs more than the lookup: only a resumed crawl has archived URLs); a page to
        # render is rendered again: the archive cannot answer the requests its script makes
        found = (self.archived.get(request_key(request.url, request.method, request.body))
                 if self.archived and not is_rendered(request) else None)
        if found is not None:
            location, original, record_id, date = found
            self.crawler.stats.inc_value("resume/from_archive")
            filename = str(location.path.relative_to(location.path.parent.parent))
            request.meta[WARC_META] = {
                "filename": filename.removesuffix(".open"),
                "offset": location.offset, "length": location.length, "record_id": record_id,
                "date": date, "from_archive": True}
            return self._response(request, location, original, FROM_ARCHIVE)
        if _per_url(request):
            self._add_previous(request)
        return None

    def process_response(self, request: Request, response: Response) -> Response:
        previous: FetchRow | None = request.meta.get(PREVIOUS_KEY)
        pointer = request.meta.get(WARC_META) or {}
        if response.status == NOT_MODIFIED_STATUS and previous is not None and previous.warc_file:
            self.crawler.stats.inc_value("incremental/not_modified")
            root = ArchiveSettings.from_crawler(self.crawler).archive_dir
            location = _existing(root, previous)
            if location is not None:
                return self._response(request, location, None, NOT_MODIFIED)
        if (response.status == OK and pointer and not pointer.get("from_archive")
                and _per_url(request)):
            self._remember(request, response, pointer)
            if _same_payload(request, pointer, previous):
                self.crawler.stats.inc_value("incremental/unchanged")
                response.flags.append(UNCHANGED)
        return response

    # --- helpers ---------------------------------------------------------------------------

    def _add_previous(self, request: Request) -> None:
        """The URL's last good fetch by an earlier crawl, in ``meta``, and its validators in
        the request's headers (INCREMENTAL_CONDITIONAL)."""
        request.meta.pop(PREVIOUS_KEY, None)  # a redirected request's copy is another URL's
        if not self.earlier_fetches or request.url in self.pending:  # nothing from a past crawl
            return
        previous = store_for(self.crawler).fetch(request.url)
        if previous is None or previous.crawl_id == crawl_id_for(self.crawler):
            return
        request.meta[PREVIOUS_KEY] = previous
        if not self.conditional:
            return
        if previous.etag:
            request.headers.setdefault(b"If-None-Match", previous.etag.encode("latin-1"))
        if previous.last_modified:
            request.headers.setdefault(b"If-Modified-Since",
                                       previous.last_modified.encode("latin-1"))

    def _remember(self, request: Request, response: Response, pointer: dict[str, Any]) -> None:
        headers = response.headers

        def header(name: bytes) -> str | None:
            # ``headers.get(name)``, read from the dict of normalised names to lists of values
            values = dict.get(headers, name.title())
            return values[-1].decode("latin-1") if values and values[-1] else None

        # a revisit holds no body: point at the capture that does
        where = pointer.get("original") if pointer.get("is_revisit") else pointer
        where = where or pointer
        self.pending[request.url] = FetchRow(
            url=request.url, status=response.status, etag=header(b"ETag"),
            last_modified=header(b"Last-Modified"), payload_digest=pointer.get("digest"),
            warc_file=where.get("filename"), warc_offset=where.get("offset"),
            warc_length=where.get("length"), record_id=where.get("record_id"),
            crawl_id=crawl_id_for(self.crawler), fetched_at=utcnow())
        if (len(self.pending) >= FETCH_BATCH
                or time.monotonic() - self._flushed_at >= FETCH_FLUSH_SECONDS):
            self.flush()

    def flush(self) -> None:
        """Write the pending fetch rows to the store in one transaction."""
        self._flushed_at = time.monotonic()
        if not self.pending:
            return
        rows, self.pending = list(self.pending.values()), {}
        store = store_for(self.crawler)
        with store.transaction():
            for row in rows:
                store.record_fetch(row)

    def _response(self, request: Request, location: RecordLocation,
                  original: RecordLocation | None, flag: str) -> Response:
        stored = load_response(location, original)
        headers = Headers(stored.headers)
        cls = responsetypes.from_args(headers=headers, url=request.url, body=stored.body)
        return cls(url=request.url, status=stored.status, headers=headers, body=stored.body,
                   request=request, protocol=stored.protocol, flags=[flag])


def _same_payload(request: Request, pointer: dict[str, Any], previous: FetchRow | None) -> bool:
    """Whether a revisit's payload is the one the URL had: its first capture was this URL's, or
    the URL's last good fetch had the same digest."""
    if not pointer.get("is_revisit"):
        return False
    original = pointer.get("original") or {}
    return original.get("uri") == request.url or (
        previous is not None and previous.payload_digest == pointer.get("digest"))


def _per_url(request: Request) -> bool:
    """Whether the store's fetch rows, one per URL, speak for this request: not for a POST,
    whose answer depends on its body (a list range asked from a data endpoint), nor for a page
    the browser renders (a validator would have the server answer it with no page)."""
    return request.method == "GET" and not request.body and not is_rendered(request)


def _existing(root: Any, previous: FetchRow) -> RecordLocation | None:
    assert previous.warc_file is not None and previous.warc_offset is not None
    for name in (previous.warc_file, previous.warc_file + ".open"):
        path = root / name
        if path.exists():
            return RecordLocation(path, previous.warc_offset, previous.warc_length or 0)
    return None
