"""``gkcrawl stats``: the numbers collected from both backends, the terminal tables, the page's
self-containment, and the command."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from gkcrawl.crawl import registry
from gkcrawl.crawl.registry import Portal
from gkcrawl.outputs.stats import (
    NATIONAL_REGION,
    UNKNOWN_REGION,
    collect,
    main_stats,
    parse_years,
    portal_region,
    render_html,
    render_terminal,
)
from gkcrawl.quality.dedup import organ_key
from gkcrawl.store import Store, open_store
from tests.outputs.corpus import fill
from tests.outputs.expected import REGION_OF, expected


@pytest.fixture
def filled(store: Store) -> Store:
    fill(store)
    return store


def test_collect_matches_the_store(filled: Store) -> None:
    want = expected(filled)
    stats = collect(filled, registry.load())
    # 12 organs: 工布江达县人民政府 (seed 004 and its page copy) and its office (a 2021 report)
    # are two
    assert (stats.total_reports, stats.organs, stats.copies) == (want.total, want.organs,
                                                                 want.copies) == (13, 12, 15)
    assert stats.years == list(range(2017, 2025))  # 2018 has no report and still shows
    assert stats.by_year == {y: want.by_year[y] for y in stats.years}
    for region, counts in stats.by_region.items():
        assert counts == {y: want.by_region[(region, y)] for y in stats.years}, region
    assert sum(sum(c.values()) for c in stats.by_region.values()) == want.total
    for portal, counts in stats.by_portal.items():
        assert counts == {y: want.by_portal[(portal, y)] for y in stats.years}, portal
    assert {r.rule for r in stats.rules} == {"1", "2", "3", "4"}
    for rule in stats.rules:
        assert rule.checks == {s: want.checks[(rule.rule, s)] for s in rule.checks}
        assert rule.reports["fail"] == want.reports_failing[rule.rule]
    assert want.reports_failing["3"] >= 1 and want.reports_failing["4"] >= 1  # broken on purpose
    assert stats.outcomes["unchecked"] == 1  # the legacy report
    assert sum(stats.outcomes.values()) == want.total
    assert stats.quarantine == dict(want.quarantine) == {"scanned_pdf": 2, "corrupt": 1}
    assert stats.quarantine_resolved == want.quarantine_resolved == 1
    assert stats.validation["identity"]["fail"] >= 3
    assert [r.crawl_id for r in stats.runs] == ["crawl-a"]


def test_regions_are_named_from_the_division_codes() -> None:
    by_id = {p.id: p for p in registry.load()}
    for portal, region in REGION_OF.items():
        assert portal_region(by_id[portal]) == region
    assert portal_region(by_id["mof"]) == NATIONAL_REGION  # a ministry
    assert portal_region(None) == UNKNOWN_REGION
    for code, name in (("460100", "海南省"), ("540199", "西藏自治区"),
                       ("650000", "新疆维吾尔自治区")):
        portal = Portal("p", "某机关", "http://www.example.gov.cn/", region_code=code)
        assert portal_region(portal) == name  # a county's code too: never a bare code


def test_known_organs_and_missing_years(filled: Store) -> None:
    """Known: the registry's organs and the stored ones; missing: a known organ's year of the
    range without a report, whatever range is asked."""
    portals = registry.load()
    stats = collect(filled, portals, years=(2019, 2024))
    reports = list(filled.reports())
    stored = {r.organ_key for r in reports}
    listed = {organ_key(p.name) for p in portals}
    assert {o.key for o in stats.organ_list} == stored | listed
    assert len(stats.organ_list) == 12 + 57  # no portal's own organ has a stored report
    have = {(r.organ_key, r.year) for r in reports}
    want = {(o, y) for o in stored | listed for y in range(2019, 2025)} - have
    assert {(o.key, y) for o, y in stats.missing} == want
    beijing = next(o for o in stats.organ_list if o.key == "北京市政府")
    assert beijing.in_registry and beijing.region == "北京市" and not beijing.reports
    dongcheng = next(o for o in stats.organ_list if o.key == "北京市东城区政府")
    assert not dongcheng.in_registry and dongcheng.region == "北京市"
    assert dongcheng.missing == list(range(2019, 2025))  # its 2017 report lies before the range
    xizang = stats.cover_region["西藏自治区"]
    organs = [o for o in stats.organ_list if o.region == "西藏自治区"]
    assert {y: (c.found, c.known) for y, c in xizang.items()} == {
        y: (sum(y in o.reports for o in organs), len(organs)) for y in range(2019, 2025)}
    assert stats.cover_region[NATIONAL_REGION][2023].found == 1  # the ministry's report
    assert collect(filled, portals).years == list(range(2017, 2025))


def test_year_ranges() -> None:
    assert parse_years("2019-2024") == (2019, 2024) and parse_years(" 2021 ") == (2021, 2021)
    for bad in ("2024-2019", "19-24", "latest"):
        with pytest.raises(ValueError, match="year range"):
            parse_years(bad)


def test_terminal_tables(filled: Store) -> None:
    text = render_terminal(collect(filled, registry.load()))
    assert ("13 reports of 12 organs (15 copies), years 2017-2024; "
            "quarantine 3 open (1 resolved); 1 run") in text
    lines = text.splitlines()
    xizang = next(line for line in lines if line.startswith("西藏自治区 "))
    assert xizang.split() == ["西藏自治区", "0", "0", "0", "1", "2", "0", "0", "0", "3"]
    header = lines[lines.index("Coverage by region and year") + 1]
    # right-aligned counts line up under their year, CJK characters counting double
    assert header.endswith("total") and len(xizang.encode("gbk")) == len(header)
    assert "regions without reports: 28" in text  # of 中央 and the 34 provincial divisions
    assert re.search(r"^scanned_pdf +2$", text, re.MULTILINE)
    assert re.search(r"^corrupt +1$", text, re.MULTILINE)
    assert re.search(r"^crawl-a +portals .* finished +1 +14$", text, re.MULTILINE)


def test_empty_store(store: Store) -> None:
    stats = collect(store, registry.load())
    assert stats.total_reports == 0 and stats.years == []
    assert "0 reports of 0 organs" in render_terminal(stats)
    page = render_html(stats)
    assert '<span id="total-reports">0</span>' in page


def test_page_is_self_contained_and_escaped(filled: Store) -> None:
    hostile = Portal("xizang", '<script>alert("x")</script>西藏', "https://www.xizang.gov.cn/",
                     region_code="540000", level="province")
    page = render_html(collect(filled, [hostile]))
    assert "<script" not in page.replace("&lt;script", "")
    assert not re.search(r"""\bsrc\s*=""", page)  # nothing to fetch
    # links only to the page's own sections (the organs'), each of which is there
    anchors = re.findall(r'\bhref\s*=\s*"([^"]*)"', page)
    assert anchors and all(a.startswith("#organ-") for a in anchors)
    assert all(f'id="{a[1:]}"' in page for a in anchors)
    assert "default-src 'none'" in page  # and the browser is told so
    assert page.count("<svg") == 3  # by year, by region, identity failures


def test_replay_links(filled: Store) -> None:
    """Under --replay-url every archived report links to its record's replay (pywb ``id_``)."""
    stats = collect(filled, registry.load())
    page = render_html(stats, "http://localhost:8080/gk/")
    links = re.findall(r'href="(http[^"]*)"', page)
    rows = list(filled.reports())
    want = {f"http://localhost:8080/gk/{r.fetched_at:%Y%m%d%H%M%S}id_/{r.report['source_url']}"
            for r in rows}
    assert set(links) == want and len(want) == len(rows)


def test_main_stats(filled: Store, target: str, tmp_path: Path,
                    capsys: pytest.CaptureFixture[str]) -> None:
    page = tmp_path / "out" / "stats.html"
    out = io.StringIO()
    assert main_stats(target, page, out=out) == 0
    assert out.getvalue().startswith(f"gkcrawl stats: {target}")
    assert page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert f"summary page -> {page}" in capsys.readouterr().err
    assert main_stats(target, None) == 0
    assert "Coverage by portal and year" in capsys.readouterr().out


def test_main_stats_refusals(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nowhere.sqlite3"
    assert main_stats(missing, None) == 1
    assert "no store at" in capsys.readouterr().err and not missing.exists()
    bad = tmp_path / "portals.csv"
    bad.write_text("id,name\nx,y\n", encoding="utf-8")
    store_path = tmp_path / "s.sqlite3"
    open_store(store_path).close()
    assert main_stats(store_path, None, registry=bad) == 2
    assert "start_url" in capsys.readouterr().err
