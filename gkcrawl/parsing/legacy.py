"""Legacy Word attachments (``.doc``, ``.wps``: OLE2 compound files) -> :class:`Document`.

Python has no reader for the binary Word format, so an external tool does the work: LibreOffice
converts to DOCX (tables and merged cells survive, read by :func:`extract_docx`); antiword is the
fallback and gives plain text with ``|``-separated table rows, read by the text extractor. The
tools are looked up on PATH at call time; without either the file is reported unsupported, not
silently skipped.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from gkcrawl.parsing.document import Document, Unreadable
from gkcrawl.parsing.docx import extract_docx

KIND = "doc"

#: Seconds one conversion may take (LibreOffice starts a whole office suite per call).
CONVERT_TIMEOUT_SECONDS = 120
#: LibreOffice executables, in order of preference.
SOFFICE_NAMES = ("soffice", "libreoffice")
ANTIWORD = "antiword"
#: antiword options: UTF-8 output (Chinese), one paragraph per line.
ANTIWORD_ARGS = ("-m", "UTF-8.txt", "-w", "0")
#: Zip magic: a ``.doc`` that is really a DOCX (renamed by the CMS) needs no conversion.
ZIP_MAGIC = b"PK\x03\x04"
#: Longest tool stderr quoted in an Unreadable reason.
MAX_REASON_CHARS = 200

NO_TOOL_REASON = "legacy Word file (.doc/.wps) needs LibreOffice or antiword, neither is installed"


def extract_legacy(body: bytes, suffix: str) -> Document:
    """Convert a ``.doc``/``.wps`` body with LibreOffice, else antiword, and extract it."""
    if body.startswith(ZIP_MAGIC):
        return extract_docx(body)
    # the suffix only names the temp file (LibreOffice picks its import filter by it)
    suffix = "." + ("".join(ch for ch in suffix.lower() if ch.isascii() and ch.isalnum()) or "doc")
    converters: list[tuple[str, Callable[[str, Path], Document]]] = []
    soffice = next((path for name in SOFFICE_NAMES if (path := shutil.which(name))), None)
    if soffice:
        converters.append((soffice, _with_soffice))
    antiword = shutil.which(ANTIWORD)
    if antiword:
        converters.append((antiword, _with_antiword))
    if not converters:
        raise Unreadable("unsupported_format", NO_TOOL_REASON)
    failure: Unreadable | None = None
    with tempfile.TemporaryDirectory(prefix="gkcrawl-legacy-") as tmp:
        source = Path(tmp) / f"input{suffix}"
        source.write_bytes(body)
        for executable, convert in converters:
            try:
                document = convert(executable, source)
            except Unreadable as exc:
                failure = exc  # try the next tool; report the last failure
                continue
            document.kind = KIND
            return document
    raise failure or Unreadable("corrupt", "legacy Word file could not be converted")


def _with_soffice(executable: str, source: Path) -> Document:
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
    )
    converted = outdir / f"{source.stem}.docx"
    if not converted.is_file():
        raise Unreadable("corrupt", "LibreOffice could not convert the legacy Word file")
    document = extract_docx(converted.read_bytes())
    document.meta["converter"] = "libreoffice"
    return document


def _with_antiword(executable: str, source: Path) -> Document:
    from gkcrawl.parsing.text import extract_text  # the text extractor is only needed here

    output = _run([executable, *ANTIWORD_ARGS, str(source)], "antiword")
    text = output.decode("utf-8", errors="replace")
    if not text.strip():
        raise Unreadable("corrupt", "antiword found no text in the legacy Word file")
    document = extract_text(text)
    document.meta["converter"] = "antiword"
    return document


def _run(args: list[str], tool: str) -> bytes:
    """Run a converter in its own process group, so a timeout also ends the office helpers."""
    env = dict(os.environ, HOME=str(Path(args[-1]).parent))  # soffice writes below $HOME
    try:
        proc = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True
        )
    except OSError as exc:
        raise Unreadable("corrupt", f"{tool} could not be run ({exc})"[:MAX_REASON_CHARS]) from exc
    with proc:
        try:
            stdout, stderr = proc.communicate(timeout=CONVERT_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired as exc:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise Unreadable(
                "corrupt", f"{tool} timed out after {CONVERT_TIMEOUT_SECONDS}s"
            ) from exc
    if proc.returncode != 0:
        detail = " ".join(stderr.decode("utf-8", errors="replace").split())
        raise Unreadable(
            "corrupt", f"{tool} failed (exit {proc.returncode}): {detail}"[:MAX_REASON_CHARS]
        )
    return stdout
