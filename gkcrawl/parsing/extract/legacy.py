"""Legacy Word attachments (``.doc``, ``.wps``: OLE2 compound files) -> :class:`Document`.

Python has no reader for the binary Word format, so an external tool does the work, the first
of :data:`CONVERTERS` found on PATH (looked up at call time), falling back to the next when one
fails:

1. LibreOffice converts to DOCX, read by :func:`extract_docx`: tables and merged cells survive.
2. wvHtml (Debian's ``wv``) converts to HTML with ``rowspan``/``colspan``, read by
   :func:`extract_html`; it starts in milliseconds where LibreOffice takes a second or more.
3. antiword gives plain text with ``|``-separated table rows, read by the text extractor. It
   drops the cells of tables with vertically merged cells (table 2 of both templates): the rows
   it loses are flagged ``row not found`` by the mapper, never guessed.

Without any of them the file is reported unsupported, not silently skipped. A converter runs in
a process group of its own, which :func:`stop_converters` ends: a parse worker stopped for its
time limit ends the conversion with it (gkcrawl.parsing.pool).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gkcrawl.parsing.document import Document, Unreadable
from gkcrawl.parsing.extract.docx import extract_docx
from gkcrawl.parsing.extract.inflate import PARSE_MAX_INFLATED, over_limit

KIND = "doc"

#: Seconds one conversion may take (LibreOffice starts a whole office suite per call).
CONVERT_TIMEOUT_SECONDS = 120
#: antiword options: UTF-8 output (Chinese), one paragraph per line.
ANTIWORD_ARGS = ("-m", "UTF-8.txt", "-w", "0")
#: wvHtml's output encoding (it writes the matching ``<meta charset>``).
WVHTML_CHARSET = "utf-8"
#: Zip magic: a ``.doc`` that is really a DOCX (renamed by the CMS) needs no conversion.
ZIP_MAGIC = b"PK\x03\x04"
#: Longest tool stderr quoted in an Unreadable reason.
MAX_REASON_CHARS = 200

NO_TOOL_REASON = ("legacy Word file (.doc/.wps) needs LibreOffice, wvHtml or antiword, "
                  "none is installed")


@dataclass(frozen=True)
class Converter:
    """An external reader of legacy Word files: its name (``Document.meta["converter"]``), the
    executables it may be installed as, and how its output becomes a :class:`Document`."""

    name: str
    executables: tuple[str, ...]
    #: (executable, source file, PARSE_MAX_INFLATED) -> the converted document
    convert: Callable[[str, Path, int], Document]

    def find(self) -> str | None:
        """The converter's executable on PATH, if installed."""
        return next((path for name in self.executables if (path := shutil.which(name))), None)


def extract_legacy(body: bytes, suffix: str, max_inflated: int = PARSE_MAX_INFLATED) -> Document:
    """Convert a ``.doc``/``.wps`` body with the first converter that succeeds, and extract it.
    A converter's output larger than ``max_inflated`` bytes is refused unread."""
    if body.startswith(ZIP_MAGIC):
        return extract_docx(body, max_inflated)
    # the suffix only names the temp file (LibreOffice picks its import filter by it)
    suffix = "." + ("".join(ch for ch in suffix.lower() if ch.isascii() and ch.isalnum()) or "doc")
    found = [(converter, path) for converter in CONVERTERS if (path := converter.find())]
    if not found:
        raise Unreadable("unsupported_format", NO_TOOL_REASON)
    failure: Unreadable | None = None
    for converter, executable in found:
        # a directory of its own for every attempt: nothing one tool leaves confuses the next
        with tempfile.TemporaryDirectory(prefix="gkcrawl-legacy-") as tmp:
            source = Path(tmp) / f"input{suffix}"
            source.write_bytes(body)
            try:
                document = converter.convert(executable, source, max_inflated)
            except Unreadable as exc:
                failure = exc  # try the next tool; report the last failure
                continue
        document.kind = KIND
        document.meta["converter"] = converter.name
        return document
    raise failure or Unreadable("corrupt", "legacy Word file could not be converted")


def _with_soffice(executable: str, source: Path, max_inflated: int) -> Document:
    outdir = source.parent / "out"
    profile = source.parent / "profile"  # a private profile: concurrent runs do not lock each other
    _run(
        [
            executable,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            "docx",
            "--outdir",
            str(outdir),
            str(source),
        ],
        "LibreOffice",
        source.parent,
    )
    converted = outdir / f"{source.stem}.docx"
    if not converted.is_file():
        raise Unreadable("corrupt", "LibreOffice could not convert the legacy Word file")
    return extract_docx(converted.read_bytes(), max_inflated)


def _with_wvhtml(executable: str, source: Path, max_inflated: int) -> Document:
    from gkcrawl.parsing.extract.html import extract_html  # only needed here

    outdir = source.parent / "out"  # the page, and any images it links
    outdir.mkdir()
    page = f"{source.stem}.html"
    _run([executable, f"--charset={WVHTML_CHARSET}", f"--targetdir={outdir}", str(source), page],
         "wvHtml", source.parent)
    converted = outdir / page
    if converted.is_file() and converted.stat().st_size > max_inflated:
        raise over_limit("wvHtml's conversion", max_inflated, converted.stat().st_size)
    html = converted.read_bytes().decode(WVHTML_CHARSET, "replace") if converted.is_file() else ""
    if not html.strip():
        raise Unreadable("corrupt", "wvHtml could not convert the legacy Word file")
    return extract_html(html)


def _with_antiword(executable: str, source: Path, max_inflated: int) -> Document:
    from gkcrawl.parsing.extract.text import extract_text  # only needed here

    output = _run([executable, *ANTIWORD_ARGS, str(source)], "antiword", source.parent)
    if len(output) > max_inflated:
        raise over_limit("antiword's conversion", max_inflated, len(output))
    text = output.decode("utf-8", errors="replace")
    if not text.strip():
        raise Unreadable("corrupt", "antiword found no text in the legacy Word file")
    return extract_text(text)


#: The converters, best first (see the module's docstring).
CONVERTERS = (
    Converter("libreoffice", ("soffice", "libreoffice"), _with_soffice),
    Converter("wvhtml", ("wvHtml",), _with_wvhtml),
    Converter("antiword", ("antiword",), _with_antiword),
)


#: Process groups of the converters running in this process (see :func:`stop_converters`).
_RUNNING: set[int] = set()


def stop_converters() -> None:
    """Kill the converters this process is running, with every helper they started."""
    for group in list(_RUNNING):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)


def _run(args: list[str], tool: str, workdir: Path) -> bytes:
    """Run a converter in ``workdir`` (also its HOME: soffice writes below it), in its own
    process group, so that a timeout also ends the office helpers."""
    env = dict(os.environ, HOME=str(workdir))
    try:
        proc = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=workdir,
            start_new_session=True,
        )
    except OSError as exc:
        raise Unreadable("corrupt", f"{tool} could not be run ({exc})"[:MAX_REASON_CHARS]) from exc
    _RUNNING.add(proc.pid)  # its process group (start_new_session)
    with proc:
        try:
            stdout, stderr = proc.communicate(timeout=CONVERT_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired as exc:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise Unreadable(
                "corrupt", f"{tool} timed out after {CONVERT_TIMEOUT_SECONDS}s"
            ) from exc
        finally:
            _RUNNING.discard(proc.pid)
    if proc.returncode != 0:
        detail = " ".join(stderr.decode("utf-8", errors="replace").split())
        raise Unreadable(
            "corrupt", f"{tool} failed (exit {proc.returncode}): {detail}"[:MAX_REASON_CHARS]
        )
    return stdout
