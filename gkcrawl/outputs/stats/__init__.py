"""``gkcrawl stats``: what the store holds against what was expected, for the people who judge
a crawl and decide where to crawl next.

:mod:`.collect` gathers (the store, the registry, the runs' archive indexes); :mod:`.terminal`
prints aligned tables; :mod:`.html` writes the self-contained page of ``--html``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from gkcrawl.outputs.stats.collect import (
    NATIONAL_REGION,
    UNKNOWN_REGION,
    Stats,
    collect,
    parse_years,
    portal_region,
)
from gkcrawl.outputs.stats.html import render_html
from gkcrawl.outputs.stats.terminal import render_terminal
from gkcrawl.store import is_postgres_url, open_store

__all__ = ["NATIONAL_REGION", "UNKNOWN_REGION", "Stats", "collect", "default_archive",
           "main_stats", "parse_years", "portal_region", "render_html", "render_terminal"]

EXIT_OK, EXIT_NO_STORE, EXIT_USAGE = 0, 1, 2


def default_archive(target: str | Path) -> Path | None:
    """Where the runs' WARC directories are when not given: beside a SQLite store (its default
    place is ``<ARCHIVE_DIR>/gkcrawl.sqlite3``); none for PostgreSQL."""
    return None if is_postgres_url(target) else Path(target).parent


def main_stats(target: str | Path, html: Path | None = None, *,
               registry: str | Path | None = None, years: str | None = None,
               archive: Path | None = None, replay_url: str | None = None,
               out: TextIO | None = None) -> int:
    """``gkcrawl stats [--html FILE]``: the tables on standard output, the page to ``html``."""
    from gkcrawl.crawl import registry as portal_registry
    from gkcrawl.outputs.export import store_missing

    out = out or sys.stdout
    if store_missing(target):
        print(f"no store at {target}", file=sys.stderr)
        return EXIT_NO_STORE
    try:
        portals = portal_registry.load(registry)
        span = parse_years(years) if years else None
    except (portal_registry.RegistryError, ValueError) as exc:
        print(f"gkcrawl stats: {exc}", file=sys.stderr)
        return EXIT_USAGE
    with open_store(target) as store:
        stats = collect(store, portals, years=span,
                        archive=archive if archive is not None else default_archive(target))
    out.write(render_terminal(stats))
    if html is not None:
        page = Path(html)
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(render_html(stats, replay_url), encoding="utf-8")
        print(f"summary page -> {page}", file=sys.stderr)
    return EXIT_OK
