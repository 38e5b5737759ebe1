"""The ``gkcrawl`` command: the parts of the tool that are not a Scrapy crawl.

``gkcrawl parse FILE...`` prints one JSON object for one file, JSON Lines for several; a file that
is not a report, or cannot be read, makes the exit status non-zero and prints a one-line reason.
PDF, DOCX and legacy Word files are parsed under the crawl's limits (PARSE_TIME_LIMIT,
PARSE_MEMORY_LIMIT, PARSE_MAX_INFLATED), in a worker process.
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from gkcrawl import __version__

if TYPE_CHECKING:
    from scrapy.settings import Settings

    from gkcrawl.parsing.pool import ParsePool

EXIT_OK, EXIT_NOT_A_REPORT, EXIT_USAGE = 0, 1, 2
#: A command that could not do its work (a store that cannot be opened, say).
EXIT_ERROR = 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gkcrawl", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"gkcrawl {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    parse = commands.add_parser("parse", help="parse report files into JSON")
    parse.add_argument("files", nargs="+", type=Path)
    parse.add_argument("--url", help="the URL the file came from (helps organ resolution)")
    parse.add_argument("--compact", action="store_true", help="one line per report")
    parse.add_argument("--strict", action="store_true",
                       help="keep cells printed blank or lost null (only what is printed)")
    _set_option(parse, "a parsing limit (PARSE_TIME_LIMIT, PARSE_MEMORY_LIMIT, …)")
    parse.set_defaults(run=_parse)

    verify = commands.add_parser("verify", help="check WARC files: gzip members, framing, digests")
    verify.add_argument("paths", nargs="+", help="WARC files or directories")
    verify.set_defaults(run=_verify)

    quarantine = commands.add_parser(
        "quarantine", help="list documents that looked like reports but did not parse")
    quarantine.add_argument("--json", action="store_true", help="JSON Lines instead of a table")
    quarantine.add_argument("--all", action="store_true", help="include resolved entries")
    _store_option(quarantine)
    quarantine.set_defaults(run=_quarantine)

    crawl = commands.add_parser(
        "crawl",
        help="scrapy crawl portals as one scheduled run: its own crawl id, JOBDIR and WARC dir")
    crawl.add_argument("--resume", metavar="CRAWL_ID", help="resume this run (same JOBDIR)")
    crawl.add_argument("--jobs-dir", type=Path, default=Path("crawls"),
                       help="where each run keeps its JOBDIR (default: crawls/)")
    crawl.add_argument("scrapy_args", nargs=argparse.REMAINDER,
                       help="more arguments for scrapy crawl portals (after --)")
    crawl.set_defaults(run=_crawl)

    replay = commands.add_parser("replay",
                                 help="re-parse WARC archives offline through the pipelines")
    replay.add_argument("paths", nargs="+", help="WARC files, directories or globs")
    replay.add_argument("--jobs", "-j", type=int, default=None,
                        help="parallel processes (default: one per core)")
    replay.add_argument("--reparse-older-than", metavar="VERSION",
                        help="only re-parse copies stored by an older parser version")
    _set_option(replay, "a Scrapy setting for the replay processes")
    _store_option(replay)
    replay.set_defaults(run=_replay)

    export = commands.add_parser("export", help="stored reports as csv/jsonl/parquet/xlsx/dta "
                                                "or a data package")
    export.add_argument("--format", required=True,
                        choices=("csv", "jsonl", "parquet", "xlsx", "dta", "datapackage"),
                        help="datapackage: CSV files and their datapackage.json in --output DIR")
    export.add_argument("--layout", default="panel", choices=("panel", "long"),
                        help="panel: one row per organ and year, harmonised variables; "
                             "long: one row per report x table x row x column")
    export.add_argument("-o", "--output",
                        help="a file, or the directory of a data package (default: standard "
                             "output, csv/jsonl, binary formats when not a terminal)")
    export.add_argument("--registry", type=Path,
                        help="portal registry CSV, for the division of reports without their "
                             "own (default: the bundled one)")
    _store_option(export)
    export.set_defaults(run=_export)

    stats = commands.add_parser("stats", help="coverage, identity pass rates, quarantine, runs")
    stats.add_argument("--html", type=Path,
                       help="also write a self-contained HTML summary with charts")
    stats.add_argument("--registry", type=Path,
                       help="portal registry CSV (default: the bundled one)")
    stats.add_argument("--years", metavar="FIRST-LAST",
                       help="the years each known organ is expected to report, e.g. 2019-2024 "
                            "(default: the years the stored reports cover)")
    stats.add_argument("--archive", type=Path,
                       help="the archive directory (ARCHIVE_DIR) whose runs' index.cdxj and "
                            "crawl.log.jsonl name the failed fetches (default: the SQLite "
                            "store's directory)")
    stats.add_argument("--replay-url", metavar="PREFIX",
                       help="link each WARC pointer to PREFIX<timestamp>id_/<url>, a pywb or "
                            "wayback collection serving the archive")
    _store_option(stats)
    stats.set_defaults(run=_stats)

    demo = commands.add_parser("demo",
                               help="serve the bundled sample portal on 127.0.0.1 and crawl it")
    demo.add_argument("--dir", type=Path, default=Path("demo-output"),
                      help="where the archive, reports and summary go, emptied first "
                           "(default: demo-output)")
    demo.set_defaults(run=_demo)

    args = parser.parse_args(argv)
    from gkcrawl.store import StoreError

    try:
        status: int = args.run(args)
    except BrokenPipeError:  # `gkcrawl export ... | head`: the reader has what it wanted
        sys.stderr.close()
        return EXIT_OK
    except StoreError as exc:
        print(f"gkcrawl {args.command}: {exc}", file=sys.stderr)
        return EXIT_ERROR
    return status


def _parse(args: argparse.Namespace) -> int:
    from gkcrawl.parsing.pool import ParsePool

    try:
        settings = _project_settings(args.set)
    except ValueError as exc:
        print(f"gkcrawl parse: {exc}", file=sys.stderr)
        return EXIT_USAGE
    status = EXIT_OK
    several = len(args.files) > 1
    with ParsePool.from_settings(settings) as pool:
        pool.strict = pool.strict or args.strict
        for path in args.files:
            status = max(status, _parse_one(pool, path, args, several))
    return status


def _parse_one(pool: ParsePool, path: Path, args: argparse.Namespace, several: bool) -> int:
    """Print the report of one file (or why it is none, on standard error); its exit status."""
    from gkcrawl.parsing import NotAReport

    try:
        body = path.read_bytes()
    except OSError as exc:
        print(f"{path}: cannot read: {exc.strerror}", file=sys.stderr)
        return EXIT_NOT_A_REPORT
    ctype = mimetypes.guess_type(path.name)[0]
    result = pool.submit(body, ctype, args.url).result().result
    if isinstance(result, NotAReport):
        print(f"{path}: {result.reason}", file=sys.stderr)
        return EXIT_NOT_A_REPORT
    data = {"file": str(path), **result.to_dict()} if several else result.to_dict()
    indent = None if several or args.compact else 2
    print(json.dumps(data, ensure_ascii=False, indent=indent))
    return EXIT_OK


def _set_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--set", "-s", action="append", default=[], metavar="NAME=VALUE",
                        help=what)


def _project_settings(overrides: Sequence[str] = ()) -> Settings:
    """The project's settings with ``NAME=VALUE`` overrides (ValueError for a malformed one)."""
    from scrapy.settings import Settings

    settings = Settings()
    settings.setmodule("gkcrawl.settings", priority="project")
    for override in overrides:
        name, sep, value = override.partition("=")
        if not sep or not name:
            raise ValueError(f"a setting is NAME=VALUE, not {override!r}")
        settings.set(name, value, priority="cmdline")
    return settings


