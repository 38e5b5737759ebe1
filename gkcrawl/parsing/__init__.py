"""One annual-report document (bytes) -> one structured report.

The entry point for the CLI, the crawl's parse pipeline and replay alike::

    result = parse_document(body, content_type="text/html; charset=gbk", url=url)
    if result.ok:
        result.to_dict()   # format, year, organ (publisher, division_code …), published, title,
                           # the three tables,
                           # inferred, checks, flags
    else:
        result.reason      # one line: why this is not a report or cannot be read

It never raises on bad input: garbage, truncated markup and unsupported files come back as a
:class:`NotAReport` with a reason. It runs in the calling process without a time or memory
limit; the crawl, replay and ``gkcrawl parse`` parse PDF, DOCX and legacy Word files in worker
processes under limits (:mod:`gkcrawl.parsing.pool`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from gkcrawl.parsing import metadata
from gkcrawl.parsing.document import Document, Unreadable
from gkcrawl.parsing.extract import extract_document
from gkcrawl.parsing.extract.inflate import PARSE_MAX_INFLATED
from gkcrawl.parsing.infer import solve
from gkcrawl.parsing.mapper import detect_format, map_rows
from gkcrawl.parsing.normalize import (
    clean_text,
    fold_script,
    strip_pinyin,
    to_simplified,
    traditional_script,
)
from gkcrawl.parsing.prose import stated_totals
from gkcrawl.parsing.report import NotAReport, Report, checks, inferred_entries, plain_cells, tables
from gkcrawl.template.spec import expected_format

__all__ = ["PARSE_MEMORY", "NotAReport", "Parsed", "Report", "Unreadable", "extract_document",
           "parse_document", "parse_extracted", "parse_with_text", "safely"]

logger = logging.getLogger(__name__)

#: Section names of the free-form reports of 2008-2018 (before the national template).
_LEGACY_SECTIONS = re.compile(
    r"依申请公开政府信息(的)?情况|因政府信息公开申请(提起)?行政复议|收费及减免情况")


def parse_document(body: bytes, content_type: str | None = None, url: str | None = None, *,
                   max_inflated: int = PARSE_MAX_INFLATED, strict: bool = False
                   ) -> Report | NotAReport:
    """Parse one document. ``content_type`` and ``url`` are hints; the bytes decide. A DOCX or
    PDF inflating past ``max_inflated`` bytes is refused before it is inflated. ``strict``
    keeps blank and lost cells null (docs/parsing.md, "Blank and missing cells")."""
    return parse_with_text(body, content_type, url, max_inflated=max_inflated,
                           strict=strict).result


@dataclass(slots=True)
class Parsed:
    """A parse, and for a report its document's prose (the running text outside the tables),
    which its dedup signature is made of (gkcrawl.quality.fingerprint): what a parse worker
    sends back, small to pickle."""

    result: Report | NotAReport
    prose: str = ""


def parse_with_text(body: bytes, content_type: str | None = None, url: str | None = None, *,
                    max_inflated: int = PARSE_MAX_INFLATED, strict: bool = False) -> Parsed:
    """:func:`parse_document`, with the document's prose when it is a report."""
    prose = ""

    def step() -> Report | NotAReport:
        nonlocal prose
        doc = extract_document(body, content_type, url, max_inflated=max_inflated)
        result = parse_extracted(doc, url, strict)
        prose = doc.prose if result.ok else ""  # (folded to simplified script by the parse)
        return result

    return Parsed(safely(step, url), prose)


#: Exceptions that mean a bug in the parser, not bad input; caught so a crawl goes on.
_BUGS = (RecursionError, ValueError, LookupError, TypeError, AttributeError, OSError,
         ArithmeticError, AssertionError)
#: The code of a document whose parse ran out of memory (in a parse worker: over
#: PARSE_MEMORY_LIMIT).
PARSE_MEMORY = "parse_memory"


def safely(step: Callable[[], Report | NotAReport], url: str | None) -> Report | NotAReport:
    """Run a parsing step; unreadable input and parser bugs become a NotAReport with a reason."""
    try:
        return step()
    except Unreadable as exc:
        return NotAReport(exc.code, exc.reason, url, exc.kind, over_limit=exc.over_limit)
    except MemoryError:  # the input's doing (a bomb, a huge table), not a bug
        return NotAReport(PARSE_MEMORY, "parsing ran out of memory", url)
    except _BUGS as exc:  # a parser bug must not kill a crawl: the document is quarantined
        logger.warning("parser error on %s", url or "<bytes>", exc_info=True)
        return NotAReport("parser_error", f"parser error: {type(exc).__name__}: {exc}"[:300], url)


#: Text that government sites never print and SEO mirrors do (seed 002's header).
_SPAM = re.compile(r"图库|彩票|博彩|六合彩|开奖|娱乐城|赌场|棋牌|时时彩|香港免费|百家乐")


