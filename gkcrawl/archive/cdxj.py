"""CDXJ index lines, produced while writing and sorted into ``index.cdxj`` on close.

Output is meant to be identical to ``cdxj-indexer --sort`` over the same WARC files (the
tests compare them), so pywb/wabac and our own replay can share one index.  Lines are first
appended to a per-writer journal (bounded memory, survives in part after a crash) and merged
into the crawl's sorted ``index.cdxj`` when the writer closes.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import surt
from warcio.timeutils import iso_date_to_timestamp

INDEX_NAME = "index.cdxj"
REVISIT_MIME = "warc/revisit"
#: cdxj-indexer keeps the media type up to the first ';' or whitespace.
_MIME_SPLIT = re.compile(r"[;\s]")


def url_key(url: str) -> str:
    """SURT key, falling back to the URL exactly as cdxj-indexer does."""
    try:
        return str(surt.surt(url))
    except Exception:  # noqa: BLE001 - mirror cdxj-indexer's bare `except:` fallback
        return url


def _mime(content_type: bytes | None) -> str | None:
    if content_type is None:
        return None
    try:
        text = content_type.decode("utf-8")
    except UnicodeDecodeError:  # warcio's header decoding fallback
        text = content_type.decode("iso-8859-1")
    return _MIME_SPLIT.split(text.strip(), maxsplit=1)[0].strip()


def cdxj_line(
    *,
    url: str,
    warc_date: str,
    status: int,
    digest: str,
    offset: int,
    length: int,
    filename: str,
    content_type: bytes | None,
    is_revisit: bool,
) -> str:
    """One index line (with its newline) for a response or revisit record."""
    fields: dict[str, str] = {"url": url}
    mime = REVISIT_MIME if is_revisit else _mime(content_type)
    if mime is not None:
        fields["mime"] = mime
    fields.update(
        status=str(status), digest=digest, length=str(length), offset=str(offset),
        filename=filename,
    )
    return f"{url_key(url)} {iso_date_to_timestamp(warc_date)} {json.dumps(fields)}\n"


class IndexJournal:
    """Unsorted index lines of one writer session, flushed with each record pair."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh = open(path, "x", encoding="utf-8")  # noqa: SIM115 - lives as long as the writer

    def append(self, lines: Iterable[str]) -> None:
        self._fh.writelines(lines)
        self._fh.flush()

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.close()


def _sorted_unique(lines: Iterable[str]) -> Iterator[str]:
    last = None
    for line in sorted(lines):
        if line != last:
            yield line
        last = line


def merge_into_index(index_path: Path, journal: Path) -> int:
    """Merge a journal into the sorted index (under a lock), delete it; return line count."""
    dir_fd = os.open(index_path.parent, os.O_RDONLY)  # lock the crawl dir: no lock file left
    try:
        fcntl.flock(dir_fd, fcntl.LOCK_EX)
        lines: list[str] = []
        if index_path.exists():
            lines.extend(index_path.read_text(encoding="utf-8").splitlines(keepends=True))
        lines.extend(journal.read_text(encoding="utf-8").splitlines(keepends=True))
        tmp = index_path.with_name(index_path.name + ".tmp")
        count = 0
        with open(tmp, "w", encoding="utf-8") as out:
            for line in _sorted_unique(lines):
                out.write(line)
                count += 1
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, index_path)
        journal.unlink()
    finally:
        os.close(dir_fd)  # releases the lock
    return count
