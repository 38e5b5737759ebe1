"""Parse: rows of cells -> a report in the template's keys (or a quarantine entry)."""

from __future__ import annotations

from scrapy.crawler import Crawler

from gkcrawl.items import DocumentItem, ReportItem
from gkcrawl.parsing import parse_extracted, safely
from gkcrawl.parsing.regions import divisions
from gkcrawl.parsing.report import NotAReport
from gkcrawl.pipelines.base import Pipeline
from gkcrawl.pipelines.extract import quarantine
from gkcrawl.quality.fingerprint import signature

#: Keep every cell printed blank or lost null: only what the document prints, nothing inferred
#: (docs/parsing.md, "Blank and missing cells").
PARSE_STRICT_BLANKS = False


class ParsePipeline(Pipeline):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        # Parsing runs on the reactor. The division list takes a second to read: read it as the
        # crawl starts, not on the first report while other responses wait (and time out).
        divisions()
        self.strict = crawler.settings.getbool("PARSE_STRICT_BLANKS", PARSE_STRICT_BLANKS)

    def process_item(self, item: object) -> object:
        if not isinstance(item, DocumentItem) or item.document is None:
            return item
        document = item.document
        result = safely(lambda: parse_extracted(document, item.url, self.strict), item.url)
        item.document = None  # the rows are not needed past this point; free them
        if isinstance(result, NotAReport):
            self.stats.inc_value(f"parse/rejected/{result.code}")
            return quarantine(item, result.code, result.reason, result.title)
        report = result.to_dict()
        self.stats.inc_value("parse/reports")
        if item.portal:
            self.stats.inc_value(f"portal/{item.portal}/reports/{report['year']}")
        return ReportItem(**report, portal=item.portal, crawl_id=item.crawl_id,
                          fetched_at=item.fetched_at, referrer=item.referrer, warc=item.warc,
                          in_portal=item.in_portal,
                          fingerprint=signature(document.prose, report))
