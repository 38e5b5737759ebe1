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

import math
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import chain, compress, repeat
from operator import call, contains, eq, getitem, itemgetter, not_
from typing import Any, Callable

from gkcrawl.parsing.report import FAIL, PASS, UNCERTAIN, checks
from gkcrawl.template.spec import AMOUNT, APPLICANT_COLUMNS, SIGNED, TEMPLATES, CellRef, Template, expected_format

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
        # not dataclasses.asdict: its deep copy was 7% of a replay
        return {"check": self.check, "rule": self.rule, "status": self.status,
                "severity": self.severity, "message": self.message, "values": dict(self.values)}


def cells_of(template: Template, report: dict[str, Any]) -> dict[CellRef, Decimal | None]:
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
    # the report's own ints when it holds only those (and float amounts), else Decimals
    found = _plan(template).findings(report) or _exact(template, report)
    findings, cell = found
    findings += _format(report, template)
    findings += _prose(report, cell)
    if previous is not None:
        findings += cross_year(report, previous)
    return findings


def _exact(template: Template, report: dict[str, Any]
           ) -> tuple[list[Finding], Callable[[CellRef], Any]]:
    """Identity and domain findings on a Decimal of every cell, and a getter of the cells."""
    cells = cells_of(template, report)
    inferred = {tuple(i["cell"].split(".")) for i in report.get("inferred") or []}
    findings = [identity_finding(c) for c in checks(template, cells, inferred)]  # type: ignore[arg-type]
    findings += _domain(template, cells)
    return findings, cells.get


#: Decimal arithmetic (28 significant digits) adds integers exactly while every partial sum stays
#: below 10**28: with fewer than 100 terms, of integers below this bound
_EXACT_BOUND = 10 ** 26
_NONE = type(None)


class _Plan:
    """Identity and domain findings of one template, computed on the report's own values.

    ``validate`` used to build a Decimal of every cell (``cells_of``) and recompute the parser's
    checks on them (``checks``), a third of a millisecond per report. A parsed report holds ints
    (counts) and floats (amounts, which no identity sums): on ints, Python's sums are Decimal's
    (below ``_EXACT_BOUND``) and the numbers ``checks`` prints (``plain``) are the ints
    themselves. So the cells are read in template order into one list, and the findings of all
    identities are built column by column (operands, sums, statuses, messages), each column by
    one ``map`` over the identities: no Python loop per identity or per cell. A value of any
    other kind (a float count, a bool, a huge integer, NaN) sends the report down the exact
    Decimal path. tests/pipelines/test_validation_equivalence.py compares both."""

    def __init__(self, template: Template) -> None:
        refs = list(template.all_cells)
        position = {ref: i for i, ref in enumerate(refs)}
        self.position = position
        self.usable = len(position) == len(refs)  # a ref twice: cells_of keeps one; go exact
        self.rows = [(table.key, [(row.key, table.row_columns(row)) for row in table.rows])
                     for table in template.tables]
        #: per table: a getter of its rows (a tuple) and, per row, of its cells (a tuple)
        self.getters = [(key, _getter([row for row, _ in rows]),
                         [_getter(columns) for _, columns in rows]) for key, rows in self.rows]
        summed = {ref for ident in template.identities for ref in ident.refs}
        summed |= {ref for prose in PROSE_CELLS.values() for ref in prose}
        #: where a float may be (amounts that no identity or prose total sums), and the rest
        floats = [i for i, ref in enumerate(refs)
                  if template.kind(ref) == AMOUNT and ref not in summed]
        self.floats = _getter(floats) if floats else None
        self.fixed = _getter([i for i in range(len(refs)) if i not in floats])
        #: the cells that may not be negative (all but the signed), and their names
        unsigned = [i for i, ref in enumerate(refs) if template.kind(ref) != SIGNED]
        self.unsigned = _getter(unsigned)
        self.unsigned_names = [".".join(refs[i]) for i in unsigned]
        self.usable &= len(floats) < len(refs) and 0 < len(unsigned)
        idents = template.identities
        self.usable &= all(2 <= len(i.refs) < 100 and set(i.refs) <= position.keys()
                           for i in idents)
        self.operands = [_getter([position.get(ref, 0) for ref in i.refs]) for i in idents]
        self.lhs = [slice(0, len(i.lhs)) for i in idents]
        self.rhs = [slice(len(i.lhs), None) for i in idents]
        self.rules = [i.rule for i in idents]
        self.ref_names = [i.ref_names for i in idents]
        self.names_of = [i.name for i in idents]
        self.missing = [f"{i.name}: operands missing" for i in idents]

    def values(self, report: dict[str, Any]) -> list[Any]:
        """Every cell's value (None when blank or missing), in the order of cells_of."""
        out: list[Any] = []
        for key, rows, cells in self.getters:
            table = report.get(key) or {}
            if type(table) is not dict:
                break
            try:  # every row and cell there, as the parser writes them: all in C
                found = rows(table)
            except KeyError:
                break
            if not _DICTS.issuperset(map(type, found)):
                break
            try:
                out += chain.from_iterable(map(call, cells, found))
            except KeyError:
                break
        else:
            return out
        out = []  # a row or a cell missing: looked up one by one, as cells_of does
        for key, rows_ in self.rows:
            table = report.get(key) or {}
            for row, columns in rows_:
                out += map((table.get(row) or {}).get, columns)
        return out

    def findings(self, report: dict[str, Any]
                 ) -> tuple[list[Finding], Callable[[CellRef], Any]] | None:
        """The identity and domain findings, and a getter of the cells' values (as
        ``_exact``); None when a value needs the exact path."""
        if not self.usable:
            return None
        values = self.values(report)
        kinds = set(map(type, self.fixed(values)))
        if not kinds <= _INTS:
            return None
        if self.floats is not None:
            for value in self.floats(values):
                if type(value) is float:
                    if not math.isfinite(value):
                        return None
                elif value is not None and type(value) is not int:
                    return None
        present = list(filter(None, values))  # the non-zero values
        if present and (min(present) <= -_EXACT_BOUND or max(present) >= _EXACT_BOUND):
            return None
        n = len(self.operands)
        operands = list(map(call, self.operands, repeat(values, n)))
        blank = _NONE in kinds
        if blank:  # sum blanks as 0; the identities they are in are uncertain
            known = list(map(not_, map(contains, operands, repeat(None, n))))
            zeroed = list(map(_ZERO.get, values, values))
            summed = list(map(call, self.operands, repeat(zeroed, n)))
        else:
            summed = operands
        lhs = list(map(sum, map(getitem, summed, self.lhs)))
        rhs = list(map(sum, map(getitem, summed, self.rhs)))
        statuses = list(map(_STATUS.__getitem__, map(eq, lhs, rhs)))
        messages = [f"{name}: {left} vs {right}"
                    for name, left, right in zip(self.names_of, lhs, rhs)]
        if blank:
            for i in compress(range(n), map(not_, known)):
                statuses[i], messages[i] = UNCERTAIN, self.missing[i]
        values_of = map(dict, map(zip, self.ref_names, operands))
        findings = list(map(Finding, repeat("identity", n), self.rules, statuses,
                            repeat(ERROR, n), messages, values_of))
        bad = {}
        unsigned = self.unsigned(values)
        if min(filter(None, unsigned), default=0) < 0:  # (no count is fractional here)
            bad = {name: float(v) for name, v in zip(self.unsigned_names, unsigned)
                   if v is not None and v < 0}
        findings.append(_domain_finding(bad))
        position = self.position
        return findings, lambda ref: values[position[ref]] if ref in position else None


