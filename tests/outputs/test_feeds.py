"""``scrapy crawl … -O reports.csv``: a Scrapy feed export of report items writes flat panel
rows under the panel's names (no Python dict text in a cell); JSON Lines keeps the nesting."""

from __future__ import annotations

import csv
import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from scrapy import Spider
from scrapy.utils.defer import deferred_f_from_coro_f
from scrapy.utils.test import get_crawler

from gkcrawl import settings
from gkcrawl.items import QuarantineItem, ReportItem
from gkcrawl.outputs.export import fields, typed
from gkcrawl.outputs.variables import variables
from gkcrawl.template.spec import AMOUNT
from tests.outputs.corpus import EVIL_ORGAN, WARC_STEP, items

pytestmark = pytest.mark.usefixtures("fast_engine")


class ItemSpider(Spider):
    name = "items"

    async def start(self):  # type: ignore[override]
        for item in self.items:  # type: ignore[attr-defined]
            yield item


def report_items() -> list[ReportItem]:
    """The export corpus's copies as the pipelines hand them to the feed."""
    names = ReportItem.__dataclass_fields__
    out = []
    for n, item in enumerate(items()):
        report = ReportItem(**{k: v for k, v in item.items() if k in names})
        report.organ_key = f"organ-{n}"
        report.dedup = {"source_id": n, "role": "chosen", "copies": 1, "chosen_url": None}
        out.append(report)
    return out


def expected_cells(item: ReportItem) -> dict[str, Any]:
    """The item's cells under the panel's names, by the crosswalk (a sum where it says so)."""
    out: dict[str, Any] = {}
    for variable in variables():
        source = variable.source(item.format)
        if source is None:
            out[variable.name] = None
            continue
        values = [getattr(item, t)[r][c] for t, r, c in source.cells]
        if None in values:
            out[variable.name] = None
            continue
        total = sum(Decimal(str(v)) for v in values)
        out[variable.name] = total if variable.kind == AMOUNT else int(total)
    return out


@deferred_f_from_coro_f
async def test_csv_feed_writes_panel_rows(tmp_path: Path) -> None:
    reports = report_items()
    feeds = {str(tmp_path / "reports.csv"): {"format": "csv"},
             str(tmp_path / "reports.jsonl"): {"format": "jsonl"}}
    crawler = get_crawler(ItemSpider, {
        "FEEDS": feeds, "FEED_EXPORTERS": settings.FEED_EXPORTERS,
        "FEED_EXPORT_FIELDS": settings.FEED_EXPORT_FIELDS,
        "FEED_EXPORT_ENCODING": settings.FEED_EXPORT_ENCODING})
    quarantined = QuarantineItem(url="http://www.example.gov.cn/x.pdf", code="corrupt",
                                 reason="corrupt")
    await crawler.crawl_async(items=[*reports, quarantined])

    raw = (tmp_path / "reports.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel reads it as UTF-8
    with (tmp_path / "reports.csv").open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == [f.name for f in fields("panel")]
        rows = list(reader)
    assert len(rows) == len(reports)  # reports only: the quarantine entry is not a row
    assert not any(v.startswith("{") for row in rows for v in row.values())  # no dict text
    assert f"'{EVIL_ORGAN}" in {r["organ"] for r in rows}  # escaped as in the export
    for n, (row, item) in enumerate(zip((typed(r, "panel", "csv") for r in rows), reports,
                                        strict=True)):
        assert {k: row[k] for k in ("organ_key", "organ", "year", "format", "portal")} == {
            "organ_key": item.organ_key, "organ": item.organ, "year": item.year,
            "format": item.format, "portal": item.portal}
        assert (row["warc_offset"], row["fetched"], row["n_sources"]) == (
            n * WARC_STEP, date(2024, 2, 1), 1)
        assert row["published"] == date.fromisoformat(item.published or "")
        assert {k: row[k] for k in expected_cells(item)} == expected_cells(item), n
    places = {(r["portal"], r["province"], r["division_code"], r["division_source"])
              for r in rows if r["portal"] in ("xizang", "yunnan")}
    assert places == {("xizang", "西藏自治区", "540000", "report"),  # the organ's own
                      ("xizang", "西藏自治区", "540421", "report"),
                      ("yunnan", "云南省", "533423", "report"),
                      ("yunnan", "云南省", "530000", "portal")}  # a township: its portal's

    nested = [json.loads(line) for line in
              (tmp_path / "reports.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(nested) == len(reports) + 1  # JSON Lines takes any item
    assert nested[0]["applications"]["new_received"]["total"] == \
        reports[0].applications["new_received"]["total"]  # type: ignore[index]
