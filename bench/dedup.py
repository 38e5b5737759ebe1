"""Dedup and store: the CPU a report's signature costs, and the bytes a stored report takes.

    .venv/bin/python bench/dedup.py       # --reports 500 --repeat 5, a 2,000-report store

* **signature**: the replay archive's first ``--reports`` pages (bench/_replay_archive.py) are
  extracted and parsed as the pipelines do (not timed); then, ``--repeat`` times in turn, each
  step runs over all of them, timed in CPU time (``time.process_time``): ``signature`` (the
  MinHash of the text's shingles and the table cells, which ParsePipeline computes),
  ``lsh_bands`` (the band keys the dedup pipeline stores a copy under, a second MinHash of the
  non-zero cells) and, for scale, ``extract_document`` + ``parse_extracted`` of the same pages.
  Prints the median and fastest µs a report of each.
* **stored bytes**: one ``scrapy crawl replay`` of the ``--store-reports``-page archive into a
  fresh SQLite store (each page its own report); the file's size once the replay has closed it,
  divided by the reports, and the bytes a report of the largest JSON columns.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import ROOT, env, header, machine
from _replay_archive import ensure_archive, page, replay_args, store_counts

from gkcrawl.parsing import extract_document, parse_extracted
from gkcrawl.quality.fingerprint import lsh_bands, signature


def corpus(n: int) -> list[tuple[bytes, str | None, str, str, dict[str, Any]]]:
    """(body, content type, url, the document's prose, report) of the first n pages."""
    out = []
    for i in range(n):
        p = page(i)
        body = gzip.decompress(p["body"]) if p["gzip"] else p["body"]
        content_type = dict(p["headers"]).get("Content-Type")
        doc = extract_document(body, content_type, p["url"])
        result = parse_extracted(doc, p["url"])
        if not result.ok:
            raise SystemExit(f"bench/dedup.py: page {i} not parsed: {result.reason}")
        out.append((body, content_type, p["url"], doc.prose, result.to_dict()))
    return out


def time_steps(docs: list[Any], repeat: int) -> dict[str, dict[str, float]]:
    sigs = [signature(text, report) for _, _, _, text, report in docs]
    steps: dict[str, Callable[[], Any]] = {
        "signature": lambda: [signature(text, report) for _, _, _, text, report in docs],
        "lsh_bands": lambda: [lsh_bands(d[4], s) for d, s in zip(docs, sigs, strict=True)],
        "parse (extract + parse)": lambda: [
            parse_extracted(extract_document(body, ctype, url), url)
            for body, ctype, url, _, _ in docs],
    }
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(repeat):  # the steps in turn: a burst of other work hits all of them
        for name, step in steps.items():
            start = time.process_time()
            step()
            times[name].append(1e6 * (time.process_time() - start) / len(docs))
    return {name: {"median_us": statistics.median(t), "min_us": min(t)}
            for name, t in times.items()}


def stored_bytes(n: int) -> dict[str, Any]:
    root, _ = ensure_archive(n)
    with tempfile.TemporaryDirectory(prefix="gkcrawl-dedup-bench-") as tmp:
        store = Path(tmp) / "store.sqlite3"
        done = subprocess.run([sys.executable, *replay_args(root, store)], env=env(), cwd=ROOT,
                              capture_output=True, text=True, check=False)
        counts = store_counts(store) if store.exists() else {}
        if done.returncode != 0 or counts.get("reports") != n:
            raise SystemExit(f"replay failed ({done.returncode}), store {counts}:\n"
                             f"{done.stderr[-3000:]}")
        size = sum(f.stat().st_size for f in Path(tmp).glob("store.sqlite3*"))
        conn = sqlite3.connect(store)
        columns = {f"sources.{c}": conn.execute(f"SELECT sum(length({c})) FROM sources"
                                                ).fetchone()[0] / n
                   for c in ("report", "validation", "fingerprint")}
        conn.close()
    return {"reports": n, "bytes_per_report": size / n, "file_bytes": size, "columns": columns}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reports", type=int, default=500, help="reports timed (default 500)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--store-reports", type=int, default=2000,
                    help="reports replayed into the store measured (default 2000)")
    ap.add_argument("--json", action="store_true", help="print the result as JSON")
    args = ap.parse_args(argv)
    result = {"machine": machine(), "steps": time_steps(corpus(args.reports), args.repeat),
              "store": stored_bytes(args.store_reports)}
    if args.json:
        print(json.dumps(result, indent=1))
        return 0
    print(header(result["machine"]))
    print(f"# CPU µs a report over {args.reports} reports, {args.repeat} passes")
    for name, t in result["steps"].items():
        print(f"{name:<24} median {t['median_us']:8.1f} µs  fastest {t['min_us']:8.1f} µs")
    s = result["store"]
    parts = ", ".join(f"{k} {v / 1024:.1f} KiB" for k, v in s["columns"].items())
    print(f"stored: {s['bytes_per_report'] / 1024:.1f} KiB a report ({s['file_bytes'] / 2**20:.1f}"
          f" MiB of SQLite for {s['reports']} reports); of it {parts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
