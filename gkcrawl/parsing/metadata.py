"""Report metadata: title, report year, the organ and its division, publisher, publication date.

The title is looked for where pages put it: the page's ``ArticleTitle`` or ``<title>``, else the
body, on one line or split over two or three (a bold ``<p>`` per line), organ first or year
first; a line that is a link names another page. The organ is the one the title names, the
government or department the report is about, made whole by :mod:`gkcrawl.parsing.organs`; the
page's 来源/发布机构 field, ``ContentSource`` meta or signature (落款) name who published it, often
the government's office, kept as the publisher. A title that lost its region
(自治区人民政府办公厅) is completed from the host name or the region the text names most.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from gkcrawl.parsing import organs
from gkcrawl.parsing.regions import PROVINCES

_HAN = r"\u4e00-\u9fff"
_REPORT = r"(?:政府信息公开|政务公开|信息公开)(?:工作)?\s*(?:年度)?\s*(?:报告|年报)"
#: 上海市人民政府办公厅2019年政府信息公开工作年度报告: the organ first, as most titles are
TITLE = re.compile(
    rf"(?P<organ>[{_HAN}()]{{2,40}}?)\s*(?P<year>(?:19|20)\d{{2}})\s*年?度?\s*{_REPORT}")
#: 2019年上海市人民政府办公厅政府信息公开工作年度报告: the year first, then an organ (not the
#: 政府信息公开 of a title without one, 2023年度政府信息公开工作年度报告); 2019年某区人民政府信息
#: 公开… is the 人民政府's report, not 人民's
TITLE_YEAR_FIRST = re.compile(
    rf"(?P<year>(?:19|20)\d{{2}})\s*年度?\s*(?P<organ>(?!度|政府信息|政务公开)[{_HAN}()]{{2,40}}?)"
    r"(?<!人民)\s*(?:政府信息公开|政务公开|信息公开)(?:工作)?\s*(?:年度)?\s*(?:报告|年报)")


@dataclass(frozen=True, slots=True)
class TitleMatch:
    """An annual-report title found in a text: its year, its organ and where it stands."""

    year: int
    organ: str
    start: int
    end: int


def find_title(text: str) -> TitleMatch | None:
    """The annual-report title in ``text``, the organ first or the year first."""
    for pattern in (TITLE, TITLE_YEAR_FIRST):
        match = pattern.search(text)
        if match:
            start = min(match.start("organ"), match.start("year"))
            return TitleMatch(int(match["year"]), match["organ"], start, match.end())
    return None


#: A title with these words is about reports (a notice, a template, a reading guide), not one.
LOOKALIKE = re.compile(r"通知|关于|编制|报送|格式|模板|公告|意见|解读|图解|函")
_LEAD_IN = re.compile(r"^(标题|题目|名称|文章标题)")
#: Title candidates are short lines; a longer line is running text.
MAX_TITLE_CHARS = 70
#: A title is printed on up to this many lines
#: (上海市人民政府办公厅 / 2019年政府信息公开 / 工作年度报告).
MAX_TITLE_LINES = 3
#: A title's last line has one of these words: only the lines that do are looked at with the
#: lines before them, so that the whole body is searched, however long the page's menus.
_TITLE_END = ("报告", "年报")


def title_candidates(lines: list[str], links: Iterable[str] = ()) -> Iterator[str]:
    """The texts that may be a report title, in reading order: each short line with 报告 or 年报,
    alone, then joined with the one or two short lines before it (a title split over lines).
    A line that is a link's text (``links``) names another page and is left out."""
    skip = frozenset(links)
    for i, line in enumerate(lines):
        if len(line) > MAX_TITLE_CHARS or line in skip or not any(w in line for w in _TITLE_END):
            continue
        for first in range(i, max(i - MAX_TITLE_LINES, -1), -1):
            window = lines[first:i + 1]
            if first < i and (len(lines[first]) > MAX_TITLE_CHARS or lines[first] in skip):
                break
            joined = "".join(window)
            if len(joined) > MAX_TITLE_CHARS:
                break
            yield joined


