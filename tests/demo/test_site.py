"""The sample portal itself: served byte for byte, reachable as its ground truth says, realistic
enough that our parser reads its reports back to the true tables and rejects its lookalikes."""

from __future__ import annotations

import csv
import gzip
import json
import re
import socket
import sys
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import lxml.html
import pytest
from w3lib.encoding import html_to_unicode

from gkcrawl.crawl import registry
from gkcrawl.demo import serve, write_registry
from gkcrawl.demo.render.reports import tables_of
from gkcrawl.demo.site import (
    BLANK_TEMPLATE_NAME,
    CALENDAR_ENTRY,
    DEFAULT_SEED,
    DOCX,
    GBK_DISPOSITION,
    HTML,
    MANIFEST_NAME,
    PDF,
    ROBOTS_DISALLOW,
    SITE_DIR,
    ExpectedReport,
    Site,
    attachment_name,
    build_site,
    report_digest,
)
from gkcrawl.parsing import parse_document
from tests.demo.conftest import TEST_SLOW_DELAY, PortalProcess

ORIGIN = "http://127.0.0.1:8000"
FETCH_WORKERS = 8
#: Size bounds of the sample portal: a crawl at concurrency 8 stays well under a minute.
MIN_PATHS, MAX_PATHS = 60, 120
#: How long serve() may take to shut down with a delayed request and an idle keep-alive open.
SHUTDOWN_BUDGET = 2.0

_CREATE_PAGE = re.compile(r'createPageHTML\(\s*(\d+)\s*,\s*(\d+)\s*,\s*"(\w+)"\s*,\s*"(\w+)"\s*\)')
_LOCATION = re.compile(r'location\.(?:replace\(|href\s*=\s*)\s*["\']([^"\']+)["\']')
_CDATA = re.compile(r"<!\[CDATA\[(.*?)\]\]>", re.DOTALL)
_REFRESH_URL = re.compile(r"url\s*=\s*(\S+)", re.IGNORECASE)


def local_path(url: str) -> str | None:
    """The on-the-wire path of a URL of the served site, None for another host."""
    parts = urlsplit(url)
    if f"{parts.scheme}://{parts.netloc}" != ORIGIN:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def discover(site: Site, path: str) -> tuple[set[str], set[str]]:
    """Links a careful crawler finds on one response: (followed links, page assets)."""
    response = site[path]
    base = ORIGIN + path
    if 300 <= response.status < 400:
        return {urljoin(base, (response.header("Location") or b"").decode())}, set()
    if not response.content_type.startswith("text/html") or not response.content.strip():
        return set(), set()
    _, text = html_to_unicode(response.content_type, response.content)
    doc = lxml.html.fromstring(text)
    hrefs = set(doc.xpath("//a/@href"))
    assets = {urljoin(base, s) for s in doc.xpath("//img/@src | //link[@rel='stylesheet']/@href")}
    for content in doc.xpath("//meta[translate(@http-equiv,'REFSH','refsh')='refresh']/@content"):
        if match := _REFRESH_URL.search(content):
            hrefs.add(match[1])
    for script in doc.xpath("//script"):
        code = script.text or ""
        if script.get("type") == "text/xml":  # Hanweb: list records as CDATA inside XML
            for record in _CDATA.findall(code):
                if "<" in record:
                    hrefs |= set(lxml.html.fromstring(record).xpath("//a/@href"))
        for count, _current, name, ext in _CREATE_PAGE.findall(code):  # TRS pager
            hrefs |= {f"{name}.{ext}"} | {f"{name}_{i}.{ext}" for i in range(1, int(count))}
        hrefs |= set(_LOCATION.findall(code))
    return {urljoin(base, h.strip()).split("#")[0] for h in hrefs}, assets


def reference_crawl(site: Site) -> dict[str, set[str]]:
    """Breadth-first crawl of the model with the rules the ground truth assumes: robots.txt
    obeyed, other hosts skipped, at most ``trap_limit`` hops into a trap."""
    fetched: set[str] = set()
    seen = {site.entry, "/robots.txt"}
    out = {"disallowed": set(), "external": set(), "beyond": set(), "assets": set()}
    queue = deque(seen)
    while queue:
        path = queue.popleft()
        fetched.add(path)
        links, assets = discover(site, path)
        out["assets"] |= {p for p in map(local_path, assets) if p}
        for url in links:
            target = local_path(url)
            if target is None:
                out["external"].add(url)
            elif target.startswith(ROBOTS_DISALLOW):
                out["disallowed"].add(target)
            elif (trap := site.trap_of(target)) and trap[1] > site.trap_limit:
                out["beyond"].add(target)
            elif target not in seen:
                seen.add(target)
                queue.append(target)
    out["fetched"] = fetched
    return out


