"""The browser path: a portal whose report columns exist only in the browser
(tests/browser_portal.py), crawled with ``render=browser`` and without it (the automatic
choice); what the browser fetched is in the WARC, a replay gives the same reports, and a plain
portal starts no browser. Headless Chromium is the system's ``chromium``, never a download: the
crawls run with an empty ``PLAYWRIGHT_BROWSERS_PATH``."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from parsel import Selector
from warcio.archiveiterator import ArchiveIterator

from gkcrawl.crawl import browser, registry
from gkcrawl.crawl.classify import OTHER, REPORT_LIST, Verdict
from gkcrawl.crawl.cms import FRAME, Found
from gkcrawl.store import open_store
from tests.browser_portal import (
    FETCH,
    FETCH_API,
    FETCH_COLUMN,
    PER_PAGE,
    XHR,
    XHR_API,
    XHR_COLUMN,
    XHR_FORM,
    build,
)
from tests.cms_portal import Portal, key, serve_portal
from tests.crawling import ROOT, run_crawl
from tests.portal import PortalProcess

PORTAL_ID = "shifan-js"
CRAWL_ID = "browser-crawl"
STORE = "gkcrawl.sqlite3"
SETTINGS = {"DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "False",
            "CONCURRENT_REQUESTS_PER_DOMAIN": "8", "RETRY_TIMES": "0", "LOG_LEVEL": "INFO",
            "CRAWL_ID": CRAWL_ID}
TIMEOUT = 300
REPORTS = 8
MISSING_BROWSER = "/nonexistent/chromium"


def require_chromium() -> None:
    """These tests need the system's Chromium: they fail, saying so, without it."""
    if shutil.which(browser.BROWSER_EXECUTABLE) is None:
        pytest.fail("Debian's chromium is not installed (apt-get install chromium; scripts/test "
                    "installs it): the browser path renders with it", pytrace=False)


@dataclass
class Run:
    out: Path
    items: list[dict]
    log: str
    returncode: int

    @property
    def crawl_dir(self) -> Path:
        return self.out / "archive" / CRAWL_ID

    def stat(self, name: str) -> object:
        stats = self.log[self.log.rindex("Dumping Scrapy stats"):]
        start = stats.find(f"'{name}': ")
        if start < 0:
            return None
        value = stats[start + len(name) + 4:].split(",", 1)[0].split("}", 1)[0]
        return json.loads(value.replace("'", '"'))


def crawl(portal: Portal, out: Path, render: str, *settings: str) -> Run:
    """``scrapy crawl portals`` over the portal into ``out``, with an empty
    PLAYWRIGHT_BROWSERS_PATH: Playwright has no browser of its own to fall back on."""
    out.mkdir(parents=True, exist_ok=True)
    with (out / "portals.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "name", "start_url", "allowed_domains", "level", "render"])
        writer.writerow([PORTAL_ID, "示范县人民政府", portal.url + "/",
                         urlsplit(portal.url).hostname, "county", render])
    args = [sys.executable, "-m", "scrapy", "crawl", "portals",
            "-a", f"portals={out / 'portals.csv'}", "-O", str(out / "reports.jsonl"),
            "-s", f"ARCHIVE_DIR={out / 'archive'}"]
    for name, value in SETTINGS.items():
        args += ["-s", f"{name}={value}"]
    for setting in settings:
        args += ["-s", setting]
    (out / "browsers").mkdir(exist_ok=True)
    env = {**os.environ, "PLAYWRIGHT_BROWSERS_PATH": str(out / "browsers")}
    proc = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT,
                          env=env)
    report = out / "reports.jsonl"
    lines = report.read_text("utf-8").splitlines() if report.exists() else []
    return Run(out, [json.loads(line) for line in lines], proc.stderr, proc.returncode)


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return key(parts.path + (f"?{parts.query}" if parts.query else ""))


@pytest.fixture(scope="module")
def portal() -> Iterator[Portal]:
    require_chromium()
    with serve_portal(build) as served:
        yield served


@pytest.fixture(scope="module")
def opted_in(portal: Portal, tmp_path_factory: pytest.TempPathFactory) -> Run:
    portal.requests.clear()
    run = crawl(portal, tmp_path_factory.mktemp("opted-in"), registry.BROWSER)
    assert run.returncode == 0, run.log[-3000:]
    return run


