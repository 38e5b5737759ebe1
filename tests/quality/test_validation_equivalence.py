"""``validate`` computes identities and domain checks on the cells' own ints (``_Plan``) instead
of a Decimal of every cell: its findings must be exactly those of the Decimal computation
(``reference_validate`` below, the code as it was), on parsed reports and on reports broken in
every way the fast path has to notice."""

from __future__ import annotations

import copy
import random
from decimal import Decimal
from typing import Any

import pytest

from gkcrawl.parsing import parse_document
from gkcrawl.parsing.report import FAIL, PASS, UNCERTAIN, checks
from gkcrawl.template.spec import AMOUNT, SIGNED, TEMPLATES
from gkcrawl.demo.render.html import STYLES, render_html
from gkcrawl.demo.render.reports import random_report
from gkcrawl.quality.validation import (ERROR, PROSE_CELLS, WARNING, Finding, _format, _plan,
                                cross_year, validate)
from gkcrawl.quality.validation import identity_finding as _identity

from ..parsing.test_seeds import parse_seed


# --------------------------------------------------------------------------- the reference


def reference_validate(report: dict[str, Any],
                       previous: dict[str, Any] | None = None) -> list[Finding]:
    """``gkcrawl.quality.validation.validate`` before the fast path, verbatim (Decimals everywhere)."""
    template = TEMPLATES.get(report.get("format") or "")
    if template is None:
        return [Finding("format", "template", UNCERTAIN, WARNING,
                        f"format {report.get('format')!r}: no template tables to check")]
    cells: dict[Any, Decimal | None] = {}
    for table in template.tables:
        rows = report.get(table.key) or {}
        for row in table.rows:
            values = rows.get(row.key) or {}
            for col in table.row_columns(row):
                value = values.get(col)
                cells[(table.key, row.key, col)] = None if value is None else Decimal(str(value))
    inferred = {tuple(i["cell"].split(".")) for i in report.get("inferred") or []}
    findings = [_identity(c) for c in checks(template, cells, inferred)]  # type: ignore[arg-type]
    bad: dict[str, Any] = {}
    for ref, value in cells.items():
        if value is None:
            continue
        kind = template.kind(ref)
        if kind != SIGNED and value < 0:
            bad[".".join(ref)] = float(value)
        elif kind != AMOUNT and value != value.to_integral_value():
            bad[".".join(ref)] = float(value)
    if bad:
        findings.append(Finding(
            "domain", "non_negative_integers", FAIL, ERROR,
            f"{len(bad)} cells negative or fractional where the template allows neither", bad))
    else:
        findings.append(Finding("domain", "non_negative_integers", PASS, ERROR,
                                "counts are non-negative integers"))
    findings += _format(report, template)
    for key, stated in (report.get("prose") or {}).items():
        refs = PROSE_CELLS.get(key)
        if not refs:
            continue
        operands = [cells.get(r) for r in refs]
        total = (None if any(v is None for v in operands)
                 else int(sum(v for v in operands if v is not None)))
        status = UNCERTAIN if total is None else PASS if total == stated else FAIL
        findings.append(Finding("prose", key, status, WARNING,
                                f"the text states {stated}, the table {total}",
                                {"stated": stated, "table": total}))
    if previous is not None:
        findings += cross_year(report, previous)
    return findings


def outcome(fn: Any, report: dict[str, Any], previous: dict[str, Any] | None = None) -> str:
    """The findings as their ``to_dict()`` printed with repr (1, 1.0 and True differ), or the
    exception's type."""
    try:
        return repr([f.to_dict() for f in fn(report, previous)])
    except Exception as exc:  # noqa: BLE001 - both must fail alike
        return f"raised {type(exc).__name__}"


def assert_same(report: dict[str, Any], previous: dict[str, Any] | None = None) -> None:
    before = copy.deepcopy(report)
    expected = outcome(reference_validate, report, previous)
    assert outcome(validate, report, previous) == expected
    assert report == before  # validate only reads


# --------------------------------------------------------------------------- reports


