"""Quarantine: documents that looked like reports but did not parse, kept with the reason.

The last pipeline: the entry is written to ``<ARCHIVE_DIR>/<crawl id>/quarantine.jsonl`` (with
its WARC pointer, so a later replay can retry it), counted, logged, and then dropped from the
item stream so that exports hold reports only.

:class:`PipelineErrorQuarantine` (an extension) quarantines the items on which a pipeline raised.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from typing import Any, Self

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from gkcrawl import PARSER_VERSION
from gkcrawl.archive.config import crawl_dir_for
from gkcrawl.items import DocumentItem, QuarantineItem, ReportItem
from gkcrawl.pipelines.base import Pipeline
from gkcrawl.pipelines.extract import quarantine
from gkcrawl.store import QuarantineRow, store_for

logger = logging.getLogger(__name__)

QUARANTINE_FILE = "quarantine.jsonl"


class QuarantinePipeline(Pipeline):
    def process_item(self, item: object) -> object:
        if not isinstance(item, QuarantineItem):
            return item
        path = crawl_dir_for(self.crawler) / QUARANTINE_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(asdict(item), ensure_ascii=False) + "\n")
        self.stats.inc_value("quarantine/items")
        self.stats.inc_value(f"quarantine/{item.code}")
        raise DropItem(f"quarantined ({item.code}): {item.reason} <{item.url}>")


#: ``QuarantineItem.code`` of an item a pipeline raised on (a bug, a store that could not open).
PIPELINE_ERROR = "pipeline_error"
#: The most of an exception's text kept as the quarantine reason.
REASON_CHARS = 300


class PipelineErrorQuarantine:
    """Quarantine a document or report on which a pipeline raised, with the error as the reason.

    A page that does not parse is quarantined by the pipelines themselves; on an exception (a
    parser bug past ``safely``, a store that could not open) Scrapy logs the item and drops it,
    and nothing in the store would say that the archived record was never stored. So the record
    goes into the quarantine table (``code`` ``pipeline_error``), where a later replay resolves
    it, and ``quarantine/pipeline_errors`` counts it. If even that write fails, the URL and the
    WARC pointer are logged as an ERROR (``quarantine/unstored``).
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        crawler.signals.connect(self.item_error, signal=signals.item_error)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def item_error(self, item: Any, response: Any, spider: Any, failure: Any) -> None:
        entry = _quarantined(item, failure)
        if entry is None:
            return
        stats = self.crawler.stats
        stats.inc_value("quarantine/pipeline_errors")
        try:
            store_for(self.crawler).upsert_quarantine(QuarantineRow.from_item(entry))
        except Exception:  # the item is lost to the store: say where it lives
            stats.inc_value("quarantine/unstored")
            logger.exception("Could not quarantine %s (WARC %s) after a pipeline error: %s",
                             entry.url, entry.warc, entry.reason)


def _quarantined(item: Any, failure: Any) -> QuarantineItem | None:
    """The quarantine entry for a document or report item (None for any other item)."""
    error = getattr(failure, "value", failure)
    reason = f"pipeline error: {type(error).__name__}: {error}"[:REASON_CHARS]
    if isinstance(item, DocumentItem):
        return quarantine(item, PIPELINE_ERROR, reason)
    if isinstance(item, ReportItem) and item.source_url:
        return QuarantineItem(url=item.source_url, code=PIPELINE_ERROR, reason=reason,
                              portal=item.portal, crawl_id=item.crawl_id,
                              fetched_at=item.fetched_at, warc=item.warc,
                              parser_version=PARSER_VERSION)
    return None
