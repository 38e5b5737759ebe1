"""The parser's result types and the identity checks printed with every report."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any, cast

from gkcrawl import PARSER_VERSION
from gkcrawl.parsing.infer import Cells, Inferred
from gkcrawl.template.spec import AMOUNT, TABLE_KEYS, CellRef, Template

PASS, FAIL, UNCERTAIN = "pass", "fail", "uncertain"


@lru_cache(maxsize=4096)  # refs come from the templates: a few hundred
def ref_name(ref: CellRef) -> str:
    return ".".join(ref)


def plain(template: Template, ref: CellRef, value: Decimal | None) -> int | float | None:
    """JSON-friendly number: counts as int, amounts (万元) as float."""
    if value is None:
        return None
    if template.kind(ref) == AMOUNT or value != value.to_integral_value():
        return float(value)
    return int(value)


def plain_cells(template: Template, cells: Cells) -> dict[CellRef, int | float | None]:
    """:func:`plain` of every cell, once (tables and checks both print them).

    The rule of :func:`plain` is inlined: it runs for some 200 cells of every report."""
    amounts = template.amount_cells
    out: dict[CellRef, int | float | None] = {}
    for ref, val in cells.items():
        if val is None:
            out[ref] = None
        elif ref in amounts or val != val.to_integral_value():
            out[ref] = float(val)
        else:
            out[ref] = int(val)
    return out


def tables(template: Template, cells: Cells,
           plains: dict[CellRef, int | float | None] | None = None,
           ) -> dict[str, dict[str, dict[str, Any]]]:
    plains = plains if plains is not None else plain_cells(template, cells)
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for table in template.tables:
        out[table.key] = {
            row.key: {col: plains[(table.key, row.key, col)] for col in table.row_columns(row)}
            for row in table.rows
        }
    return out


def checks(template: Template, cells: Cells, inferred: set[CellRef],
           plains: dict[CellRef, int | float | None] | None = None) -> list[dict[str, Any]]:
    """Every identity of the template: pass / fail / uncertain, with the numbers involved."""
    plains = plains if plains is not None else plain_cells(template, cells)
    # The null cells, found once: testing values for None inside each identity would compare
    # Decimals with None, which _decimal answers through an isinstance(…, numbers.Rational).
    null = {ref for ref, val in cells.items() if val is None}
    # read for identities whose cells are all known only
    cell = cast(Callable[[CellRef], Decimal], cells.__getitem__)
    plain_of = plains.__getitem__
    out = []
    for ident in template.identities:
        refs = ident.refs
        known = null.isdisjoint(refs)
        lsum = sum(map(cell, ident.lhs)) if known else None
        rsum = sum(map(cell, ident.rhs)) if known else None
        out.append({
            "rule": ident.rule,
            "name": ident.name,
            "status": UNCERTAIN if not known else PASS if lsum == rsum else FAIL,
            "lhs": None if lsum is None else int(lsum),
            "rhs": None if rsum is None else int(rsum),
            "values": dict(zip(ident.ref_names, map(plain_of, refs), strict=True)),
            "uses_inferred": not inferred.isdisjoint(refs),
        })
    return out


@dataclass
class Report:
    """One parsed annual report, in the keys of docs/report-schema.md."""

    format: str  # "2019" | "2021" | "legacy"
    year: int | None
    #: the organ the report is about, its full name
    organ: str | None
    published: str | None
    title: str | None
    active_disclosure: dict[str, Any] | None
    applications: dict[str, Any] | None
    review_litigation: dict[str, Any] | None
    #: the abbreviation printed for the organ (上海市科委), when ``organ`` is its expansion
    organ_as_printed: str | None = None
    #: who published the document, when not the organ (the government's office)
    publisher: str | None = None
    #: the organ's region: GB/T 2260 code and its level (province | city | county)
    division_code: str | None = None
    division_level: str | None = None
    inferred: list[dict[str, Any]] = field(default_factory=list)
    checks: list[dict[str, Any]] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    #: totals the prose states (共收到…申请X件), for prose-vs-table checks
    prose: dict[str, int] = field(default_factory=dict)
    source_url: str | None = None
    #: "html" | "text" | "docx" | "pdf" | "doc"
    source_kind: str | None = None
    parser_version: str = PARSER_VERSION

    ok = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format, "year": self.year, "organ": self.organ,
            "organ_as_printed": self.organ_as_printed, "publisher": self.publisher,
            "division_code": self.division_code, "division_level": self.division_level,
            "published": self.published, "title": self.title,
            **{k: getattr(self, k) for k in TABLE_KEYS},
            "inferred": self.inferred, "checks": self.checks, "flags": self.flags,
            "prose": self.prose, "source_url": self.source_url, "source_kind": self.source_kind,
            "parser_version": self.parser_version,
        }

    def check_summary(self) -> dict[str, int]:
        summary = {PASS: 0, FAIL: 0, UNCERTAIN: 0}
        for check in self.checks:
            summary[check["status"]] += 1
        return summary


@dataclass
class NotAReport:
    """The input is not an annual report, or cannot be read: ``reason`` is one line for users."""

    #: not_a_report | lookalike | unreadable_tables | unsupported_format | scanned_pdf | corrupt |
    #: too_large | empty | parser_error | parse_inflated | parse_memory | parse_timeout
    #: (docs/parsing.md)
    code: str
    reason: str
    source_url: str | None = None
    source_kind: str | None = None
    title: str | None = None
    #: the value of the limit the document went over (parse_* codes): bytes, MiB or seconds
    over_limit: float | None = None

    ok = False

    def to_dict(self) -> dict[str, Any]:
        return {"error": self.code, "reason": self.reason, "source_url": self.source_url,
                "source_kind": self.source_kind, "title": self.title,
                "over_limit": self.over_limit}


def inferred_entries(template: Template, items: list[Inferred]) -> list[dict[str, Any]]:
    return [{"cell": ref_name(i.ref), "value": plain(template, i.ref, i.value), "rule": i.rule,
             "why": i.why} for i in items]
