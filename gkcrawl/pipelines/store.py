"""Store: write runs, report copies, reports and quarantine entries to the database.

Runs after validate and dedup and before quarantine. A DedupPipeline stores the copies it decides
on itself and says so in ``item.dedup["source_id"]`` (``gkcrawl.store.mark_stored``); a report
item that reaches this pipeline without it is
stored the simple way: as the chosen copy of its (organ, year), the previously chosen copy
becoming a 'copy'. Quarantine items are stored and passed on (QuarantinePipeline drops them).
"""

from __future__ import annotations

from typing import Any, Self

from scrapy import signals
from scrapy.crawler import Crawler

from gkcrawl import PARSER_VERSION
from gkcrawl.archive.config import crawl_id_for
from gkcrawl.items import QuarantineItem, ReportItem
from gkcrawl.store import QuarantineRow, ReportRow, SourceRow, Store, mark_stored, store_for, stored_source_id
from gkcrawl.pipelines.base import Pipeline


class StorePipeline(Pipeline):
    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        pipeline = cls(crawler)
        crawler.signals.connect(pipeline.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    @property
    def store(self) -> Store:
        return store_for(self.crawler)

    def spider_opened(self, spider: Any) -> None:
        self.store.start_run(crawl_id_for(self.crawler), spider=spider.name,
                             parser_version=PARSER_VERSION)

    def spider_closed(self, spider: Any, reason: str) -> None:
        store = self.store
        if store.lock_waits and self.stats is not None:  # how often another writer held it
            self.stats.set_value("store/lock_waits", store.lock_waits)
            self.stats.set_value("store/lock_wait_seconds", round(store.lock_wait_seconds, 3))
        stats = self.stats.get_stats() if self.stats is not None else {}
        self.store.finish_run(crawl_id_for(self.crawler), finish_reason=reason, stats=stats)

    def process_item(self, item: object) -> object:
        if isinstance(item, QuarantineItem):
            self.store.upsert_quarantine(QuarantineRow.from_item(item))
            self.stats.inc_value("store/quarantine")
        elif isinstance(item, ReportItem) and stored_source_id(item) is None:
            self.store_alone(item)
        return item

    def store_alone(self, item: ReportItem) -> int:
        """Without dedup: this copy becomes the chosen one of its (organ, year)."""
        store = self.store
        row = SourceRow.from_item(item, role="chosen")
        copies: list[SourceRow] = []
        with store.transaction():
            if row.organ_key is not None and row.year is not None:
                store.lock_report(row.organ_key, row.year)
            source_id = store.upsert_source(row)
            store.set_source_role(source_id, "chosen")
            self.stats.inc_value("store/sources")
            if row.organ_key is not None and row.year is not None:
                copies = store.sources(row.organ_key, row.year)
                for other in copies:
                    if other.id != source_id and other.role == "chosen":
                        store.set_source_role(other.id, "copy")  # type: ignore[arg-type]
                store.upsert_report(ReportRow.from_source(row, n_sources=len(copies)))
                self.stats.inc_value("store/reports")
            else:
                self.stats.inc_value("store/sources_without_organ_or_year")
        mark_stored(item, source_id, role="chosen", copies=len(copies) or 1, chosen_url=row.url)
        return source_id
