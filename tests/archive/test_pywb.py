"""pywb replays what WarcWriter archived, byte-identical to what the server sent.

A real pywb 2.10.0 (``wb-manager`` + ``wayback``, from the cached venv built by
``pywb_venv.py``) runs as a subprocess on 127.0.0.1; pywb is never imported here (it imports
gevent, which monkeypatches).  The archived URLs are loopback URLs too; pywb never fetches
them (no live collection is configured), it only replays the WARC.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest

from gkcrawl.archive.cdxj import INDEX_NAME
from gkcrawl.archive.writer import WarcPointer, WarcWriter
from tests.archive.pywb_venv import pywb_bin

CDXJ_INDEXER = Path(sys.executable).parent / "cdxj-indexer"
COLLECTION = "coll"
SITE = "http://127.0.0.1:8765"  # nothing listens there; pywb replays, never fetches
REPORT_URL = f"{SITE}/zwgk/2024/report.html?year=2023"
PDF_URL = f"{SITE}/attach/2023.pdf"
PDF_COPY_URL = f"{SITE}/xxgk/copy-of-2023.pdf"
REDIRECT_URL = f"{SITE}/old/report.html"
FETCHED = datetime(2026, 3, 1, 8, 30, 15, 123456, tzinfo=UTC)
TS14 = FETCHED.strftime("%Y%m%d%H%M%S")
MEMENTO_DATETIME = "Sun, 01 Mar 2026 08:30:15 GMT"
START_TIMEOUT = 30.0

REPORT_HTML = (
    '<!DOCTYPE html>\r\n<html><head><meta http-equiv="Content-Type" '
    'content="text/html; charset=gbk"><title>某某市2023年政府信息公开工作年度报告</title>'
    "</head><body><table><tr><td>本年收到申请数</td><td>128</td></tr>"
    "<tr><td>予以公开</td><td>97</td></tr></table></body></html>\r\n"
).encode("gbk")
REPORT_GZIP = gzip.compress(REPORT_HTML, mtime=0)  # served as Content-Encoding: gzip
# every byte value, CR/LF and NUL included: any text handling in the path would show
PDF = b"%PDF-1.7\r\n%\xe2\xe3\xcf\xd3\r\n" + random.Random(2023).randbytes(60_000) + b"\n%%EOF\n"
REDIRECT_BODY = f'<a href="{REPORT_URL}">Moved Permanently</a>'.encode()


@dataclass
class Replay:
    port: int
    warc: Path
    pywb_index: Path
    pointers: dict[str, WarcPointer]


def _exchange(writer: WarcWriter, url: str, status: int,
              headers: list[tuple[bytes, bytes]], body: bytes) -> WarcPointer:
    return writer.write_exchange(
        url=url, method="GET", status=status, protocol="HTTP/1.1",
        request_headers=[(b"Accept-Encoding", b"gzip, deflate"), (b"User-Agent", b"gkcrawl")],
        response_headers=[*headers, (b"Content-Length", str(len(body)).encode())],
        response_body=body, ip_address="127.0.0.1", fetch_date=FETCHED,
    )


def _write_warc(root: Path) -> tuple[Path, dict[str, WarcPointer]]:
    with WarcWriter(root, "crawl-pywb", hostname="ci") as writer:
        pointers = {
            REPORT_URL: _exchange(writer, REPORT_URL, 200, [
                (b"Content-Type", b"text/html; charset=GBK"), (b"Content-Encoding", b"gzip"),
            ], REPORT_GZIP),
            PDF_URL: _exchange(writer, PDF_URL, 200, [
                (b"Content-Type", b"application/pdf"),
            ], PDF),
            PDF_COPY_URL: _exchange(writer, PDF_COPY_URL, 200, [
                (b"Content-Type", b"application/pdf"),
            ], PDF),
            REDIRECT_URL: _exchange(writer, REDIRECT_URL, 301, [
                (b"Location", REPORT_URL.encode()), (b"Content-Type", b"text/html"),
            ], REDIRECT_BODY),
        }
    (warc,) = writer.files
    return warc, pointers


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(port: int, path: str, headers: dict[str, str] | None = None,
         ) -> tuple[int, http.client.HTTPMessage, bytes]:
    """One GET to 127.0.0.1 with http.client: no proxy, no redirect following, and
    ``Accept-Encoding: identity`` unless ``headers`` sets another one."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


def _cdx_path(url_pattern: str) -> str:
    return f"/{COLLECTION}/cdx?output=json&url={quote(url_pattern, safe='')}"


def _pywb_env() -> dict[str, str]:
    env = dict(os.environ)
    # pywb fetches its own warcserver over HTTP with requests, which honours *_proxy
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env.pop("PYTHONWARNINGS", None)
    return env


def _run_checked(args: list[str | Path], cwd: Path) -> None:
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=_pywb_env(), capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"


