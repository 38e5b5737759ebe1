"""Rows that lost cells: the placement of their printed values (gkcrawl.parsing.placement)."""

from __future__ import annotations

import copy
import random
from decimal import Decimal
from typing import Any

import pytest

from gkcrawl.demo.render.reports import random_report
from gkcrawl.demo.render.text import SPACED, STREAM, render_text
from gkcrawl.parsing import parse_document, placement
from gkcrawl.parsing.mapper import PrintedRow
from gkcrawl.parsing.normalize import Value
from gkcrawl.parsing.prose import stated_totals
from gkcrawl.template.spec import TEMPLATES
from tests.parsing.test_seeds import parse_seed

APPLICANTS = [c.key for c in TEMPLATES["2021"].table("applications").columns]


def zero_report(version: str = "2021") -> dict[str, Any]:
    """A report of the version with every cell 0 (a township that received nothing)."""
    report = random_report(random.Random(0), version)
    for key in ("active_disclosure", "applications", "review_litigation"):
        for cells in report[key].values():
            for col, val in cells.items():
                cells[col] = 0.0 if isinstance(val, float) else 0
    return report


def applicants(**values: int) -> dict[str, int]:
    row = dict.fromkeys(APPLICANTS, 0)
    row.update(values)
    row["total"] = sum(v for k, v in row.items() if k != "total")
    return row


def empty_zeros(report: dict[str, Any], *rows: str) -> dict[str, Any]:
    """The report with the zeros of the given rows (``table.row``, or a table) printed empty: a
    copy that drops empty cells loses them."""
    out = copy.deepcopy(report)
    for name in rows:
        key, _, only = name.partition(".")
        for row, cells in out[key].items():
            if only in ("", row):
                out[key][row] = {col: None if val == 0 else val for col, val in cells.items()}
    return out


def parse(report: dict[str, Any], style: str = STREAM, prose: str = "") -> dict[str, Any]:
    body = render_text(report, style).replace("（文字描述）".encode(), prose.encode(), 1)
    result = parse_document(body, "text/plain")
    assert result.ok, result
    return result.to_dict()


def joint_case() -> dict[str, Any]:
    """Two result rows whose values each fit two columns alone, one way only together."""
    report = zero_report()
    apps = report["applications"]
    apps["new_received"] = applicants(natural_person=3, commercial_enterprise=2)
    apps["total_processed"] = applicants(natural_person=3, commercial_enterprise=2)
    apps["disclosed"] = applicants(natural_person=2)  # printed "2 2"
    apps["unavailable_not_held"] = applicants(natural_person=1, commercial_enterprise=2)
    return report


SHORT_ROWS = ("applications.disclosed", "applications.unavailable_not_held")


def test_the_rows_are_placed_jointly() -> None:
    report = joint_case()
    parsed = parse(empty_zeros(report, *SHORT_ROWS))
    assert parsed["applications"] == report["applications"]
    assert parsed["review_litigation"] == report["review_litigation"]
    assert all(c["status"] == "pass" for c in parsed["checks"])
    inferred = {i["cell"]: i["rule"] for i in parsed["inferred"]}
    assert inferred["applications.disclosed.natural_person"] == "placement"
    assert inferred["applications.disclosed.commercial_enterprise"] == "blank"
    assert "applications.disclosed: 2 of 7 values printed; placed" in parsed["flags"]


def test_one_row_alone_could_lie_two_ways() -> None:
    """The row (一)予以公开 "2 2" fits natural_person or commercial_enterprise against the printed
    rows; only the other short row, (四)1, decides between them."""
    template = TEMPLATES["2021"]
    cells = dict.fromkeys(template.all_cells)
    for key in ("new_received", "total_processed"):
        for col, val in applicants(natural_person=3, commercial_enterprise=2).items():
            cells["applications", key, col] = Decimal(val)
    table = template.table("applications")
    row = PrintedRow("applications", "disclosed", table.row_refs(table.row("disclosed")),
                     [Value(Decimal(2))] * 2, 0)
    fits = [c for c in placement.candidates(row)
            if placement._fits(template, cells, c, set())]
    natural = {dict(c.cells)["applications", "disclosed", "natural_person"] for c in fits}
    assert natural == {0, 2}


def test_a_cell_the_placements_disagree_on_stays_null() -> None:
    report = zero_report()
    # one review upheld, nothing else: the line prints "1 1", which fits any of the four
    # result columns of any of the three rows
    report["review_litigation"]["admin_review"].update(upheld=1, total=1)
    parsed = parse(empty_zeros(report, "review_litigation"))
    review = parsed["review_litigation"]
    assert all(v is None for row in review.values() for v in row.values())
    assert ("review_litigation: 2 of 15 values printed; 15 cells left null (the placements that "
            "keep the identities disagree)") in parsed["flags"]


