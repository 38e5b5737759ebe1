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
    portal_region,
    region_names,
    render_html,
    render_terminal,
)
from gkcrawl.parsing.regions import PROVINCES
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


def test_regions_come_from_the_registry_codes() -> None:
    portals = registry.load()
    names = region_names(portals)
    assert names["10"] == NATIONAL_REGION
    assert set(names.values()) == {NATIONAL_REGION, *(p.name for p in PROVINCES)}
    assert names["54"] == "西藏自治区" and names["65"] == "新疆维吾尔自治区"
    by_id = {p.id: p for p in portals}
    for portal, region in REGION_OF.items():
        assert portal_region(by_id[portal], names) == region
    assert portal_region(by_id["mof"], names) == NATIONAL_REGION  # a ministry
    assert portal_region(None, names) == UNKNOWN_REGION
    city = Portal("haikou", "海口市人民政府", "http://www.haikou.gov.cn/", region_code="460100")
    assert portal_region(city, names) == "海南省"


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
    assert "regions without reports: 25" in text
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
    assert not re.search(r"""\b(src|href)\s*=""", page)  # nothing to fetch
    assert "default-src 'none'" in page  # and the browser is told so
    assert page.count("<svg") == 3


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
