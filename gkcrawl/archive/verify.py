"""Integrity check for WARC files: gzip members, record framing, block and payload digests.

Neither ``warcio check`` nor ``gzip -t`` alone is enough (warcio passes a file whose last
gzip member is cut off; gzip cannot see digests), so this walks every member itself (see
``framing``) and re-computes the digests.  ``.warc.gz.open`` files are reported as
incomplete, but their complete records are still checked.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from gkcrawl.archive.digests import digest_matches
from gkcrawl.archive.framing import Damage, WarcRecord, iter_file
from gkcrawl.archive.paths import expand_warc_paths, is_open_file
from gkcrawl.archive.records import parse_http_head

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2
KNOWN_VERSIONS = ("WARC/1.0", "WARC/1.1")
REQUIRED_HEADERS = ("WARC-Type", "WARC-Record-ID", "WARC-Date")
HTTP_BLOCK_TYPE = "application/http"
INCOMPLETE_NOTE = "incomplete (crawl did not close it)"


@dataclass(frozen=True, slots=True)
class Problem:
    offset: int
    message: str


@dataclass
class FileReport:
    """Outcome for one file; ``ok`` means no error (an incomplete file can still be ok)."""

    path: Path
    incomplete: bool
    record_types: Counter[str] = field(default_factory=Counter)
    errors: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def records(self) -> int:
        return sum(self.record_types.values())

    @property
    def ok(self) -> bool:
        return not self.errors

    def lines(self) -> list[str]:
        kinds = ", ".join(f"{n} {t}" for t, n in sorted(self.record_types.items()))
        status = "FAIL" if self.errors else ("INCOMPLETE" if self.incomplete else "OK")
        out = [f"{status:<10} {self.path}  ({self.records} records: {kinds or 'none'})"]
        out += [f"    error at offset {p.offset}: {p.message}" for p in self.errors]
        out += [f"    note: {note}" for note in self.notes]
        return out


@dataclass
class VerifyReport:
    """All files; ``ok`` is False on any error or any unclosed (``.open``) file."""

    files: list[FileReport] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(f.ok and not f.incomplete for f in self.files)

    def lines(self) -> list[str]:
        out = [line for report in self.files for line in report.lines()]
        failed = sum(1 for f in self.files if f.errors)
        incomplete = sum(1 for f in self.files if f.incomplete)
        records = sum(f.records for f in self.files)
        verdict = "all OK" if self.ok else f"{failed} with errors, {incomplete} incomplete"
        out.append(f"{len(self.files)} files, {records} records: {verdict}")
        return out


def _check_record(record: WarcRecord, report: FileReport) -> None:
    def error(message: str) -> None:
        report.errors.append(Problem(record.offset, f"{record.rec_type or '?'}: {message}"))

    if record.version not in KNOWN_VERSIONS:
        error(f"unknown version {record.version!r}")
    for name in REQUIRED_HEADERS:
        if not record.get(name):
            error(f"missing {name}")
    block_digest = record.get("WARC-Block-Digest")
    if block_digest and not digest_matches(block_digest, record.block):
        error("block digest failed")
    payload_digest = record.get("WARC-Payload-Digest")
    if record.rec_type == "revisit":
        if not payload_digest:
            error("revisit without WARC-Payload-Digest")
        return
    if payload_digest:
        payload = record.block
        if (record.get("Content-Type") or "").startswith(HTTP_BLOCK_TYPE):
            payload = record.block[parse_http_head(record.block).body_offset :]
        if not digest_matches(payload_digest, payload):
            error("payload digest failed")


def verify_file(path: str | Path) -> FileReport:
    """Check one file."""
    path = Path(path)
    report = FileReport(path, incomplete=is_open_file(path))
    if report.incomplete:
        report.notes.append(INCOMPLETE_NOTE)
    if path.stat().st_size == 0:
        if report.incomplete:
            report.notes.append("empty file")
        else:
            report.errors.append(Problem(0, "empty file"))
        return report
    shared_members: set[int] = set()
    first = True
    for item in iter_file(path):
        if isinstance(item, Damage):
            if item.truncated and report.incomplete:
                report.notes.append(
                    f"last record cut off at offset {item.offset} ({item.length} bytes):"
                    " the writer was killed mid-write"
                )
            else:
                report.errors.append(Problem(item.offset, item.message))
            first = False
            continue
        if first and item.rec_type != "warcinfo":
            report.notes.append(f"first record is {item.rec_type!r}, not warcinfo")
        first = False
        report.record_types[item.rec_type or "?"] += 1
        if item.records_in_member > 1 and item.offset not in shared_members:
            shared_members.add(item.offset)
            report.errors.append(Problem(
                item.offset, f"{item.records_in_member} records in one gzip member"
            ))
        _check_record(item, report)
    return report


def verify(paths: Iterable[str | Path]) -> VerifyReport:
    """Check files, directories or globs of ``.warc.gz`` / ``.warc.gz.open`` files."""
    return VerifyReport([verify_file(p) for p in expand_warc_paths(paths)])


def main_verify(paths: list[str]) -> int:
    """CLI body: print the report; 0 if everything is OK, 1 on problems, 2 on bad paths."""
    try:
        report = verify(paths)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    for line in report.lines():
        print(line)
    return EXIT_OK if report.ok else EXIT_PROBLEMS