#: Lines at the end of a document searched for the signature (落款).
SIGNATURE_LINES = 12
_ORGAN_LINE = re.compile(
    rf"^[{_HAN}()]{{2,40}}(人民政府办公厅|人民政府办公室|人民政府|办公厅|办公室|委员会|管理委员会|"
    rf"局|厅|委|办|署|院|中心|乡|镇|街道办事处|街道)$"
)
_PUBLISH_SENTENCE = re.compile(rf"现(?:予以)?公布(?P<organ>[{_HAN}()]{{2,40}}?)(?:19|20)\d{{2}}年")
#: 发布机构：X / 来源：X / 发文机关：X fields of the page header.
_SOURCE_LABELS = ("发布机构", "发文机关", "来源", "信息来源")
_SOURCE_FIELD = re.compile(
    rf"^(?:{'|'.join(_SOURCE_LABELS)})[:：]?(?P<organ>[{_HAN}()]{{2,40}}?)"
    r"(?:发布日期|发布时间|$)")
#: 本报告由淮安市洪泽区人民政府办公室根据…编制: who compiled the report
_COMPILED_BY = re.compile(
    rf"本(?:年度)?报告由(?P<organ>[{_HAN}()]{{2,40}}?)(?:根据|依据|按照|负责|编制)")
DATE = re.compile(r"(?P<y>(?:19|20)\d{2})\s*[-年/.]\s*(?P<m>\d{1,2})\s*[-月/.]\s*(?P<d>\d{1,2})")
#: Labelled dates, best first: a printed publication date beats the date the text was signed.
_DATE_LABELS = (r"发布日期|发布时间|公开日期|发布于", r"成文日期|发文日期|生成日期")
_LABELLED_GAP = r"[^\d]{0,12}?"
_PERIOD = re.compile(r"(?P<y>(?:19|20)\d{2})年1月1日(?:起)?至(?P=y)年12月31日")
_NOISE = re.compile(r"[\s?|]+")
#: _NOISE less the characters str.splitlines() breaks at (the whitespace that \s matches, listed):
#: removing it from the whole text and then splitting gives every line with _NOISE removed, in one
#: substitution instead of one a line. (tests/parsing checks the list against \s.)
_NOISE_IN_LINE = re.compile("[\t\x1f \xa0\u1680\u2000-\u200a\u202f\u205f\u3000?|]+")


@dataclass
class Metadata:
    title: str | None = None
    year: int | None = None
    #: the organ the report is about, its full name (docs/report-schema.md)
    organ: str | None = None
    #: the abbreviation the title prints when ``organ`` is its full form (上海市科委)
    organ_as_printed: str | None = None
    #: who published the page when another organ than ``organ`` (its office, a portal)
    publisher: str | None = None
    #: the organ's region: its GB/T 2260 code and level (province, city, county)
    division_code: str | None = None
    division_level: str | None = None
    published: str | None = None
    flags: list[str] = field(default_factory=list)
    #: the title names something about reports rather than a report (notice, template, guide)
    lookalike: bool = False

    def report_fields(self) -> dict[str, Any]:
        """The fields a parsed report carries (gkcrawl.parsing.report.Report)."""
        return {"year": self.year, "organ": self.organ, "organ_as_printed": self.organ_as_printed,
                "publisher": self.publisher, "division_code": self.division_code,
                "division_level": self.division_level, "published": self.published,
                "title": self.title}


def extract(text: str, meta: dict[str, str], url: str | None = None,
            links: Iterable[str] = ()) -> Metadata:
    """``text`` is the document's clean text (simplified script, pinyin removed); ``links`` the
    texts of its links (HTML)."""
    md = Metadata()
    lines = [line for line in _NOISE_IN_LINE.sub("", text).splitlines() if line]
    # the text without noise: line breaks are noise too, so this is _NOISE.sub("", text)
    flat = "".join(lines)
    _title(md, lines, meta, [_NOISE.sub("", link) for link in links])
    if md.year is None:
        period = _PERIOD.search(flat)
        if period:
            md.year = int(period["y"])
            md.flags.append("year taken from the statistics period")
    _organ(md, lines, text, flat, meta, url)
    _published(md, flat, meta, lines)
    return md


