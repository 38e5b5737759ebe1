"""Decompressed sizes, checked before anything inflates the document.

A DOCX is a zip package and a PDF keeps its text in Flate streams: a few MB of either can inflate
to gigabytes (a ``word/document.xml`` of zeros, a Flate bomb), which python-docx and pdfminer
would hold in memory whole. So before they run:

* a zip package's central directory is read (:func:`check_zip`): each entry's and all entries'
  inflated sizes (``file_size``) and each large entry's compression ratio. Python's zipfile never
  inflates an entry past the ``file_size`` it declares, so the declared sizes are what reading
  the package costs;
* every Flate stream of a PDF is inflated in bounded chunks and thrown away
  (:func:`check_pdf`), stopping as soon as one goes over the limit.

Over a limit, the document is :class:`Unreadable` with code ``parse_inflated``: it is
quarantined with the limit named, never inflated.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib

from gkcrawl.parsing.document import Unreadable

MiB = 1 << 20
#: Setting: bytes a document may inflate to (a zip package's entries together, or any one Flate
#: stream of a PDF). A report's ``document.xml`` is a few MB, a content stream less.
PARSE_MAX_INFLATED = 256 * MiB
#: The code of a document over PARSE_MAX_INFLATED.
PARSE_INFLATED = "parse_inflated"
#: Inflated/compressed ratio above which a zip entry is a bomb. WordprocessingML compresses
#: 5-20 times, a run of zeros 1000 times.
MAX_ZIP_RATIO = 200
#: Entries smaller than this inflated are not held to the ratio (a tiny file of spaces may
#: compress a thousand times and costs nothing).
RATIO_FROM_BYTES = 8 * MiB
#: Bytes inflated at a time while a Flate stream is measured.
INFLATE_CHUNK = 1 * MiB
#: The end of a stream's dictionary and its ``stream`` keyword: the stream's data follows.
_STREAM = re.compile(rb">>\s*stream(?:\r\n|\n|\r)")
_ENDSTREAM = b"endstream"
_FLATE = re.compile(rb"/Filter\s*(?:\[\s*)?/(?:FlateDecode|Fl)\b")
_OBJ = re.compile(rb"\bobj\b")
#: How far before its ``stream`` keyword a stream's dictionary may start (after ``N 0 obj``).
DICT_WINDOW = 4096


def over_limit(what: str, limit: int, size: int | None = None) -> Unreadable:
    """The failure of a document (or part) ``what`` that inflates to ``size`` bytes (when known;
    else to more than ``limit``)."""
    inflated = _mib(size) if size is not None else f"more than {_mib(limit)}"
    return Unreadable(PARSE_INFLATED, f"{what} inflates to {inflated}, over the "
                                      f"PARSE_MAX_INFLATED limit of {_mib(limit)}",
                      over_limit=limit)


def check_zip(body: bytes, limit: int) -> None:
    """Raise Unreadable if the zip package in ``body`` inflates past ``limit`` (from its central
    directory; nothing is inflated). A broken package passes: its reader says what is wrong."""
    try:
        with zipfile.ZipFile(io.BytesIO(body)) as package:
            entries = package.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError, OSError):
        return
    total = 0
    for entry in entries:
        total += entry.file_size
        if total > limit:
            raise over_limit(f"DOCX package ({len(entries)} parts)", limit,
                             sum(e.file_size for e in entries))
        if (entry.file_size >= RATIO_FROM_BYTES
                and entry.file_size > MAX_ZIP_RATIO * max(entry.compress_size, 1)):
            ratio = entry.file_size // max(entry.compress_size, 1)
            raise Unreadable(
                PARSE_INFLATED,
                f"DOCX part {entry.filename} inflates {ratio} times "
                f"({_mib(entry.compress_size)} to {_mib(entry.file_size)}), over the "
                f"{MAX_ZIP_RATIO} times a document compresses (a zip bomb)", over_limit=limit)


def check_pdf(body: bytes, limit: int) -> None:
    """Raise Unreadable if one Flate stream of the PDF in ``body`` inflates past ``limit``.

    Streams are found by their ``stream`` keyword, with ``/FlateDecode`` in the dictionary
    before it; each is inflated ``INFLATE_CHUNK`` bytes at a time and the output dropped, so
    the check holds one chunk at a time. A stream that is not valid zlib data (encrypted, or
    filtered by something else first) is left to pdfminer."""
    for match in _STREAM.finditer(body):
        start = match.start()
        window = body[max(0, start - DICT_WINDOW):start]
        objects = list(_OBJ.finditer(window))
        head = window[objects[-1].end():] if objects else window
        if not _FLATE.search(head):
            continue
        data_end = body.find(_ENDSTREAM, match.end())
        data = memoryview(body)[match.end():data_end if data_end >= 0 else len(body)]
        if inflated_size(data, limit) > limit:
            raise over_limit(f"the PDF stream at byte {match.end()}", limit)


def inflated_size(data: bytes | memoryview, limit: int) -> int:
    """Bytes the zlib stream ``data`` inflates to, counted up to just past ``limit``."""
    inflater = zlib.decompressobj()
    size = 0
    pending: bytes | memoryview = data
    try:
        while pending and size <= limit and not inflater.eof:
            size += len(inflater.decompress(pending, INFLATE_CHUNK))
            pending = inflater.unconsumed_tail
    except zlib.error:
        pass  # damaged or not zlib: what inflated so far is counted
    return size


def _mib(size: int) -> str:
    return f"{size / MiB:.1f} MiB" if size >= MiB else f"{size} bytes"