def expected_reports(site: Site, kind: str | None = None) -> list[ExpectedReport]:
    return [r for r in site.reports if kind is None or r.kind == kind]


# --- the model --------------------------------------------------------------------------------


def test_reference_crawl_reaches_exactly_the_ground_truth(site: Site) -> None:
    crawl = reference_crawl(site)
    fetched = crawl["fetched"]
    assert fetched - site.traps == set(site.all_paths)
    assert fetched & site.traps == set(site.traps)
    assert crawl["beyond"] and crawl["beyond"] <= site.out_of_bounds
    assert not fetched & site.out_of_bounds
    assert crawl["disallowed"] == set(site.disallowed)
    assert crawl["external"] == set(site.external)
    assert crawl["assets"] == set(site.optional)
    assert MIN_PATHS <= len(site.all_paths) <= MAX_PATHS


def test_ground_truth_is_consistent(site: Site) -> None:
    paths = set(site)
    assert site.all_paths | site.traps | site.disallowed | site.optional <= paths
    assert not site.all_paths & (site.traps | site.out_of_bounds | site.disallowed | site.optional)
    assert all(path in site for path in site.out_of_bounds)  # they exist (answer) all the same
    report_paths = {r.path for r in site.reports}
    assert report_paths <= site.all_paths and not report_paths & site.non_reports
    assert site.lookalikes <= site.non_reports
    for report in site.reports:
        assert (report.organ, report.year, report.format) == (
            report.report["organ"], report.report["year"], report.report["format"])
        if report.page:  # the attachment's article page links to it
            links, _ = discover(site, report.page)
            assert ORIGIN + report.path in links
    kinds = {r.kind for r in site.reports}
    assert kinds == {HTML, PDF, DOCX}
    assert {r.year for r in site.reports} == {2019, 2020, 2021, 2022, 2023}
    assert {r.encoding for r in expected_reports(site, HTML)} == {"utf-8", "gbk"}
    assert len({r.organ for r in site.reports}) >= 5
    copy = next(r for r in site.reports if r.copy_of and not r.mirror)
    assert site[copy.path].body == site[copy.copy_of].body  # a re-publication: a WARC revisit
    mirror = next(r for r in site.reports if r.mirror)
    assert "香港免费图库资料大全" in site[mirror.path].content.decode()
    assert set(site.errors.values()) == {404, 412, 500}
    assert site.may_repeat == {p for p, s in site.errors.items() if s == 500} | set(site.slow)


def test_traps_are_endless_and_bounded_by_hops(site: Site) -> None:
    far = "/calendar/?month=2031-07"
    assert site[far].status == 200 and "2031年7月" in site[far].content.decode()
    months = (2031 - CALENDAR_ENTRY[0]) * 12 + 7 - CALENDAR_ENTRY[1]
    assert site.trap_of(far) == ("calendar", months)
    assert site["/hdjl/index.html?page=500"].status == 200
    assert site.trap_of("/hdjl/index.html?page=500") == ("pagination", 499)
    assert site.trap_of("/zfxxgk/") is None
    assert "/calendar/?month=2024-13" not in site
    assert all(site.trap_of(p) for p in site.traps)


def test_every_report_parses_back_to_its_true_tables(site: Site) -> None:
    for expected in site.reports:
        response = site[expected.path]
        result = parse_document(response.content, response.content_type, ORIGIN + expected.path)
        assert result.ok, (expected.path, getattr(result, "reason", ""))
        parsed = result.to_dict()
        assert tables_of(parsed) == tables_of(expected.report), expected.path
        assert (parsed["organ"], parsed["year"], parsed["format"], parsed["published"]) == (
            expected.organ, expected.year, expected.format, expected.report["published"])
        assert parsed["source_kind"] == expected.kind
        assert all(c["status"] == "pass" for c in parsed["checks"]), expected.path