def _title(md: Metadata, lines: list[str], meta: dict[str, str], links: list[str]) -> None:
    candidates = [_NOISE.sub("", meta[k]) for k in ("ArticleTitle", "title") if meta.get(k)]
    for cand in (*candidates, *title_candidates(lines, links)):
        match = find_title(cand)
        if not match:
            continue
        if LOOKALIKE.search(cand):
            md.lookalike = True
            continue
        organ = _LEAD_IN.sub("", match.organ)
        md.title = _LEAD_IN.sub("", cand[match.start:match.end])
        md.year = match.year
        md.organ = organ
        md.lookalike = False
        return


def _organ(md: Metadata, lines: list[str], text: str, flat: str, meta: dict[str, str],
           url: str | None) -> None:
    about = [m["organ"] for m in _PUBLISH_SENTENCE.finditer(flat)]
    # the page's header fields, wherever the portal's menus put them
    publishers = [m["organ"] for line in lines if line.startswith(_SOURCE_LABELS)
                  for m in [_SOURCE_FIELD.match(line)] if m]
    if meta.get("ContentSource"):
        publishers.insert(0, _NOISE.sub("", meta["ContentSource"]))
    tail = lines[-SIGNATURE_LINES:]
    for i, line in enumerate(tail):
        if _ORGAN_LINE.match(line) and any(DATE.search(nxt) for nxt in tail[i + 1:i + 3]):
            publishers.append(line)
    publishers += [m["organ"] for m in _COMPILED_BY.finditer(flat)]
    named = about + publishers
    if md.organ:
        md.organ = organs.complete_from(md.organ, named)
    elif named:
        md.organ = named[0]
    if not md.organ:
        return
    _complete_region(md, text, url)
    found = organs.resolve(md.organ, flat, md.year)
    md.organ, md.organ_as_printed = found.name, found.as_printed
    md.flags += found.flags
    if found.division is not None:
        md.division_code, md.division_level = found.division.code, found.division.level
    if publishers and organs.resolve(publishers[0], flat, md.year).name != md.organ:
        md.publisher = publishers[0]


def _complete_region(md: Metadata, text: str, url: str | None) -> None:
    """自治区人民政府办公厅 -> 新疆维吾尔自治区人民政府办公厅, from the region the text names."""
    assert md.organ is not None
    bare = re.match(r"^(自治区|省)", md.organ)
    if not bare or any(md.organ.startswith(p.name) for p in PROVINCES):
        return
    level = bare.group(1)
    host = urlsplit(url or "").hostname or ""
    counts = {p: text.count(p.short) for p in PROVINCES if p.name.endswith(level)}
    by_host = [p for p in counts if host == p.host or host.endswith("." + p.host)]
    best = by_host[0] if by_host else max(counts, key=lambda p: counts[p], default=None)
    if best is None or (not by_host and counts[best] == 0):
        md.flags.append(f"organ {md.organ!r} names no region and none could be inferred")
        return
    md.organ = best.name + md.organ[len(level):]
    md.flags.append(f"organ region inferred as {best.name} from the "
                    + ("URL" if by_host else f"text ({counts[best]} mentions of {best.short})"))


def _published(md: Metadata, flat: str, meta: dict[str, str], lines: list[str]) -> None:
    for labels in _DATE_LABELS[:1]:
        found = re.search(rf"(?:{labels}){_LABELLED_GAP}{DATE.pattern}", flat)
        if found:
            md.published = _iso(found)
            return
    if meta.get("PubDate"):
        found = DATE.search(meta["PubDate"])
        if found:
            md.published = _iso(found)
            return
    for labels in _DATE_LABELS[1:]:
        found = re.search(rf"(?:{labels}){_LABELLED_GAP}{DATE.pattern}", flat)
        if found:
            md.published = _iso(found)
            return
    for line in reversed(lines[-SIGNATURE_LINES:]):
        found = DATE.fullmatch(line.rstrip("日")) or re.fullmatch(
            r"(?P<y>(?:19|20)\d{2})年(?P<m>\d{1,2})月(?P<d>\d{1,2})日", line)
        if found:
            md.published = _iso(found)
            md.flags.append("published date taken from the signature date")
            return


def _iso(match: re.Match[str]) -> str | None:
    try:
        return date(int(match["y"]), int(match["m"]), int(match["d"])).isoformat()
    except ValueError:
        return None