@pytest.fixture(scope="module")
def automatic(portal: Portal, tmp_path_factory: pytest.TempPathFactory) -> tuple[Run, list]:
    """A crawl without the opt-in, and the requests the portal had from it."""
    portal.requests.clear()
    run = crawl(portal, tmp_path_factory.mktemp("automatic"), "")
    assert run.returncode == 0, run.log[-3000:]
    return run, list(portal.requests)


def assert_every_report(portal: Portal, run: Run) -> None:
    found = {path_of(item["source_url"]): item for item in run.items}
    assert set(found) == {key(e.path) for e in portal.expected}
    assert Counter(e.mechanism for e in portal.expected) == {FETCH: 5, XHR: 3}
    for expected in portal.expected:
        item, truth = found[key(expected.path)], expected.report
        assert (item["organ"], item["year"], item["format"]) == (
            truth["organ"], truth["year"], truth["format"]), expected.path
        for table in ("active_disclosure", "applications", "review_litigation"):
            assert item[table] == truth[table], (expected.path, table)
    with open_store(run.out / "archive" / STORE) as store:
        stored = {path_of(source.url) for source in store.sources()}
    assert {key(e.path) for e in portal.expected} <= stored
    assert len(run.items) == REPORTS


# --- the rule ---------------------------------------------------------------------------------

SHELL = ("<html><head><title>{title}</title></head><body><div class='main'>{main}</div>"
         "<script>{script}</script></body></html>")
FETCHES = "fetch('/api/list?page=1').then(function (r) { return r.json(); }).then(show);"
OTHER_PAGE = Verdict(OTHER, reason="no report title or template tables")


def reason(url: str, title: str = "信息公开", main: str = "<ul id='list'></ul>",
           script: str = FETCHES, verdict: Verdict = OTHER_PAGE,
           links: tuple[tuple[str, str], ...] = (), extra: tuple[Found, ...] = (),
           anchor: str = "", registered: bool = False) -> str | None:
    sel = Selector(text=SHELL.format(title=title, main=main, script=script))
    return browser.render_reason(url, sel, verdict, list(links), list(extra), anchor, registered)


def test_a_report_column_filled_by_script_is_rendered() -> None:
    # the column by its URL, its title, the link to it, or the registry's report_url
    assert reason("http://a.gov.cn/xxgk/zfxxgknb/index.html") == browser.SCRIPTED_LIST_REASON
    assert reason("http://a.gov.cn/c/1.html", title="部门信息公开年报") is not None
    assert reason("http://a.gov.cn/c/1.html", anchor="政府信息公开年度报告") is not None
    assert reason("http://a.gov.cn/c/1.html", registered=True) is not None
    # XMLHttpRequest, jQuery's helpers; an empty table body or a div whose class names a list
    for script in ("var x = new XMLHttpRequest();", "$.getJSON('/nb.json', show);",
                   "$.ajax({url: '/nb', success: show});"):
        assert reason("http://a.gov.cn/nb/", script=script) is not None, script
    for main in ("<table><tbody id='rows'></tbody></table>", "<div class='news-list'> </div>"):
        assert reason("http://a.gov.cn/nb/", main=main) is not None, main
    # a single-page application's empty mount point, whatever its script
    assert reason("http://a.gov.cn/nb/", main="<div id='app'></div>",
                  script="") == browser.SPA_REASON


def test_pages_readable_without_a_browser_are_not_rendered() -> None:
    column = "http://a.gov.cn/xxgk/zfxxgknb/index.html"
    # not a report column
    assert reason("http://a.gov.cn/c/1.html") is None
    # the list is in the markup already, or no script loads it
    assert reason(column, main="<ul id='list'><li><a href='/1.html'>x</a></li></ul>") is None
    assert reason(column, script="document.title = '年报';") is None
    # it lists reports, the classifier says what it is, or an adapter understood it
    listed = (("http://a.gov.cn/1.html", "某某局2023年政府信息公开工作年度报告"),)
    assert reason(column, links=listed) is None
    assert reason(column, verdict=Verdict(REPORT_LIST, reason="2 report links")) is None
    assert reason(column, extra=(Found("http://a.gov.cn/f.html", "frame", FRAME),)) is None


