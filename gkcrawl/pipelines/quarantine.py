"""Quarantine: documents that looked like reports but did not parse, kept with the reason.

The last pipeline: the entry is written to ``<ARCHIVE_DIR>/<crawl id>/quarantine.jsonl`` (with
its WARC pointer, so a later replay can retry it), counted, logged, and then dropped from the
item stream so that exports hold reports only.
"""

from __future__ import annotations

import json
from dataclasses import asdict

from scrapy.exceptions import DropItem

from gkcrawl.archive.config import crawl_dir_for
from gkcrawl.items import QuarantineItem
from gkcrawl.pipelines.base import Pipeline

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
