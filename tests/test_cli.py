"""``gkcrawl parse``: JSON for one file, JSON Lines for several, non-zero exit with a reason."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.bombs import pdf_of_operators
from tests.shared import seed_path, seed_paths


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gkcrawl.cli", *args], capture_output=True,
                          text=True, timeout=120)


def test_parse_one_file_prints_one_object() -> None:
    proc = run("parse", str(seed_path("004")))
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["format"] == "2019" and report["organ"] == "工布江达县人民政府"
    assert report["active_disclosure"]["centralized_procurement"]["amount_10k_yuan"] == 2359.4197


def test_parse_several_files_prints_json_lines() -> None:
    files = [str(p) for p in seed_paths()]
    proc = run("parse", *files)
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [line["year"] for line in lines] == [2021, 2021, 2022, 2021, 2020]
    assert lines[0]["file"] == files[0]


def test_not_a_report_exits_non_zero_with_one_line(tmp_path: Path) -> None:
    junk = tmp_path / "junk.html"
    junk.write_text("<html><body><p>hello</p></body></html>")
    proc = run("parse", str(junk))
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.strip().count("\n") == 0 and "no annual-report title" in proc.stderr


def test_parse_strict_keeps_lost_cells_null() -> None:
    lenient = json.loads(run("parse", str(seed_path("003"))).stdout)
    proc = run("parse", "--strict", str(seed_path("003")))
    assert proc.returncode == 0, proc.stderr
    strict = json.loads(proc.stdout)
    assert lenient["applications"]["new_received"]["total"] == 0
    assert strict["applications"]["new_received"]["total"] is None
    assert strict["inferred"] == [] and lenient["inferred"]


def test_parse_applies_the_parsing_limits(tmp_path: Path) -> None:
    slow = tmp_path / "operators.pdf"
    slow.write_bytes(pdf_of_operators(1_000_000))  # minutes to parse
    seed = str(seed_path("004"))
    proc = run("parse", str(slow), seed, "-s", "PARSE_TIME_LIMIT=5")
    assert proc.returncode == 1
    assert proc.stderr.strip() == (f"{slow}: parsing took longer than the PARSE_TIME_LIMIT of 5 s; "
                                   "the worker was stopped")
    [report] = [json.loads(line) for line in proc.stdout.splitlines()]  # the next file parsed
    assert report["file"] == seed and report["organ"] == "工布江达县人民政府"
    assert run("parse", seed, "-s", "PARSE_TIME_LIMIT").returncode == 2