def test_a_body_the_browser_decoded_is_archived_as_it_is() -> None:
    headers = [(b"Content-Type", b"application/json"), (b"Content-Encoding", b"gzip"),
               (b"Content-Length", b"37"), (b"Set-Cookie", b"a=1"), (b"Set-Cookie", b"b=2")]
    assert browser.as_archived(headers, b'["/a.html"]') == [
        (b"Content-Type", b"application/json"), (b"X-Orig-Content-Encoding", b"gzip"),
        (b"X-Orig-Content-Length", b"37"), (b"Set-Cookie", b"a=1"), (b"Set-Cookie", b"b=2"),
        (b"Content-Length", b"11")]
    assert browser.as_archived([(b"content-length", b"2")], b"ok") == [(b"Content-Length", b"2")]


# --- crawls -------------------------------------------------------------------------------------


def test_render_browser_stores_every_report_behind_the_script(portal: Portal,
                                                                opted_in: Run) -> None:
    assert_every_report(portal, opted_in)
    assert "Starting headless Chromium (" in opted_in.log
    # every page rendered, the attachment and robots.txt fetched plainly
    assert opted_in.stat("browser/pages") == opted_in.stat(f"portal/{PORTAL_ID}/browser_requests")
    assert opted_in.stat(f"portal/{PORTAL_ID}/browser_chosen") is None


def test_what_the_browser_fetched_is_in_the_warc(portal: Portal, opted_in: Run) -> None:
    """The JSON the script asked for, GET and POST, with their real bodies and requests; the
    rendered DOM as a conversion of the column page's response record."""
    records = []
    for path in sorted(opted_in.crawl_dir.glob("*.warc.gz")):
        with path.open("rb") as fh:
            records += [(r.rec_type, r.rec_headers, r.http_headers, r.content_stream().read())
                        for r in ArchiveIterator(fh)]
    responses = {path_of(h.get_header("WARC-Target-URI")): (h, http, body)
                 for kind, h, http, body in records if kind in ("response", "revisit")}
    requests = {h.get_header("WARC-Concurrent-To"): (http, body)
                for kind, h, http, body in records if kind == "request"}
    pages = json.loads(responses[key(f"{FETCH_API}?page=1")][2])["pages"]
    assert pages == 2
    listed = []
    for number in (1, 2):
        head, http, body = responses[key(f"{FETCH_API}?page={number}")]
        assert http.get_header("X-Orig-Content-Encoding") == "gzip"
        assert http.get_header("Content-Length") == str(len(body))
        listed += [item["url"] for item in json.loads(body)["items"]]
        request, _ = requests[head.get_header("WARC-Record-ID")]
        assert request.protocol == "GET"
    assert len(listed) == 5 and len(listed[:PER_PAGE]) == PER_PAGE
    head, http, body = responses[key(XHR_API)]
    assert len(json.loads(body)["rows"]) == 3
    request, sent = requests[head.get_header("WARC-Record-ID")]
    assert request.protocol == "POST" and dict(parse_qsl(sent.decode())) == XHR_FORM
    # the column page as the server sent it (an empty list), and as the browser rendered it
    column = responses[key(FETCH_COLUMN)]
    assert b"<ul id='list' class='list'></ul>" in column[2]
    conversions = {h.get_header("WARC-Refers-To"): (h, body)
                   for kind, h, http, body in records if kind == "conversion"}
    dom_head, dom = conversions[column[0].get_header("WARC-Record-ID")]
    assert dom_head.get_header("Content-Type") == browser.DOM_CONTENT_TYPE
    assert all(f'href="{url}"'.encode() in dom for url in listed)


def test_the_archive_of_the_browser_passes_the_archive_checks(opted_in: Run) -> None:
    from tests.crawling import check_archive

    check_archive(opted_in.crawl_dir)


def test_a_report_column_built_by_script_is_rendered_without_the_opt_in(
        portal: Portal, automatic: tuple[Run, list]) -> None:
    run, hits = automatic
    assert_every_report(portal, run)
    for column in (FETCH_COLUMN, XHR_COLUMN):
        assert f"Rendering {portal.url}{column} in the browser: " in run.log
    assert run.stat(f"portal/{PORTAL_ID}/browser_chosen") == 2
    assert run.stat("browser/pages") == 2
    # the columns twice (plainly, then in the browser); their endpoints by the browser; every
    # other page once, plainly
    asked = Counter(key(hit.path) for hit in hits)
    assert asked[key(FETCH_COLUMN)] == asked[key(XHR_COLUMN)] == 2
    # rendered as the page was fetched, with its Referer
    assert {hit.referer for hit in hits if key(hit.path) in (key(FETCH_COLUMN), key(XHR_COLUMN))
            } == {portal.url + "/"}
    assert asked[key(f"{FETCH_API}?page=1")] == asked[key(f"{FETCH_API}?page=2")] == 1
    assert asked[key(XHR_API)] == 1
    assert {path for path, n in asked.items() if n > 1} == {key(FETCH_COLUMN), key(XHR_COLUMN)}