def test_the_prose_tells_placements_apart() -> None:
    report = zero_report()
    report["review_litigation"]["admin_review"].update(upheld=1, total=1)
    parsed = parse(empty_zeros(report, "review_litigation"),
                   prose="本年度政府信息公开行政复议1件，行政诉讼0件。")
    assert parsed["prose"] == {"admin_review": 1, "litigation": 0}
    review = parsed["review_litigation"]
    assert review["admin_review"]["total"] == 1
    assert review["litigation_direct"] == dict.fromkeys(review["litigation_direct"], 0)
    assert review["admin_review"]["upheld"] is None  # which result: the prose does not say
    assert ("placement of review_litigation follows the figures the prose states "
            "(admin_review 1, litigation 0)") in parsed["flags"]


def test_figures_the_prose_states_that_fit_no_placement_are_not_used() -> None:
    report = zero_report()
    report["review_litigation"]["admin_review"].update(upheld=1, total=1)
    parsed = parse(empty_zeros(report, "review_litigation"),
                   prose="本年度政府信息公开行政复议2件。")
    assert any("fit no placement of review_litigation; not used" in f for f in parsed["flags"])
    assert parsed["review_litigation"]["admin_review"]["total"] is None


def test_no_placement_fits_and_the_identities_do_not_fill_the_row() -> None:
    """The report breaks identity 2: its result rows add up to 4 applications of natural
    persons, (七)总计 says 3. The short row's values fit nowhere, and identity 2 (which would
    make its natural_person 1) does not fill it either."""
    report = zero_report()
    apps = report["applications"]
    apps["new_received"] = apps["total_processed"] = applicants(natural_person=3)
    apps["disclosed"] = applicants(natural_person=2)
    apps["unavailable_not_held"] = applicants(natural_person=2)
    parsed = parse(empty_zeros(report, "applications.unavailable_not_held"))
    assert set(parsed["applications"]["unavailable_not_held"].values()) == {None}
    assert ("applications.unavailable_not_held: no placement of the printed values keeps the "
            "identities; left null") in parsed["flags"]


def test_a_label_printed_alone_is_a_row_of_empty_cells() -> None:
    report = zero_report()
    report["active_disclosure"]["admin_penalty"]["decisions"] = 12
    printed = copy.deepcopy(report)
    printed["active_disclosure"]["admin_licensing"]["decisions"] = None  # "行政许可" alone
    for style in (STREAM, SPACED):
        parsed = parse(printed, style)
        assert parsed["active_disclosure"] == report["active_disclosure"]
        inferred = {i["cell"]: i for i in parsed["inferred"]}
        assert inferred["active_disclosure.admin_licensing.decisions"]["rule"] == "blank"


def test_search_limit_keeps_what_each_row_agrees_on(monkeypatch: pytest.MonkeyPatch) -> None:
    report = joint_case()
    monkeypatch.setattr(placement, "MAX_SEARCH_STEPS", 1)
    parsed = parse(empty_zeros(report, *SHORT_ROWS))
    assert any(f.startswith("placement search stopped after 1 steps") for f in parsed["flags"])
    truth = report["applications"]
    for row, cells in parsed["applications"].items():
        for col, val in cells.items():
            assert val is None or val == truth[row][col]


def test_too_many_placements_leave_the_row_null(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(placement, "MAX_PLACEMENTS", 10)
    parsed = parse_seed("003")
    assert "review_litigation: too many ways to place 11 of 15 values; left null" in parsed["flags"]
    assert all(v is None for row in parsed["review_litigation"].values() for v in row.values())


def test_strict_reading_leaves_short_rows_null() -> None:
    parsed = parse_document(
        render_text(empty_zeros(joint_case(), *SHORT_ROWS), STREAM), "text/plain",
        strict=True).to_dict()
    assert set(parsed["applications"]["disclosed"].values()) == {None}
    assert parsed["inferred"] == []
    assert ("strict reading: applications.disclosed: 2 of 7 values printed; the row is left null"
            in parsed["flags"])


def test_an_amount_in_yuan_goes_to_an_amount_cell() -> None:
    report = zero_report("2019")
    report["active_disclosure"]["centralized_procurement"]["amount_10k_yuan"] = 7539.443252
    printed = copy.deepcopy(report)
    # 采购项目数量 printed empty and lost; 采购总金额 printed in 元
    printed["active_disclosure"]["centralized_procurement"] = {
        "projects": None, "amount_10k_yuan": "75394432.52元"}
    parsed = parse(printed, SPACED)
    assert parsed["active_disclosure"]["centralized_procurement"] == {
        "projects": 0, "amount_10k_yuan": 7539.443252}


def test_no_application_received_is_a_figure_of_the_prose() -> None:
    assert stated_totals("2021年1月1日至今，尚未收到公民、法人或其他组织需要本机关主动公开以外的"
                         "政府信息的申请。") == {"applications_received": 0}
    assert stated_totals("本机关全年未收到政府信息公开申请。") == {"applications_received": 0}
    # a review application is not one for information
    assert stated_totals("本年度未收到政府信息公开行政复议申请。") == {"admin_review": 0}
