"""The ``gkcrawl`` command: the parts of the tool that are not a Scrapy crawl.

``gkcrawl parse FILE...`` prints one JSON object for one file, JSON Lines for several; a file that
is not a report, or cannot be read, makes the exit status non-zero and prints a one-line reason.
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import sys
from pathlib import Path
from typing import Sequence

from . import __version__

EXIT_OK, EXIT_NOT_A_REPORT, EXIT_USAGE = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gkcrawl", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"gkcrawl {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    parse = commands.add_parser("parse", help="parse report files into JSON")
    parse.add_argument("files", nargs="+", type=Path)
    parse.add_argument("--url", help="the URL the file came from (helps organ resolution)")
    parse.add_argument("--compact", action="store_true", help="one line per report")
    parse.set_defaults(run=_parse)

    verify = commands.add_parser("verify", help="check WARC files: gzip members, framing, digests")
    verify.add_argument("paths", nargs="+", help="WARC files or directories")
    verify.set_defaults(run=_verify)

    args = parser.parse_args(argv)
    return args.run(args)


def _parse(args: argparse.Namespace) -> int:
    from .parsing import parse_document

    status = EXIT_OK
    several = len(args.files) > 1
    for path in args.files:
        try:
            body = path.read_bytes()
        except OSError as exc:
            print(f"{path}: cannot read: {exc.strerror}", file=sys.stderr)
            status = EXIT_NOT_A_REPORT
            continue
        ctype = mimetypes.guess_type(path.name)[0]
        result = parse_document(body, ctype, args.url)
        if not result.ok:
            print(f"{path}: {result.reason}", file=sys.stderr)
            status = EXIT_NOT_A_REPORT
            continue
        data = {"file": str(path), **result.to_dict()} if several else result.to_dict()
        indent = None if several or args.compact else 2
        print(json.dumps(data, ensure_ascii=False, indent=indent))
    return status


def _verify(args: argparse.Namespace) -> int:
    from .archive.verify import main_verify

    return main_verify(args.paths)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