def _demo(args: argparse.Namespace) -> int:
    from gkcrawl.demo.run import main_demo

    return main_demo(args.dir)


def _store_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", help="a SQLite path or postgresql:// URL (default: the project "
                                        "settings STORE_URL / STORE_PATH / "
                                        "<ARCHIVE_DIR>/gkcrawl.sqlite3)")


def _store_target(args: argparse.Namespace) -> str:
    if args.store:
        return str(args.store)
    from gkcrawl.store import store_target

    return store_target(_project_settings())


def _quarantine(args: argparse.Namespace) -> int:
    from gkcrawl.outputs.quarantine import main_quarantine

    return main_quarantine(_store_target(args), args.json, include_resolved=args.all)


def _crawl(args: argparse.Namespace) -> int:
    from gkcrawl.crawl.runs import main_crawl

    return main_crawl(args.jobs_dir, args.resume, args.scrapy_args)


def _export(args: argparse.Namespace) -> int:
    from gkcrawl.outputs.export import main_export

    return main_export(_store_target(args), args.format, args.layout, args.output,
                       registry_path=args.registry)


def _stats(args: argparse.Namespace) -> int:
    from gkcrawl.outputs.stats import main_stats

    return main_stats(_store_target(args), args.html, registry=args.registry, years=args.years,
                      archive=args.archive, replay_url=args.replay_url)


def _replay(args: argparse.Namespace) -> int:
    from gkcrawl.replay.jobs import main_replay

    return main_replay(args.paths, jobs=args.jobs, store=args.store,
                       reparse_older_than=args.reparse_older_than, extra_settings=args.set)


def _verify(args: argparse.Namespace) -> int:
    from gkcrawl.archive.verify import main_verify

    return main_verify(args.paths)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
