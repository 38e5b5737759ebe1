"""CDXJ index lines, produced while writing and sorted into ``index.cdxj`` on close.

Output is meant to be identical to ``cdxj-indexer --sort`` over the same WARC files (the
tests compare them), so pywb/wabac and our own replay can share one index.  Lines are first
appended to a per-writer journal (bounded memory, survives in part after a crash) and merged
into the crawl's sorted ``index.cdxj`` when the writer closes.  The merge is an external sort
(sorted runs on disk, then a streaming k-way merge): reading the whole index into a list would
make the crawler's peak memory grow with the crawl (13.7 MiB at 20,000 pages), at its very end.
"""

from __future__ import annotations

import fcntl
import heapq
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from json.encoder import encode_basestring_ascii as _json_str
from pathlib import Path
from typing import IO

import surt
from surt.GoogleURLCanonicalizer import escapeOnce, minimalEscape, normalizePath, unescapeRepeatedly
from surt.IAURLCanonicalizer import alphaReorderQuery
from surt.URLRegexTransformer import stripPathSessionID, stripQuerySessionID
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
#: A WARC-Date as this writer formats it: its 14-digit timestamp is the digits up to the seconds.
_OWN_DATE = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.\d{1,6})?Z")
#: URLs whose SURT key :func:`url_key` computes in parts: http(s), a host of letters, digits, dots
#: and hyphens with an optional numeric port (no user info, no IPv6 literal), then path, query and
#: fragment of printable ASCII (no space or control character, which surt would strip or remove).
#: The groups split the URL where surt's own parser (``handyurl.urlsplit``) splits it.
_PLAIN_URL = re.compile(r"(https?://[A-Za-z0-9.-]+(?::[0-9]+)?)"  # origin
                        r"(/[\x21\x22\x24-\x3e\x40-\x7e]*)?"   # path: no '#' or '?'
                        r"(?:\?([\x21\x22\x24-\x7e]*))?"         # query: no '#'
                        r"(?:#[\x21-\x7e]*)?")                    # fragment (dropped)
#: Origins remembered with their SURT host part (``"cn,gov,example)"``; None: use surt whole).
ORIGIN_CACHE_SIZE = 4096
_origin_keys: dict[str, bytes | None] = {}


def _surt_or_url(url: str) -> str:
    """SURT key, falling back to the URL exactly as cdxj-indexer does."""
    try:
        return str(surt.surt(url))
    except Exception:  # noqa: BLE001 - mirror cdxj-indexer's bare `except:` fallback
        return url


def _origin_key(origin: str) -> bytes | None:
    """The host part of the SURT key of every URL of ``origin`` (``scheme://host[:port]``), up
    to and including its ``)``: surt's own key of ``origin/``, less the path ``/``. None when
    that key has no host part (a host that canonicalises to nothing) or surt fails."""
    key = _origin_keys.get(origin)
    if key is None and origin not in _origin_keys:
        try:
            whole = surt.surt(origin + "/")
        except Exception:  # noqa: BLE001 - such URLs go to surt (and its fallback) whole
            whole = ""
        key = whole[:-1].encode("ascii") if whole.endswith(")/") else None
        if len(_origin_keys) >= ORIGIN_CACHE_SIZE:
            _origin_keys.clear()
        _origin_keys[origin] = key
    return key


def url_key(url: str) -> str:
    """``surt.surt(url)``, the key cdxj-indexer writes, or the URL itself when surt fails.

    surt parses the URL and canonicalises its host on every call, and the host's canonical form
    costs the most (IP address forms are even resolved). For a plain http(s) URL
    (:data:`_PLAIN_URL`) the host part of the key is therefore taken from a cache of origins,
    and the path and query go through the same steps of surt's own canonicalisers as in
    ``surt.surt`` (``DefaultIAURLCanonicalizer``: Google's, then the Internet Archive's, with
    their defaults). Other URLs go to ``surt.surt`` whole. tests/archive/test_surt.py checks that
    the keys are identical.
    """
    match = _PLAIN_URL.fullmatch(url)
    if match is None:
        return _surt_or_url(url)
    origin, path, query = match.groups()
    host = _origin_key(origin)
    if host is None:
        return _surt_or_url(url)
    # GoogleURLCanonicalizer.canonicalize (the host is done); the fragment is dropped
    raw_path = escapeOnce(normalizePath(unescapeRepeatedly(path.encode("ascii")))) if path else b"/"
    query_bytes = minimalEscape(query.encode("ascii")) if query else None
    # IAURLCanonicalizer.canonicalize, its defaults: lowercase, session ids out, no trailing
    # slash, query arguments sorted, an empty query dropped
    raw_path = stripPathSessionID(raw_path.lower())
    if len(raw_path) > 1 and raw_path.endswith(b"/"):
        raw_path = raw_path[:-1]
    if query_bytes:
        query_bytes = alphaReorderQuery(stripQuerySessionID(query_bytes).lower()) or None
    # handyurl.geturl_bytes(surt=True, with_scheme=False)
    key = host + raw_path if query_bytes is None else host + raw_path + b"?" + query_bytes
    return key.decode("utf-8")


def timestamp14(warc_date: str) -> str:
    """``iso_date_to_timestamp`` (warcio, what cdxj-indexer uses), without building a datetime
    for the dates this writer produces."""
    match = _OWN_DATE.fullmatch(warc_date)
    return "".join(match.groups()) if match else iso_date_to_timestamp(warc_date)


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
    """One index line (with its newline) for a response or revisit record.

    The JSON block is what ``json.dumps`` makes of ``{"url", "mime"?, "status", "digest",
    "length", "offset", "filename"}``, formatted directly (a line is written per response).
    """
    mime = REVISIT_MIME if is_revisit else _mime(content_type)
    mime_field = f' "mime": {_json_str(mime)},' if mime is not None else ""
    block = (f'{{"url": {_json_str(url)},{mime_field} "status": "{status}", '
             f'"digest": {_json_str(digest)}, "length": "{length}", "offset": "{offset}", '
             f'"filename": {_json_str(filename)}}}')
    return f"{url_key(url)} {timestamp14(warc_date)} {block}\n"


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


def _lines(fh: IO[str]) -> Iterator[str]:
    """Every line of a text file opened with ``newline="\\n"``, each ending in a newline (a
    torn last line would otherwise be glued to the next line of the merge)."""
    for line in fh:
        yield line if line.endswith("\n") else line + "\n"


def _open_run(path: Path, mode: str) -> IO[str]:
    # newline="\n": a line is what cdxj_line wrote, split at "\n" only and never translated
    return open(  # noqa: SIM115 - the callers close it
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
