"""A cached virtualenv holding pywb, for the replay test (tests/archive/test_pywb.py).

pywb 2.10.0 cannot share the project venv: it pins ``redis==2.10.6`` (scrapy-redis 0.9.1
needs ``redis>=4.2``, and we use redis-py against a real server), ``fakeredis<1.0`` and
``pyOpenSSL<26.2`` (downgrading cryptography), and its ``brotlipy`` dependency installs a
``brotli`` package that shadows Google's ``brotli`` module, after which Scrapy's br decoding
fails (``'Decompressor' object has no attribute 'process'``).  So pywb lives in its own venv,
built on first use (``python -m venv`` + ``pip install pywb==2.10.0``, ~15 s) and reused
afterwards.  Its location is ``$GKCRAWL_PYWB_VENV`` or ``~/.cache/gkcrawl-pywb-venv``
(cache that directory in CI).  pywb is only ever run as a subprocess: it imports gevent,
which monkeypatches the interpreter, so it must never be imported by the test process.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

PYWB_REQUIREMENT = "pywb==2.10.0"
VENV_ENV_VAR = "GKCRAWL_PYWB_VENV"
DEFAULT_VENV = Path("~/.cache/gkcrawl-pywb-venv")
#: written last, so a venv whose build was interrupted is completed on the next run
MARKER_NAME = ".gkcrawl-pywb-ready"
PIP_TIMEOUT = 900


def venv_path() -> Path:
    return Path(os.environ.get(VENV_ENV_VAR) or DEFAULT_VENV).expanduser().absolute()


def _marker_text() -> str:
    return f"{PYWB_REQUIREMENT} python{sys.version_info[0]}.{sys.version_info[1]}\n"


def _ready(venv: Path) -> bool:
    marker = venv / MARKER_NAME
    return (
        marker.is_file()
        and marker.read_text(encoding="utf-8") == _marker_text()
        and all((venv / "bin" / tool).is_file() for tool in ("python", "wayback", "wb-manager"))
    )


def _run(args: list[str | Path], timeout: int) -> None:
    done = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(map(str, args))} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
        )


def pywb_bin() -> Path:
    """``bin/`` of a venv with pywb installed, creating the venv on first use.

    Never deletes anything: an unfinished venv is completed in place (``venv`` and ``pip
    install`` are both idempotent).  A lock file next to the venv serialises concurrent
    test runs.
    """
    venv = venv_path()
    if _ready(venv):
        return venv / "bin"
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.with_name(venv.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _ready(venv):
            # run from the project venv, this creates a venv on the same base interpreter
            _run([sys.executable, "-m", "venv", venv], timeout=300)
            _run(
                [venv / "bin" / "python", "-m", "pip", "install", "--disable-pip-version-check",
                 "--quiet", PYWB_REQUIREMENT],
                timeout=PIP_TIMEOUT,
            )
            (venv / MARKER_NAME).write_text(_marker_text(), encoding="utf-8")
            if not _ready(venv):
                raise RuntimeError(f"{PYWB_REQUIREMENT} installed in {venv} without its tools")
    return venv / "bin"
