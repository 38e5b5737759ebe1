"""CPU time per report of the dedup signature (``signature`` + ``lsh_bands``) and of ``validate``.

    .venv/bin/python bench/fingerprint.py                      # --reports 500 --repeat 7
    .venv/bin/python bench/fingerprint.py --against c4a60e3    # and the code of that commit
    .venv/bin/python bench/fingerprint.py --reports 200 --json

The reports are the replay bench's pages (bench/_replay_archive.py ``page(i)``: both template
versions, the six HTML styles, gzip bodies gunzipped), extracted and parsed as the pipelines do
(``extract_document`` then ``parse_extracted``); the fingerprint is taken of the document's text
after parsing, as ``ParsePipeline`` does, and ``lsh_bands`` of the report and that fingerprint,
as the store does. Parsing is not timed.

Each step runs over all reports ``--loops`` times per repeat, timed with ``time.process_time``
(CPU time: other work on the machine counts less than in wall time, though a busy machine still
slows every step); the **median** of ``--repeat`` repeats is reported in µs per report, with the
fastest and the slowest repeat. ``--against REV`` loads gkcrawl/quality/fingerprint.py and
gkcrawl/quality/validation.py as they were at git revision REV (``git show``, nothing in the work
tree changes) and times them in the same rounds, interleaved with the current code, so that both
see the same load.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import _replay_archive  # noqa: E402

from gkcrawl.parsing import extract_document, parse_extracted  # noqa: E402
from gkcrawl.quality import fingerprint, validation  # noqa: E402

#: the targets (µs per report) given for the two steps
TARGET_US = {"fingerprint+lsh_bands": 100.0, "validate": 100.0}


def corpus(n: int) -> list[tuple[str, dict[str, Any]]]:
    """(document text, report dict) of the replay bench's first ``n`` pages."""
    out = []
    for i in range(n):
        p = _replay_archive.page(i)
        body = gzip.decompress(p["body"]) if p["gzip"] else p["body"]
        content_type = dict(p["headers"]).get("Content-Type")
        doc = extract_document(body, content_type, p["url"])
        result = parse_extracted(doc, p["url"])
        if result.ok:
            out.append((doc.text, result.to_dict()))
    return out


def load_revision(rev: str, name: str) -> ModuleType:
    """gkcrawl/<name>.py as of git revision ``rev``, as module gkcrawl._at_<rev>_<name>."""
    source = subprocess.run(["git", "show", f"{rev}:gkcrawl/{name}.py"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    module_name = f"gkcrawl._at_{rev.replace('-', '_')}_{name.replace('/', '_')}"
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False, encoding="utf-8") as fh:
        fh.write(source)
    spec = importlib.util.spec_from_file_location(module_name, fh.name)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    module.__package__ = "gkcrawl"  # its relative imports resolve against today's package
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    Path(fh.name).unlink()
    return module


def steps(dd: Any, vv: Any, suffix: str = "") -> dict[str, Callable[[str, dict[str, Any]], Any]]:
    return {
        f"fingerprint+lsh_bands{suffix}":
            lambda text, report: dd.lsh_bands(report, dd.signature(text, report)),
        f"  signature{suffix}": lambda text, report: dd.signature(text, report),
        f"validate{suffix}": lambda text, report: vv.validate(report),
        f"  validate+to_dict{suffix}":
            lambda text, report: [f.to_dict() for f in vv.validate(report)],
    }


def run(all_steps: dict[str, Callable[[str, dict[str, Any]], Any]],
        docs: list[tuple[str, dict[str, Any]]], loops: int,
        repeat: int) -> dict[str, dict[str, float]]:
    for step in all_steps.values():  # warm caches (permutations, templates, layouts)
        for text, report in docs[:20]:
            step(text, report)
    times: dict[str, list[float]] = {name: [] for name in all_steps}
    for _ in range(repeat):  # the steps interleaved: a burst of other work hits all of them
        for name, step in all_steps.items():
            start = time.process_time()
            for _ in range(loops):
                for text, report in docs:
                    step(text, report)
            times[name].append((time.process_time() - start) / (loops * len(docs)) * 1e6)
    return {name: {"median_us": round(statistics.median(t), 1), "min_us": round(min(t), 1),
                   "max_us": round(max(t), 1)} for name, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--loops", type=int, default=3)
    parser.add_argument("--against", metavar="REV", help="also time the code of this git revision")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    docs = corpus(args.reports)
    all_steps = steps(fingerprint, validation)
    if args.against:
        all_steps |= steps(load_revision(args.against, "quality/fingerprint"),
                           load_revision(args.against, "quality/validation"), f" @{args.against}")
    results = run(all_steps, docs, args.loops, args.repeat)
    if args.json:
        print(json.dumps({"reports": len(docs), **results}))
        return
    print(f"{len(docs)} reports, {args.repeat} repeats x {args.loops} loops, CPU µs per report")
    for name, r in results.items():
        target = TARGET_US.get(name)
        verdict = "" if target is None else (f"  target {target:.0f}: "
                                             f"{'met' if r['median_us'] <= target else 'NOT met'}")
        print(f"  {name:<36} median {r['median_us']:8.1f}  (min {r['min_us']:.1f}, "
              f"max {r['max_us']:.1f}){verdict}")
    if args.against:
        for name in ("fingerprint+lsh_bands", "validate"):
            before = results[f"{name} @{args.against}"]["median_us"]
            after = results[name]["median_us"]
            print(f"  {name}: x{before / after:.1f} faster than at {args.against}")


if __name__ == "__main__":
    main()
