"""Deduplicate: one report per (organ, year), every copy kept as a source.

The copy is stored with its WARC pointer; copies of the same report are found by organ key and
year, or by near-identical content (MinHash LSH bands in the store) when the organ is written
differently; the rules of gkcrawl.dedup choose the copy that stands for the report. It all
happens in one transaction under a lock on (organ, year), so two workers sharing a PostgreSQL
store cannot both decide.
"""

from __future__ import annotations

from ..dedup import SAME_REPORT, Copy, choose, is_official, similarity
from ..items import ReportItem
from ..store import ReportRow, SourceRow, Store, mark_stored, store_for
from ..validation import cross_year
from .base import Pipeline


class DedupPipeline(Pipeline):
    def official_domains(self) -> list[str]:
        domains = list(self.crawler.settings.getlist("OFFICIAL_DOMAINS"))
        portals = getattr(self.crawler.spider, "portals", None) or {}
        return domains + [d for p in portals.values() for d in p.allowed_domains]

    def process_item(self, item: object) -> object:
        if not isinstance(item, ReportItem):
            return item
        store = store_for(self.crawler)
        row = SourceRow.from_item(item, official=is_official(item.source_url, self.official_domains())
                                  and not any(f.startswith("mirror copy") for f in item.flags))
        with store.transaction():
            key = self._group(store, row)
            if key is None or row.year is None:
                source_id = store.upsert_source(row)
                self.stats.inc_value("dedup/without_organ_or_year")
                mark_stored(item, source_id, role="copy", copies=1, chosen_url=row.url)
                return item
            row.organ_key = item.organ_key = key
            store.lock_report(key, row.year)
            source_id = store.upsert_source(row)
            copies = store.sources(key, row.year)
            winner, roles = choose([Copy(c.id or 0, c.url, c.official, c.report,
                                         c.fetched_at.isoformat() if c.fetched_at else None)
                                    for c in copies])
            for copy in copies:
                if copy.id is not None and copy.role != roles[copy.id]:
                    store.set_source_role(copy.id, roles[copy.id])
            chosen = next(c for c in copies if c.id == winner.id)
            store.upsert_report(ReportRow.from_source(chosen, n_sources=len(copies)))
            self._recheck_next_year(store, key, row.year, chosen.report)
        self.stats.inc_value(f"dedup/{roles[source_id]}")
        mark_stored(item, source_id, role=roles[source_id], copies=len(copies), chosen_url=winner.url)
        return item

    def _group(self, store: Store, row: SourceRow) -> str | None:
        """The (organ key) group this copy belongs to: its own, or that of a near-identical copy
        of the same year whose organ is written differently (or that names its organ at all)."""
        if not row.fingerprint or row.year is None:
            return row.organ_key
        for other in store.similar_sources(row.fingerprint, year=row.year):
            if other.organ_key in (None, row.organ_key) or not other.fingerprint:
                continue
            if similarity(row.fingerprint, other.fingerprint) >= SAME_REPORT:
                self.stats.inc_value("dedup/grouped_by_content")
                return other.organ_key
        return row.organ_key

    def _recheck_next_year(self, store: Store, key: str, year: int, report: dict) -> None:
        """Identity 5 for next year's report, now that this year's is known."""
        following = store.report(key, year + 1)
        if following is None:
            return
        findings = [f for f in following.validation if f.get("check") != "cross_year"]
        findings += [f.to_dict() for f in cross_year(following.report, report)]
        following.validation = findings
        store.upsert_report(following)


