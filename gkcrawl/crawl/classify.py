"""What a fetched page is: a report, a report page whose report is an attachment, a list of
reports, a lookalike (a notice *about* reports), or something else.

Cheap on purpose: it runs on every page of the crawl, so it reads titles, link texts and a few
template header words, never the tables themselves (the parse pipeline does that for reports).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from parsel import Selector

from gkcrawl.crawl.links import REPORT_COLUMN_URL
from gkcrawl.parsing.metadata import LOOKALIKE, TitleMatch, find_title, title_candidates
from gkcrawl.parsing.normalize import clean_text, looks_traditional

REPORT, REPORT_PAGE, REPORT_LIST, LOOKALIKE_ROLE, OTHER = (
    "report", "report_page", "report_list", "lookalike", "other")
ATTACHMENT_SUFFIXES = (".pdf", ".doc", ".docx", ".wps", ".xls", ".xlsx", ".rtf", ".ofd")
#: Header words of the template tables (either version).
TEMPLATE_WORDS = re.compile(
    r"本年制发件数|本年新制作数量|本年新收政府信息公开申请数量|本年度办理结果|申请人情况"
    r"|结转下年度继续办理")
#: A list names this many report titles at least.
MIN_LIST_REPORTS = 2
#: A report column's name (its column meta, title, or the link to it) says so.
REPORT_COLUMN_NAME = re.compile(r"年报|年度报告")
#: The page's own text: every text node of the body but link texts, scripts and styles.
_OWN_TEXT = ("//body//text()[not(ancestor::a) and not(ancestor::script) "
             "and not(ancestor::style)]")
#: Lines of a page's own text read for its signals.
MAX_TEXT_LINES = 4000
_SPACES = re.compile(r"\s+")


@dataclass
class Verdict:
    role: str
    year: int | None = None
    organ: str | None = None
    title: str | None = None
    reason: str = ""
    attachments: list[tuple[str, str]] = field(default_factory=list)

    def fields(self) -> dict[str, str]:
        """For the WARC metadata record."""
        out = {"role": self.role, "verdict-reason": self.reason}
        if self.year:
            out["report-year"] = str(self.year)
        if self.organ:
            out["report-organ"] = self.organ
        if self.title:
            out["report-title"] = self.title
        return out


def is_attachment(url: str, text: str = "") -> bool:
    """A document link: by its path, a ``filename=…pdf`` query (download scripts), or its text."""
    parts = urlsplit(url.lower())
    if parts.path.endswith(ATTACHMENT_SUFFIXES):
        return True
    if any(v.endswith(ATTACHMENT_SUFFIXES) for _, v in parse_qsl(parts.query)):
        return True
    return text.strip().lower().endswith(ATTACHMENT_SUFFIXES)


def report_title(text: str) -> TitleMatch | None:
    """The annual-report title in a short text (a heading, a link, a line), unless it is a
    notice or guide about reports."""
    flat = _SPACES.sub("", text)
    match = find_title(flat)
    if match and not LOOKALIKE.search(flat):
        return match
    return None


def title_in_lines(lines: list[str]) -> tuple[str, TitleMatch] | None:
    """The first line of running text that is a report title, or two or three lines that are
    one together (a title split over lines): a title printed in a ``<p>``, a ``<div>``, bold or
    centred, or only in the body."""
    for candidate in title_candidates([_SPACES.sub("", line) for line in lines]):
        match = report_title(candidate)
        if match:
            return candidate, match
    return None


def classify_html(url: str, html: str, sel: Selector,
                  links: list[tuple[str, str]]) -> Verdict:
    """``links`` are the page's (absolute url, anchor text) pairs.

    A page with a report's signals (a report title in a heading or anywhere in its own text,
    alone or split over two lines, or the template's table headers) is a report, to be parsed:
    what does not parse is quarantined with the reason, never dropped. Link texts do not count
    (a list links many reports), nor a sentence that mentions reports (a title is a short
    line); a page is "other" only without any of the signals."""
    traditional = looks_traditional(html[:20000])
    titles = [t for t in (
        sel.xpath('//meta[@name="ArticleTitle"]/@content').get(),
        " ".join(sel.css("title::text").getall()),
        *sel.css("h1 ::text, h2 ::text, .title ::text, #title ::text").getall()[:6],
    ) if t and t.strip()]
    titles = [clean_text(t, traditional) for t in titles]
    attachments = [(u, t) for u, t in links if is_attachment(u, t)]
    # the page's own text, without link texts, scripts and styles: a line per text node
    lines = [clean_text(t, traditional).strip() for t in sel.xpath(_OWN_TEXT).getall()]
    lines = [line for line in lines if line][:MAX_TEXT_LINES]
    body = " ".join(lines)
    tables = bool(TEMPLATE_WORDS.search(body))
    for title in titles:
        match = report_title(title)
        if match:
            return _report(match, title.strip(), tables, attachments, "report title")
    column = " ".join(column_meta(sel))
    listed = sum(1 for _, text in links if report_title(clean_text(text, traditional)))
    in_column = bool(REPORT_COLUMN_NAME.search(column) or REPORT_COLUMN_URL.search(url))
    if listed >= MIN_LIST_REPORTS or (in_column and listed):
        return Verdict(REPORT_LIST, reason=f"{listed} report links")
    if any(LOOKALIKE.search(t) and find_title(_SPACES.sub("", t)) for t in titles):
        return Verdict(LOOKALIKE_ROLE, title=titles[0].strip(),
                       reason="about annual reports, not one")
    found = title_in_lines(lines)
    if found:
        line, match = found
        return _report(match, line, tables, attachments, "report title in the text")
    if tables:
        return Verdict(REPORT, reason="template tables without a report title",
                       attachments=attachments)
    return Verdict(OTHER, reason="no report title or template tables")


def column_meta(sel: Selector) -> list[str]:
    """The column a CMS says the page is in (``<meta name="ColumnName">``, ``ColumnType``)."""
    return sel.xpath('//meta[@name="ColumnName" or @name="ColumnType"]/@content').getall()


def _report(match: TitleMatch, title: str, tables: bool, attachments: list[tuple[str, str]],
            where: str) -> Verdict:
    """A page with a report title: the report, or its page when the tables are attachments."""
    if tables:
        return Verdict(REPORT, match.year, match.organ, title, f"{where} and template tables",
                       attachments)
    if attachments:
        return Verdict(REPORT_PAGE, match.year, match.organ, title,
                       f"{where}; tables in attachments", attachments)
    return Verdict(REPORT, match.year, match.organ, title, f"{where}, no template tables",
                   attachments)
