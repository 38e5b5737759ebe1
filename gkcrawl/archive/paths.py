"""Turn user-given WARC locations (files, directories, globs) into an ordered file list."""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable
from pathlib import Path

#: Suffix of a WARC file still being written (renamed away on a clean close).
OPEN_SUFFIX = ".open"
WARC_SUFFIXES = (".warc.gz", ".warc.gz" + OPEN_SUFFIX, ".warc")
_GLOB_CHARS = frozenset("*?[")


def is_open_file(path: str | Path) -> bool:
    """True for a ``.warc.gz.open`` file: the crawl that wrote it did not close it."""
    return str(path).endswith(OPEN_SUFFIX)


def expand_warc_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given, directories walked for ``*.warc.gz[.open]``, globs expanded.

    Sorted within each argument (file names carry timestamp and serial, so this is write
    order) and de-duplicated; a path that matches nothing raises ``FileNotFoundError``.
    """
    result: list[Path] = []
    seen: set[Path] = set()
    for raw in paths:
        text = os.fspath(raw)
        if _GLOB_CHARS & set(text):
            matches = sorted(Path(p) for p in glob.glob(text, recursive=True))
            found = [p for m in matches for p in (_walk(m) if m.is_dir() else [m])]
        elif Path(text).is_dir():
            found = _walk(Path(text))
        elif Path(text).exists():
            found = [Path(text)]
        else:
            found = []
        if not found:
            raise FileNotFoundError(f"no WARC files at {text}")
        for path in found:
            key = path.resolve()
            if key not in seen:
                seen.add(key)
                result.append(path)
    return result


def _walk(directory: Path) -> list[Path]:
    return sorted(
        Path(root) / name
        for root, _dirs, files in os.walk(directory)
        for name in files
        if name.endswith(WARC_SUFFIXES)
    )
