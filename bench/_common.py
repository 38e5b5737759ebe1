"""What the bench scripts share: the machine they ran on, the environment of the processes they
start, and instruction counts (callgrind) for the machines too noisy to time."""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def env(**extra: str) -> dict[str, str]:
    """The environment of a crawl or replay subprocess: this checkout's gkcrawl and settings."""
    return {**os.environ, "SCRAPY_SETTINGS_MODULE": "gkcrawl.settings",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
            **extra}


def machine() -> dict[str, Any]:
    """CPU model, CPUs, Python, the commit and the load average, for the printed header."""
    model = None
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            model = next((ln.split(":", 1)[1].strip() for ln in fh
                          if ln.startswith("model name")), None)
    except OSError:
        pass
    commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT,
                            capture_output=True, text=True, check=False).stdout.strip()
    return {"cpu": model or platform.processor(), "nproc": os.cpu_count(),
            "python": platform.python_version(), "commit": commit,
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "loadavg": round(os.getloadavg()[0], 2)}


def header(m: Mapping[str, Any]) -> str:
    return (f"# {m['cpu']}, {m['nproc']} CPUs, Python {m['python']}, commit {m['commit']}, "
            f"{m['date']}, load average {m['loadavg']}")


def busy_cpu_s() -> float:
    """CPU seconds the whole machine has been busy so far (/proc/stat, the hypervisor's steal
    included): less what a run of ours used, what other jobs took from the machine during it."""
    with open("/proc/stat", encoding="ascii") as fh:
        values = [int(v) for v in fh.readline().split()[1:9]]
    return (sum(values) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")


def wait_quiet(timeout: float, max_busy: float = 0.15) -> None:
    """Wait until the machine's CPUs are less than ``max_busy`` busy over a second, or
    ``timeout`` seconds have passed: a run then starts without another job on the machine."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        busy, start = busy_cpu_s(), time.monotonic()
        time.sleep(1.0)
        if (busy_cpu_s() - busy) / ((time.monotonic() - start) * (os.cpu_count() or 1)) < max_busy:
            return


def pin(pid: int = 0, cpu: int = 0) -> None:
    """Pin a process (and the threads it starts later) to one CPU, where the OS allows it."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(pid, {cpu})


_COLLECTED = re.compile(r"Collected : (\d+)")


def instructions(args: Sequence[str], *, env: Mapping[str, str] | None = None) -> int:
    """Instructions (user space) executed by ``python <args>``, counted by callgrind.

    They repeat from run to run whatever else the machine does (``PYTHONHASHSEED`` is fixed:
    the order of sets, and so the work, varies a little with it)."""
    if shutil.which("valgrind") is None:
        raise SystemExit("--instructions needs valgrind (apt-get install valgrind)")
    done = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                           sys.executable, *args], cwd=ROOT, capture_output=True, text=True,
                          env={**(env or os.environ), "PYTHONHASHSEED": "0"}, check=False)
    counts = _COLLECTED.findall(done.stderr)
    if done.returncode != 0 or not counts:
        raise SystemExit(f"{' '.join(args[:4])} failed under callgrind:\n{done.stderr[-3000:]}")
    return int(counts[-1])
