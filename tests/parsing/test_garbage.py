"""Bad input never raises: it comes back as a NotAReport with a one-line reason."""

from __future__ import annotations

import os
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gkcrawl.demo.render.html import render_html
from gkcrawl.demo.render.reports import random_report
from gkcrawl.parsing import NotAReport, parse_document

MiB = 1 << 20


def assert_rejected(result: object) -> NotAReport:
    assert isinstance(result, NotAReport), result
    assert result.reason and "\n" not in result.reason
    return result


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=4096), st.sampled_from([None, "text/html", "application/pdf",
                                                   "application/octet-stream", "text/plain"]))
def test_random_bytes(body: bytes, ctype: str | None) -> None:
    result = parse_document(body, ctype)
    if result.ok:  # a random byte string is never a report
        raise AssertionError(result)
    assert_rejected(result)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32), st.floats(0.0, 0.6))
def test_truncated_report_page(seed: int, keep: float) -> None:
    page = render_html(random_report(random.Random(seed)))
    cut = page[: int(len(page) * keep)]
    result = parse_document(cut, "text/html")
    # cut before the tables: not a report; a truncated page never raises
    assert result.ok is False or result.to_dict()["format"] in ("2019", "2021")


@pytest.mark.parametrize("body", [b"<!DOCTYPE html><html><head><meta",
                                  b"<html><head><meta", b"<meta"])
def test_a_page_cut_inside_its_meta_tag(body: bytes) -> None:
    """w3lib's encoding detector panics on these (a BaseException): the page is still read."""
    result = parse_document(body, "text/html")
    assert not result.ok and result.code == "not_a_report"


def test_empty_and_whitespace() -> None:
    assert assert_rejected(parse_document(b"", "text/html")).code == "empty"
    assert assert_rejected(parse_document(b"  \n ", None)).code == "empty"


def test_fifty_megabyte_page_is_refused_quickly() -> None:
    page = b"<html><body>" + b"<p>" + b"x" * (50 * MiB) + b"</p></body></html>"
    result = assert_rejected(parse_document(page, "text/html"))
    assert result.code == "too_large" and "MiB" in result.reason


def test_large_page_without_report() -> None:
    rows = b"".join(b"<tr><td>%d</td><td>cell</td></tr>" % i for i in range(50_000))
    page = b"<html><body><table>" + rows + b"</table></body></html>"
    assert len(page) > 1 * MiB
    assert assert_rejected(parse_document(page, "text/html")).code == "not_a_report"


def test_deeply_nested_markup() -> None:
    page = b"<html><body>" + b"<div>" * 5000 + b"text" + b"</div>" * 5000 + b"</body></html>"
    assert_rejected(parse_document(page, "text/html"))


def test_binary_with_html_content_type() -> None:
    assert_rejected(parse_document(os.urandom(20000), "text/html"))


def test_page_with_no_report() -> None:
    page = "<html><head><title>首页</title></head><body><p>欢迎访问</p></body></html>".encode()
    assert assert_rejected(parse_document(page, "text/html")).code == "not_a_report"
