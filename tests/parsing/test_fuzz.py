"""Fuzz ``parse_document``: report documents the suite renders (HTML, PDF, DOCX), mutated byte
by byte, and random bytes, never make it raise: every result is a Report or a NotAReport with a
code and a one-line reason, and no input reaches a parser bug (``parser_error``)."""

from __future__ import annotations

import io
import random
import zipfile
from datetime import timedelta
from functools import cache

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gkcrawl.demo.render.docx import render_docx
from gkcrawl.demo.render.html import render_html
from gkcrawl.demo.render.pdf import render_pdf
from gkcrawl.demo.render.reports import random_report
from gkcrawl.parsing import NotAReport, Report, parse_document
from tests.bombs import DOCUMENT_XML

#: a PDF takes a few hundred ms to parse (seconds on a busy machine): the per-example deadline
#: catches a mutation that sends the parser into a loop, not a slow machine
fuzz = settings(deadline=timedelta(seconds=20), suppress_health_check=[HealthCheck.too_slow])
RENDERERS = {"html": render_html, "pdf": render_pdf, "docx": render_docx}
CONTENT_TYPES = {"html": "text/html", "pdf": "application/pdf",
                 "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}


@cache
def rendered(kind: str) -> bytes:
    return RENDERERS[kind](random_report(random.Random(11)))


#: one mutation: (operation, where as a share of the length, a byte, a length)
mutation = st.tuples(st.sampled_from(["flip", "delete", "insert", "repeat", "truncate"]),
                     st.floats(0, 1), st.integers(0, 255), st.integers(1, 64))


def mutate(data: bytes, mutations: list[tuple[str, float, int, int]]) -> bytes:
    out = bytearray(data)
    for operation, where, byte, length in mutations:
        pos = min(int(where * len(out)), max(len(out) - 1, 0))
        if operation == "flip" and out:
            out[pos] ^= byte or 1
        elif operation == "delete":
            del out[pos:pos + length]
        elif operation == "insert":
            out[pos:pos] = bytes([byte]) * length
        elif operation == "repeat":
            out[pos:pos] = out[pos:pos + length] * 8
        elif operation == "truncate":
            del out[pos:]
    return bytes(out)


def assert_well_formed(result: object) -> None:
    assert isinstance(result, (Report, NotAReport)), result
    if isinstance(result, NotAReport):
        assert result.code and result.reason and "\n" not in result.reason, result
        assert result.code != "parser_error", result.reason


@settings(fuzz, max_examples=60)
@given(st.lists(mutation, min_size=1, max_size=8), st.sampled_from([None, "text/html"]))
def test_mutated_html(mutations: list[tuple[str, float, int, int]], ctype: str | None) -> None:
    assert_well_formed(parse_document(mutate(rendered("html"), mutations), ctype))


@settings(fuzz, max_examples=12)
@given(st.lists(mutation, min_size=1, max_size=8))
def test_mutated_pdf(mutations: list[tuple[str, float, int, int]]) -> None:
    assert_well_formed(parse_document(mutate(rendered("pdf"), mutations), CONTENT_TYPES["pdf"]))


@settings(fuzz, max_examples=30)
@given(st.lists(mutation, min_size=1, max_size=8), st.booleans())
def test_mutated_docx(mutations: list[tuple[str, float, int, int]], inside: bool) -> None:
    """The package's bytes, or (past the zip's checksums) its ``document.xml``."""
    body = rendered("docx")
    if inside:
        source = zipfile.ZipFile(io.BytesIO(body))
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
            for entry in source.infolist():
                data = source.read(entry)
                package.writestr(entry.filename,
                                 mutate(data, mutations) if entry.filename == DOCUMENT_XML
                                 else data)
        body = out.getvalue()
    else:
        body = mutate(body, mutations)
    assert_well_formed(parse_document(body, CONTENT_TYPES["docx"]))


@settings(fuzz, max_examples=40)
@given(st.binary(max_size=2048), st.sampled_from([None, *CONTENT_TYPES.values()]))
def test_random_bytes_behind_a_magic_number(body: bytes, ctype: str | None) -> None:
    """Random bytes that sniff as PDF or DOCX reach those extractors (legacy Word files go to
    an external converter, a second each: tests/parsing/test_legacy_tools.py feeds them damage)."""
    for magic in (b"%PDF-1.4\n", b"PK\x03\x04"):
        assert_well_formed(parse_document(magic + body, ctype))