def parsed_pages(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """Reports parsed from rendered pages, as the replay bench builds them (both versions, the
    six styles, GBK pages with the charset in <meta> only)."""
    out = []
    for i in range(n):
        version = ("2021", "2019")[(i // len(STYLES)) % 2]
        style = STYLES[i % len(STYLES)]
        report = random_report(random.Random(seed + i), version)
        content_type = "text/html" if style.encoding == "gbk" else "text/html; charset=utf-8"
        result = parse_document(render_html(report, style), content_type,
                                f"http://a.gov.cn/{i}.html")
        assert result.ok, result
        out.append(result.to_dict())
    return out


@pytest.fixture(scope="module")
def parsed() -> list[dict[str, Any]]:
    return parsed_pages(240)


def test_parsed_pages_give_the_same_findings(parsed: list[dict[str, Any]]) -> None:
    assert {r["format"] for r in parsed} == {"2019", "2021"}
    negative = 0
    for report in parsed:
        assert_same(report)
        negative += any(v < 0 for r in report["active_disclosure"].values() for v in r.values()
                        if v is not None)
    assert negative  # signed 2019 cells: the fast path's scan for negative cells runs


def test_generated_reports_before_parsing_give_the_same_findings() -> None:
    for i in range(120):
        report = random_report(random.Random(1000 + i), ("2021", "2019")[i % 2])
        assert_same(report)


def test_the_fast_path_takes_parsed_reports(parsed: list[dict[str, Any]]) -> None:
    """Not a timing test: the reports the pipelines see must not fall back to Decimals."""
    for report in parsed[:24]:
        assert _plan(TEMPLATES[report["format"]]).findings(report) is not None


def test_seeds_with_prose_and_a_previous_year() -> None:
    seeds = {p: parse_seed(p) for p in ("000", "001", "002", "003", "004")}
    assert any(r["prose"] for r in seeds.values())
    for report in seeds.values():
        assert_same(report)
    last_year = copy.deepcopy(seeds["001"])
    last_year["year"] = 2021
    assert_same(seeds["002"], last_year)


def _each_cell(report: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(t, r, c) for t in ("active_disclosure", "applications", "review_litigation")
            for r, cells in (report.get(t) or {}).items() for c in cells]


BREAKAGES = [
    lambda v: -1, lambda v: -12, lambda v: 0.5, lambda v: 3.0, lambda v: -0.0, lambda v: None,
    lambda v: True, lambda v: False, lambda v: "12", lambda v: "abc", lambda v: 10 ** 30,
    lambda v: -(10 ** 27), lambda v: 10 ** 25, lambda v: float("nan"), lambda v: float("inf"),
    lambda v: 2.5e15, lambda v: Decimal("7"), lambda v: (v or 0) + 1,
]


def test_broken_cells_give_the_same_findings(parsed: list[dict[str, Any]]) -> None:
    rng = random.Random(7)
    for report in parsed[:60]:
        cells = _each_cell(report)
        amounts = [c for c in cells if TEMPLATES[report["format"]].kind(c) == AMOUNT]
        for breakage in BREAKAGES:
            for ref in (rng.choice(cells), rng.choice(amounts)):
                broken = copy.deepcopy(report)
                table, row, col = ref
                broken[table][row][col] = breakage(broken[table][row][col])
                assert_same(broken)
    blank = copy.deepcopy(parsed[0])
    blank["applications"]["new_received"]["total"] = None
    assert _plan(TEMPLATES[blank["format"]]).findings(blank) is not None  # blanks: fast path
    assert sum(f.status == UNCERTAIN for f in validate(blank)) == 2  # identities 1 and 3


def test_broken_layouts_give_the_same_findings(parsed: list[dict[str, Any]]) -> None:
    for report in parsed[:12]:
        variants = []
        for key in ("active_disclosure", "applications", "review_litigation"):
            row = next(iter(report[key]))
            for change in ("drop_row", "drop_cell", "row_none", "row_empty", "table_none",
                           "table_list", "row_list", "extra_cell", "extra_row", "no_table"):
                broken = copy.deepcopy(report)
                table = broken[key]
                if change == "drop_row":
                    del table[row]
                elif change == "drop_cell":
                    del table[row][next(iter(table[row]))]
                elif change == "row_none":
                    table[row] = None
                elif change == "row_empty":
                    table[row] = {}
                elif change == "table_none":
                    broken[key] = None
                elif change == "table_list":
                    broken[key] = [1, 2]
                elif change == "row_list":
                    table[row] = [1, 2]
                elif change == "extra_cell":
                    table[row]["not_a_column"] = -5
                elif change == "extra_row":
                    table["not_a_row"] = {"total": -3}
                else:
                    del broken[key]
                variants.append(broken)
        for broken in variants:
            assert_same(broken)


def test_other_fields_give_the_same_findings(parsed: list[dict[str, Any]]) -> None:
    report = parsed[0]
    total = report["applications"]["new_received"]["total"]
    prose_variants = [
        {"applications_received": total}, {"applications_received": total + 1},
        {"applications_processed": 0, "admin_review": 3, "litigation": 1, "unknown_key": 5},
        {"litigation": None}, {},
    ]
    for prose in prose_variants:
        for base in (report, parsed[1]):
            changed = copy.deepcopy(base)
            changed["prose"] = prose
            assert_same(changed)
            changed["applications"]["new_received"]["total"] = None
            changed["review_litigation"]["litigation_direct"]["total"] = None
            assert_same(changed)
    for year in (None, 2018, 2019, 2020, 2022, "2021"):
        changed = copy.deepcopy(report)
        changed["year"] = year
        assert_same(changed)
    for fmt in ("legacy", None, "", "2030"):
        changed = copy.deepcopy(report)
        changed["format"] = fmt
        assert_same(changed)
    changed = copy.deepcopy(report)
    changed["inferred"] = [{"cell": "applications.new_received.total", "value": 1, "rule": "3",
                            "why": ""}]
    assert_same(changed)
    previous = copy.deepcopy(parsed[2])
    previous["format"] = report["format"]
    assert_same(report, previous)
    assert_same(report, {"applications": None, "year": 2020})


def test_messages_and_values_of_the_fast_path() -> None:
    """A few real values, not only equality with the reference."""
    report = copy.deepcopy(parse_seed("004"))
    report["applications"]["new_received"]["natural_person"] = 3
    report["applications"]["carried_forward"]["other_org"] = -1
    found = validate(report)
    assert _plan(TEMPLATES[report["format"]]).findings(report) is not None
    row = next(f for f in found if f.check == "identity" and f.message.startswith(
        "applications: total = sum of applicant columns [new_received]: "))
    assert row.status == FAIL and row.values["applications.new_received.natural_person"] == 3
    assert isinstance(row.values["applications.new_received.natural_person"], int)
    domain = next(f for f in found if f.check == "domain")
    assert domain.status == FAIL
    assert domain.values == {"applications.carried_forward.other_org": -1.0}
