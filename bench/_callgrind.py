"""Instructions a command executes, counted by ``valgrind --tool=callgrind`` (user space only):
the measure bench/crawl_instructions.py and bench/replay_instructions.py compare, since it
repeats on a machine whose speed does not."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

_COLLECTED = re.compile(r"Collected : (\d+)")


def instructions(args: list[str], *, cwd: Path, env: Mapping[str, str] | None = None) -> int:
    """Instructions of ``python <args>`` (this interpreter) under callgrind."""
    done = subprocess.run(["valgrind", "--tool=callgrind", "--cache-sim=no",
                           "--callgrind-out-file=/dev/null", sys.executable, *args],
                          cwd=cwd, env=env, capture_output=True, text=True)
    counts = _COLLECTED.findall(done.stderr)
    if done.returncode != 0 or not counts:
        raise SystemExit(f"{' '.join(args[:4])} failed under callgrind:\n{done.stderr[-3000:]}")
    return int(counts[-1])
