"""A copy's identity checks are stored as their results, the names and cell values rebuilt from
the template and the report's tables; checks that are not exactly those are stored as they are."""

from __future__ import annotations

import copy

import pytest

from gkcrawl.parsing.report import checks
from gkcrawl.store import SourceRow, Store
from gkcrawl.store.checks import PackedChecksError, is_packed, pack, unpack
from gkcrawl.template.spec import TEMPLATES
from gkcrawl.quality.validation import cells_of, validate

from tests.samples import parsed_report


@pytest.mark.parametrize("version", ["2019", "2021"])
def test_checks_are_packed_to_their_results_and_read_back_the_same(version: str) -> None:
    for seed in range(30):
        report = parsed_report(seed, version)
        given = copy.deepcopy(report)
        packed = pack(report)
        assert report == given  # the item's report is not touched
        assert is_packed(packed["checks"])
        assert packed["checks"]["results"][0] == [given["checks"][0][k] for k in
                                                  ("status", "lhs", "rhs", "uses_inferred")]
        assert {k: v for k, v in packed.items() if k != "checks"} == \
            {k: v for k, v in given.items() if k != "checks"}
        assert unpack(copy.deepcopy(packed)) == given
        assert len(str(packed)) < len(str(given)) / 3


def test_failing_and_uncertain_checks_round_trip() -> None:
    report = parsed_report(7)
    report["applications"]["total_processed"]["natural_person"] += 1  # identities 1 and 2 fail
    report["applications"]["new_received"]["other_org"] = None  # uncertain
    report["checks"] = checks(TEMPLATES["2021"], cells_of(TEMPLATES["2021"], report), set())
    statuses = {c["status"] for c in report["checks"]}
    assert statuses == {"pass", "fail", "uncertain"}
    packed = pack(report)
    assert is_packed(packed["checks"])
    assert unpack(copy.deepcopy(packed)) == report


@pytest.mark.parametrize("edit", [
    lambda r: r["checks"][3]["values"].update({next(iter(r["checks"][3]["values"])): 10**9}),
    lambda r: r["checks"][0]["values"].update(  # 5 -> 5.0: equal, but not what was given
        {k: float(v) for k, v in r["checks"][0]["values"].items() if v is not None}),
    lambda r: _table_cell_of_first_check(r, float),  # the table's 5.0, the check's 5
    lambda r: _table_cell_of_first_check(r, lambda v: True if v == 1 else v),
    lambda r: r["checks"][1].update(name="renamed"),
    lambda r: r["checks"].pop(),
    lambda r: r["checks"][2].update(note="extra key"),
    lambda r: r.update(applications=None),
    lambda r: r.update(format="legacy"),
])
def test_checks_that_are_not_the_templates_are_stored_as_they_are(edit) -> None:  # noqa: ANN001
    report = parsed_report(11)
    report["applications"]["new_received"]["natural_person"] = 1  # a cell True would equal
    template = TEMPLATES[report["format"]]
    report["checks"] = checks(template, cells_of(template, report), set())
    assert is_packed(pack(report)["checks"])
    edit(report)
    assert pack(report) is report


def test_a_report_packed_under_another_template_fails_loudly() -> None:
    packed = pack(parsed_report(12))
    packed["checks"]["template"] = "2021:0000000000000000"
    with pytest.raises(PackedChecksError, match="re-store"):
        unpack(packed)


def test_the_store_keeps_packed_checks_and_reads_back_the_report(store: Store) -> None:
    report = parsed_report(13)
    findings = [f.to_dict() for f in validate(report)]
    row = SourceRow(url="http://x.gov.cn/13.html", report=report, organ_key="x", year=2023,
                    validation=findings)
    source_id = store.upsert_source(row)
    stored = store._json_out(store._exec("SELECT report FROM sources").fetchall()[0]["report"])
    assert is_packed(stored["checks"])
    got = store.source(source_id)
    assert got is not None and got.report == report and got.validation == findings


def _table_cell_of_first_check(report: dict, change) -> None:  # noqa: ANN001
    """Change, in the table, the cell of the first check that holds 1 (or else any value)."""
    cells = report["checks"][0]["values"]
    name = next((k for k, v in cells.items() if v == 1), None) or next(
        k for k, v in cells.items() if v is not None)
    table, row, col = name.split(".")
    report[table][row][col] = change(report[table][row][col])
