"""The items that flow through the pipelines (dataclasses, read through itemadapter).

``DocumentItem`` (a fetched or replayed document) -> extract and parse -> ``ReportItem``
(what researchers export), or ``QuarantineItem`` (looked like a report, did not parse: kept with
the reason and the WARC pointer, never silently dropped).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gkcrawl.parsing import Parsed
from gkcrawl.parsing.report import Report


@dataclass
class DocumentItem:
    url: str
    body: bytes = field(repr=False)
    content_type: str | None
    portal: str | None
    #: the page's role in the crawl: report, attachment, …
    role: str
    referrer: str | None = None
    #: where the response is archived: {"filename", "offset", "length", "record_id", …}
    warc: dict[str, Any] | None = None
    crawl_id: str | None = None
    fetched_at: str | None = None
    #: fetched from one of its portal's registry domains (official), when known
    in_portal: bool | None = None
    #: set by the extract pipeline: the parse, and the prose the signature is made of
    parsed: Parsed | None = field(default=None, repr=False)


@dataclass
class ReportItem(Report):
    """One parsed report: the parser's :class:`~gkcrawl.parsing.report.Report` (the keys of
    docs/report-schema.md) plus its provenance and what the later pipelines add."""

    portal: str | None = None
    crawl_id: str | None = None
    fetched_at: str | None = None
    referrer: str | None = None
    warc: dict[str, Any] | None = None
    in_portal: bool | None = None
    #: set by the validate pipeline: the organ's dedup key and every finding
    organ_key: str | None = None
    validation: list[dict[str, Any]] = field(default_factory=list)
    #: set by the dedup pipeline: {"source_id", "role", "copies", "chosen_url"}
    dedup: dict[str, Any] | None = None
    #: MinHash signature of the document (internal: not exported, see FEED_EXPORT_FIELDS)
    fingerprint: list[int] | None = field(default=None, repr=False)


#: What exports of the raw item stream show (the fingerprint is internal).
REPORT_EXPORT_FIELDS = [f for f in ReportItem.__dataclass_fields__ if f != "fingerprint"]


@dataclass
class QuarantineItem:
    url: str
    code: str
    reason: str
    portal: str | None = None
    role: str | None = None
    title: str | None = None
    crawl_id: str | None = None
    fetched_at: str | None = None
    warc: dict[str, Any] | None = None
    parser_version: str | None = None
    #: the value of the parsing limit the document went over (parse_* codes; see QuarantineRow)
    over_limit: float | None = None
