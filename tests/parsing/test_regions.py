"""The administrative-division list: codes, names, levels, parents, years, misread names."""

from __future__ import annotations

import pytest

from gkcrawl.parsing.regions import (
    CITY,
    COUNTY,
    PROVINCE,
    PROVINCES,
    Divisions,
    Place,
    divisions,
)


@pytest.fixture(scope="module")
def listed() -> Divisions:
    return divisions()


def test_name_to_code_and_code_to_place(listed: Divisions) -> None:
    assert listed.code_of("洪泽区") == "320813"
    assert listed.place("320813") == Place("江苏省", "淮安市", "洪泽区", COUNTY)
    assert listed.place("320800") == Place("江苏省", "淮安市", None, CITY)
    assert listed.place("310000") == Place("上海市", None, None, PROVINCE)
    # a municipality's district and a province's directly administered county have no city
    assert listed.place("110105") == Place("北京市", None, "朝阳区", COUNTY)
    assert listed.place("469001") == Place("海南省", None, "五指山市", COUNTY)
    assert listed.place("999999") is None


def test_parent_chain(listed: Divisions) -> None:
    hongze = listed.named("洪泽区")[0]
    assert [(d.code, d.name, d.level) for d in listed.chain(hongze)] == [
        ("320000", "江苏省", PROVINCE), ("320800", "淮安市", CITY), ("320813", "洪泽区", COUNTY)]


def test_every_province_of_the_portal_table_is_listed(listed: Divisions) -> None:
    for province in PROVINCES:
        (found,) = listed.named(province.name)
        assert (found.level, found.short, found.code[2:]) == (PROVINCE, province.short, "0000")


def test_a_name_of_several_divisions_has_no_code_unless_the_parent_is_given(
        listed: Divisions) -> None:
    assert sorted(d.code for d in listed.named("朝阳区")) == ["110105", "220104"]
    assert listed.code_of("朝阳区") is None
    assert listed.code_of("朝阳区", within="220100") == "220104"


def test_the_division_of_the_report_year(listed: Divisions) -> None:
    """洪泽县 became 洪泽区 in 2016 under a new code; a renamed place keeps its old name in old
    reports, and an old name is looked up in the years it was used."""
    assert listed.code_of("洪泽区", 2023) == "320813"
    assert listed.code_of("洪泽县", 2012) == "320829"
    assert listed.code_of("洪泽县", 2023) == "320829"  # the nearest year that had the name
    assert listed.division("320829", 2023) is not None
    assert listed.division("320813", 2012) is not None  # the code's nearest year
    assert listed.code_of("洪泽区", 2012) == "320813"
    assert listed.named("洪泽区", 2023)[0].first == 2016


def test_a_misread_county_name_is_corrected_when_only_one_division_is_that_close(
        listed: Divisions) -> None:
    match = listed.match("工布江大县")  # 达 misread as 大
    assert match is not None
    assert (match.division.code, match.division.name, match.printed, match.corrected) == (
        "540421", "工布江达县", "工布江大县", True)
    exact = listed.match("工布江达县")
    assert exact is not None and not exact.corrected


def test_a_misread_name_close_to_several_divisions_is_not_corrected(listed: Divisions) -> None:
    # 洪择区 is one character away from 洪泽区 (淮安市), 洪山区 (武汉市) and 洪江区 (怀化市)
    assert listed.match("洪择区") is None
    # under 淮安市 only 洪泽区 is that close
    within = listed.match("洪择区", within="320800")
    assert within is not None and (within.division.code, within.corrected) == ("320813", True)
    # the last character says the level: 洪泽县 is a name of its own, not a misread 洪泽区
    assert listed.match("洪泽镇") is None
    # a short name is not guessed, nor one the list does not have anything near
    assert listed.match("沛具") is None
    assert listed.match("平潭综合实验区") is None


def test_the_list_of_a_small_table() -> None:
    """The index on rows made by hand: spans of years, parents, the city placeholder."""
    rows = [
        (2015, ("320000", "江苏省", "江苏", PROVINCE, None)),
        (2016, ("320000", "江苏省", "江苏", PROVINCE, None)),
        (2015, ("320800", "淮安市", "淮安", CITY, "320000")),
        (2016, ("320800", "淮安市", "淮安", CITY, "320000")),
        (2015, ("320829", "洪泽县", "洪泽", COUNTY, "320800")),
        (2016, ("320813", "洪泽区", "洪泽", COUNTY, "320800")),
    ]
    small = Divisions(rows)
    assert small.last_year == 2016
    assert [(d.code, d.first, d.last) for d in small.by_name["江苏省"]] == [("320000", 2015, 2016)]
    assert small.code_of("洪泽县", 2015) == "320829"
    assert small.division("320829") is not None and small.division("320829").last == 2015
    assert [d.name for d in small.chain(small.named("洪泽区")[0])] == ["江苏省", "淮安市", "洪泽区"]
