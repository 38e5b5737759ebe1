"""Store runs and quarantine entries.

A run is recorded when the spider opens (a resumed crawl reopens its row) and closed with its
stats when the spider closes. Quarantine entries are stored, with their WARC pointer, and passed
on (QuarantinePipeline drops them). Report copies and reports are stored by DedupPipeline, which
decides them; without it in ITEM_PIPELINES no report is stored.
"""

from __future__ import annotations

from typing import Any, Self

from scrapy import signals
from scrapy.crawler import Crawler

from gkcrawl import PARSER_VERSION
from gkcrawl.archive.config import crawl_id_for
from gkcrawl.items import QuarantineItem
from gkcrawl.pipelines.base import Pipeline
from gkcrawl.store import QuarantineRow, Store, store_for


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
        if store.lock_waits:  # how often another writer held it
            self.stats.set_value("store/lock_waits", store.lock_waits)
            self.stats.set_value("store/lock_wait_seconds", round(store.lock_wait_seconds, 3))
        store.finish_run(crawl_id_for(self.crawler), finish_reason=reason,
                         stats=self.stats.get_stats())

    def process_item(self, item: object) -> object:
        if isinstance(item, QuarantineItem):
            self.store.upsert_quarantine(QuarantineRow.from_item(item))
            self.stats.inc_value("store/quarantine")
        return item
