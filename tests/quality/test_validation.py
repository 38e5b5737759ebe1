"""Validation findings on the seeds and on reports broken on purpose."""

from __future__ import annotations

import copy

from gkcrawl.quality.validation import cross_year, summary, validate
from tests.parsing.test_seeds import parse_seed


def by_rule(findings: list, check: str) -> dict:
    return {f.rule: f for f in findings if f.check == check}


def test_seed_001_prose_disagrees_with_table() -> None:
    findings = validate(parse_seed("001"))
    prose = by_rule(findings, "prose")
    # 共收到政府信息公开申请15件, the table says 16
    assert prose["applications_received"].status == "fail"
    assert prose["applications_received"].values == {"stated": 15, "table": 16}
    assert prose["admin_review"].status == prose["litigation"].status == "pass"
    assert prose["applications_received"].severity == "warning"
    assert summary([f for f in findings if f.check == "identity"])["fail"] == 0


def test_identity_failure_is_reported_with_numbers() -> None:
    report = copy.deepcopy(parse_seed("004"))
    report["applications"]["new_received"]["natural_person"] = 3  # breaks identities 1 and 3
    identities = [f for f in validate(report) if f.check == "identity" and f.status == "fail"]
    assert {f.rule for f in identities} == {"1", "3"}
    row = next(f for f in identities if f.rule == "3")
    # the finding carries the two sums; the value of each cell lives in the report's own check
    assert sorted([row.values["lhs"], row.values["rhs"]]) == [0, 3]
    assert "3 vs 0" in row.message or "0 vs 3" in row.message


def test_domain_checks_signs_and_fractions() -> None:
    report = copy.deepcopy(parse_seed("004"))
    # -5 allowed
    assert by_rule(validate(report), "domain")["non_negative_integers"].status == "pass"
    report["applications"]["carried_forward"]["other_org"] = -1
    report["review_litigation"]["admin_review"]["upheld"] = 0.5
    domain = by_rule(validate(report), "domain")["non_negative_integers"]
    assert domain.status == "fail"
    assert set(domain.values) == {"applications.carried_forward.other_org",
                                  "review_litigation.admin_review.upheld"}


def test_year_vs_template() -> None:
    report = copy.deepcopy(parse_seed("004"))
    report["year"] = 2022  # a 2022 report printed on the 2019 template
    finding = by_rule(validate(report), "format")["year_vs_template"]
    assert finding.status == "fail" and "2021 template" in finding.message


def test_cross_year_carried_over_against_last_year() -> None:
    this_year = copy.deepcopy(parse_seed("002"))  # 2022: 上年结转 6 natural persons
    last_year = copy.deepcopy(parse_seed("001"))
    last_year["year"] = 2021
    last_year["applications"]["carried_forward"]["natural_person"] = 6
    findings = {f.values["column"]: f for f in cross_year(this_year, last_year)}
    assert findings["natural_person"].status == "pass"
    assert findings["total"].status == "fail"  # 6 vs 0: last year's 总计 was not updated
    assert validate(this_year, last_year)[-1].check == "cross_year"