def test_gbk_report_pages_declare_the_charset_only_in_meta(site: Site) -> None:
    gbk = expected_reports(site, HTML)
    gbk = [r for r in gbk if r.encoding == "gbk"]
    assert len(gbk) >= 3
    for expected in gbk:
        response = site[expected.path]
        assert response.content_type == "text/html"
        assert b"charset=gbk" in response.content[:400]
        with pytest.raises(UnicodeDecodeError):
            response.content.decode("utf-8")


def test_the_lookalike_notice_is_not_a_report(site: Site) -> None:
    notice = next(p for p in site.lookalikes if site[p].content_type.startswith("text/html")
                  and "编制工作的通知" in site[p].content.decode())
    result = parse_document(site[notice].content, site[notice].content_type, ORIGIN + notice)
    assert not result.ok and result.code == "lookalike"
    assert site[notice].content.decode().count("年度报告") >= 5


def test_no_other_page_is_classified_as_a_report(site: Site) -> None:
    for path in sorted(site.non_reports):
        response = site[path]
        if not response.content_type.startswith("text/html"):
            continue  # the blank template: see below
        result = parse_document(response.content, response.content_type, ORIGIN + path)
        assert not result.ok, path


def test_the_blank_template_attachment_is_not_a_report(site: Site) -> None:
    path = next(p for p in site.lookalikes if p.endswith(".docx"))
    assert not parse_document(site[path].content, site[path].content_type, ORIGIN + path).ok


def test_build_is_deterministic_and_seeded(site: Site) -> None:
    again = build_site(DEFAULT_SEED, slow_delay=TEST_SLOW_DELAY)
    assert dict(again.items()) == dict(site.items())
    assert [r.report for r in again.reports] == [r.report for r in site.reports]
    other = build_site(DEFAULT_SEED + 1, slow_delay=TEST_SLOW_DELAY)
    assert [r.report for r in other.reports] != [r.report for r in site.reports]


