"""Deduplicate: one report per (organ, year), every copy kept as a source.

The copy is stored with its WARC pointer; copies of the same report are found by organ key and
year, or by near-identical content (MinHash LSH bands in the store) when the organ is written
differently; the rules of gkcrawl.quality.dedup choose the copy that stands for the report. The
decision happens in one transaction under a lock on (organ, year), so two workers sharing a
PostgreSQL store cannot both decide; the content search runs before it (it only reads) and is
repeated inside only for copies stored in between.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.utils.asyncio import CallLaterResult, call_later
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import Deferred

from gkcrawl.quality.dedup import CHOSEN, Copy, choose, completeness, is_official_copy, organ_key
from gkcrawl.quality.fingerprint import SAME_REPORT, lsh_bands, similarity
from gkcrawl.items import ReportItem
from gkcrawl.pipelines.signals import items_exhausted
from gkcrawl.store import ReportRow, SourceRow, Store, mark_stored, store_for
from gkcrawl.store.rows import CROSS_YEAR
from gkcrawl.quality.validation import cross_year
from gkcrawl.pipelines.base import Pipeline


#: seconds a batch waits for more reports before it is decided (DEDUP_BATCH_SECONDS): well
#: above the time a full batch takes to arrive (16 HTML reports: ~50 ms), so that it is the
#: last, partial batch of a run that waits for it
BATCH_SECONDS = 0.2


class DedupPipeline(Pipeline):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.batch_size = max(1, crawler.settings.getint("DEDUP_BATCH", 1))
        self.batch_seconds = crawler.settings.getfloat("DEDUP_BATCH_SECONDS", BATCH_SECONDS)
        self._batch: list[tuple[ReportItem, Deferred[None]]] = []
        self._timer: CallLaterResult | None = None
        if self.batch_size > 1:
            crawler.signals.connect(self.flush, signal=signals.spider_closed)
            crawler.signals.connect(self.exhausted, signal=items_exhausted)

    async def process_item(self, item: object) -> object:
        if not isinstance(item, ReportItem):
            return item
        if self.batch_size == 1:
            return self.decide(item)
        decided: Deferred[None] = Deferred()
        self._batch.append((item, decided))
        if len(self._batch) >= self.batch_size:
            self.stats.inc_value("dedup/batches_full")
            self.flush()
        elif self._timer is None:
            self._timer = call_later(self.batch_seconds, self.flush)
        await maybe_deferred_to_future(decided)
        return item

    def exhausted(self) -> None:
        """No more items will come (the replay's archive is read): the batch waiting to fill is
        decided now, and what is still on its way is decided as it arrives (a timer of zero
        seconds gathers what arrives in one turn of the event loop), not after
        ``batch_seconds``."""
        self.batch_seconds = 0.0
        self.flush()

    def flush(self) -> None:
        """Decide the waiting reports in one transaction; each report's own error (rolled back
        to its savepoint) fails that item alone, a failed commit fails them all."""
        if self._timer is not None:
            self._timer.cancel()  # (a no-op when it is what called)
            self._timer = None
        batch, self._batch = self._batch, []
        if not batch:
            return
        errors: dict[int, BaseException] = {}
        try:
            with store_for(self.crawler).transaction():
                for n, (item, _) in enumerate(batch):
                    try:
                        self.decide(item)
                    except Exception as exc:  # noqa: BLE001 - that item's error, handed to it
                        errors[n] = exc
        except Exception as exc:  # noqa: BLE001 - the commit failed: every item of the batch
            errors = dict.fromkeys(range(len(batch)), exc)
        self.stats.inc_value("dedup/batches")
        for n, (_, decided) in enumerate(batch):
            if n in errors:
                decided.errback(errors[n])
            else:
                decided.callback(None)

    def decide(self, item: ReportItem) -> ReportItem:
        """Store the copy and choose the report's copy (in a transaction of its own, or a
        savepoint of the batch's)."""
        store = store_for(self.crawler)
        row = source_row(item, self.crawler.settings.getlist("OFFICIAL_DOMAINS"))
        # the similarity search reads only: outside the write transaction, so that other
        # workers' writes do not wait for it; inside, only copies stored since are looked at
        # (in a batch's transaction, which already holds the lock, nothing can have come)
        batched = store.in_transaction
        seen = 0 if batched else store.last_source_id()
        key = self._group(store, row)
        with store.transaction():
            if not batched and key == row.organ_key and store.last_source_id() > seen:
                key = self._group(store, row, after_id=seen)
            if key is None or row.year is None:
                source_id = store.upsert_source(row)
                self.stats.inc_value("dedup/without_organ_or_year")
                mark_stored(item, source_id, role="copy", copies=1, chosen_url=row.url)
                return item
            row.organ_key = item.organ_key = key
            store.lock_report(key, row.year)
            stored = store.source_ids(key, row.year)
            if not stored:
                row.role = CHOSEN  # written as chosen
            source_id = store.upsert_source(row)
            if stored in ([], [source_id]):
                # the only copy of the report: its first (the usual case in a crawl) or this
                # record parsed again (a replay): chosen as it is written, nothing to read
                # back, decode or rank
                if stored:
                    row.role = CHOSEN
                    store.set_source_role(source_id, CHOSEN)  # an upsert keeps the stored role
                copies, roles = [row], {source_id: CHOSEN}
                winner = _copy(row)
            else:
                copies = store.sources(key, row.year)
                winner, roles = choose([_copy(c) for c in copies])
                for copy in copies:
                    if copy.id is not None and copy.role != roles[copy.id]:
                        store.set_source_role(copy.id, roles[copy.id])
            chosen = next(c for c in copies if c.id == winner.id)
            report = ReportRow.from_source(chosen, n_sources=len(copies))
            # (writing this year's report changes neither neighbour: both read at once)
            before, after = store.neighbour_tables(key, row.year - 1, row.year + 1)
            report.validation = _cross_checked(report.validation, report.report, before)
            store.upsert_report(report)
            if after is not None:  # next year's identity 5, now that this year is known
                store.set_cross_year(key, row.year + 1,
                                     [f.to_dict() for f in cross_year(after, report.report)])
        self.stats.inc_value(f"dedup/{roles[source_id]}")
        mark_stored(item, source_id, role=roles[source_id], copies=len(copies), chosen_url=winner.url)
        return item

    def _group(self, store: Store, row: SourceRow, after_id: int | None = None) -> str | None:
        """The (organ key) group this copy belongs to: its own, or that of a near-identical copy
        of the same year whose organ is written differently (or that names its organ at all)."""
        if not row.fingerprint or row.year is None:
            return row.organ_key
        for _id, other_key, other_print in store.similar_fingerprints(
                row.bands, year=row.year, after_id=after_id):
            if other_key in (None, row.organ_key) or not other_print:
                continue
            if similarity(row.fingerprint, other_print) >= SAME_REPORT:
                self.stats.inc_value("dedup/grouped_by_content")
                return other_key
        return row.organ_key


def source_row(item: Any, official_domains: Iterable[str] = ()) -> SourceRow:
    """The copy as stored, with what the dedup rules say of it: its organ's key (when
    validation did not set it), whether it is official, how complete its tables are, and the
    LSH band keys it is looked up by. ``item`` is a ``ReportItem`` or its dict."""
    report = item if isinstance(item, dict) else vars(item)
    return SourceRow.from_item(
        item, organ_key=report.get("organ_key") or organ_key(report.get("organ")),
        official=is_official_copy(report, official_domains), completeness=completeness(report),
        bands=lsh_bands(report, report.get("fingerprint")))


def _copy(row: SourceRow) -> Copy:
    return Copy(row.id or 0, row.url, row.official, row.report,
                row.fetched_at.isoformat() if row.fetched_at else None)


def _cross_checked(validation: list[dict], report: dict, previous: dict | None) -> list[dict]:
    """The findings with identity 5 recomputed against the stored previous year (whichever
    year arrived first, the stored result is the same)."""
    kept = [f for f in validation if f.get("check") != CROSS_YEAR]
    if previous is None:
        return kept
    return kept + [f.to_dict() for f in cross_year(report, previous)]