def _start_wayback(bin_dir: Path, cwd: Path, log: Path) -> tuple[subprocess.Popen[bytes], int]:
    """Start ``wayback`` on a free port; return once its CDX API answers."""
    for _attempt in range(3):  # the free port can be taken between probe and bind
        port = _free_port()
        with open(log, "ab") as log_fh:
            proc = subprocess.Popen(
                [str(bin_dir / "wayback"), "-b", "127.0.0.1", "-p", str(port)],
                cwd=cwd, env=_pywb_env(), stdin=subprocess.DEVNULL, stdout=log_fh,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                status, _, _ = _get(port, _cdx_path(PDF_URL))
            except OSError:
                time.sleep(0.1)
                continue
            if status == 200:
                return proc, port
            time.sleep(0.1)
        _stop(proc)
    raise AssertionError(f"wayback did not start:\n{log.read_text(errors='replace')}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=30)


@pytest.fixture(scope="module")
def replay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replay]:
    bin_dir = pywb_bin()
    base = tmp_path_factory.mktemp("pywb")
    warc, pointers = _write_warc(base / "archive")
    site = base / "site"  # wb-manager and wayback work on ./collections in their cwd
    site.mkdir()
    _run_checked([bin_dir / "wb-manager", "init", COLLECTION], cwd=site)
    _run_checked([bin_dir / "wb-manager", "add", COLLECTION, warc], cwd=site)
    proc, port = _start_wayback(bin_dir, site, base / "wayback.log")
    try:
        yield Replay(port, warc, site / "collections" / COLLECTION / "indexes" / "index.cdxj",
                     pointers)
    finally:
        _stop(proc)


def _replay(replay: Replay, url: str, **headers: str
            ) -> tuple[int, http.client.HTTPMessage, bytes]:
    return _get(replay.port, f"/{COLLECTION}/{TS14}id_/{url}", headers)


def test_gzip_gbk_report_page_is_replayed_byte_identical(replay: Replay) -> None:
    # pywb's id_ mode negotiates the archived Content-Encoding with the client.  A client that
    # accepts gzip gets the archived gzip bytes untouched, with the original header ...
    status, headers, body = _replay(replay, REPORT_URL, **{"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert body == REPORT_GZIP
    assert headers["Content-Type"] == "text/html; charset=GBK"
    assert headers["Memento-Datetime"] == MEMENTO_DATETIME

    # ... while a client that does not (http.client sends "Accept-Encoding: identity") gets
    # the decoded body, exactly the original GBK bytes; pywb then renames the header to
    # X-Archive-Orig-Content-Encoding so the body is not labelled gzip any more.
    status, headers, body = _replay(replay, REPORT_URL)
    assert status == 200
    assert headers["Content-Encoding"] is None
    assert headers["X-Archive-Orig-Content-Encoding"] == "gzip"
    assert body == REPORT_HTML
    assert "政府信息公开工作年度报告".encode("gbk") in body
    assert headers["Content-Type"] == "text/html; charset=GBK"


def test_pdf_and_its_revisited_duplicate_are_replayed_byte_identical(replay: Replay) -> None:
    original, copy = replay.pointers[PDF_URL], replay.pointers[PDF_COPY_URL]
    assert not original.is_revisit and copy.is_revisit  # the copy was archived as a revisit
    assert copy.original is not None and copy.original.uri == PDF_URL

    for url in (PDF_URL, PDF_COPY_URL):
        status, headers, body = _replay(replay, url)
        assert status == 200, url
        assert headers["Content-Type"] == "application/pdf"
        assert headers["Memento-Datetime"] == MEMENTO_DATETIME
        assert body == PDF, url  # for the copy: pywb resolved the revisit to the original
        assert hashlib.sha1(body).hexdigest() == hashlib.sha1(PDF).hexdigest()
    assert copy.digest == original.digest


def test_redirect_is_replayed_as_301_with_its_location(replay: Replay) -> None:
    status, headers, body = _replay(replay, REDIRECT_URL)  # http.client never follows it
    assert status == 301
    assert headers["Location"] == REPORT_URL  # id_ (identity) mode does not rewrite it
    assert body == REDIRECT_BODY


def test_cdx_api_lists_every_capture(replay: Replay) -> None:
    status, _, body = _get(replay.port, _cdx_path(f"{SITE}/*"))
    assert status == 200
    rows = {row["url"]: row for row in map(json.loads, body.decode().splitlines())}
    assert set(rows) == set(replay.pointers)
    for url, pointer in replay.pointers.items():
        row = rows[url]
        assert row["timestamp"] == TS14
        assert row["filename"] == replay.warc.name
        assert (int(row["offset"]), int(row["length"])) == (pointer.offset, pointer.length)
        assert "sha1:" + row["digest"] == pointer.digest  # pywb drops the "sha1:" prefix
    assert rows[PDF_COPY_URL]["mime"] == "warc/revisit"
    assert rows[REDIRECT_URL]["status"] == "301"
    assert rows[REPORT_URL]["mime"] == "text/html"


def test_warc_passes_cdxj_indexer_and_matches_both_indexes(replay: Replay) -> None:
    done = subprocess.run([str(CDXJ_INDEXER), "--sort", str(replay.warc)], capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    ours = (replay.warc.parent / INDEX_NAME).read_text(encoding="utf-8")
    assert done.stdout == ours
    assert len(ours.splitlines()) == len(replay.pointers)

    def key(line: str) -> tuple[str, str, str, str, str]:
        urlkey, timestamp, fields = line.split(" ", 2)
        row = json.loads(fields)
        return urlkey, timestamp, row["offset"], row["length"], row["filename"]

    # pywb's own indexer (run by wb-manager add) finds the same records at the same places
    pywb_lines = replay.pywb_index.read_text(encoding="utf-8").splitlines()
    assert sorted(map(key, pywb_lines)) == sorted(map(key, ours.splitlines()))
