"""The HTML summary in a real browser: headless Chromium (Debian's ``chromium`` package) loads
the page, and the numbers it shows (read from the DOM Chromium dumps) are compared with the store.

Chromium missing is a failure, not a skip: this is the acceptance test of ``gkcrawl stats --html``.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import lxml.html
import pytest

from gkcrawl.crawl import registry
from gkcrawl.outputs.stats import main_stats
from gkcrawl.parsing.regions import PROVINCES
from gkcrawl.store import Store
from tests.outputs.corpus import fill
from tests.outputs.expected import expected

CHROMIUM_NAMES = ("chromium", "chromium-browser")
CHROMIUM_TIMEOUT = 120
#: a headless run with nothing of a user profile and no traffic of its own
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run")


def chromium() -> str:
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    pytest.fail("Chromium is not installed; the HTML summary is tested in headless Chromium. "
                "Install Debian's package:  apt-get update && apt-get install -y chromium",
                pytrace=False)


def dump_dom(page: Path, profile: Path) -> str:
    """The DOM after Chromium loaded and laid out ``page``."""
    command = [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom",
               page.resolve().as_uri()]
    try:
        done = subprocess.run(command, capture_output=True, timeout=CHROMIUM_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        pytest.fail(f"chromium did not finish within {CHROMIUM_TIMEOUT} s: {' '.join(command)}",
                    pytrace=False)
    dom = done.stdout.decode("utf-8")
    assert done.returncode == 0 and "<body" in dom, done.stderr.decode("utf-8", "replace")[-2000:]
    return dom


def shown(dom: lxml.html.HtmlElement, metric: str,
          *dims: str) -> Iterator[tuple[tuple[str, ...], int]]:
    """(dimension values, number shown) of every element of ``metric``."""
    for element in dom.xpath("//*[@data-metric=$m]", m=metric):
        yield tuple(element.get(f"data-{d}") for d in dims), int(element.text_content())


def test_numbers_shown_in_chromium_match_the_store(store: Store, target: str,
                                                    tmp_path: Path) -> None:
    chromium()  # fail first, with the install line, when it is missing
    fill(store)
    page = tmp_path / "stats.html"
    assert main_stats(target, page) == 0
    dom = lxml.html.fromstring(dump_dom(page, tmp_path / "chromium-profile"))
    want = expected(store)

    def by_id(key: str) -> int:
        return int(dom.get_element_by_id(key).text_content())

    assert (by_id("total-reports"), by_id("total-organs"), by_id("total-copies")) == \
        (want.total, want.organs, want.copies)
    assert by_id("quarantine-open") == sum(want.quarantine.values())

    # coverage by year: the table's footer and the bar chart
    for metric in ("reports-by-year", "chart-reports-by-year"):
        years = dict(shown(dom, metric, "year"))
        assert years == {(str(y),): want.by_year[y] for y in range(2017, 2025)}, metric

    # region × year: organs found of those known; every province has a registry organ, so
    # every province is a row (gaps show), and every number is the store's
    cells = dict(shown(dom, "coverage-region", "region", "year"))
    regions = {region for region, _ in cells}
    assert regions >= {p.name for p in PROVINCES} | {"中央", "未知"}
    assert {k: v for k, v in cells.items() if v} == \
        {(r, str(y)): n for (r, y), n in want.by_organ_region.items()}
    known = dict(shown(dom, "known-region", "region", "year"))
    assert known.keys() == cells.keys() and known[("北京市", "2020")] == 2  # 北京市政府, 东城区
    assert dict(shown(dom, "chart-reports-by-region", "region")) == \
        {(r,): sum(n for (rr, _), n in want.by_region.items() if rr == r)
         for r in {r for r, _ in want.by_region}}
    by_portal = dict(shown(dom, "coverage-portal", "portal", "year"))
    assert {k: v for k, v in by_portal.items() if v} == \
        {(p, str(y)): n for (p, y), n in want.by_organ_portal.items()}
    assert {p for p, _ in by_portal} >= {p.id for p in registry.load()}  # no report: still a row
    assert dict(shown(dom, "coverage-portal-total", "portal")) == \
        {(p,): sum(n for (pp, _), n in want.by_portal.items() if pp == p)
         for p, _ in by_portal}

    # identities: checks by rule and status, reports failing each rule (table and chart)
    assert dict(shown(dom, "identity-checks", "rule", "status")) == \
        {(rule, status): want.checks[(rule, status)]
         for rule in "1234" for status in ("pass", "fail", "uncertain")}
    for metric in ("identity-reports", "chart-identity-failures"):
        failing = {rule: n for (rule, *status), n in shown(dom, metric, "rule", "status")
                   if metric.startswith("chart") or status == ["fail"]}
        assert failing == {rule: want.reports_failing[rule] for rule in "1234"}, metric

    assert dict(shown(dom, "quarantine", "code")) == {(c,): n for c, n in want.quarantine.items()}
    assert next(shown(dom, "quarantine-resolved"))[1] == want.quarantine_resolved
    # the charts are there and drawn: one bar per year, rule and region
    assert len(dom.xpath("//svg//rect")) == 8 + 4 + len({r for r, _ in want.by_region})
