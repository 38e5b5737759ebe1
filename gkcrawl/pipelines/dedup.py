"""Deduplicate and store reports: one report per (organ, year), every copy kept as a source.

This pipeline stores the report copies and decides the reports (StorePipeline stores runs and
quarantine entries). A copy is stored with its WARC pointer; copies of the same report are found
by organ key and year, or by near-identical content (MinHash LSH bands in the store) when the
organ is written differently; the rules of gkcrawl.quality.dedup choose the copy that stands for
the report. Each report is decided in a transaction of its own under a lock on (organ, year),
so two workers sharing a PostgreSQL store cannot both decide it; the content search runs before
the transaction (it only reads) and is repeated inside only for copies stored in between.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from gkcrawl.items import ReportItem
from gkcrawl.pipelines.base import Pipeline
from gkcrawl.quality.dedup import (
    Copy,
    choose,
    completeness,
    is_official_copy,
    organ_key,
    readable_organ,
)
from gkcrawl.quality.fingerprint import SAME_REPORT, lsh_bands, similarity
from gkcrawl.quality.validation import cross_year
from gkcrawl.store import ReportRow, SourceRow, Store, store_for
from gkcrawl.store.rows import CROSS_YEAR
from gkcrawl.store.schema import COPY


class DedupPipeline(Pipeline):
    def process_item(self, item: object) -> object:
        if isinstance(item, ReportItem):
            self.decide(item)
        return item

    def decide(self, item: ReportItem) -> None:
        """Store the copy, choose the copy that stands for its report and write the report;
        what was decided goes on ``item.dedup``."""
        store = store_for(self.crawler)
        row = source_row(item, self.crawler.settings.getlist("OFFICIAL_DOMAINS"))
        # the similarity search reads only: outside the write transaction, so that other
        # workers' writes do not wait for it; inside, only copies stored since are looked at
        seen = store.last_source_id()
        key, absorbed = self._group(store, row)
        with store.transaction():
            if key == row.organ_key and absorbed is None and store.last_source_id() > seen:
                key, absorbed = self._group(store, row, after_id=seen)
            if absorbed is not None and row.year is not None:
                store.lock_report(absorbed, row.year)
                store.move_group(absorbed, row.year, key)
            if key is None or row.year is None:
                source_id = store.upsert_source(row)
                self.stats.inc_value("dedup/without_organ_or_year")
                item.dedup = _decided(source_id, COPY, 1, row.url)
                return
            row.organ_key = item.organ_key = key
            store.lock_report(key, row.year)
            source_id = store.upsert_source(row)
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
        item.dedup = _decided(source_id, roles[source_id], len(copies), winner.url)

    def _group(self, store: Store, row: SourceRow,
               after_id: int | None = None) -> tuple[str | None, str | None]:
        """The (organ key) group this copy belongs to: its own, or that of the most similar
        near-identical copy of the same year whose organ is written differently or unreadably.
        Two readable organ names that differ are two organs, however alike their reports
        (townships that received no application print the same zeros); a group under an
        unreadable name joins the readable one's: the second key returned is the group to move
        under the first."""
        if not row.fingerprint or row.year is None:
            return row.organ_key, None
        readable = row.organ_readable
        # a readable name looks only among unreadable ones: the store does not return the
        # (many) readable look-alikes it would never join
        best, best_key = 0.0, None
        for _id, other_key, other_print in store.similar_fingerprints(
                row.bands, year=row.year, after_id=after_id, unreadable_only=readable):
            if other_key in (None, row.organ_key) or not other_print:
                continue
            if readable and readable_organ(other_key):
                continue
            similar = similarity(row.fingerprint, other_print)
            if similar >= SAME_REPORT and (best_key is None or similar > best):
                best, best_key = similar, other_key
        if best_key is None:
            return row.organ_key, None
        self.stats.inc_value("dedup/grouped_by_content")
        if readable:  # the readable name wins
            return row.organ_key, best_key
        return best_key, None


def source_row(item: Any, official_domains: Iterable[str] = ()) -> SourceRow:
    """The copy as stored, with what the dedup rules say of it: its organ's key (when
    validation did not set it), whether it is official, how complete its tables are, and the
    LSH band keys it is looked up by. ``item`` is a ``ReportItem`` or its dict."""
    report = item if isinstance(item, dict) else vars(item)
    key = report.get("organ_key") or organ_key(report.get("organ"))
    return SourceRow.from_item(
        item, organ_key=key, organ_readable=readable_organ(key),
        official=is_official_copy(report, official_domains), completeness=completeness(report),
        bands=lsh_bands(report, report.get("fingerprint")))


def _decided(source_id: int, role: str, copies: int, chosen_url: str | None) -> dict[str, Any]:
    """What ``item.dedup`` says: the copy's source id and role, the report's number of copies
    and the URL of its chosen copy."""
    return {"source_id": source_id, "role": role, "copies": copies, "chosen_url": chosen_url}


def _copy(row: SourceRow) -> Copy:
    return Copy(row.id or 0, row.url, row.official, row.report,
                row.fetched_at.isoformat() if row.fetched_at else None)


def _cross_checked(validation: list[dict[str, Any]], report: dict[str, Any],
                   previous: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The findings with identity 5 recomputed against the stored previous year (whichever
    year arrived first, the stored result is the same)."""
    kept = [f for f in validation if f.get("check") != CROSS_YEAR]
    if previous is None:
        return kept
    return kept + [f.to_dict() for f in cross_year(report, previous)]