def test_default_site_needs_no_reportlab(monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo runs with runtime dependencies only: its PDFs are pre-rendered files."""
    monkeypatch.setitem(sys.modules, "reportlab", None)
    monkeypatch.setitem(sys.modules, "gkcrawl.demo.render.pdf", None)
    site = build_site()
    assert [r for r in site.reports if r.kind == PDF]


def test_prerendered_attachments_are_fresh(site: Site) -> None:
    """If this fails, rerun: .venv/bin/python -m gkcrawl.demo.make_site"""
    manifest = json.loads((SITE_DIR / MANIFEST_NAME).read_text(encoding="utf-8"))
    originals = [r for r in site.reports if r.kind in (PDF, DOCX) and not r.copy_of]
    assert {attachment_name(r.organ, r.year, r.kind): report_digest(r.report)
            for r in originals} == manifest
    for expected in originals:
        name = attachment_name(expected.organ, expected.year, expected.kind)
        assert site[expected.path].body == (SITE_DIR / name).read_bytes()
    assert (SITE_DIR / BLANK_TEMPLATE_NAME).read_bytes()[:4] == b"PK\x03\x04"


def test_registry_row_loads(tmp_path: Path) -> None:
    path = write_registry(tmp_path / "portals.csv", "http://127.0.0.1:8123")
    with path.open(encoding="utf-8", newline="") as fh:
        assert csv.DictReader(fh).fieldnames == ["id", "name", "start_url", "report_url",
                                                 "allowed_domains", "region_code", "level"]
    (portal,) = registry.load(path)
    assert portal.id == "demo" and portal.name == "示例县人民政府"
    assert portal.start_url == "http://127.0.0.1:8123/"
    assert portal.report_url == "http://127.0.0.1:8123/zfxxgk/zfxxgknb/index.html"
    assert portal.allowed_domains == ("127.0.0.1",) and portal.level == "county"
    assert portal.region_code.startswith("54")


# --- over HTTP --------------------------------------------------------------------------------


def _fetch(portal: PortalProcess, path: str) -> tuple[int, list[tuple[bytes, bytes]], bytes, float]:
    started = time.monotonic()
    response, body = portal.get(path)
    # http.client decodes header bytes as latin-1: encoding back gives the raw bytes
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.getheaders()]
    return response.status, headers, body, time.monotonic() - started


def test_every_path_answers_as_specified(portal: PortalProcess, site: Site) -> None:
    paths = sorted(site.all_paths | site.traps | site.disallowed | site.optional
                   | site.out_of_bounds)
    with ThreadPoolExecutor(FETCH_WORKERS) as pool:
        answers = dict(zip(paths, pool.map(lambda p: _fetch(portal, p), paths), strict=True))
    for path, (status, headers, body, elapsed) in answers.items():
        spec = site[path]
        assert status == spec.status, path
        assert headers == [*spec.headers, (b"Content-Length", str(len(spec.body)).encode())], path
        assert body == spec.body, path
        if spec.delay:
            assert elapsed >= spec.delay, path
    gzipped = [p for p in paths if site[p].header("Content-Encoding") == b"gzip"]
    assert len(gzipped) >= 3
    for path in gzipped:
        assert gzip.decompress(answers[path][2]).lstrip().startswith(b"<!DOCTYPE html>")


def test_unknown_path_is_a_404_page(portal: PortalProcess) -> None:
    response, body = portal.get("/no/such/page.html")
    assert response.status == 404 and "页面不存在".encode() in body


def test_gbk_disposition_and_two_cookies_arrive_raw(portal: PortalProcess, site: Site) -> None:
    path = next(p for p in site.all_paths
                if site[p].header("Content-Disposition") == GBK_DISPOSITION)
    response, body = portal.get(path)
    headers = [(k, v.encode("latin-1")) for k, v in response.getheaders()]
    disposition = 'attachment; filename="2022年度报告.pdf"'.encode("gbk")
    assert ("Content-Disposition", disposition) in headers
    cookies = [v for k, v in headers if k == "Set-Cookie"]
    assert len(cookies) == 2 and cookies[0].startswith(b"JSESSIONID=")
    assert body.startswith(b"%PDF-")
    # and on the wire, the header block carries the GBK bytes verbatim
    with socket.create_connection((portal.host, portal.port), timeout=10) as sock:
        sock.sendall(f"HEAD {path} HTTP/1.1\r\nHost: {portal.host}\r\n"
                     "Connection: close\r\n\r\n".encode())
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk
    assert b"\r\nContent-Disposition: " + GBK_DISPOSITION + b"\r\n" in raw
    assert raw.count(b"\r\nSet-Cookie: ") == 2


def test_anti_bot_challenge_answers_412_with_cookies(portal: PortalProcess, site: Site) -> None:
    (path,) = [p for p, s in site.errors.items() if s == 412]
    response, body = portal.get(path)
    assert response.status == 412
    assert len(response.headers.get_all("Set-Cookie") or []) == 2
    assert b"$_ts" in body


def test_hits_are_counted_per_path_and_hits_itself_is_not(portal: PortalProcess) -> None:
    portal.get("/__hits__?reset=1")
    for path in ("/", "/", "/zfxxgk/", "/calendar/?month=2024-01"):
        portal.get(path)
    portal.get("/zfxxgk/", method="HEAD")
    response, body = portal.get("/__hits__")
    assert response.status == 200 and response.getheader("Content-Type") == "application/json"
    assert json.loads(body) == {"/": 2, "/zfxxgk/": 2, "/calendar/?month=2024-01": 1}
    _, body = portal.get("/__hits__?reset=1")
    assert json.loads(body)["/"] == 2
    _, body = portal.get("/__hits__")
    assert json.loads(body) == {}


def test_serve_in_process_shuts_down_promptly() -> None:
    """Idle keep-alive connections and a delayed answer in flight must not hold up shutdown."""
    site = build_site(slow_delay=60)
    slow = next(iter(site.slow))
    errors: list[BaseException] = []

    def request_slow(host: str, port: int) -> None:
        conn = HTTPConnection(host, port, timeout=60)
        try:
            conn.request("GET", slow)
            conn.getresponse().read()
        except (ConnectionError, OSError) as exc:
            errors.append(exc)
        finally:
            conn.close()

    with serve(site) as base_url:
        parts = urlsplit(base_url)
        host, port = parts.hostname or "", parts.port or 0
        idle = HTTPConnection(host, port, timeout=10)
        idle.request("GET", "/robots.txt")
        assert idle.getresponse().read().startswith(b"User-agent: *")
        worker = threading.Thread(target=request_slow, args=(host, port))
        worker.start()
        time.sleep(0.2)
        started = time.monotonic()
    assert time.monotonic() - started < SHUTDOWN_BUDGET
    worker.join(SHUTDOWN_BUDGET)
    idle.close()
    assert not worker.is_alive() and errors  # the slow request was cut, not answered
