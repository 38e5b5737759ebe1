"""The crawl parses under PARSE_STRICT_BLANKS: blank and lost cells null, nothing inferred."""

from __future__ import annotations

from typing import Any

import pytest
from scrapy import Spider
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler

from gkcrawl.items import DocumentItem, ReportItem
from gkcrawl.parsing.pool import ParsePool
from gkcrawl.pipelines.parse import ParsePipeline
from tests.shared import seed_path


def parsed(settings: dict[str, Any]) -> ReportItem:
    crawler = get_crawler(Spider, settings)
    crawler.stats = MemoryStatsCollector(crawler)
    body, url = seed_path("003").read_bytes(), "http://www.weixi.gov.cn/nb/2021.html"
    item = DocumentItem(url=url, body=body, content_type="text/plain", portal=None,
                        role="report")
    # as the extract pipeline does: the pool it makes from the settings parses the document
    with ParsePool.from_settings(crawler.settings) as pool:
        item.parsed = pool.submit(body, "text/plain", url).result()
    report = ParsePipeline.from_crawler(crawler).process_item(item)
    assert isinstance(report, ReportItem)
    return report


@pytest.mark.parametrize(("setting", "total"), [(False, 0), (True, None)])
def test_strict_setting(setting: bool, total: int | None) -> None:
    report = parsed({"PARSE_STRICT_BLANKS": setting})
    assert report.applications is not None
    assert report.applications["new_received"]["total"] == total
    assert bool(report.inferred) is not setting


def test_lenient_by_default() -> None:
    applications = parsed({}).applications
    assert applications is not None and applications["new_received"]["total"] == 0
