"""The rows the store reads and writes, and how they are built from pipeline items."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson

from gkcrawl.store.schema import COPY


def record_key(record_id: str | None, payload_digest: str | None = None) -> str:
    """The second half of the unique key of sources and quarantine entries.

    The payload digest when there is one: the same bytes fetched again at the same URL (an
    incremental run, a replay of any capture of them) are the same copy, not another. Else the
    WARC record id, else ``''`` (not archived: one row per URL).
    """
    return payload_digest or record_id or ""


def to_datetime(value: datetime | str | None) -> datetime | None:
    """An aware UTC datetime from a datetime (naive = UTC) or an ISO 8601 string."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)  # "Z" included
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _json_default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    return str(value)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


#: orjson options of every JSON the store writes: keys that are not strings become strings, as
#: the standard library's json does.
_ORJSON = orjson.OPT_NON_STR_KEYS


def json_safe(value: Any) -> Any:
    """``value`` as plain JSON types: datetimes as ISO strings, Decimals as floats, NaN as null,
    anything else unknown as its ``str`` (for crawler stats)."""
    try:  # orjson writes NaN and infinities as null itself
        return orjson.loads(orjson.dumps(value, default=_json_default, option=_ORJSON))
    except TypeError:  # e.g. an integer beyond 64 bits, which only the standard library takes
        return _finite(json.loads(json.dumps(value, default=_json_default)))


def dumps(value: Any) -> str:
    """Compact JSON text, non-ASCII kept (orjson: a copy's report and findings are tens of KB;
    the standard library's encoder takes what orjson cannot, such as integers beyond 64 bits)."""
    try:
        return orjson.dumps(value, default=_json_default, option=_ORJSON).decode()
    except TypeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False,
                          default=_json_default)


#: item fields kept out of the stored report JSON: they have columns of their own, or are internal
NOT_IN_REPORT = ("warc", "fingerprint", "dedup", "validation")


def _item_dict(item: Any) -> dict[str, Any]:
    if isinstance(item, dict):
        return dict(item)
    if is_dataclass(item) and not isinstance(item, type):
        return {f.name: getattr(item, f.name) for f in fields(item)}
    from itemadapter import ItemAdapter

    return ItemAdapter(item).asdict()


def _warc(pointer: dict[str, Any] | None) -> dict[str, Any]:
    pointer = pointer or {}
    return {"record_id": pointer.get("record_id") or None,
            "payload_digest": pointer.get("digest") or None,
            "warc_file": pointer.get("filename"), "warc_offset": pointer.get("offset"),
            "warc_length": pointer.get("length")}


@dataclass
class RunRow:
    crawl_id: str
    spider: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    finish_reason: str | None = None
    parser_version: str | None = None
    stats: dict[str, Any] | None = None
    #: how many times the run was started (a resumed crawl with the same crawl id adds one)
    starts: int = 0


@dataclass
class SourceRow:
    """One archived copy of a report (``id`` is set by the store)."""

    url: str
    #: the parsed report: the keys of docs/report-schema.md (tables, inferred, checks, flags, …)
    report: dict[str, Any]
    record_id: str | None = None
    payload_digest: str | None = None
    warc_file: str | None = None
    warc_offset: int | None = None
    warc_length: int | None = None
    portal: str | None = None
    crawl_id: str | None = None
    fetched_at: datetime | None = None
    organ: str | None = None
    organ_key: str | None = None
    #: the organ's name reads as one (two readable names that differ are two organs)
    organ_readable: bool = False
    #: the organ's region (GB/T 2260); publisher, organ_as_printed and the level are in report
    division_code: str | None = None
    year: int | None = None
    format: str | None = None
    source_kind: str | None = None
    published: str | None = None
    official: bool = False
    completeness: int = 0
    fingerprint: list[int] | None = None
    parser_version: str | None = None
    validation: list[Any] = field(default_factory=list)
    role: str = COPY
    #: the LSH band keys the copy is looked up by (written to ``source_bands``, not read back)
    bands: list[str] = field(default_factory=list)
    id: int | None = None
    first_seen: datetime | None = None
    last_seen: datetime | None = None

    @property
    def record_key(self) -> str:
        return record_key(self.record_id, self.payload_digest)

    @classmethod
    def from_item(cls, item: Any, *, role: str = COPY, organ_key: str | None = None,
                  organ_readable: bool = False, official: bool = False,
                  completeness: int = 0, bands: list[str] | None = None) -> SourceRow:
        """A row from a ``ReportItem`` (or its dict): the report, its WARC pointer and capture,
        and what the pipelines set on the item (organ_key unless given, fingerprint,
        validation). What dedup says of the copy is given too: the store computes nothing."""
        data = _item_dict(item)
        url = data.get("source_url") or ""
        if not url:
            raise ValueError("a report item without source_url cannot be stored")
        # written with ``dumps`` as it is; what is read back is plain JSON
        report = {k: v for k, v in data.items() if k not in NOT_IN_REPORT}
        return cls(
            url=url, report=report, **_warc(data.get("warc")), portal=data.get("portal"),
            crawl_id=data.get("crawl_id"), fetched_at=to_datetime(data.get("fetched_at")),
            organ=data.get("organ"), organ_key=organ_key or data.get("organ_key"),
            organ_readable=organ_readable, division_code=data.get("division_code"),
            year=data.get("year"), format=data.get("format"),
            source_kind=data.get("source_kind"), published=data.get("published"),
            official=official, completeness=completeness, fingerprint=data.get("fingerprint"),
            parser_version=data.get("parser_version"),
            validation=list(data.get("validation") or []), role=role, bands=list(bands or []))


