"""Instructions a command executes, counted by valgrind (user space only): the measure
bench/crawl_instructions.py and bench/replay_instructions.py compare, since it repeats on a
machine whose speed does not. ``cache_misses`` also counts, with cachegrind, the misses of a
modelled cache."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

_COLLECTED = re.compile(r"Collected : (\d+)")
#: cachegrind's summary lines (``==pid== I refs: 1,234``), by the name given to them here
_SUMMARY = {"instructions": "I refs", "data_refs": "D refs", "l1_misses": "D1 misses",
            "ll_misses": "LL misses"}
#: the modelled caches: a core's own 32 KiB first level and, as the last level, its own 1 MiB
#: second level (the third, 32 MiB, is shared with the other tenants of a virtual machine, so
#: what misses the second level is what may be slow; docs/benchmarks.md, Replay)
CACHES = ("--I1=32768,8,64", "--D1=32768,8,64", "--LL=1048576,16,64")


def _run(tool: list[str], args: list[str], cwd: Path, env: Mapping[str, str] | None) -> str:
    done = subprocess.run(["valgrind", *tool, sys.executable, *args],
                          cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args[:4])} failed under valgrind:\n{done.stderr[-3000:]}")
    return done.stderr


def instructions(args: list[str], *, cwd: Path, env: Mapping[str, str] | None = None) -> int:
    """Instructions of ``python <args>`` (this interpreter) under callgrind."""
    counts = _COLLECTED.findall(_run(["--tool=callgrind", "--cache-sim=no",
                                      "--callgrind-out-file=/dev/null"], args, cwd, env))
    if not counts:
        raise SystemExit(f"{' '.join(args[:4])}: callgrind printed no count")
    return int(counts[-1])


def cache_misses(args: list[str], *, cwd: Path, env: Mapping[str, str] | None = None
                 ) -> dict[str, int]:
    """Instructions, data references and the misses of the first level (data) and of the last
    level (instructions and data) of ``python <args>`` under cachegrind, caches as ``CACHES``."""
    stderr = _run(["--tool=cachegrind", "--cache-sim=yes", *CACHES,
                   "--cachegrind-out-file=/dev/null"], args, cwd, env)
    out = {}
    for name, label in _SUMMARY.items():
        found = re.findall(r"\b" + label.replace(" ", r"\s+") + r":\s+([\d,]+)", stderr)
        if not found:
            raise SystemExit(f"{' '.join(args[:4])}: cachegrind printed no {label!r}")
        out[name] = int(found[-1].replace(",", ""))
    return out
