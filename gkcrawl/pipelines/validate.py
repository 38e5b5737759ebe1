"""Validate: every finding of gkcrawl.quality.validation on the report; failures flag, never drop.

The cross-year identity needs last year's report of the same organ: it is read from the store
(and the dedup pipeline re-checks next year's report when this one arrives later)."""

from __future__ import annotations

from gkcrawl.items import ReportItem
from gkcrawl.parsing.report import FAIL
from gkcrawl.pipelines.base import Pipeline
from gkcrawl.quality.dedup import organ_key
from gkcrawl.quality.validation import validate
from gkcrawl.store import store_for


class ValidatePipeline(Pipeline):
    def process_item(self, item: object) -> object:
        if not isinstance(item, ReportItem):
            return item
        item.organ_key = item.organ_key or organ_key(item.organ)
        previous = None
        if item.organ_key and item.year:
            previous = store_for(self.crawler).report_tables(item.organ_key, item.year - 1)
        # the item is a Report: its own attributes are the report's keys (no deep copy; validate
        # only reads)
        findings = validate(vars(item), previous)
        item.validation = [f.to_dict() for f in findings]
        failed = [f for f in findings if f.status == FAIL]
        for finding in failed:
            self.stats.inc_value(f"validation/fail/{finding.check}")
        self.stats.inc_value("validation/reports_failing" if failed
                             else "validation/reports_passing")
        return item