def _simplify(doc: Document) -> None:
    """Mirror copies are in traditional script with pinyin: fold every cell to simplified."""
    stripped = strip_pinyin(doc.text)  # once: the script test and the clean text both need it
    pinyin = stripped != doc.text
    traditional = traditional_script(stripped)
    if pinyin:
        doc.flags.append("mirror copy: pinyin annotations after characters (removed)")
    # Document.text holds every cell's text, so when the whole text has no pinyin and is not
    # traditional, no cell would change: the loop over some 400 cells a page is skipped.
    if pinyin or traditional:
        for row in doc.rows:
            for cell in row.cells:
                text = cell.text
                if "(" in text or "（" in text:  # strip_pinyin's own test, inlined
                    text = strip_pinyin(text)
                cell.text = to_simplified(text) if traditional else text
    doc.text = fold_script(stripped, traditional)
    doc.meta = {k: clean_text(v, traditional) for k, v in doc.meta.items()}
    doc.links = [clean_text(link, traditional) for link in doc.links]
    if traditional:
        doc.flags.append("traditional script converted to simplified")
    spam = _SPAM.search(doc.text)
    if spam:
        line = next(t for t in doc.text.splitlines() if spam.group(0) in t)
        doc.flags.append(f"mirror copy: spam text ({line.strip()[:40]})")


def parse_extracted(doc: Document, url: str | None = None,
                    strict: bool = False) -> Report | NotAReport:
    """The template-aware half of the parser, for any extractor's :class:`Document`."""
    _simplify(doc)
    md = metadata.extract(doc.text, doc.meta, url, doc.links)
    template, _scores = detect_format(doc)
    if template is None:
        return _without_template(doc, md, url)
    mapped = map_rows(doc, template)
    if not any(not v.blank for row in mapped.rows for v in row.values):
        return NotAReport("not_a_report", "the template's tables hold no numbers (a blank form)",
                          url, doc.kind, md.title)
    prose = stated_totals(doc.text)
    solved = solve(mapped, prose, strict)
    flags = [*doc.flags, *md.flags, *mapped.flags, *solved.flags]
    if md.title is None:
        flags.append("no report title found")
    expected = expected_format(md.year)
    if expected and expected != template.version:
        flags.append(f"format mismatch: report year {md.year} expects the {expected} template, "
                     f"the tables follow {template.version}")
    inferred_refs = {i.ref for i in solved.inferred}
    plains = plain_cells(template, solved.cells)
    parsed = tables(template, solved.cells, plains)
    return Report(
        format=template.version, **md.report_fields(),
        active_disclosure=parsed["active_disclosure"], applications=parsed["applications"],
        review_litigation=parsed["review_litigation"],
        inferred=inferred_entries(template, solved.inferred),
        checks=checks(template, solved.cells, inferred_refs, plains), flags=flags,
        prose=prose, source_url=url, source_kind=doc.kind,
    )


def _without_template(doc: Document, md: metadata.Metadata, url: str | None) -> Report | NotAReport:
    if md.title is None:
        if md.lookalike:
            return NotAReport("lookalike", "a document about annual reports (notice, template or "
                                           "guide), not a report", url, doc.kind)
        return NotAReport("not_a_report", "no annual-report title and no template tables",
                          url, doc.kind)
    if _glued_tables(doc.text):
        return NotAReport("unreadable_tables", "the template's tables are printed, but with their "
                                               "cells run together: the cells cannot be told apart",
                          url, doc.kind, md.title)
    if (md.year is not None and md.year <= 2018) or (
            md.year is None and _LEGACY_SECTIONS.search(doc.text)):
        return Report(format="legacy", **md.report_fields(),
                      active_disclosure=None, applications=None, review_litigation=None,
                      flags=[*doc.flags, *md.flags,
                             ("legacy free-form report (before the 2019 template): "
                              "tables not parsed")],
                      source_url=url, source_kind=doc.kind)
    return NotAReport("not_a_report", f"names a report ({md.title}) but prints none of the "
                                      "template tables (the report may be an attachment)",
                      url, doc.kind, md.title)


#: Column labels only the template's tables print, and how many of them betray glued tables.
_TABLE_LABELS = ("本年制发件数", "本年废止件数", "现行有效件数", "本年新制作数量", "本年新公开数量",
                 "对外公开总数量", "上一年项目数量", "法律服务机构", "社会公益组织", "尚未审结")
_GLUED_MIN_LABELS = 3


def _glued_tables(text: str) -> bool:
    """The text names the template's own column labels though no row of cells carries them: a
    text dump whose table cells were joined with nothing between them."""
    flat = "".join(text.split())
    return sum(1 for sig in _TABLE_LABELS if sig in flat) >= _GLUED_MIN_LABELS
