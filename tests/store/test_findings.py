"""A copy's identity findings are stored as a reference to its report's checks, and read back
the same; findings that the checks do not give are stored as they are."""

from __future__ import annotations

from gkcrawl.store import SourceRow, Store
from gkcrawl.store.findings import FROM_CHECKS, pack, unpack
from gkcrawl.quality.validation import validate

from tests.samples import parsed_report


def test_identity_findings_are_packed_as_one_marker_and_unpacked_the_same() -> None:
    report = parsed_report(1)
    findings = [f.to_dict() for f in validate(report)]
    identities = [f for f in findings if f["check"] == "identity"]
    assert len(identities) == len(report["checks"]) > 30
    packed = pack(findings, report)
    assert packed.count(FROM_CHECKS) == 1 and len(packed) == len(findings) - len(identities) + 1
    assert unpack(packed, report) == findings


def test_findings_the_checks_do_not_give_are_stored_in_full() -> None:
    report = parsed_report(2)
    findings = [f.to_dict() for f in validate(report)]
    findings[0] = {**findings[0], "message": "edited by hand"}
    assert pack(findings, report) == findings
    assert pack([], report) == [] and unpack([], report) == []


def test_the_store_reads_back_the_findings_it_was_given(store: Store) -> None:
    report = parsed_report(3)
    findings = [f.to_dict() for f in validate(report)]
    row = SourceRow(url="http://x.gov.cn/3.html", report=report, organ_key="x", year=2023,
                    validation=findings)
    source_id = store.upsert_source(row)
    stored = store._exec("SELECT validation FROM sources").fetchall()[0]["validation"]
    assert len(store._json_out(stored)) == len(findings) - len(report["checks"]) + 1
    got = store.source(source_id)
    assert got is not None and got.validation == findings and got.report == report


def test_checks_not_as_the_parser_writes_them_leave_the_findings_in_full() -> None:
    findings = [{"check": "identity", "status": "fail"}]
    assert pack(findings, {"checks": [{"rule": "1"}]}) == findings
    assert pack(findings, {"checks": "garbage"}) == findings


def test_the_field_by_field_comparison_agrees_with_building_the_findings() -> None:
    from gkcrawl.store.findings import _from_checks, _given

    report = parsed_report(4)
    identities = [f.to_dict() for f in validate(report) if f.check == "identity"]
    edits = [("rule", "99"), ("status", "fail"), ("status", "uncertain"), ("severity", "warning"),
             ("message", "x"), ("values", {}), ("check", "identity"), ("extra", 1)]
    for n in (0, len(identities) // 2, len(identities) - 1):
        for key, value in edits:
            edited = [dict(f) for f in identities]
            edited[n][key] = value
            assert _given(edited, report["checks"]) == (edited == _from_checks(report)), (n, key)
    assert _given(identities, report["checks"])
    assert not _given(identities[:-1], report["checks"])
    checks = [dict(c) for c in report["checks"]]
    checks[0]["values"] = list(checks[0]["values"].items())  # not the parser's: the long way
    assert _given(identities, checks) == (identities == _from_checks({"checks": checks}))
