"""The CSV feed of a crawl (``scrapy crawl portals -O reports.csv``) in the panel's columns.

A CSV cell holds one value, and Scrapy's CSV exporter would write a report's tables as the text
of Python dicts. ``FEED_EXPORTERS`` sends ``csv`` feeds here instead: each report item is written
as its panel row (:func:`gkcrawl.outputs.export.panel_row`), with the names, values and formula
escape of ``gkcrawl export --format csv``. The feed has a row per copy the crawl parsed (its
``n_sources`` is the copies known when it was parsed); ``gkcrawl export`` has one per organ and
year. JSON Lines and the other feed formats keep the item's nesting.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import IO, Any, Self

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler
from scrapy.exporters import CsvItemExporter

from gkcrawl.crawl import registry
from gkcrawl.crawl.registry import Portal
from gkcrawl.outputs.export import ReportCopy, csv_cell, day, fields, panel_row

logger = logging.getLogger(__name__)

#: a CSV feed in UTF-8 gets a BOM, so that Excel reads its Chinese (as the export's CSV)
EXCEL_UTF8 = "utf-8-sig"


def _copy(report: Mapping[str, Any]) -> ReportCopy:
    warc = report.get("warc") or {}
    return ReportCopy(report.get("organ_key"), report.get("year"), report.get("organ"),
                report.get("format"), (report.get("dedup") or {}).get("copies"),
                report.get("parser_version"), warc.get("filename"), warc.get("offset"),
                warc.get("record_id"), day(report.get("fetched_at")))


class PanelCsvItemExporter(CsvItemExporter):
    """Report items as panel rows; ``fields_to_export`` are always the panel's columns."""

    def __init__(self, file: IO[bytes], *, portals: Mapping[str, Portal] | None = None,
                 **kwargs: Any) -> None:
        kwargs["fields_to_export"] = [f.name for f in fields("panel")]
        if kwargs.get("encoding") in (None, "utf-8", "utf8"):
            kwargs["encoding"] = EXCEL_UTF8
        super().__init__(file, **kwargs)  # type: ignore[arg-type]  # Scrapy hints BytesIO
        self.portals = portals if portals is not None else {p.id: p for p in registry.load()}
        self._skipped = False

    @classmethod
    def from_crawler(cls, crawler: Crawler, file: IO[bytes], **kwargs: Any) -> Self:
        """The crawl's own registry, when its spider has one (``-a portals=FILE``)."""
        portals = getattr(crawler.spider, "portals", None)
        return cls(file, portals=portals if isinstance(portals, Mapping) else None, **kwargs)

    def export_item(self, item: Any) -> None:
        report = ItemAdapter(item).asdict()
        if "format" not in report:
            if not self._skipped:
                logger.warning("the CSV feed holds reports only: %s items are left out",
                               type(item).__name__)
                self._skipped = True
            return
        row = panel_row(report, _copy(report), self.portals)
        super().export_item({name: csv_cell(value) for name, value in row.items()})
