"""CDXJ index lines, produced while writing and sorted into ``index.cdxj`` on close.

Output is meant to be identical to ``cdxj-indexer --sort`` over the same WARC files (the
tests compare them), so pywb/wabac and our own replay can share one index.  Lines are first
appended to a per-writer journal (bounded memory, survives in part after a crash) and merged
into the crawl's sorted ``index.cdxj`` when the writer closes.  The merge is an external sort
(sorted runs on disk, then a streaming k-way merge), so the crawler's memory does not grow with
the size of the crawl's index.
"""

from __future__ import annotations

import fcntl
import heapq
import json
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import IO

import surt
from warcio.timeutils import iso_date_to_timestamp

INDEX_NAME = "index.cdxj"
REVISIT_MIME = "warc/revisit"
#: Characters of index lines sorted in memory at a time (about 3x that in Python objects).
SORT_RUN_CHARS = 1 << 20
#: Sorted runs merged at once; more are merged in passes (open files stay well under ulimit).
MERGE_FAN_IN = 64
#: Text I/O buffer of each run file being merged.
RUN_BUFFER_BYTES = 1 << 16
#: cdxj-indexer keeps the media type up to the first ';' or whitespace.
_MIME_SPLIT = re.compile(r"[;\s]")


def url_key(url: str) -> str:
    """``surt.surt(url)``, the key cdxj-indexer writes, or the URL itself when surt fails."""
    try:
        return str(surt.surt(url))
    except Exception:  # noqa: BLE001 - cdxj-indexer's own fallback (a bare except)
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
    """One index line (with its newline) for a response or revisit record, as
    ``cdxj-indexer`` writes it."""
    fields: dict[str, str] = {"url": url}
    mime = REVISIT_MIME if is_revisit else _mime(content_type)
    if mime is not None:
        fields["mime"] = mime
    fields |= {"status": str(status), "digest": digest, "length": str(length),
               "offset": str(offset), "filename": filename}
    return f"{url_key(url)} {iso_date_to_timestamp(warc_date)} {json.dumps(fields)}\n"


class IndexJournal:
    """Unsorted index lines of one writer, flushed with each record pair. The writer holds an
    exclusive lock on it while it lives: a journal nobody holds is a killed writer's, merged by
    ``gkcrawl.archive.recover``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh = open(path, "x", encoding="utf-8")  # noqa: SIM115 - lives as long as the writer
        fcntl.flock(self._fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)

    def append(self, lines: Iterable[str]) -> None:
        self._fh.writelines(lines)
        self._fh.flush()

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.close()


def _lines(fh: IO[str]) -> Iterator[str]:
    """Every line of a text file opened with ``newline="\\n"``, each ending in a newline (a
    torn last line would otherwise be glued to the next line of the merge)."""
    for line in fh:
        yield line if line.endswith("\n") else line + "\n"


def _open_run(path: Path, mode: str) -> IO[str]:
    # newline="\n": a line is what cdxj_line wrote, split at "\n" only and never translated
    return open(  # the callers close it
        path, mode, encoding="utf-8", newline="\n", buffering=RUN_BUFFER_BYTES)


def _write_runs(sources: Iterable[Path], workdir: Path, run_chars: int) -> list[Path]:
    """Cut the lines of ``sources`` into sorted runs of at most ``run_chars`` characters each."""
    runs: list[Path] = []
    chunk: list[str] = []
    size = 0

    def flush() -> None:
        nonlocal chunk, size
        if not chunk:
            return
        chunk.sort()
        path = workdir / f"run-{len(runs):06d}"
        with _open_run(path, "w") as out:
            out.writelines(chunk)
        runs.append(path)
        chunk, size = [], 0

    for source in sources:
        with _open_run(source, "r") as fh:
            for line in _lines(fh):
                chunk.append(line)
                size += len(line)
                if size >= run_chars:
                    flush()
    flush()
    return runs


def _merge_runs(runs: list[Path], out: IO[str]) -> int:
    """Stream the sorted runs into ``out`` in order, each distinct line once; return the count."""
    count = 0
    last = None
    with ExitStack() as stack:
        files = [_lines(stack.enter_context(_open_run(run, "r"))) for run in runs]
        for line in heapq.merge(*files):
            if line != last:
                out.write(line)
                count += 1
            last = line
    return count


def sort_unique_into(sources: Iterable[Path], target: Path, *, run_chars: int = SORT_RUN_CHARS,
                     fan_in: int = MERGE_FAN_IN) -> int:
    """Write the lines of ``sources``, sorted and without duplicates, to ``target`` (fsynced);
    return the line count. Memory is bounded by ``run_chars``, whatever the input size: same
    output as ``sorted(set(lines))``, through sorted runs in a scratch directory beside
    ``target``."""
    if fan_in < 2:
        raise ValueError(f"fan_in must be at least 2, not {fan_in}")
    with tempfile.TemporaryDirectory(prefix=f".{target.name}.sort-", dir=target.parent) as tmp:
        workdir = Path(tmp)
        runs = _write_runs(sources, workdir, run_chars)
        passes = 0
        while len(runs) > fan_in:  # merge in passes so that few files are open at once
            merged: list[Path] = []
            for start in range(0, len(runs), fan_in):
                group = runs[start:start + fan_in]
                path = workdir / f"pass-{passes}-{len(merged):06d}"
                with _open_run(path, "w") as out:
                    _merge_runs(group, out)
                for run in group:
                    run.unlink()
                merged.append(path)
            runs, passes = merged, passes + 1
        with _open_run(target, "w") as out:
            count = _merge_runs(runs, out)
            out.flush()
            os.fsync(out.fileno())
    return count


def merge_into_index(index_path: Path, journal: Path) -> int:
    """Merge a journal into the sorted index (under a lock), delete it; return line count."""
    dir_fd = os.open(index_path.parent, os.O_RDONLY)  # lock the crawl dir: no lock file left
    try:
        fcntl.flock(dir_fd, fcntl.LOCK_EX)
        sources = [index_path, journal] if index_path.exists() else [journal]
        tmp = index_path.with_name(index_path.name + ".tmp")
        count = sort_unique_into(sources, tmp)
        os.replace(tmp, index_path)
        journal.unlink()
    finally:
        os.close(dir_fd)  # releases the lock
    return count
