"""Cells printed blank, in every spelling met in the wild and every rendering: 0 (rule ``blank``)
unless an identity forces another value, which is then the value (docs/report-schema.md, "Blank
and missing cells")."""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from typing import Any

import pytest

from gkcrawl.demo.render.docx import render_docx
from gkcrawl.demo.render.html import Style, render_html
from gkcrawl.demo.render.pdf import render_pdf
from gkcrawl.demo.render.reports import random_report, tables_of
from gkcrawl.demo.render.text import PIPE, TABS, render_text
from gkcrawl.parsing import parse_document

SPELLINGS = ("", "-", "—", "/", "无")
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
RENDERINGS: dict[str, tuple[Callable[[dict[str, Any]], bytes], str]] = {
    "html": (lambda r: render_html(r, Style(nbsp_blanks=False)), "text/html"),
    "html-nbsp": (lambda r: render_html(r, Style(nbsp_blanks=True)), "text/html"),
    "pipe": (lambda r: render_text(r, PIPE), "text/plain"),
    "tabs": (lambda r: render_text(r, TABS), "text/plain"),
    "docx": (render_docx, DOCX),
    "pdf": (render_pdf, "application/pdf"),
}
Ref = tuple[str, str, str]
#: every spelling in every rendering; &nbsp; is the blank of the html-nbsp rendering itself
CASES = [(r, s) for r in RENDERINGS if r != "html-nbsp" for s in SPELLINGS] + [("html-nbsp", "")]


def report_and_blanks() -> tuple[dict[str, Any], list[Ref], set[Ref]]:
    """A report, the cells to print blank, and those of them no identity pins down (0 by the
    blank rule): table 1's first zero; 上年结转 and 结转下年度 of one column with both rows'
    总计 (the identities then have two open cells each); a result row's 总计 (the sum of its
    row); a zero of table 3."""
    report = random_report(random.Random(11), "2021")
    apps = report["applications"]
    column = next(c for c in apps["carried_over"]
                  if c != "total" and apps["carried_over"][c] == apps["carried_forward"][c] == 0)
    leaf = next(row for row, cells in apps.items() if row == "disclosed" or cells["total"] > 0)
    zero_t1 = next(("active_disclosure", row, col)
                   for row, cells in report["active_disclosure"].items()
                   for col, val in cells.items() if val == 0)
    zero_t3 = next(("review_litigation", row, col)
                   for row, cells in report["review_litigation"].items()
                   for col, val in cells.items() if col != "total" and val == 0)
    by_zero = {zero_t1, ("applications", "carried_over", column),
               ("applications", "carried_forward", column)}
    blanks = [*by_zero, ("applications", "carried_over", "total"),
              ("applications", "carried_forward", "total"), ("applications", leaf, "total"),
              zero_t3]
    return report, blanks, by_zero


@pytest.mark.parametrize(("rendering", "spelling"), CASES)
def test_a_blank_is_zero_unless_an_identity_says_otherwise(rendering: str, spelling: str) -> None:
    report, blanks, by_zero = report_and_blanks()
    printed = copy.deepcopy(report)
    for table, row, col in blanks:
        printed[table][row][col] = spelling or None
    render, content_type = RENDERINGS[rendering]
    result = parse_document(render(printed), content_type)
    assert result.ok, result
    parsed = result.to_dict()
    assert tables_of(parsed) == tables_of(report)
    rules = {i["cell"]: i["rule"] for i in parsed["inferred"]}
    named = {".".join(ref): ref for ref in blanks}
    assert set(rules) >= set(named)  # every blank is listed, with its rule
    assert {c for c, rule in rules.items() if rule == "blank"} == {".".join(r) for r in by_zero}
    assert not any("left null" in f for f in parsed["flags"])
