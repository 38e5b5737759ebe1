"""Lost cells: text copies that dropped their empty cells, parsed back.

    .venv/bin/python bench/cells.py                      # 200 generated reports, the gold x 20
    .venv/bin/python bench/cells.py --n 50 --shares 0.3  # fewer

Target: **no cell is ever wrong** (the script exits with status 1 if one is); a cell left null is
allowed, and how many are is the figure to watch.

Complete reports go in: ``--n`` generated ones (:func:`gkcrawl.demo.render.reports.random_report`,
both template versions) and each report of the real corpus with its true values
(``../shared/corpus/real/gold``, or ``$GKCRAWL_SHARED/corpus/real/gold``), ``--gold-copies``
times. Each zero cell of a copy is printed empty with probability SHARE, and the copy is written
in the two text shapes where an empty cell leaves no trace (:data:`LOSSY_STYLES`: one cell per
line, and rows with cells between spaces), then parsed and compared with the report cell by cell.

Prints, per source, share and shape: the copies, how many come back whole, the share of cells
left null, the wrong cells, the copies whose placement search gave up (its step limit), and the
CPU ms a copy (mean and worst).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

from _common import ROOT, header, machine

from gkcrawl.demo.render.reports import compare, lose_zeros, printable, random_report
from gkcrawl.demo.render.text import LOSSY_STYLES, render_text
from gkcrawl.parsing import parse_document

SHARES = (0.1, 0.3, 1.0)
#: The flag of a placement search that gave up (gkcrawl.parsing.placement.MAX_SEARCH_STEPS).
STOPPED = "placement search stopped"
VERSIONS = ("2021", "2019")


def gold_reports() -> list[dict[str, Any]]:
    folder = Path(os.environ.get("GKCRAWL_SHARED") or ROOT.parent / "shared") / "corpus/real/gold"
    if not folder.is_dir():
        raise SystemExit(f"bench/cells.py: {folder} is absent (set GKCRAWL_SHARED)")
    return [printable(json.loads(p.read_text(encoding="utf-8")))
            for p in sorted(folder.glob("*.json"))]


def run(source: str, reports: list[tuple[str, dict[str, Any]]], share: float,
        style: str) -> dict[str, Any]:
    whole = null = wrong = cells = stopped = 0
    times: list[float] = []
    for name, report in reports:
        copy = lose_zeros(report, random.Random(f"{name}:{share}"), share)
        body = render_text(copy, style)
        start = time.process_time()
        result = parse_document(body, "text/plain")
        times.append(time.process_time() - start)
        parsed = result.to_dict() if result.ok else {}
        right, nulls, wrongs = compare(report, parsed)
        stopped += any(f.startswith(STOPPED) for f in parsed.get("flags", ()))
        if wrongs:
            print(f"bench/cells.py: {name}, share {share}, {style}: {wrongs} cells wrong",
                  file=sys.stderr)
        whole += not nulls and not wrongs
        null, wrong, cells = null + nulls, wrong + wrongs, cells + right + nulls + wrongs
    return {"source": source, "share": share, "style": style, "copies": len(reports),
            "whole": whole, "null_share": null / cells, "wrong": wrong, "stopped": stopped,
            "ms": 1000 * sum(times) / len(times), "worst_ms": 1000 * max(times)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=200, help="generated reports (default 200)")
    ap.add_argument("--gold-copies", type=int, default=20,
                    help="copies of each gold report (default 20)")
    ap.add_argument("--shares", type=float, nargs="+", default=SHARES,
                    help="chance that a zero cell is printed empty (default 0.1 0.3 1.0)")
    ap.add_argument("--json", action="store_true", help="print the result as JSON")
    args = ap.parse_args(argv)
    generated = [(f"generated #{i}", random_report(random.Random(i), VERSIONS[i % 2]))
                 for i in range(args.n)]
    gold = [(f"{g['organ']} {g['year']} #{k}", g) for g in gold_reports()
            for k in range(args.gold_copies)]
    rows = [run(source, reports, share, style)
            for source, reports in (("generated", generated), ("gold", gold))
            for share in args.shares for style in LOSSY_STYLES]
    result = {"machine": machine(), "rows": rows}
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        print(header(result["machine"]))
        print(f"{'source':<10} {'share':>5} {'shape':<7} {'copies':>6} {'whole':>6} "
              f"{'null':>6} {'wrong':>5} {'gave up':>7} {'ms':>6} {'worst':>6}")
        for r in rows:
            print(f"{r['source']:<10} {r['share']:>5} {r['style']:<7} {r['copies']:>6} "
                  f"{r['whole'] / r['copies']:>6.0%} {r['null_share']:>6.1%} {r['wrong']:>5} "
                  f"{r['stopped']:>7} {r['ms']:>6.1f} {r['worst_ms']:>6.0f}")
    return 1 if any(r["wrong"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
