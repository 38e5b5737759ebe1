"""Property: a table rendered from random valid numbers, in any rendering, parses back to them."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gkcrawl.demo.render.html import Style, render_html
from gkcrawl.demo.render.reports import random_report, tables_of
from gkcrawl.demo.render.text import STYLES, render_text
from gkcrawl.parsing import parse_document

EXAMPLES = 25
reports = st.builds(lambda seed, version: random_report(random.Random(seed), version),
                    st.integers(0, 2**32), st.sampled_from(["2019", "2021"]))
html_styles = st.builds(Style, word_export=st.booleans(), nbsp_blanks=st.booleans(),
                        misaligned=st.booleans(), blank_detail_totals=st.booleans(),
                        encoding=st.sampled_from(["utf-8", "gbk"]), layout_table=st.booleans())
fast = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_round_trip(report: dict, body: bytes, content_type: str) -> None:
    result = parse_document(body, content_type)
    assert result.ok, result.reason
    parsed = result.to_dict()
    assert tables_of(parsed) == tables_of(report)
    assert (parsed["format"], parsed["year"], parsed["organ"]) == (
        report["format"], report["year"], report["organ"])
    assert all(c["status"] == "pass" for c in parsed["checks"])


@fast
@given(reports, html_styles)
def test_html_round_trip(report: dict, style: Style) -> None:
    assert_round_trip(report, render_html(report, style), "text/html")


@fast
@given(reports, st.sampled_from(STYLES))
def test_text_round_trip(report: dict, style: str) -> None:
    assert_round_trip(report, render_text(report, style), "text/plain")


ATTACHMENT_EXAMPLES = 10  # rendering a PDF takes a few hundred ms


@settings(max_examples=ATTACHMENT_EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(reports, st.sampled_from(["docx", "pdf"]))
def test_attachment_round_trip(report: dict, kind: str) -> None:
    from gkcrawl.demo.render.docx import render_docx
    from gkcrawl.demo.render.pdf import render_pdf

    body = render_docx(report) if kind == "docx" else render_pdf(report)
    assert_round_trip(report, body, f"application/{kind}")
