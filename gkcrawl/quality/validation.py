"""Checks of a parsed report against the template: each finding pass / fail / uncertain, with
the numbers involved. A report that fails a check is kept and flagged, never dropped.

* identities 1-4 of docs/report-schema.md, recomputed from the report's tables;
* domain: counts are non-negative integers, a sign only where the template allows it (2019
  本年增/减), amounts non-negative; the report year fits the template version;
* prose vs table (warnings): totals the text states (共收到…申请X件, 行政复议X件);
* cross-year (warning, identity 5): carried_over of year N = carried_forward of year N-1 of the
  same organ, whenever the store holds both years.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from gkcrawl.parsing.prose import PROSE_CELLS
from gkcrawl.parsing.report import FAIL, PASS, UNCERTAIN, checks
from gkcrawl.template.spec import (
    AMOUNT,
    APPLICANT_COLUMNS,
    SIGNED,
    TEMPLATES,
    CellRef,
    Template,
    expected_format,
)

ERROR, WARNING = "error", "warning"


@dataclass
class Finding:
    check: str  # "identity", "domain", "format", "prose", "cross_year"
    rule: str
    status: str  # pass | fail | uncertain
    severity: str  # error | warning
    message: str
    values: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"check": self.check, "rule": self.rule, "status": self.status,
                "severity": self.severity, "message": self.message, "values": dict(self.values)}


def cells_of(template: Template, report: dict[str, Any]) -> dict[CellRef, Decimal | None]:
    """Every cell of the template's tables as a Decimal (None when blank or missing): sums of
    counts and of amounts are exact."""
    cells: dict[CellRef, Decimal | None] = {}
    for table in template.tables:
        rows = report.get(table.key) or {}
        for row in table.rows:
            values = rows.get(row.key) or {}
            for col in table.row_columns(row):
                value = values.get(col)
                cells[(table.key, row.key, col)] = None if value is None else Decimal(str(value))
    return cells


def validate(report: dict[str, Any], previous: dict[str, Any] | None = None) -> list[Finding]:
    """All findings for one report; ``previous`` is the same organ's report of the year before."""
    template = TEMPLATES.get(report.get("format") or "")
    if template is None:
        return [Finding("format", "template", UNCERTAIN, WARNING,
                        f"format {report.get('format')!r}: no template tables to check")]
    cells = cells_of(template, report)
    inferred = {tuple(i["cell"].split(".")) for i in report.get("inferred") or []}
    findings = [identity_finding(c) for c in checks(template, cells, inferred)]
    findings += _domain(template, cells)
    findings += _format(report, template)
    findings += _prose(report, cells)
    if previous is not None:
        findings += cross_year(report, previous)
    return findings


def identity_finding(check: dict[str, Any]) -> Finding:
    """The finding of one of the parser's checks (``report["checks"]``) of an identity: its
    two sums. The value of every cell it adds is in the report's own check, not repeated."""
    if check["status"] == UNCERTAIN:
        message = f"{check['name']}: operands missing"
    else:
        message = f"{check['name']}: {check['lhs']} vs {check['rhs']}"
    return Finding("identity", check["rule"], check["status"], ERROR, message,
                   {"lhs": check["lhs"], "rhs": check["rhs"]})


def _domain(template: Template, cells: dict[CellRef, Decimal | None]) -> list[Finding]:
    bad: dict[str, Any] = {}
    for ref, value in cells.items():
        if value is None:
            continue
        kind = template.kind(ref)
        if ((kind != SIGNED and value < 0)
                or (kind != AMOUNT and value != value.to_integral_value())):
            bad[".".join(ref)] = float(value)
    return [_domain_finding(bad)]


def _domain_finding(bad: dict[str, Any]) -> Finding:
    if bad:
        return Finding("domain", "non_negative_integers", FAIL, ERROR,
                       f"{len(bad)} cells negative or fractional where the template allows neither",
                       bad)
    return Finding("domain", "non_negative_integers", PASS, ERROR,
                   "counts are non-negative integers")


def _format(report: dict[str, Any], template: Template) -> list[Finding]:
    expected = expected_format(report.get("year"))
    if expected is None:
        return [Finding("format", "year_vs_template", UNCERTAIN, WARNING, "report year unknown")]
    status = PASS if expected == template.version else FAIL
    return [Finding("format", "year_vs_template", status, WARNING,
                    f"report year {report.get('year')} expects the {expected} template; "
                    f"the tables follow {template.version}",
                    {"year": report.get("year"), "template": template.version})]


def _prose(report: dict[str, Any], cells: dict[CellRef, Decimal | None]) -> list[Finding]:
    """The totals the text states against the table's."""
    findings = []
    for key, stated in (report.get("prose") or {}).items():
        refs = PROSE_CELLS.get(key)
        if not refs:
            continue
        values = [cells.get(r) for r in refs]
        table = None if None in values else int(sum(v for v in values if v is not None))
        status = UNCERTAIN if table is None else PASS if table == stated else FAIL
        findings.append(Finding("prose", key, status, WARNING,
                                f"the text states {stated}, the table {table}",
                                {"stated": stated, "table": table}))
    return findings


def cross_year(report: dict[str, Any], previous: dict[str, Any]) -> list[Finding]:
    """Identity 5: this year's 上年结转 is last year's 结转下年度, column by column."""
    now = (report.get("applications") or {}).get("carried_over") or {}
    before = (previous.get("applications") or {}).get("carried_forward") or {}
    findings = []
    for col in [c.key for c in APPLICANT_COLUMNS]:
        a, b = now.get(col), before.get(col)
        status = UNCERTAIN if a is None or b is None else PASS if a == b else FAIL
        findings.append(Finding("cross_year", "5", status, WARNING,
                                f"carried_over {report.get('year')} [{col}] = {a}, carried_forward "
                                f"{previous.get('year')} = {b}",
                                {"carried_over": a, "carried_forward_previous": b, "column": col}))
    return findings


def summary(findings: list[Finding]) -> dict[str, int]:
    out = {PASS: 0, FAIL: 0, UNCERTAIN: 0}
    for finding in findings:
        out[finding.status] += 1
    return out


