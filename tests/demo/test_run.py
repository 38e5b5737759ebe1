"""``gkcrawl demo``, the README's first command: a clean run from an empty directory, the planted
faults named, no noise, the archive verified."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gkcrawl.demo.run import MARKER, DemoError, fresh_directory, planted_faults
from gkcrawl.demo.site import build_site


def test_demo_runs_clean_from_an_empty_directory(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    (out / "archive" / "demo").mkdir(parents=True)
    (out / MARKER).write_text("")
    stale = out / "archive" / "demo" / "gkcrawl-old.warc.gz"
    stale.write_bytes(b"from an earlier demo")
    proc = subprocess.run([sys.executable, "-m", "gkcrawl.cli", "demo", "--dir", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert not stale.exists()  # the directory started empty
    assert "23 reports parsed" in proc.stdout
    assert "/zwgk/zcwj/index.html: anti-bot challenge (HTTP 412)" in proc.stdout
    assert "all OK" in proc.stdout  # gkcrawl verify on the archive it wrote
    for noise in ("Traceback", "Disabled ", "publicsuffix", "Public Suffix"):
        assert noise not in proc.stderr, proc.stderr[-3000:]


def test_demo_empties_only_a_directory_it_made(tmp_path: Path) -> None:
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(DemoError, match="not made by gkcrawl demo"):
        fresh_directory(foreign)
    assert (foreign / "notes.txt").read_text() == "keep me"
    fresh_directory(tmp_path / "new")
    assert (tmp_path / "new" / MARKER).exists()


def test_planted_faults_name_every_error_and_slow_page() -> None:
    site = build_site()
    lines = "\n".join(planted_faults(site))
    assert all(path in lines for path in [*site.errors, *site.slow])
