"""Sample items for the pipeline, store and output tests: a small report, a quarantine entry, a
generated report parsed (the store fixtures are in tests/conftest.py)."""

from __future__ import annotations

import random
from typing import Any

from gkcrawl.demo.render.html import render_html
from gkcrawl.demo.render.reports import random_report
from gkcrawl.items import QuarantineItem, ReportItem
from gkcrawl.parsing import parse_document
from gkcrawl.quality.dedup import organ_key

#: the organ key of the sample reports' organ (五指山市人民政府办公室)
WZS = organ_key("五指山市人民政府办公室")


def report_item(url: str = "http://www.wzs.gov.cn/zwgk/ndbg/2023.html", *,
                organ: str | None = "五指山市人民政府办公室", year: int | None = 2023,
                record_id: str | None = "<urn:uuid:00000000-0000-4000-8000-000000000001>",
                digest: str | None = None, new_received: int | None = 12,
                parser_version: str = "1", crawl_id: str = "crawl-a",
                **extra: Any) -> ReportItem:
    """A small parsed report in the keys of docs/report-schema.md, with its organ's key (as the
    validate pipeline sets it)."""
    extra.setdefault("organ_key", organ_key(organ))
    # a record's bytes have a digest of their own (copies are keyed by it)
    digest = digest or (f"sha1:{record_id}" if record_id else None)
    warc = None
    if record_id or digest:
        warc = {"filename": f"{crawl_id}/gkcrawl-20240101000000000-00000-host.warc.gz",
                "offset": 1234, "length": 5678, "record_id": record_id, "digest": digest,
                "is_revisit": False}
    return ReportItem(
        format="2021", year=year, organ=organ, published="2024-01-15",
        title=f"{organ}{year}年政府信息公开工作年度报告",
        active_disclosure={"regulations": {"issued": 0, "repealed": None, "in_force": 3},
                           "admin_fees": {"amount_10k_yuan": 12.5}},
        applications={"new_received": {"natural_person": new_received, "total": new_received}},
        review_litigation={"admin_review": {"upheld": 1, "corrected": 0, "other": 0,
                                            "pending": 0, "total": 1}},
        inferred=[{"cell": "applications.new_received.total", "value": new_received,
                   "rule": 3, "why": "row total"}],
        checks=[{"rule": 1, "status": "pass"}], flags=["组织 flag"],
        source_url=url, source_kind="html", parser_version=parser_version, portal="hainan",
        crawl_id=crawl_id, fetched_at="2024-02-01T08:00:00+00:00", warc=warc, **extra)


def quarantine_item(url: str = "http://www.wzs.gov.cn/zwgk/ndbg/scan.pdf", *,
                    record_id: str | None = "<urn:uuid:00000000-0000-4000-8000-0000000000q1>",
                    code: str = "scanned_pdf", reason: str = "PDF 无文字层 (scanned)",
                    crawl_id: str = "crawl-a") -> QuarantineItem:
    warc = {"filename": f"{crawl_id}/gkcrawl-20240101000000000-00000-host.warc.gz",
            "offset": 99, "length": 100, "record_id": record_id, "digest": f"sha1:{record_id}",
            "is_revisit": False} if record_id else None
    return QuarantineItem(url=url, code=code, reason=reason, portal="hainan", role="attachment",
                          title="2023年度报告", crawl_id=crawl_id,
                          fetched_at="2024-02-01T08:00:00+00:00", warc=warc, parser_version="1")


def parsed_report(seed: int, version: str = "2021") -> dict[str, Any]:
    """A generated report page of ``version``, parsed: a report as the parser writes it."""
    html = render_html(random_report(random.Random(seed), version))
    result = parse_document(html, "text/html; charset=utf-8", f"http://x.gov.cn/{seed}.html")
    assert result.ok
    return result.to_dict()
