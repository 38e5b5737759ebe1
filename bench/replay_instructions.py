"""The replay's cost in instructions against the baseline's: bench/replay.py's runs, counted by
callgrind.

    .venv/bin/python bench/replay_instructions.py                    # --reports 100,400 (~8 min)
    .venv/bin/python bench/replay_instructions.py --pipelines extract,parse,validate
    .venv/bin/python bench/replay_instructions.py --misses        # cachegrind: cache misses too

On a virtual machine whose speed changes from one run to the next, two replays of the same code
differ by 10% and more in CPU seconds (docs/benchmarks.md, Replay). ``valgrind --tool=callgrind``
counts the instructions a process executes (user space only), the same on every run (with
``PYTHONHASHSEED`` fixed: the order of sets and so the work varies by ~0.5% with it). The
baseline (raw warcio + ``parse_document``, bench/replay.py's ``--_baseline``) and the replay
(``scrapy crawl replay`` into a fresh SQLite store) each run over archives of two sizes, built
as bench/replay.py builds them; the difference between the sizes divided by the difference in
reports is the instructions per report, without the start-up. ``--pipelines`` replays through
only the named pipelines of ``ITEM_PIPELINES`` (to see what the others cost).

It is not the target's measure (time per report): instructions do not show cache misses, the
kernel's work or waits, and the replay runs at fewer instructions per second than the baseline
(its store and glue code touch more memory than the parser's loop); bench/replay.py measures
time. ``--misses`` runs cachegrind instead of callgrind (slower) and also counts, per report,
the misses of a modelled cache whose last level is a core's own 1 MiB (``_callgrind.CACHES``):
the replay's misses beyond it are what its instructions wait for (docs/benchmarks.md, Replay).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import _replay_archive  # noqa: E402
from _callgrind import cache_misses, instructions as callgrind  # noqa: E402
from replay import DEFAULT_MAX_SIZE, _env, _replay_command  # noqa: E402


def _count(args: list[str], misses: bool) -> dict[str, int]:
    env = {**_env(), "PYTHONHASHSEED": "0"}
    if misses:
        return cache_misses(args, cwd=ROOT, env=env)
    return {"instructions": callgrind(args, cwd=ROOT, env=env)}


def _pipelines(names: list[str]) -> dict[str, int]:
    from gkcrawl import settings

    chosen = {path: order for path, order in settings.ITEM_PIPELINES.items()
              if path.split(".")[-2] in names}  # the module: extract, parse, ...
    if len(chosen) != len(names):
        raise SystemExit(f"unknown pipelines among {names}: have {list(settings.ITEM_PIPELINES)}")
    return chosen


def counts(root: Path, mode: str, pipelines: dict[str, int] | None,
           misses: bool = False) -> dict[str, int]:
    """Instructions (and with ``misses`` the cache counts) of one baseline pass or one replay
    over the archive at ``root``."""
    if mode == "baseline":
        return _count([str(ROOT / "bench" / "replay.py"), "--_baseline",
                       str(root / _replay_archive.CRAWL_ID)], misses)
    out = Path(tempfile.mkdtemp(prefix="gkcrawl-cg-"))
    try:
        args = _replay_command(root, out / "store.sqlite3")
        if pipelines is not None:
            args += ["-s", f"ITEM_PIPELINES={json.dumps(pipelines)}"]
        return _count(args, misses)
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reports", default="100,400", help="two archive sizes")
    ap.add_argument("--pipelines", help="replay through only these pipelines, e.g. "
                                        "extract,parse,validate (default: all)")
    ap.add_argument("--misses", action="store_true",
                    help="count cache misses too (cachegrind, a 1 MiB last level)")
    ap.add_argument("--cache", type=Path, default=ROOT / "bench" / ".cache")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is needed (apt-get install valgrind)")
    small, large = sorted(int(n) for n in args.reports.split(","))
    pipelines = _pipelines(args.pipelines.split(",")) if args.pipelines else None
    roots = {}
    for n in (small, large):
        roots[n] = args.cache / f"replay-{n}"
        _replay_archive.ensure_archive(roots[n], n, DEFAULT_MAX_SIZE)
    runs = [(mode, n) for mode in ("baseline", "replay") for n in (small, large)]
    with ThreadPoolExecutor(2) as pool:  # side by side: counts do not interfere
        done = dict(zip(runs, pool.map(
            lambda r: counts(roots[r[1]], r[0], pipelines, args.misses), runs)))
    modes = ("baseline", "replay")
    per = {m: {k: (done[(m, large)][k] - done[(m, small)][k]) / (large - small)
               for k in done[(m, large)]} for m in modes}
    start = {m: done[(m, small)]["instructions"] - small * per[m]["instructions"] for m in modes}
    ratio = {k: round(per["replay"][k] / per["baseline"][k], 3) for k in per["replay"]}
    result = {"reports": [small, large], "pipelines": sorted(pipelines) if pipelines else "all",
              "per_report": {m: {k: round(v) for k, v in per[m].items()} for m in modes},
              "start_up": {m: round(v) for m, v in start.items()}, "ratio": ratio}
    if args.json:
        print(json.dumps(result, indent=1))
        return
    replay, base = per["replay"], per["baseline"]
    print(f"instructions per report: replay {replay['instructions'] / 1e6:.2f} M, baseline "
          f"{base['instructions'] / 1e6:.2f} M -> {ratio['instructions']:.3f}x "
          f"(start-up {start['replay'] / 1e9:.2f} G and {start['baseline'] / 1e9:.2f} G; "
          f"reports {small} to {large}; pipelines: {result['pipelines']})")
    if args.misses:
        print(f"last-level (1 MiB) misses per report: replay {replay['ll_misses'] / 1e3:.1f} k, "
              f"baseline {base['ll_misses'] / 1e3:.1f} k -> {ratio['ll_misses']:.2f}x; "
              f"first-level data misses {replay['l1_misses'] / 1e3:.1f} k and "
              f"{base['l1_misses'] / 1e3:.1f} k")


if __name__ == "__main__":
    main()
