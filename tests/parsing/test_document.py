"""What every extractor's Document guarantees, and text helpers with a fast path of their own."""

from __future__ import annotations

import random
import unicodedata
from pathlib import Path

import pytest

from gkcrawl.demo.render.html import Style, render_html
from gkcrawl.demo.render.reports import random_report
from gkcrawl.demo.render.text import STYLES, render_text
from gkcrawl.parsing import extract_document
from gkcrawl.parsing.document import Document
from gkcrawl.parsing.metadata import _NOISE, _NOISE_IN_LINE
from gkcrawl.parsing.normalize import nfkc

FIXTURES = Path(__file__).parent.parent / "fixtures"
HTML_STYLES = [Style(), Style(word_export=True), Style(encoding="gbk", misaligned=True),
               Style(blank_detail_totals=True, layout_table=False, nbsp_blanks=False)]


def assert_text_holds_every_cell(doc: Document) -> None:
    """parsing._simplify skips the cells of a page whose text has no pinyin and no traditional
    script: that is only right while Document.text holds every cell's text."""
    missing = [c.text for row in doc.rows for c in row.cells if c.text not in doc.text]
    assert not missing


@pytest.mark.parametrize("style", HTML_STYLES, ids=repr)
@pytest.mark.parametrize("version", ["2019", "2021"])
def test_html_text_holds_every_cell(style: Style, version: str) -> None:
    report = random_report(random.Random(f"{version}{style}"), version)
    assert_text_holds_every_cell(extract_document(render_html(report, style), "text/html"))


@pytest.mark.parametrize("style", STYLES)
def test_text_copy_holds_every_cell(style: str) -> None:
    report = random_report(random.Random(style), "2021")
    assert_text_holds_every_cell(extract_document(render_text(report, style), "text/plain"))


#: Every fixture a Document can be read from (scanned.pdf has no text layer).
READABLE = sorted(p.relative_to(FIXTURES).as_posix() for p in FIXTURES.rglob("*")
                  if p.suffix in (".html", ".txt", ".docx", ".pdf") and p.name != "scanned.pdf")


@pytest.mark.parametrize("path", READABLE)
def test_fixture_text_holds_every_cell(path: str) -> None:
    assert_text_holds_every_cell(extract_document((FIXTURES / path).read_bytes(), None, path))


def test_metadata_line_noise_is_noise_less_the_line_breaks() -> None:
    # _NOISE_IN_LINE lists the whitespace of \s that str.splitlines() does not break at
    every_space = "".join(c for c in map(chr, range(0x110000)) if _NOISE.fullmatch(c))
    for char in every_space:
        breaks = len(f"a{char}b".splitlines()) == 2
        assert bool(_NOISE_IN_LINE.fullmatch(char)) != breaks, hex(ord(char))
    text = f"标题 {every_space}?|正文\r\n 落款\u3000?\n\n日期"
    per_line = [line for line in (_NOISE.sub("", raw) for raw in text.splitlines()) if line]
    assert [line for line in _NOISE_IN_LINE.sub("", text).splitlines() if line] == per_line


def test_nfkc_is_unicodedata_nfkc() -> None:
    fullwidth = "".join(map(chr, range(0xFF01, 0xFF5F))) + "\u3000"
    samples = [fullwidth, "第（一）项：规章，１２３", "ｶﾞ①㍻（ｑū）", "ascii only", "", "é\u0301（"]
    for text in samples:
        assert nfkc(text) == unicodedata.normalize("NFKC", text)