@pytest.mark.parametrize("which", ["opted_in", "automatic"])
def test_replay_gives_the_same_reports(which: str, request: pytest.FixtureRequest,
                                       tmp_path: Path) -> None:
    run = request.getfixturevalue(which)
    run = run[0] if isinstance(run, tuple) else run
    archive = tmp_path / "archive"
    shutil.copytree(run.out / "archive", archive, ignore=shutil.ignore_patterns(f"{STORE}*"))
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "gkcrawl.settings"}
    proc = subprocess.run(
        [sys.executable, "-m", "gkcrawl.cli", "replay", str(archive / CRAWL_ID),
         "--store", str(archive / STORE), "-s", f"ARCHIVE_DIR={archive}"],
        capture_output=True, text=True, timeout=TIMEOUT, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert snapshot(archive / STORE) == snapshot(run.out / "archive" / STORE)
    assert len(snapshot(archive / STORE)["reports"]) == REPORTS


def snapshot(store_path: Path) -> dict[str, list]:
    """The reports and every stored copy, with its WARC record."""
    with open_store(store_path) as store:
        reports = sorted((r.organ_key, r.year, r.format, json.dumps(r.report, sort_keys=True),
                          store.source(r.source_id).url) for r in store.reports())
        sources = sorted((s.url, s.record_id, s.role, s.warc_file, s.warc_offset)
                         for s in store.sources())
    return {"reports": reports, "sources": sources}


def test_a_portal_to_render_without_a_browser_stops_the_crawl_in_one_line(
        portal: Portal, tmp_path: Path) -> None:
    run = crawl(portal, tmp_path, registry.BROWSER, f"BROWSER_EXECUTABLE={MISSING_BROWSER}")
    assert run.returncode == 2
    assert run.log.strip().splitlines()[-1].endswith(
        f": error: {PORTAL_ID}: render=browser, but BROWSER_EXECUTABLE "
        f"'{MISSING_BROWSER}' is not an executable on PATH: install Debian's chromium "
        "(apt-get install chromium) or set BROWSER_EXECUTABLE")


def test_a_page_to_render_without_a_browser_is_said_once(portal: Portal, tmp_path: Path) -> None:
    run = crawl(portal, tmp_path, "", f"BROWSER_EXECUTABLE={MISSING_BROWSER}")
    assert run.returncode == 0, run.log[-3000:]
    errors = [line for line in run.log.splitlines() if " ERROR: " in line]
    assert len(errors) == 1 and errors[0].endswith(
        f"A page is to be rendered, but BROWSER_EXECUTABLE '{MISSING_BROWSER}' is not an "
        "executable on PATH: install Debian's chromium (apt-get install chromium) or set "
        "BROWSER_EXECUTABLE")
    assert run.stat(f"portal/{PORTAL_ID}/failed/BrowserUnavailable") == 2
    assert run.items == []


def test_a_plain_portal_imports_no_playwright_and_starts_no_browser(tmp_path: Path) -> None:
    """The sample portal crawled with ``-X importtime``: every module the crawl imported is
    listed, and nothing of Playwright is among them."""
    served = PortalProcess("--port", "0")
    try:
        proc = run_crawl(served.url, tmp_path, python=("-X", "importtime"))
    finally:
        served.stop()
    assert proc.returncode == 0, proc.stderr[-3000:]
    imported = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines()
                if line.startswith("import time:")}
    assert "gkcrawl.crawl.browser" in imported and "scrapy.core.engine" in imported
    assert sorted(m for m in imported if "playwright" in m) == []
    assert "Chromium" not in proc.stderr and "'browser/" not in proc.stderr
    assert (tmp_path / "reports.jsonl").read_text("utf-8").count("\n") > 0
