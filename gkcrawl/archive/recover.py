"""Recovery of what a killed writer left in a crawl directory, as Heritrix does on restart.

A writer holds an exclusive lock (``flock``) on the ``.warc.gz.open`` file it writes; the kernel
drops the lock when the process dies, however it dies. A ``.open`` file nobody holds is
therefore a killed writer's: it is cut back to the end of its last whole gzip member whose
records parse, renamed to its final name (so every WARC pointer handed out for it names a file
that exists), and its records are indexed from the file itself. Index journals a killed writer
never merged (a live writer locks its own) are merged into ``index.cdxj``. Recovery runs when a
writer starts in the directory and when a resumed crawl reads it, and does nothing the second
time.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from gkcrawl.archive.cdxj import INDEX_NAME, IndexJournal, cdxj_line, merge_into_index
from gkcrawl.archive.framing import FramingError, iter_members, parse_records
from gkcrawl.archive.paths import OPEN_SUFFIX
from gkcrawl.archive.records import parse_http_head

logger = logging.getLogger(__name__)

#: Names of a writer's index journal in its crawl directory (``cdxj.IndexJournal``).
JOURNAL_GLOB = f".{INDEX_NAME}.*.part"
INDEXED_TYPES = ("response", "revisit")
#: An empty ``.open`` file younger than this may be a writer that has not locked it yet.
STARTING_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class Recovered:
    """One file a killed writer left: where it is now and what was cut off its end."""

    path: Path
    records: int
    cut_bytes: int


def lock_exclusively(fd: int) -> bool:
    """Take the writer's lock on an open file; False when another process holds it."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def recover(crawl_dir: Path) -> list[Recovered]:
    """Close every ``.warc.gz.open`` file of ``crawl_dir`` that no live writer holds, and merge
    the index journals left behind; what was recovered."""
    if not crawl_dir.is_dir():
        return []
    recovered = []
    journal_path = crawl_dir / f".{INDEX_NAME}.recovered-{os.getpid()}.part"
    journal: IndexJournal | None = None
    for open_path in sorted(crawl_dir.glob(f"*.warc.gz{OPEN_SUFFIX}")):
        with open(open_path, "r+b") as fh:
            if not lock_exclusively(fh.fileno()):
                continue  # a live writer's file
            size = os.fstat(fh.fileno()).st_size
            if size == 0 and time.time() - os.fstat(fh.fileno()).st_mtime < STARTING_SECONDS:
                continue  # a writer between creating its file and locking it
            end, lines = _whole_records(fh, open_path.name.removesuffix(OPEN_SUFFIX))
            fh.truncate(end)
            fh.flush()
            os.fsync(fh.fileno())
        if not lines and end == 0:
            open_path.unlink()  # not even a warcinfo record was written
            continue
        final = open_path.with_name(open_path.name.removesuffix(OPEN_SUFFIX))
        os.rename(open_path, final)
        if lines:
            journal = journal or IndexJournal(journal_path)
            journal.append(lines)
        recovered.append(Recovered(final, len(lines), size - end))
        logger.warning("Recovered %s from a writer that did not close it: %d bytes cut off its "
                       "end", final, size - end)
    if journal is not None:
        journal.close()
    for left in sorted(crawl_dir.glob(JOURNAL_GLOB)):
        with open(left, "rb") as fh:
            if lock_exclusively(fh.fileno()):  # not a live writer's
                merge_into_index(crawl_dir / INDEX_NAME, left)
    return recovered


def _whole_records(fh: BinaryIO, name: str) -> tuple[int, list[str]]:
    """The end of the last whole gzip member (whose records parse) from the start of the file,
    and an index line for each response or revisit record up to it."""
    end = 0
    lines: list[str] = []
    fh.seek(0)
    for member in iter_members(fh):
        if member.error is not None:
            break
        try:
            records = parse_records(member.data, member.offset, member.length)
        except FramingError:
            break
        end = member.offset + member.length
        for record in records:
            if record.rec_type not in INDEXED_TYPES:
                continue
            head = parse_http_head(record.block)
            _, status, _ = head.status_parts()
            lines.append(cdxj_line(
                url=record.get("WARC-Target-URI") or "", warc_date=record.get("WARC-Date") or "",
                status=status, digest=record.get("WARC-Payload-Digest") or "",
                offset=record.offset, length=record.length, filename=name,
                content_type=head.get(b"Content-Type"), is_revisit=record.rec_type == "revisit"))
    return end, lines
