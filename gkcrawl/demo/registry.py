"""A portal registry CSV for the sample portal: the demo crawls it like any real portal."""

from __future__ import annotations

import csv
from pathlib import Path
from urllib.parse import urlsplit

from gkcrawl.demo.site import HOME, REPORT_COLUMN, SITE_NAME

COLUMNS = ("id", "name", "start_url", "report_url", "allowed_domains", "region_code", "level")
PORTAL_ID = "demo"
#: A fictional county of 西藏自治区 (54xxxx); the code only has to be well-formed.
REGION_CODE = "540199"
LEVEL = "county"


def registry_row(base_url: str) -> dict[str, str]:
    """The registry row of the portal served at ``base_url`` (e.g. http://127.0.0.1:8123)."""
    base = base_url.rstrip("/")
    host = urlsplit(base).hostname or ""
    return {"id": PORTAL_ID, "name": SITE_NAME, "start_url": base + HOME,
            "report_url": base + REPORT_COLUMN, "allowed_domains": host,
            "region_code": REGION_CODE, "level": LEVEL}


def write_registry(path: str | Path, base_url: str) -> Path:
    """Write a one-portal registry for the served sample portal; returns the path."""
    path = Path(path)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerow(registry_row(base_url))
    return path
