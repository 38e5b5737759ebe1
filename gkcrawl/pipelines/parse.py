"""Parse: a document's parse -> a report item with its signature (or a quarantine entry)."""

from __future__ import annotations

from gkcrawl.items import DocumentItem, ReportItem
from gkcrawl.parsing.report import NotAReport
from gkcrawl.pipelines.base import Pipeline
from gkcrawl.pipelines.extract import quarantine
from gkcrawl.quality.fingerprint import signature


class ParsePipeline(Pipeline):
    def process_item(self, item: object) -> object:
        if not isinstance(item, DocumentItem) or item.parsed is None:
            return item
        result, prose = item.parsed.result, item.parsed.prose
        item.parsed = None  # the text is not needed past this point; free it
        if isinstance(result, NotAReport):
            self.stats.inc_value(f"parse/rejected/{result.code}")
            return quarantine(item, result.code, result.reason, result.title, result.over_limit)
        report = result.to_dict()
        self.stats.inc_value("parse/reports")
        if item.portal:
            self.stats.inc_value(f"portal/{item.portal}/reports/{report['year']}")
        return ReportItem(**report, portal=item.portal, crawl_id=item.crawl_id,
                          fetched_at=item.fetched_at, referrer=item.referrer, warc=item.warc,
                          in_portal=item.in_portal, fingerprint=signature(prose, report))
