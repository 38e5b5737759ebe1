"""The archive bench/replay.py replays: N annual-report pages in WARC, as a crawl wrote them.

``<root>/bench-crawl/`` holds request/response pairs written with gkcrawl's own
:class:`~gkcrawl.archive.writer.WarcWriter` (rotated at ``max_size``, so that two processes can
split the files), each response followed by the ``metadata`` record the live spider writes
(``gkcrawl/spiders/portals.py`` ``_record``: portal, role, in-portal); the digest store is
``<root>/digests.sqlite3``. Page ``i`` is ``render_html(random_report(random.Random(i), version),
style)``:

* both template versions (``2021`` / ``2019``, alternating in pairs so every style meets both);
* six HTML styles in turn (Word-export markup, misaligned rows, blank totals, no layout table),
  two of the six GBK with the charset only in ``<meta>`` (so the Content-Type header has none);
* every fourth body gzip-encoded on the wire (``Content-Encoding: gzip``, archived encoded).

Each page has its own organ (``report_organ(i)``), so every page is its own (organ, year) and the
store must end with exactly N reports and N sources: dedup does no copy-choosing work here.

A ``manifest.json`` next to the crawl records the parameters; :func:`ensure_archive` rebuilds the
archive only when they differ (or the files are gone).
"""

from __future__ import annotations

import gzip
import json
import random
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from gkcrawl.archive.writer import WarcWriter
from gkcrawl.demo.render.html import STYLES, render_html
from gkcrawl.demo.render.reports import random_report

CRAWL_ID = "bench-crawl"
#: Bump when the way pages are generated changes: a cached archive is then rebuilt.
GENERATOR_VERSION = 1
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
_PLACES = (
    "东风",
    "红旗",
    "新华",
    "胜利",
    "光明",
    "和平",
    "团结",
    "幸福",
    "建设",
    "解放",
    "前进",
    "向阳",
    "长青",
    "振兴",
    "兴隆",
    "太平",
    "永安",
    "长乐",
    "安宁",
    "富民",
    "金山",
    "银河",
    "青龙",
    "白马",
    "龙泉",
    "凤凰",
    "石桥",
    "柳林",
    "松涛",
    "梅岭",
    "桃源",
    "杏花",
    "荷塘",
    "竹园",
    "枫林",
    "柏树",
    "清河",
    "北湖",
    "南山",
    "西岭",
)
_KINDS = ("街道办事处", "镇人民政府", "乡人民政府", "管理委员会", "区人民政府办公室")
_BASE_DATE = datetime(2026, 11, 1, tzinfo=timezone.utc)


def report_organ(i: int) -> str:
    """A distinct organ name for every i < 40 * 40 * 5 = 8,000 (e.g. 东风市红旗街道办事处)."""
    n = len(_PLACES)
    if i >= n * n * len(_KINDS):
        raise ValueError(f"only {n * n * len(_KINDS)} distinct organs")
    city, place, kind = (
        _PLACES[i // (n * len(_KINDS))],
        _PLACES[i // len(_KINDS) % n],
        _KINDS[i % len(_KINDS)],
    )
    return f"{city}市{place}{kind}"


def page(i: int) -> dict[str, Any]:
    """Page i: URL, the body as sent (maybe gzip) and its response headers."""
    version = VERSIONS[(i // len(STYLES)) % 2]
    style = STYLES[i % len(STYLES)]
    report = random_report(random.Random(i), version, organ=report_organ(i))
    html = render_html(report, style)
    headers = [
        ("Server", "nginx"),
        ("Date", "Sun, 22 Nov 2026 00:00:00 GMT"),
        ("Content-Type", "text/html" if style.encoding == "gbk" else "text/html; charset=utf-8"),
    ]
    body = html
    if i % GZIP_EVERY == 1:
        body = gzip.compress(html, compresslevel=6, mtime=0)
        headers.append(("Content-Encoding", "gzip"))
        headers.append(("Vary", "Accept-Encoding"))
    headers.append(("Content-Length", str(len(body))))
    url = f"http://{HOSTS[i % len(HOSTS)]}/zfxxgk/ndbg/{report['year']}/t{20260000 + i}.html"
    return {
        "url": url,
        "body": body,
        "headers": headers,
        "gbk": style.encoding == "gbk",
        "gzip": i % GZIP_EVERY == 1,
        "html_bytes": len(html),
    }


def build(root: Path, n: int, max_size: int) -> dict[str, Any]:
    """Write the archive under ``root`` (emptied first); returns the manifest."""
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    gbk = gz = html_bytes = 0
    with WarcWriter(root, CRAWL_ID, max_size=max_size, hostname="bench") as writer:
        for i in range(n):
            p = page(i)
            pointer = writer.write_exchange(
                url=p["url"],
                method="GET",
                request_headers=_pairs(REQUEST_HEADERS),
                status=200,
                protocol="HTTP/1.1",
                response_headers=_pairs(p["headers"]),
                response_body=p["body"],
                ip_address="127.0.0.1",
                fetch_date=_BASE_DATE + timedelta(seconds=i),
            )
            writer.write_metadata(pointer.record_id, p["url"], METADATA)
            gbk += p["gbk"]
            gz += p["gzip"]
            html_bytes += p["html_bytes"]
        files = [str(f.relative_to(root)) for f in writer.files]
    manifest = _params(n, max_size) | {
        "files": files,
        "gbk_pages": gbk,
        "gzip_pages": gz,
        "html_bytes": html_bytes,
        "warc_bytes": sum((root / f).stat().st_size for f in files),
    }
    (root / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return manifest


def _pairs(headers: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    """Header pairs as raw bytes, the way the archiving extension hands them to the writer."""
    return [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers]


def _params(n: int, max_size: int) -> dict[str, Any]:
    return {"generator": GENERATOR_VERSION, "reports": n, "max_size": max_size}


def ensure_archive(root: Path, n: int, max_size: int) -> tuple[dict[str, Any], bool]:
    """The cached archive if its manifest matches, else a fresh one; (manifest, was_built)."""
    try:
        manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
        if all(manifest.get(k) == v for k, v in _params(n, max_size).items()) and all(
            (root / f).is_file() for f in manifest["files"]
        ):
            return manifest, False
    except (OSError, ValueError, KeyError):
        pass
    return build(root, n, max_size), True
