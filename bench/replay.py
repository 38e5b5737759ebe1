"""Replay: one process within 1.5x of raw warcio + parse_document; two processes close to 2x.

    .venv/bin/python bench/replay.py                   # --reports 2000 --rounds 5 (~3 minutes)
    .venv/bin/python bench/replay.py --instructions    # callgrind, 100 and 400 reports (~8 min)

The archive is bench/_replay_archive.py's (N generated report pages, built once and cached).
Each round runs three modes, in an order that rotates from round to round:

* **baseline**: a fresh process pinned to CPU 0 iterates the archive with
  ``warcio.ArchiveIterator``, gunzips the bodies sent gzip-encoded and calls
  :func:`gkcrawl.parsing.parse_document` on every response; the loop is timed (not the imports).
* **one process**: ``scrapy crawl replay`` pinned to CPU 0 into a fresh SQLite store, timed
  from the spider's opening to its closing (``elapsed_time_seconds`` of the run the store
  records), so start-up is left out as in the baseline; its wall time from spawn to exit too.
* **two processes**: ``gkcrawl replay --jobs 2`` into a fresh store, not pinned, wall time from
  spawn to exit (and, for comparison, spider open to close of the process that closed last).

Targets: the one-process replay takes at most ``TARGET_RATIO`` x the baseline's time, and two
processes are at least ``TARGET_SPEEDUP`` x faster than one (wall times from spawn to exit,
start-up included in both: what a user waits for); each ratio is taken within each round, and
the median of the rounds is judged. A replay counts only if its store ends
with N reports, N sources and nothing quarantined; otherwise the script exits with status 1.

``--instructions``: instead, the baseline and the one-process replay under callgrind, over
archives of two sizes; the difference between the sizes over the difference in reports is the
instructions a report, without start-up (the machine's noise does not move them).

Before each run the script waits (``--quiet``, at most 60 s) for the machine to be idle.
Prints one line a run (``others``: CPU seconds other processes used meanwhile), then the
median times, each round's ratio and the verdicts.
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from _common import ROOT, busy_cpu_s, env, header, instructions, machine, pin, wait_quiet
from _replay_archive import CRAWL_ID, ensure_archive, replay_args, store_counts

TARGET_RATIO = 1.5
#: "close to 2x"
TARGET_SPEEDUP = 1.8


def baseline_pass(crawl_dir: Path) -> dict[str, Any]:
    """Raw warcio + parse_document over every response of the crawl (in a fresh process)."""
    from warcio.archiveiterator import ArchiveIterator

    from gkcrawl.parsing import parse_document

    n = ok = 0
    start = time.perf_counter()
    for path in sorted(crawl_dir.glob("*.warc.gz")):
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh):
                if record.rec_type != "response":
                    continue
                headers = record.http_headers
                body = record.raw_stream.read()
                if (headers.get_header("Content-Encoding") or "").lower() == "gzip":
                    body = gzip.decompress(body)
                result = parse_document(body, headers.get_header("Content-Type"),
                                        record.rec_headers.get_header("WARC-Target-URI"))
                n += 1
                ok += result.ok
    return {"responses": n, "reports": ok, "seconds": time.perf_counter() - start}


def run_baseline(root: Path, n: int) -> dict[str, Any]:
    proc = subprocess.Popen([sys.executable, __file__, "--_baseline", str(root / CRAWL_ID)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env(), cwd=ROOT)
    pin(proc.pid)
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"baseline failed:\n{err[-3000:]}")
    r = json.loads(out.strip().splitlines()[-1])
    if r["reports"] != n:
        raise SystemExit(f"baseline: {r['reports']} of {r['responses']} responses parsed")
    return r


def run_replay(root: Path, n: int, work: Path, jobs: int) -> dict[str, Any]:
    store = work / "store.sqlite3"
    for old in work.glob("store.sqlite3*"):
        old.unlink()
    if jobs == 1:
        args = [sys.executable, *replay_args(root, store)]
    else:
        args = [str(Path(sys.executable).with_name("gkcrawl")), "replay", str(root / CRAWL_ID),
                "--jobs", str(jobs), "--store", str(store), "-s", f"ARCHIVE_DIR={root}"]
    start = time.perf_counter()
    proc = subprocess.Popen(args, env=env(), cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    if jobs == 1:
        pin(proc.pid)
    _, err = proc.communicate()
    wall = time.perf_counter() - start
    counts = store_counts(store) if store.exists() else {}
    if proc.returncode != 0 or counts != {"reports": n, "sources": n, "quarantine": 0}:
        raise SystemExit(f"replay --jobs {jobs}: exit {proc.returncode}, store {counts}\n"
                         f"{err[-3000:]}")
    conn = sqlite3.connect(store)
    stats = [json.loads(row[0]) for row in conn.execute("SELECT stats FROM runs")]
    conn.close()
    # spider open to close; with two processes, the one that closed last
    return {"wall_s": wall, "seconds": max(s["elapsed_time_seconds"] for s in stats)}


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def bench(args: argparse.Namespace) -> dict[str, Any]:
    n = args.reports
    root, manifest = ensure_archive(n)
    work = Path(tempfile.mkdtemp(prefix="gkcrawl-replay-bench-"))
    modes = {"baseline": lambda: run_baseline(root, n),
             "one": lambda: run_replay(root, n, work, 1),
             "two": lambda: run_replay(root, n, work, 2)}
    runs: dict[str, list[dict[str, Any]]] = {m: [] for m in modes}
    try:
        for i in range(args.rounds):
            order = list(modes)[i % 3:] + list(modes)[:i % 3]
            for mode in order:
                wait_quiet(args.quiet)
                busy, ours = busy_cpu_s(), _children_cpu_s()
                r = modes[mode]()
                r["others_cpu_s"] = max(0.0, busy_cpu_s() - busy - (_children_cpu_s() - ours))
                runs[mode].append(r)
                print(f"round {i + 1} {mode:<8} " + ", ".join(f"{k} {v:.2f}" for k, v in r.items()
                                                             if isinstance(v, float)),
                      file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    def med(mode: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[mode])

    # each round compared within itself (its runs minutes apart), then the median of the rounds
    ratios = [o["seconds"] / b["seconds"] for o, b in zip(runs["one"], runs["baseline"],
                                                         strict=True)]
    speedups = [o["wall_s"] / t["wall_s"] for o, t in zip(runs["one"], runs["two"], strict=True)]
    opened = [o["seconds"] / t["seconds"] for o, t in zip(runs["one"], runs["two"], strict=True)]
    ratio, speedup = statistics.median(ratios), statistics.median(speedups)
    return {
        "machine": machine(), "reports": n, "files": len(manifest["files"]), "runs": runs,
        "baseline_ms": 1000 * med("baseline", "seconds") / n,
        "one_ms": 1000 * med("one", "seconds") / n, "ratio": ratio, "round_ratios": ratios,
        "ratio_met": ratio <= TARGET_RATIO,
        "one_wall_s": med("one", "wall_s"), "two_wall_s": med("two", "wall_s"),
        "speedup": speedup, "round_speedups": speedups, "speedup_met": speedup >= TARGET_SPEEDUP,
        "speedup_without_start": statistics.median(opened),
    }


def count_instructions(sizes: list[int]) -> dict[str, Any]:
    small, large = sorted(sizes)[:2]
    roots = {k: ensure_archive(k)[0] for k in (small, large)}

    def count(job: tuple[str, int]) -> int:
        mode, k = job
        if mode == "baseline":
            return instructions([__file__, "--_baseline", str(roots[k] / CRAWL_ID)], env=env())
        with tempfile.TemporaryDirectory(prefix="gkcrawl-cg-") as tmp:
            return instructions(replay_args(roots[k], Path(tmp) / "store.sqlite3"), env=env())

    jobs = [(mode, k) for mode in ("baseline", "replay") for k in (small, large)]
    with ThreadPoolExecutor(2) as pool:  # two at a time: counts do not interfere
        done = dict(zip(jobs, pool.map(count, jobs), strict=True))
    per = {m: (done[(m, large)] - done[(m, small)]) / (large - small)
           for m in ("baseline", "replay")}
    return {"machine": machine(), "reports": [small, large], "per_report": per,
            "ratio": per["replay"] / per["baseline"]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reports", type=int, default=2000, help="archive size (default 2000)")
    ap.add_argument("--rounds", type=int, default=5, help="rounds of the three modes")
    ap.add_argument("--instructions", nargs="?", const="100,400", metavar="N,M",
                    help="count instructions (callgrind) over archives of N and M reports")
    ap.add_argument("--quiet", type=float, default=60, metavar="S",
                    help="before each run, wait up to S seconds for other jobs to leave the CPUs")
    ap.add_argument("--json", action="store_true", help="print the result as JSON")
    ap.add_argument("--_baseline", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args._baseline:
        print(json.dumps(baseline_pass(args._baseline)))
        return 0
    if args.instructions:
        result = count_instructions([int(k) for k in args.instructions.split(",")])
        if not args.json:
            per = result["per_report"]
            print(header(result["machine"]))
            print(f"instructions a report (reports {result['reports'][0]} to "
                  f"{result['reports'][1]}): replay {per['replay'] / 1e6:.2f} M, baseline "
                  f"{per['baseline'] / 1e6:.2f} M -> {result['ratio']:.3f}x "
                  f"(target <= {TARGET_RATIO}x)")
    else:
        result = bench(args)
        if not args.json:
            r = result
            print(header(r["machine"]))
            print(f"# {r['reports']} reports in {r['files']} WARC files, {args.rounds} rounds")
            print(f"one process: {r['one_ms']:.2f} ms a report against the baseline's "
                  f"{r['baseline_ms']:.2f} (medians); median of the rounds {r['ratio']:.2f}x ("
                  f"{', '.join(f'{x:.2f}' for x in r['round_ratios'])}; target <= "
                  f"{TARGET_RATIO}x: {'met' if r['ratio_met'] else 'NOT met'})")
            print(f"two processes: {r['two_wall_s']:.1f} s against {r['one_wall_s']:.1f} s for one "
                  f"(spawn to exit, medians); median of the rounds {r['speedup']:.2f}x ("
                  f"{', '.join(f'{x:.2f}' for x in r['round_speedups'])}; target >= "
                  f"{TARGET_SPEEDUP}x: {'met' if r['speedup_met'] else 'NOT met'}); spider open "
                  f"to close {r['speedup_without_start']:.2f}x")
    if args.json:
        print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
