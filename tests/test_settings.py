"""Every setting gkcrawl reads is documented in docs/settings.md, once, with its default; the
environment sets the ones the settings module names (GKCRAWL_<NAME>)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from scrapy.settings import default_settings

from gkcrawl import settings as project
from gkcrawl.spiders.portals import DEFAULTS as SPIDER_DEFAULTS

ROOT = Path(__file__).parents[1]
DOC = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
READ = re.compile(r"settings\.get\w*\(\s*\"([A-Z][A-Z0-9_]+)\"|settings\[\"([A-Z][A-Z0-9_]+)\"\]")


def read_by_the_code() -> set[str]:
    names = set(SPIDER_DEFAULTS)
    for path in (ROOT / "gkcrawl").rglob("*.py"):
        names |= {a or b for a, b in READ.findall(path.read_text(encoding="utf-8"))}
    return names


def test_every_setting_of_ours_is_documented() -> None:
    ours = {n for n in read_by_the_code() if not hasattr(default_settings, n)}
    assert ours >= {"ARCHIVE_DIR", "CRAWL_PAGE_BUDGET", "STORE_URL", "REPLAY_PART_BYTES"}
    undocumented = sorted(n for n in ours if f"`{n}`" not in DOC)
    assert undocumented == []


def test_settings_from_the_environment_are_documented_as_such() -> None:
    for name in project.FROM_ENVIRONMENT:
        assert f"`{name}` (env)" in DOC


def test_the_environment_sets_a_setting(tmp_path: Path) -> None:
    code = ("from scrapy.utils.project import get_project_settings as g; s = g(); "
            "print(s['ARCHIVE_DIR'], s['WARC_OPERATOR'], s.getbool('WARC_ENABLED', True))")
    env = {"GKCRAWL_ARCHIVE_DIR": str(tmp_path), "GKCRAWL_WARC_OPERATOR": "someone",
           "SCRAPY_SETTINGS_MODULE": "gkcrawl.settings", "PATH": ""}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == [str(tmp_path), "someone", "True"]