#: the check of the findings of identity 5 (carried over = last year's carried forward): a
#: report's own, the rest of its findings are its chosen copy's
CROSS_YEAR = "cross_year"


@dataclass
class ReportRow:
    """The report of one organ for one year: the chosen copy's parse (``report`` and
    ``validation`` are the source's, except the cross-year findings, which are the report's)."""

    organ_key: str
    year: int
    source_id: int
    report: dict[str, Any]
    organ: str | None = None
    format: str | None = None
    n_sources: int = 1
    validation: list[Any] = field(default_factory=list)
    parser_version: str | None = None
    updated_at: datetime | None = None
    #: the chosen copy's WARC pointer and capture time (read with the report, never written:
    #: they are the source's)
    warc_file: str | None = None
    warc_offset: int | None = None
    record_id: str | None = None
    fetched_at: datetime | None = None

    @classmethod
    def from_source(cls, source: SourceRow, *, n_sources: int = 1) -> ReportRow:
        if source.id is None or source.organ_key is None or source.year is None:
            raise ValueError("a report needs a stored source with an organ key and a year")
        return cls(organ_key=source.organ_key, year=source.year, source_id=source.id,
                   report=source.report, organ=source.organ, format=source.format,
                   n_sources=n_sources, validation=source.validation,
                   parser_version=source.parser_version, warc_file=source.warc_file,
                   warc_offset=source.warc_offset, record_id=source.record_id,
                   fetched_at=source.fetched_at)

    @classmethod
    def from_stored(cls, row: dict[str, Any]) -> ReportRow:
        """A decoded report row joined with its source's report and findings."""
        own = row.pop("cross_year") or []
        findings = [f for f in row.pop("validation") or [] if f.get("check") != CROSS_YEAR]
        return cls(**row, validation=findings + own)

    def cross_year(self) -> list[Any]:
        """What the store keeps of the findings: the cross-year ones."""
        return [f for f in self.validation or [] if f.get("check") == CROSS_YEAR]


@dataclass
class QuarantineRow:
    """A document that looked like a report but did not parse, with its WARC pointer."""

    url: str
    code: str
    reason: str
    record_id: str | None = None
    payload_digest: str | None = None
    portal: str | None = None
    role: str | None = None
    title: str | None = None
    crawl_id: str | None = None
    fetched_at: datetime | None = None
    warc_file: str | None = None
    warc_offset: int | None = None
    warc_length: int | None = None
    parser_version: str | None = None
    #: the value of the parsing limit the document went over (parse_timeout: seconds,
    #: parse_memory: MiB, parse_inflated: bytes); None for the other codes
    over_limit: float | None = None
    id: int | None = None
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    resolved_at: datetime | None = None

    @property
    def record_key(self) -> str:
        return record_key(self.record_id, self.payload_digest)

    @classmethod
    def from_item(cls, item: Any) -> QuarantineRow:
        data = _item_dict(item)
        return cls(url=data["url"], code=data["code"], reason=data["reason"],
                   **_warc(data.get("warc")), portal=data.get("portal"), role=data.get("role"),
                   title=data.get("title"), crawl_id=data.get("crawl_id"),
                   fetched_at=to_datetime(data.get("fetched_at")),
                   parser_version=data.get("parser_version"), over_limit=data.get("over_limit"))


@dataclass
class FetchRow:
    """The last good (200) fetch of a URL, for conditional requests in the next run."""

    url: str
    status: int
    etag: str | None = None
    last_modified: str | None = None
    payload_digest: str | None = None
    warc_file: str | None = None
    warc_offset: int | None = None
    warc_length: int | None = None
    record_id: str | None = None
    crawl_id: str | None = None
    fetched_at: datetime | None = None