def _getter(keys: list[Any]) -> Callable[[Any], tuple[Any, ...]]:
    """``itemgetter`` that always returns a tuple (also of one key, or none)."""
    if not keys:
        return lambda obj: ()
    if len(keys) == 1:
        key = keys[0]
        return lambda obj: (obj[key],)
    return itemgetter(*keys)


_ZERO = {None: 0}
_DICTS = frozenset({dict})
_STATUS = (FAIL, PASS)
_INTS = frozenset({int, _NONE})
_PLANS: dict[int, tuple[Template, _Plan]] = {}


def _plan(template: Template) -> _Plan:
    found = _PLANS.get(id(template))
    if found is None or found[0] is not template:
        found = _PLANS[id(template)] = (template, _Plan(template))
    return found[1]


def identity_finding(check: dict[str, Any]) -> Finding:
    """The finding of one of the parser's checks (``report["checks"]``) of an identity."""
    return Finding("identity", check["rule"], check["status"], ERROR, identity_message(check),
                   check["values"])


def identity_message(check: dict[str, Any]) -> str:
    """The message of :func:`identity_finding`."""
    if check["status"] == UNCERTAIN:
        return f"{check['name']}: operands missing"
    return f"{check['name']}: {check['lhs']} vs {check['rhs']}"


def _domain(template: Template, cells: dict[CellRef, Decimal | None]) -> list[Finding]:
    bad: dict[str, Any] = {}
    for ref, value in cells.items():
        if value is None:
            continue
        kind = template.kind(ref)
        if kind != SIGNED and value < 0:
            bad[".".join(ref)] = float(value)
        elif kind != AMOUNT and value != value.to_integral_value():
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


#: prose key -> the table cells whose sum it states
PROSE_CELLS: dict[str, tuple[CellRef, ...]] = {
    "applications_received": (("applications", "new_received", "total"),),
    "applications_processed": (("applications", "total_processed", "total"),),
    "admin_review": (("review_litigation", "admin_review", "total"),),
    "litigation": (("review_litigation", "litigation_direct", "total"),
                   ("review_litigation", "litigation_after_review", "total")),
}


def _prose(report: dict[str, Any], cell: Callable[[CellRef], Any]) -> list[Finding]:
    """The totals the text states against the table's; ``cell`` gives a cell's value (None when
    blank or not in the template)."""
    findings = []
    for key, stated in (report.get("prose") or {}).items():
        refs = PROSE_CELLS.get(key)
        if not refs:
            continue
        values = [cell(r) for r in refs]
        table = None if any(v is None for v in values) else int(sum(v for v in values if v is not None))
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


