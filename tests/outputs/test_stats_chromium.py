"""The HTML summary in a real browser: headless Chromium (Debian's ``chromium`` package) loads
the page, and the numbers it shows (read from the DOM Chromium dumps) are compared with the store.

Chromium missing is a failure, not a skip: this is the acceptance test of ``gkcrawl stats --html``.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import lxml.html
import pytest
from warcio.archiveiterator import ArchiveIterator

from gkcrawl.crawl import registry
from gkcrawl.demo.site import SITE_NAME
from gkcrawl.outputs.stats import main_stats
from gkcrawl.outputs.stats.collect import Organ
from gkcrawl.parsing.regions import PROVINCES
from gkcrawl.quality.dedup import organ_key
from gkcrawl.store import Store, open_store
from tests.outputs.corpus import fill
from tests.outputs.expected import expected

if TYPE_CHECKING:
    from tests.crawling import Crawl

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


#: the screenshot's viewport: the cards, the heat map, the missing organ-years and the failures
SCREENSHOT_SIZE = (1280, 1500)


def screenshot(page: Path, png: Path, profile: Path) -> None:
    """A PNG of the top of ``page`` as headless Chromium lays it out."""
    width, height = SCREENSHOT_SIZE
    command = [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--hide-scrollbars",
               f"--window-size={width},{height}", f"--screenshot={png}", page.resolve().as_uri()]
    done = subprocess.run(command, capture_output=True, timeout=CHROMIUM_TIMEOUT, check=False)
    assert done.returncode == 0 and png.is_file(), done.stderr.decode("utf-8", "replace")[-2000:]


def test_demo_crawl_page_in_chromium(crawl: Crawl, tmp_path: Path) -> None:
    """The sample portal's crawl (planted 404, 412, 500 and a page past the timeout): its
    missing organ-years, each planted failure with the archived answer, and the numbers of the
    store and the run's stats, as Chromium shows them."""
    target = crawl.archive / "gkcrawl.sqlite3"
    page = tmp_path / "stats.html"
    assert main_stats(target, page, registry=crawl.archive.parent / "portals.csv") == 0
    dom = lxml.html.fromstring(dump_dom(page, tmp_path / "chromium-profile"))
    with open_store(target) as store:
        reports = list(store.reports())
        run = store.runs()[0]
    stats = run.stats or {}

    # missing: every known organ (the stored ones and the portal's own) × the store's years
    years = range(min(r.year for r in reports), max(r.year for r in reports) + 1)
    organs = {r.organ_key for r in reports} | {organ_key(SITE_NAME)}
    have = {(r.organ_key, str(r.year)) for r in reports}
    missing = {(organ, str(y)) for organ in organs for y in years} - have
    assert missing and {k for k, _ in shown(dom, "missing", "organ", "year")} == missing
    assert int(dom.get_element_by_id("missing-organ-years").text_content()) == len(missing)
    assert int(dom.get_element_by_id("total-reports").text_content()) == len(reports)
    found = dict(shown(dom, "coverage-region", "region", "year"))
    assert found == {("西藏自治区", str(y)): sum(r.year == y for r in reports) for y in years}
    assert {v for _, v in shown(dom, "known-region", "region", "year")} == {len(organs)}

    # why: the run's per-portal stats, as counted
    for metric, head in (("failed", "failed"), ("retried", "retried"), ("bounded", "bounded")):
        assert dict(shown(dom, metric, "portal", "kind")) == {
            ("demo", key.rsplit("/", 1)[1]): n for key, n in stats.items()
            if key.startswith(f"portal/demo/{head}/")}, metric
    assert dict(shown(dom, "antibot", "portal")) == {("demo",): stats["portal/demo/antibot"]} \
        == {("demo",): 1}
    assert dict(shown(dom, "pages", "portal")) == {("demo",): stats["portal/demo/pages"]}

    # each planted failure the crawl met is listed with the archived answer it got
    rows = {row.xpath("string(td[3])"): row for row in dom.xpath("//tr[@data-portal='demo']")}
    planted = {p: s for p, s in crawl.site.errors.items() if crawl.hits.get(p)}
    assert set(planted.values()) == {404, 412, 500}
    for path, status in planted.items():
        row = rows[crawl.base + path]
        assert row.xpath("string(td[2])") == f"http_{status}"
        pointer = row.xpath(".//code[@data-warc-file]")[0]
        record = read_record(crawl.archive / pointer.get("data-warc-file"),
                             int(pointer.get("data-warc-offset")))
        assert record.rec_headers.get_header("WARC-Target-URI") == crawl.base + path
        assert record.http_headers.get_statuscode() == str(status)
    for path in crawl.site.slow:  # no answer: the crawl log names it, nothing is archived
        assert rows[crawl.base + path].xpath("string(td[2])") == "DownloadTimeoutError"

    # an organ's values are the store's, each with its mark
    report = next(r for r in reports if r.organ_key == organ_key(SITE_NAME) and r.year == 2022)
    organ = dom.get_element_by_id(Organ(report.organ_key, "", "", "", "", "", False).anchor)
    cell = organ.xpath(".//td[@data-variable='t2_new_tot'][@data-year='2022']")[0]
    assert int(cell.text_content()) == report.report["applications"]["new_received"]["total"]
    assert cell.get("data-mark") == "printed"

    png = tmp_path / "stats.png"
    screenshot(page, png, tmp_path / "chromium-profile")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def read_record(path: Path, offset: int) -> Any:
    """The WARC record at ``offset`` of ``path``, read by warcio."""
    with path.open("rb") as fh:
        fh.seek(offset)
        return next(iter(ArchiveIterator(fh)))
