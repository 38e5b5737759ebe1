"""The archive bench/replay.py and bench/dedup.py replay: N annual-report pages in WARC.

``<root>/bench-crawl/`` holds request/response pairs written with gkcrawl's own
:class:`~gkcrawl.archive.writer.WarcWriter`, rotated at ``MAX_SIZE`` (1 MB, so that
``gkcrawl replay --jobs 2`` has several files to share), each response followed by the
``metadata`` record the live spider writes; the digest store is ``<root>/digests.sqlite3``. Page
``i`` is ``render_html(random_report(random.Random(i), version), style)``: both template versions,
every HTML style in turn (a third of them GBK with the charset only in ``<meta>``), every fourth
body gzip-encoded on the wire. Each page has its own organ, so every page is its own (organ, year)
and a replay must store exactly N reports and N sources.

The archive is built once and cached under ``bench/.cache/replay-<N>/`` (with a
``manifest.json``; rebuilt when the parameters differ or files are gone).
"""

from __future__ import annotations

import gzip
import json
import random
import shutil
import sqlite3
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _common import ROOT

from gkcrawl.archive.writer import WarcWriter
from gkcrawl.demo.render.html import STYLES, render_html
from gkcrawl.demo.render.reports import random_report

CRAWL_ID = "bench-crawl"
#: Bump when the way pages are generated changes: a cached archive is then rebuilt.
GENERATOR_VERSION = 1
MAX_SIZE = 1_000_000
VERSIONS = ("2021", "2019")
GZIP_EVERY = 4
HOSTS = ("www.bench-a.gov.cn", "www.bench-b.gov.cn", "zwgk.bench-c.gov.cn", "www.bench-d.gov.cn")
METADATA = {"portal": "bench", "role": "report", "in-portal": "true"}
REQUEST_HEADERS = [
    ("User-Agent", "gkcrawl/bench (+https://github.com/gkcrawl/gkcrawl; annual-report archiver)"),
    ("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
    ("Accept-Language", "en"),
    ("Accept-Encoding", "gzip, deflate"),
]
_PLACES = ("东风", "红旗", "新华", "胜利", "光明", "和平", "团结", "幸福", "建设", "解放",
           "前进", "向阳", "长青", "振兴", "兴隆", "太平", "永安", "长乐", "安宁", "富民",
           "金山", "银河", "青龙", "白马", "龙泉", "凤凰", "石桥", "柳林", "松涛", "梅岭",
           "桃源", "杏花", "荷塘", "竹园", "枫林", "柏树", "清河", "北湖", "南山", "西岭")
_KINDS = ("街道办事处", "镇人民政府", "乡人民政府", "管理委员会", "区人民政府办公室")
_BASE_DATE = datetime(2026, 11, 1, tzinfo=UTC)


def report_organ(i: int) -> str:
    """A distinct organ name for every i < 40 * 40 * 5 = 8,000 (e.g. 东风市红旗街道办事处)."""
    n = len(_PLACES)
    if i >= n * n * len(_KINDS):
        raise ValueError(f"only {n * n * len(_KINDS)} distinct organs")
    city, place = _PLACES[i // (n * len(_KINDS))], _PLACES[i // len(_KINDS) % n]
    kind = _KINDS[i % len(_KINDS)]
    return f"{city}市{place}{kind}"


def page(i: int) -> dict[str, Any]:
    """Page i: URL, the body as sent (maybe gzip) and its response headers."""
    version = VERSIONS[(i // len(STYLES)) % 2]
    style = STYLES[i % len(STYLES)]
    report = random_report(random.Random(i), version, organ=report_organ(i))
    html = render_html(report, style)
    headers = [("Server", "nginx"), ("Date", "Sun, 22 Nov 2026 00:00:00 GMT"),
               ("Content-Type", "text/html" if style.encoding == "gbk"
                else "text/html; charset=utf-8")]
    body = html
    if i % GZIP_EVERY == 1:
        body = gzip.compress(html, compresslevel=6, mtime=0)
        headers += [("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")]
    headers.append(("Content-Length", str(len(body))))
    url = f"http://{HOSTS[i % len(HOSTS)]}/zfxxgk/ndbg/{report['year']}/t{20260000 + i}.html"
    return {"url": url, "body": body, "headers": headers, "gzip": i % GZIP_EVERY == 1}


def build(root: Path, n: int) -> dict[str, Any]:
    """Write the archive under ``root`` (emptied first); returns the manifest."""
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    with WarcWriter(root, CRAWL_ID, max_size=MAX_SIZE, hostname="bench") as writer:
        for i in range(n):
            p = page(i)
            pointer = writer.write_exchange(
                url=p["url"], method="GET", request_headers=_pairs(REQUEST_HEADERS), status=200,
                protocol="HTTP/1.1", response_headers=_pairs(p["headers"]),
                response_body=p["body"], ip_address="127.0.0.1",
                fetch_date=_BASE_DATE + timedelta(seconds=i))
            writer.write_metadata(pointer.record_id, p["url"], METADATA)
        files = [str(f.relative_to(root)) for f in writer.files]
    manifest = _params(n) | {"files": files,
                             "warc_bytes": sum((root / f).stat().st_size for f in files)}
    (root / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return manifest


def _pairs(headers: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    """Header pairs as raw bytes, the way the archiving extension hands them to the writer."""
    return [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers]


def _params(n: int) -> dict[str, Any]:
    return {"generator": GENERATOR_VERSION, "reports": n, "max_size": MAX_SIZE}


def ensure_archive(n: int) -> tuple[Path, dict[str, Any]]:
    """The archive root of ``n`` pages, built unless cached, and its manifest."""
    root = ROOT / "bench" / ".cache" / f"replay-{n}"
    try:
        manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
        if all(manifest.get(k) == v for k, v in _params(n).items()) and all(
                (root / f).is_file() for f in manifest["files"]):
            return root, manifest
    except (OSError, ValueError, KeyError):
        pass
    print(f"building {root} ({n} report pages)", file=sys.stderr, flush=True)
    return root, build(root, n)


def replay_args(root: Path, store: Path) -> list[str]:
    """``-m scrapy crawl replay`` over the archive at ``root`` into the SQLite ``store``."""
    return ["-m", "scrapy", "crawl", "replay", "-a", f"archive={root / CRAWL_ID}",
            "-s", "LOG_LEVEL=WARNING", "-s", f"STORE_PATH={store}", "-s", f"ARCHIVE_DIR={root}"]


def store_counts(store: Path) -> dict[str, int]:
    """Rows of the reports, sources and quarantine tables."""
    conn = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    try:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("reports", "sources", "quarantine")}
    finally:
        conn.close()
