"""CPU time per archived exchange of the WARC writer, on the sample portal's real bodies.

    .venv/bin/python bench/warc_writer.py                       # this tree only
    .venv/bin/python bench/warc_writer.py --against c4a60e3     # and the writer of that commit
    .venv/bin/python bench/warc_writer.py --rounds 10 --passes 20 --json

Every page of the sample portal (``gkcrawl.demo.site.build_site()``: HTML pages, PDF and DOCX
attachments, redirects, 404s) is archived as the crawl archives it: ``write_exchange`` with
Scrapy-like request headers and the page's own response headers, then a ``metadata`` record for
each HTML page (what the portals spider sends).  One pass writes every page once into a fresh
archive (fresh digest store: the portal's few repeated attachments become revisits, as in a
crawl); a round is ``--passes`` passes in one process, timed with ``time.process_time`` around
each call, so setting up the exchanges is not counted.  ``--big`` adds a ``--big``-MiB
incompressible body (what a scanned PDF report looks like to deflate) to every pass, timed
apart.

``--against REV`` exports gkcrawl/ as it was at git revision REV (``git archive``; nothing in
the work tree changes) and runs the same rounds with it, interleaved with the current code
(current, REV, REV, current, ...) so that both see the same load on a noisy machine.  The
**median** of the rounds is reported, in ms per exchange: all exchanges, HTML pages,
attachments, and the big body.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SITE = "http://www.demo.gov.cn"
REQUEST_HEADERS = [
    (b"Accept", b"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
    (b"Accept-Language", b"zh-CN,zh;q=0.9,en;q=0.5"),
    (b"User-Agent", b"gkcrawl/0 (+https://github.com/gkcrawl/gkcrawl; annual-report archiver)"),
    (b"Accept-Encoding", b"gzip, deflate"),
    (b"Referer", SITE.encode() + b"/zfxxgk/"),
]
SERVER_HEADERS = [(b"Server", b"nginx"), (b"Date", b"Sun, 01 Mar 2026 08:30:15 GMT"),
                  (b"Connection", b"keep-alive")]
METADATA = {"portal": "demo", "hops": "2", "role": "report-page", "score": "0.91",
            "in-portal": "true", "via": SITE + "/zfxxgk/", "anchor-text": "2023年度报告"}


def exchanges() -> list[tuple[str, dict[str, Any]]]:
    """(kind, ``write_exchange`` keyword arguments) for every page of the sample portal."""
    from gkcrawl.demo.site import build_site

    out = []
    for path, spec in build_site().items():
        headers = [*spec.headers, *SERVER_HEADERS,
                   (b"Content-Length", str(len(spec.body)).encode())]
        kind = "html" if spec.content_type.startswith("text/html") else "attachment"
        out.append((kind, dict(url=SITE + path, method="GET", request_headers=REQUEST_HEADERS,
                               status=spec.status, protocol="HTTP/1.1", response_headers=headers,
                               response_body=spec.body, ip_address="127.0.0.1")))
    return out


def worker(passes: int, big_mib: int) -> dict[str, Any]:
    """Archive the portal ``passes`` times; CPU seconds and counts per kind of exchange."""
    from gkcrawl.archive.writer import WarcWriter

    pages = exchanges()
    big = os.urandom(big_mib << 20) if big_mib else b""
    cpu: dict[str, float] = {"html": 0.0, "attachment": 0.0, "big": 0.0}
    count: dict[str, int] = {"html": 0, "attachment": 0, "big": 0}
    size = 0
    for n in range(passes):
        with tempfile.TemporaryDirectory() as tmp, \
                WarcWriter(tmp, "bench", warcinfo={"operator": "bench"}) as writer:
            now = datetime.now(UTC)
            for kind, args in pages:
                start = time.process_time()
                pointer = writer.write_exchange(**args, fetch_date=now)
                if kind == "html":
                    writer.write_metadata(pointer.record_id, args["url"], METADATA)
                cpu[kind] += time.process_time() - start
                count[kind] += 1
            if big:
                start = time.process_time()
                writer.write_exchange(url=f"{SITE}/scan-{n}.pdf", status=200,
                                      response_headers=[(b"Content-Type", b"application/pdf")],
                                      response_body=big, fetch_date=now)
                cpu["big"] += time.process_time() - start
                count["big"] += 1
            writer.close()
            size += sum(f.stat().st_size for f in writer.files)
    return {"cpu": cpu, "count": count, "bytes": size}


def export(rev: str, into: Path) -> Path:
    """gkcrawl/ as of ``rev``, unpacked under ``into``."""
    data = subprocess.run(["git", "archive", rev, "gkcrawl"], cwd=ROOT, check=True,
                          capture_output=True).stdout
    with tarfile.open(fileobj=BytesIO(data)) as tar:
        tar.extractall(into, filter="data")
    return into


def run_round(tree: Path, passes: int, big_mib: int) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run([sys.executable, __file__, "--_worker", "--passes", str(passes),
                          "--big", str(big_mib)], env=env, check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out)


def per_exchange_ms(result: dict[str, Any]) -> dict[str, float]:
    cpu, count = result["cpu"], result["count"]
    ms = {kind: 1000 * cpu[kind] / count[kind] for kind in cpu if count[kind]}
    pages = count["html"] + count["attachment"]
    ms["all"] = 1000 * (cpu["html"] + cpu["attachment"]) / pages
    ms["bytes/page"] = result["bytes"] / (pages + count["big"])
    return ms


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", metavar="REV", help="also time gkcrawl/ of this revision")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--passes", type=int, default=20)
    parser.add_argument("--big", type=int, default=0, metavar="MIB")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--_worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._worker:
        print(json.dumps(worker(args.passes, args.big)))
        return 0

    with tempfile.TemporaryDirectory() as tmp:
        trees = {"current": ROOT}
        if args.against:
            trees[args.against] = export(args.against, Path(tmp))
        results: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
        order = list(trees)
        for n in range(args.rounds):
            for name in order if n % 2 == 0 else order[::-1]:
                results[name].append(per_exchange_ms(run_round(trees[name], args.passes,
                                                               args.big)))
    summary = {name: {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}
               for name, rounds in results.items()}
    if args.json:
        print(json.dumps({"summary": summary, "rounds": results}, indent=1))
        return 0
    keys = list(next(iter(summary.values())))
    print(f"{'code':<12}" + "".join(f"{k:>12}" for k in keys) + "   (ms per exchange, median)")
    for name, row in summary.items():
        print(f"{name:<12}" + "".join(f"{row[k]:>12.3f}" for k in keys))
    return 0


if __name__ == "__main__":
    sys.exit(main())
