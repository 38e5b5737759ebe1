"""``gkcrawl quarantine``: the documents that looked like reports but did not parse."""

from __future__ import annotations

import json
import sys
import unicodedata
from datetime import datetime
from pathlib import Path
from typing import TextIO

from gkcrawl.store import is_postgres_url, open_store
from gkcrawl.store.rows import QuarantineRow

COLUMNS = ("url", "code", "reason", "warc", "first_seen", "last_seen")


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else ""


def _warc(row: QuarantineRow) -> str:
    if not row.warc_file:
        return ""
    return f"{row.warc_file}@{row.warc_offset}" if row.warc_offset is not None else row.warc_file


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def as_dict(row: QuarantineRow) -> dict[str, object]:
    return {
        "url": row.url, "code": row.code, "reason": row.reason, "title": row.title,
        "portal": row.portal, "role": row.role, "crawl_id": row.crawl_id,
        "record_id": row.record_id, "warc_file": row.warc_file, "warc_offset": row.warc_offset,
        "warc_length": row.warc_length, "parser_version": row.parser_version,
        "over_limit": row.over_limit, "first_seen": _when(row.first_seen),
        "last_seen": _when(row.last_seen),
        "resolved_at": _when(row.resolved_at) or None,
    }


def main_quarantine(target: str | Path, as_json: bool, *, include_resolved: bool = False,
                    out: TextIO | None = None) -> int:
    """Print the quarantine of the store at ``target``: an aligned table, or JSON Lines."""
    out = out or sys.stdout
    if not is_postgres_url(target) and not Path(target).exists():
        print(f"no store at {target}", file=sys.stderr)
        return 1
    with open_store(target) as store:
        rows = store.quarantine(include_resolved=include_resolved)
    if as_json:
        for row in rows:
            print(json.dumps(as_dict(row), ensure_ascii=False), file=out)
        return 0
    cells = [[row.url, row.code, " ".join(row.reason.split()), _warc(row), _when(row.first_seen),
              _when(row.last_seen)] for row in rows]
    columns = zip(COLUMNS, zip(*cells, strict=True), strict=True)
    widths = ([max([_width(c) for c in col] + [len(h)]) for h, col in columns] if cells
              else [len(h) for h in COLUMNS])
    for line in [list(COLUMNS), *cells]:
        # the last column is not padded
        padded = "  ".join(_pad(c, w) for c, w in zip(line[:-1], widths[:-1], strict=True))
        print(padded + "  " + line[-1], file=out)
    print(f"{len(rows)} quarantined document{'s' if len(rows) != 1 else ''}"
          + (" (resolved included)" if include_resolved else ""), file=sys.stderr)
    return 0
