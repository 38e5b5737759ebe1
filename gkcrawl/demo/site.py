"""The sample portal 示例县人民政府 as data: every path's response, and the ground truth of a crawl.

Why a model and not a directory of files: the crawl tests need to know, for each path, what it is
(a report and its true tables, a lookalike, a trap, an error) and the responses need exact raw
headers (repeated ``Set-Cookie``, a GBK ``Content-Disposition``, ``Content-Encoding: gzip``) and
delays. :func:`build_site` is deterministic for a seed; links inside pages are relative (root- or
dot-relative) because the port is only known when the site is served.

The crawl a test runs is "complete within bounds" when it fetches every path of
:attr:`Site.all_paths`, nothing of :attr:`Site.out_of_bounds`, :attr:`Site.disallowed` or
:attr:`Site.external`, and of the traps at most ``trap_limit`` hops from each trap's entry
(:meth:`Site.trap_of`). Paths of :attr:`Site.may_repeat` (500, slow) are legitimately fetched more
than once by a crawler that retries; every other path once.
"""

from __future__ import annotations

import gzip
import hashlib
import html
import json
import random
import re
import struct
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from gkcrawl.demo.render.html import Style, render_html
from gkcrawl.demo.render.reports import Report, fmt, random_report
from gkcrawl.template.spec import expected_format

DEFAULT_SEED = 7
#: Seconds the slow page waits before answering: longer than the ~2 s DOWNLOAD_TIMEOUT of tests.
SLOW_DELAY = 5.0
#: Hops a bounded crawl may make inside one trap (calendar months either way, list pages).
TRAP_LIMIT = 5
#: Trap pages just past the bound listed in ``out_of_bounds`` (the traps themselves are endless).
OUT_OF_BOUNDS_SAMPLE = 3
#: Pre-rendered PDF/DOCX attachments of the default seed (the demo runs without reportlab).
SITE_DIR = Path(__file__).with_name("site")
MANIFEST_NAME = "manifest.json"
BLANK_TEMPLATE_NAME = "template-2021-blank.docx"

HTML, PDF, DOCX = "html", "pdf", "docx"
Header = tuple[bytes, bytes]

SITE_NAME = "示例县人民政府"
SITE_DOMAIN = "www.shixian.gov.cn"
SITE_ID_CODE = "5401990001"
COUNTY_GOV = "示例县人民政府"
COUNTY_OFFICE = "示例县人民政府办公室"
HEALTH = "示例县卫生健康委员会"
FINANCE = "示例县财政局"
LAND = "示例县自然资源局"
MARKET = "示例县市场监督管理局"
EDUCATION = "示例县教育局"
CHENGGUAN = "城关镇人民政府"
DONGBA = "东坝乡人民政府"
#: Organ -> short name used for the pre-rendered attachment files.
ORGAN_SLUGS = {COUNTY_GOV: "county", COUNTY_OFFICE: "office", HEALTH: "wjw", FINANCE: "czj",
               LAND: "zrzyj", MARKET: "scjgj", EDUCATION: "jyj", CHENGGUAN: "cgz", DONGBA: "dbx"}

# --- fixed paths ------------------------------------------------------------------------------
HOME = "/"
ROBOTS = "/robots.txt"
ZWGK = "/zwgk/index.html"
ZFXXGK = "/zfxxgk/"
REPORT_COLUMN = "/zfxxgk/zfxxgknb/index.html"
REPORT_COLUMN_DIR = "/zfxxgk/zfxxgknb/"
TRS_PAGE_MISSING = "/zfxxgk/zfxxgknb/index_3.html"
HANWEB_COLUMN_ID = 1234
HANWEB_COLUMN = f"/col/col{HANWEB_COLUMN_ID}/index.html"
BM_LIST = "/bmxxgknb/list.html"
NEWS = "/xwzx/index.html"
BSFW = "/bsfw/index.html"
GUIDE = "/bsfw/bszn.html"
HDJL = "/hdjl/index.html"
CALENDAR = "/calendar/"
CALENDAR_ENTRY = (2024, 1)
LOGIN = "/admin/login.html"
SEARCH = "/search?q=" + quote("年度报告")
ROBOTS_DISALLOW = ("/admin/", "/search")
CSS = "/css/style.css"
#: External links (a footer and the English site); reserved .invalid names never resolve.
GOV_CN_URL = "http://www.gov.cn.invalid/"
ENGLISH_URL = "http://english.shixian.invalid/"
#: The raw GBK Content-Disposition of the county's 2022 PDF report.
GBK_FILENAME = "2022年度报告.pdf"
GBK_DISPOSITION = f'attachment; filename="{GBK_FILENAME}"'.encode("gbk")
SESSION_ID = "ABC123"
SID = "3f9c2a7be1d04c55"
SPAM_LINE = "香港免费图库资料大全 香港免费图库资料大全"
TRS_PAGE_SIZE = 4
BM_PAGE_SIZE = 4
SERVICE_UNAVAILABLE = 503
#: Endless list pages answer up to here (a sanity cap, far past any trap bound).
MAX_ENDLESS_PAGE = 100_000

_CALENDAR_PATH = re.compile(r"^/calendar/\?month=(\d{4})-(\d{2})$")
_HDJL_PATH = re.compile(r"^/hdjl/index\.html\?page=(\d+)$")
_GBK = ("gbk", "gb2312", "gb18030")


@dataclass(frozen=True)
class ResponseSpec:
    """One answer as it goes on the wire: the server adds only Content-Length."""

    status: int
    headers: tuple[Header, ...]
    body: bytes
    delay: float = 0.0

    def header(self, name: str) -> bytes | None:
        values = self.header_list(name)
        return values[0] if values else None

    def header_list(self, name: str) -> list[bytes]:
        key = name.lower().encode()
        return [v for k, v in self.headers if k.lower() == key]

    @property
    def content(self) -> bytes:
        """The body with its Content-Encoding undone (what a parser sees)."""
        if (self.header("Content-Encoding") or b"").lower() == b"gzip":
            return gzip.decompress(self.body)
        return self.body

    @property
    def content_type(self) -> str:
        return (self.header("Content-Type") or b"").decode("latin-1")


@dataclass(frozen=True)
class ExpectedReport:
    """A document a crawl must find and parse: where it is and what its tables really hold."""

    path: str
    kind: str  #: html | pdf | docx
    organ: str
    year: int
    format: str  #: "2019" | "2021"
    report: Report  #: the full report dict (canonical keys) with the true table values
    page: str | None = None  #: for attachments: the article page that links to it
    copy_of: str | None = None  #: re-publication or mirror: the path of the original
    mirror: bool = False  #: a spam mirror copy (must never win dedup)
    encoding: str | None = None  #: html: "utf-8" or "gbk" (GBK pages declare it only in <meta>)
    gzip: bool = False  #: served with Content-Encoding: gzip


@dataclass(eq=False, repr=False)
class Site(Mapping[str, ResponseSpec]):
    """path (with query, as on the wire) -> response, plus the ground truth of a crawl.

    Iteration covers the static paths; the endless traps (calendar months, message-board pages)
    are answered on lookup only.
    """

    seed: int
    slow_delay: float
    trap_limit: int
    responses: dict[str, ResponseSpec]
    reports: list[ExpectedReport]
    all_paths: frozenset[str]  #: every path a complete crawl within bounds fetches
    traps: frozenset[str]  #: trap pages a bounded crawl may fetch (within trap_limit hops)
    out_of_bounds: frozenset[str]  #: existing paths a bounded crawl must not reach (a sample)
    disallowed: frozenset[str]  #: linked, served, but robots.txt forbids them
    external: frozenset[str]  #: absolute URLs of other hosts that are linked
    optional: frozenset[str]  #: linked assets a crawler may skip (stylesheet, image)
    lookalikes: frozenset[str]  #: the hard non-reports: notice, 图解, 解读, blank template
    errors: dict[str, int]  #: path -> error status (404, 412, 500)
    redirects: dict[str, str]  #: HTTP 301/302: path -> Location
    shells: dict[str, str]  #: meta-refresh and location.replace shells: path -> target path
    slow: dict[str, float]  #: path -> delay in seconds
    lists: frozenset[str]  #: the pages of the report lists (columns and their later pages)
    entry: str = HOME
    report_url: str = REPORT_COLUMN
    # a lambda: _not_found is defined below the class
    not_found: ResponseSpec = field(default_factory=lambda: _not_found())  # noqa: PLW0108
    #: what an overloaded server answers (``python -m gkcrawl.demo.server --flaky-lists``)
    busy: ResponseSpec = field(default_factory=lambda: _busy())  # noqa: PLW0108

    def __repr__(self) -> str:
        return (f"Site(seed={self.seed}, paths={len(self.responses)}, "
                f"all_paths={len(self.all_paths)}, reports={len(self.reports)})")

    def __getitem__(self, path: str) -> ResponseSpec:
        if path in self.responses:
            return self.responses[path]
        dynamic = _dynamic(path)
        if dynamic is None:
            raise KeyError(path)
        return dynamic

    def __iter__(self) -> Iterator[str]:
        return iter(self.responses)

    def __len__(self) -> int:
        return len(self.responses)

    @property
    def non_reports(self) -> frozenset[str]:
        """In-bounds pages that must not be classified as reports: every 200 HTML page that is
        not a report document (lists, news, attachment intros, shells, lookalikes) and the blank
        template attachment."""
        report_paths = {r.path for r in self.reports}
        pages = {p for p in self.all_paths if p not in report_paths and self[p].status == 200
                 and self[p].content_type.startswith("text/html")}
        return frozenset(pages | (self.lookalikes & self.all_paths))

    @property
    def may_repeat(self) -> frozenset[str]:
        """Paths a retrying crawler legitimately fetches more than once (5xx, timeouts)."""
        return frozenset({p for p, s in self.errors.items() if s >= 500} | set(self.slow))

    def report_at(self, path: str) -> ExpectedReport | None:
        return next((r for r in self.reports if r.path == path), None)

    def trap_of(self, path: str) -> tuple[str, int] | None:
        """(trap name, hops from the trap's entry) of a trap page, else None."""
        if match := _CALENDAR_PATH.match(path):
            year, month = int(match[1]), int(match[2])
            return "calendar", abs((year - CALENDAR_ENTRY[0]) * 12 + month - CALENDAR_ENTRY[1])
        if match := _HDJL_PATH.match(path):
            return "pagination", max(int(match[1]) - 1, 0)
        if path in (f"{GUIDE};jsessionid={SESSION_ID}", f"{GUIDE}?sid={SID}"):
            return "session", 0
        return None


# --- page chrome ------------------------------------------------------------------------------

NAV = (("首页", HOME), ("政务公开", ZWGK), ("政府信息公开", ZFXXGK), ("新闻中心", NEWS),
       ("办事服务", BSFW), ("互动交流", HDJL), ("English", ENGLISH_URL), ("登录", LOGIN))
_TRS_PAGER_JS = """<script type="text/javascript">
function createPageHTML(_nPageCount, _nCurrIndex, _sPageName, _sPageExt){
  if(_nPageCount == null || _nPageCount <= 1){ return; }
  var nCurrIndex = _nCurrIndex || 0;
  if(nCurrIndex == 0) document.write("<span class='current'>1</span>&nbsp;");
  else document.write("<a href='" + _sPageName + "." + _sPageExt + "'>1</a>&nbsp;");
  for(var i = 1; i < _nPageCount; i++){
    if(nCurrIndex == i) document.write("<span class='current'>" + (i + 1) + "</span>&nbsp;");
    else document.write("<a href='" + _sPageName + "_" + i + "." + _sPageExt + "'>" + (i + 1) + "</a>&nbsp;");
  }
}
</script>"""  # noqa: E501 - the pager script as TRS pages print it


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _meta(name: str, content: str) -> str:
    return f'<meta name="{name}" content="{_esc(content)}">'


def _site_metas(column: str | None, column_type: str | None) -> str:
    metas = [_meta("SiteName", SITE_NAME), _meta("SiteDomain", SITE_DOMAIN),
             _meta("SiteIDCode", SITE_ID_CODE)]
    if column:
        metas.append(_meta("ColumnName", column))
    if column_type:
        metas.append(_meta("ColumnType", column_type))
    return "\n".join(metas)


def _top(crumbs: Sequence[tuple[str, str | None]]) -> str:
    nav = "".join(f'<li><a href="{href}">{label}</a></li>' for label, href in NAV)
    trail = ["<a href=\"/\">首页</a>"] + [
        f'<a href="{href}">{_esc(label)}</a>' if href else _esc(label) for label, href in crumbs]
    return (
        '<div class="top"><div class="logo">示例县人民政府</div>'
        '<form class="search" action="/search" method="get"><input type="text" name="q">'
        '<input type="submit" value="搜索"></form></div>\n'
        f'<ul class="nav">{nav}</ul>\n'
        f'<div class="crumb">当前位置：{" &gt; ".join(trail)}</div>\n'
    )


def _footer(hidden: str = "") -> str:
    return (
        '<div class="footer">\n'
        f'<p><a href="{GOV_CN_URL}" target="_blank">中国政府网</a> | '
        f'<a href="{HDJL}">联系我们</a></p>\n'
        f"<p>主办单位：示例县人民政府办公室　网站标识码：{SITE_ID_CODE}</p>\n"
        "<p>藏ICP备12000001号　技术支持：示例县融媒体中心</p>\n"
        f"{hidden}</div>"
    )


def _page(title: str, main: str, *, crumbs: Sequence[tuple[str, str | None]] = (),
          column: str | None = None, column_type: str | None = None,
          article: tuple[str, str, str] | None = None, charset: str = "utf-8",
          head_extra: str = "", hidden: str = "") -> str:
    """A portal page: 政府网站发展指引 metas, navigation, breadcrumb, body, footer."""
    metas = [f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">',
             _site_metas(column, column_type)]
    if article:
        metas += [_meta("ArticleTitle", article[0]), _meta("PubDate", article[1]),
                  _meta("ContentSource", article[2])]
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n' + "\n".join(metas) + "\n"
        f"<title>{_esc(title)}_{SITE_NAME}</title>\n"
        f'<link rel="stylesheet" type="text/css" href="{CSS}">\n{head_extra}</head>\n<body>\n'
        f'{_top(crumbs)}<div class="main">\n{main}\n</div>\n{_footer(hidden)}\n</body>\n</html>\n'
    )


def _article(title: str, date: str, source: str, paragraphs: Sequence[str], extra: str = "") -> str:
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return (f'<h1 class="title">{_esc(title)}</h1>\n'
            f'<div class="info">发布时间：{date}　来源：{_esc(source)}</div>\n'
            f'<div class="TRS_Editor">\n{body}\n{extra}</div>')


def _list(items: Sequence[tuple[str, str, str]]) -> str:
    """items: (href, title, date)."""
    lis = "\n".join(f'<li><a href="{href}" target="_blank" title="{_esc(title)}">{_esc(title)}</a>'
                    f"<span>{date}</span></li>" for href, title, date in items)
    return f'<ul class="list">\n{lis}\n</ul>'


# --- responses --------------------------------------------------------------------------------

SERVER = (b"Server", b"nginx")


def _html(text: str, *, charset: str = "utf-8", charset_in_header: bool = True,
          gzipped: bool = False, status: int = 200, headers: Sequence[Header] = (),
          delay: float = 0.0) -> ResponseSpec:
    body = text.encode(charset)
    ctype = f"text/html; charset={charset}" if charset_in_header else "text/html"
    out: list[Header] = [SERVER, (b"Content-Type", ctype.encode())]
    if gzipped:
        body = gzip.compress(body, mtime=0)
        out += [(b"Content-Encoding", b"gzip"), (b"Vary", b"Accept-Encoding")]
    return ResponseSpec(status, tuple(out) + tuple(headers), body, delay)


def _file(body: bytes, content_type: bytes, headers: Sequence[Header] = ()) -> ResponseSpec:
    return ResponseSpec(200, (SERVER, (b"Content-Type", content_type), (b"Accept-Ranges", b"bytes"),
                              *headers), body)


def _not_found() -> ResponseSpec:
    text = ('<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
            "<title>404 页面不存在</title></head>"
            '<body><div class="error"><h2>对不起，您访问的页面不存在或已被删除！</h2>'
            '<p><a href="/">返回首页</a></p></div></body></html>\n')
    return _html(text, status=404)


def _busy() -> ResponseSpec:
    text = ("<html><head><title>503 Service Temporarily Unavailable</title></head><body>"
            "<center><h1>503 Service Temporarily Unavailable</h1></center><hr><center>nginx"
            "</center></body></html>\n")
    return _html(text, status=SERVICE_UNAVAILABLE)


def _dynamic(path: str) -> ResponseSpec | None:
    if match := _CALENDAR_PATH.match(path):
        year, month = int(match[1]), int(match[2])
        if year >= 1 and 1 <= month <= 12:
            return _html(_calendar_page(year, month))
    if match := _HDJL_PATH.match(path):
        number = int(match[1])
        if 2 <= number <= MAX_ENDLESS_PAGE:
            return _html(_hdjl_page(number))
    return None


def _month_path(year: int, month: int) -> str:
    return f"{CALENDAR}?month={year:04d}-{month:02d}"


def _shift(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + month - 1 + months
    return index // 12, index % 12 + 1


def _calendar_page(year: int, month: int) -> str:
    """An endless 政务活动日历: every month links the previous and the next one."""
    rng = random.Random(f"calendar/{year}-{month}")
    events = ("县政府常务会议", "政务公开工作例会", "“一把手”走流程", "政府开放日",
              "民生实事推进会")
    days = 29 if month == 2 else 30 if month in (4, 6, 9, 11) else 31
    cells = [f"<td>{d}" + (f"<br><span>{rng.choice(events)}</span>" if rng.random() < 0.2 else "")
             + "</td>" for d in range(1, days + 1)]
    rows = "".join("<tr>" + "".join(cells[i:i + 7]) + "</tr>" for i in range(0, days, 7))
    links = []
    if (year, month) > (1, 1):
        prev = _shift(year, month, -1)
        links.append(f'<a href="?month={prev[0]:04d}-{prev[1]:02d}">上一月</a>')
    if (year, month) < (9999, 12):
        nxt = _shift(year, month, 1)
        links.append(f'<a href="?month={nxt[0]:04d}-{nxt[1]:02d}">下一月</a>')
    main = (f"<h2>{year}年{month}月政务活动日历</h2>\n"
            f'<div class="cal-nav">{" ".join(links)}</div>\n'
            "<table class=\"calendar\"><tr><th>一</th><th>二</th><th>三</th><th>四</th><th>五</th>"
            f"<th>六</th><th>日</th></tr>{rows}</table>")
    return _page(f"{year}年{month}月政务活动日历", main, crumbs=(("活动日历", None),),
                 column="活动日历")


_MESSAGES = ("关于城关镇老旧小区改造进度的咨询", "咨询县人民医院预约挂号方式", "建议增设公交线路",
             "关于农村低保申请条件的咨询", "反映东坝乡道路破损问题", "咨询不动产登记办理时间",
             "关于学区划分的咨询", "咨询政府信息公开申请的办理期限")


def _hdjl_page(number: int, hidden_spam: str = "") -> str:
    """互动交流 留言选登: the CMS prints 下一页 on every page, even past the last message."""
    rng = random.Random(f"hdjl/{number}")
    items = []
    for i in range(5):
        day = rng.randint(1, 28)
        items.append(f"<li><span>{rng.choice(_MESSAGES)}</span><em>已回复</em>"
                     f"<i>2023-{(number + i) % 12 + 1:02d}-{day:02d}</i></li>")
    prev = "" if number == 1 else (
        f'<a href="index.html{"" if number == 2 else f"?page={number - 1}"}">上一页</a> ')
    main = (f'<h2>留言选登</h2>\n<ul class="msg">{"".join(items)}</ul>\n'
            f'<div class="pager">{prev}<span>第{number}页</span> '
            f'<a href="index.html?page={number + 1}">下一页</a></div>')
    return _page("互动交流", main, crumbs=(("互动交流", HDJL),), column="互动交流",
                 hidden=hidden_spam)


# --- report pages -----------------------------------------------------------------------------


def _charset(style: Style) -> str:
    return "gbk" if style.encoding.lower() in _GBK else "utf-8"


def _report_page(report: Report, style: Style, crumbs: Sequence[tuple[str, str | None]],
                 column_type: str = "信息公开年报") -> str:
    """An official-style report page (gkcrawl.demo.render.html) inside the portal chrome."""
    text = render_html(report, style).decode(_charset(style))
    head = text[text.index("<head>") + len("<head>"):text.index("</head>")]
    body = text[text.index("<body>") + len("<body>"):text.rindex("</body>")]
    return (
        f'<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n{head}\n{_site_metas(None, column_type)}\n'
        f'<link rel="stylesheet" type="text/css" href="{CSS}">\n</head>\n<body>\n'
        f'{_top(crumbs)}<div class="main">\n{body}\n</div>\n{_footer()}\n</body>\n</html>\n'
    )


def _attachment_intro(report: Report, href: str, label: str,
                      crumbs: Sequence[tuple[str, str | None]], column: str,
                      extra_attrs: str = "") -> str:
    """An article whose body is a short intro: the report itself is the attached file."""
    title = report["title"]
    paragraphs = [(f"根据《中华人民共和国政府信息公开条例》规定，现公布{_esc(title)}，"
                   "全文详见附件。"),
                  "如对本报告有任何疑问，请与本机关联系（联系电话：0891-1234567）。",
                  f'附件：<a href="{_esc(href)}"{extra_attrs}>{_esc(label)}</a>']
    main = _article(title, report["published"], report["organ"], paragraphs)
    return _page(title, main, crumbs=crumbs, column=column, column_type="信息公开年报",
                 article=(title, report["published"], report["organ"]))


# --- the builder ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    organ: str
    year: int
    kind: str = HTML
    style: Style = field(default_factory=Style)
    gzipped: bool = False


class _Builder:
    """Assembles one site; sections add responses and ground truth as they go."""

    def __init__(self, seed: int, slow_delay: float, trap_limit: int, prerendered: bool) -> None:
        self.seed = seed
        self.slow_delay = slow_delay
        self.trap_limit = trap_limit
        self.prerendered = prerendered
        self.rng = random.Random(seed)
        self.manifest = _manifest() if prerendered else {}
        self.responses: dict[str, ResponseSpec] = {}
        self.reports: list[ExpectedReport] = []
        self.all_paths: set[str] = set()
        self.traps: set[str] = set()
        self.out_of_bounds: set[str] = set()
        self.disallowed: set[str] = set()
        self.optional: set[str] = set()
        self.lookalikes: set[str] = set()
        self.errors: dict[str, int] = {}
        self.redirects: dict[str, str] = {}
        self.shells: dict[str, str] = {}
        self.slow: dict[str, float] = {}
        self.lists: set[str] = set()
        self._ids: set[int] = set()
        self.news: list[tuple[str, str, str]] = []  # (path, title, date) for the home page
        self.latest_reports: list[tuple[str, str, str]] = []

    # helpers
    def add(self, path: str, response: ResponseSpec, role: str = "page") -> str:
        assert path not in self.responses, path
        assert path.isascii(), path
        self.responses[path] = response
        {"page": self.all_paths, "trap": self.traps, "out": self.out_of_bounds,
         "disallowed": self.disallowed, "optional": self.optional}[role].add(path)
        if response.status >= 400:
            self.errors[path] = response.status
        return path

    def new_id(self, low: int, high: int) -> int:
        while True:
            value = self.rng.randint(low, high)
            if value not in self._ids:
                self._ids.add(value)
                return value

    def digits(self, count: int) -> str:
        return "".join(str(self.rng.randint(0, 9)) for _ in range(count))

    def report(self, organ: str, year: int) -> Report:
        rng = random.Random(f"{self.seed}/{organ}/{year}")
        version = expected_format(year)
        assert version in ("2019", "2021"), year
        return random_report(rng, version, year, organ)

    def expect(self, path: str, kind: str, report: Report, **extra: Any) -> None:
        self.reports.append(ExpectedReport(path, kind, report["organ"], report["year"],
                                           report["format"], report, **extra))

    def attachment(self, report: Report, kind: str) -> bytes:
        """A PDF/DOCX body: the pre-rendered file when it prints this very report, else a render
        (the renderers are imported lazily: reportlab is a test dependency only)."""
        name = attachment_name(report["organ"], report["year"], kind)
        if self.manifest.get(name) == report_digest(report):
            return (SITE_DIR / name).read_bytes()
        try:
            if kind == PDF:
                from gkcrawl.demo.render.pdf import render_pdf as render
            else:
                from gkcrawl.demo.render.docx import render_docx as render
        except ImportError as exc:
            raise RuntimeError(f"{name} is not pre-rendered for seed {self.seed} and cannot be "
                               f"rendered here ({exc}); run python -m gkcrawl.demo.make_site "
                               "with the test dependencies") from exc
        return render(report)

    def html_report(self, path: str, plan: _Plan, report: Report,
                    crumbs: Sequence[tuple[str, str | None]]) -> None:
        charset = _charset(plan.style)
        text = _report_page(report, plan.style, crumbs)
        # GBK pages declare their charset only in <meta>, as old portals do
        self.add(path, _html(text, charset=charset, charset_in_header=charset == "utf-8",
                             gzipped=plan.gzipped))
        self.expect(path, HTML, report, encoding=charset, gzip=plan.gzipped)

    # sections
    def build(self) -> Site:
        self.robots()
        self.zfxxgk()
        self.trs_reports()
        self.hanweb()
        self.department_list()
        self.zwgk()
        self.news_section()
        self.bsfw()
        self.hdjl()
        self.calendar()
        self.mirror()
        self.home()
        self.assets()
        self.add(LOGIN, _html(_page("用户登录", '<form method="post" action="/admin/doLogin">用户名'
                                    '<input name="u">密码<input name="p" type="password"></form>')),
                 "disallowed")
        self.add(SEARCH, _html(_page("搜索结果", "<p>检索结果：0 条</p>")), "disallowed")
        return Site(
            seed=self.seed, slow_delay=self.slow_delay, trap_limit=self.trap_limit,
            responses=self.responses, reports=self.reports,
            all_paths=frozenset(self.all_paths), traps=frozenset(self.traps),
            out_of_bounds=frozenset(self.out_of_bounds), disallowed=frozenset(self.disallowed),
            external=frozenset({GOV_CN_URL, ENGLISH_URL}), optional=frozenset(self.optional),
            lookalikes=frozenset(self.lookalikes), errors=self.errors, redirects=self.redirects,
            shells=self.shells, slow=self.slow, lists=frozenset(self.lists),
        )

    def robots(self) -> None:
        lines = ["User-agent: *", *(f"Disallow: {p}" for p in ROBOTS_DISALLOW), ""]
        self.add(ROBOTS, _file("\n".join(lines).encode(), b"text/plain"))

    def zfxxgk(self) -> None:
        """The standard 政府信息公开 column and three of its four sub-columns (61号文)."""
        subs = (("政府信息公开指南", "./xxgkzn/index.html"),
                ("政府信息公开制度", "./xxgkzd/index.html"),
                ("法定主动公开内容", "./fdzdgknr/index.html"),
                ("政府信息公开年报", "./zfxxgknb/index.html"))
        main = ('<div class="xxgk-menu"><h2>政府信息公开</h2><ul>'
                + "".join(f'<li><a href="{href}">{label}</a></li>' for label, href in subs)
                + "</ul></div>\n<p>本栏目依据《中华人民共和国政府信息公开条例》设置，"
                "集中公开示例县人民政府及其部门的政府信息。</p>")
        crumbs = (("政府信息公开", ZFXXGK),)
        self.add(ZFXXGK, _html(_page("政府信息公开", main, crumbs=crumbs, column="政府信息公开"),
                               gzipped=True))
        guide = _article(
            "示例县人民政府信息公开指南", "2023-03-01", COUNTY_OFFICE,
            ["为了更好地提供政府信息公开服务，根据《中华人民共和国政府信息公开条例》，编制本指南。",
             ("一、主动公开。本机关主动公开的政府信息通过示例县人民政府门户网站"
              "“政府信息公开”专栏发布。"),
             "二、依申请公开。公民、法人或者其他组织可以通过当面、邮寄、网上申请等方式提出申请。",
             ("三、政府信息公开工作年度报告。本机关于每年1月31日前在“政府信息公开年报”栏目"
              "公布上一年度的政府信息公开工作年度报告。"),
             ("四、监督和救济。申请人认为行政机关侵犯其合法权益的，"
              "可以依法申请行政复议或者提起行政诉讼。")])
        self.add("/zfxxgk/xxgkzn/index.html", _html(_page(
            "政府信息公开指南", guide, crumbs=(*crumbs, ("政府信息公开指南", None)),
            column="政府信息公开指南",
            article=("示例县人民政府信息公开指南", "2023-03-01", COUNTY_OFFICE))))
        rule_title = "示例县人民政府办公室关于印发《示例县政府信息公开工作制度》的通知"
        rule_path = "/zfxxgk/xxgkzd/202005/t20200515_11001.html"
        self.add("/zfxxgk/xxgkzd/index.html", _html(_page(
            "政府信息公开制度",
            _list([("./202005/t20200515_11001.html", rule_title, "2020-05-15")]),
            crumbs=(*crumbs, ("政府信息公开制度", None)), column="政府信息公开制度")))
        self.add(rule_path, _html(_page(rule_title, _article(
            rule_title, "2020-05-15", COUNTY_OFFICE,
            ["各乡（镇）人民政府，县直各部门：",
             "现将《示例县政府信息公开工作制度》印发给你们，请认真贯彻执行。",
             "第一条 为规范本县政府信息公开工作，制定本制度。",
             ("第十二条 各单位应当于每年1月31日前编制并公布本单位上一年度"
              "政府信息公开工作年度报告。")]),
            crumbs=(*crumbs, ("政府信息公开制度", "/zfxxgk/xxgkzd/index.html")),
            column="政府信息公开制度", article=(rule_title, "2020-05-15", COUNTY_OFFICE))))
        duties = _article("示例县人民政府机构职能", "2023-02-10", COUNTY_OFFICE,
                          [("示例县人民政府是县级国家行政机关，"
                            "执行县人民代表大会及其常务委员会的决议。"),
                           "县人民政府办公室负责全县政府信息公开和政务公开的日常工作。"])
        self.add("/zfxxgk/fdzdgknr/jgzn/index.html", _html(_page(
            "机构职能", duties,
            crumbs=(*crumbs, ("法定主动公开内容", "/zfxxgk/fdzdgknr/index.html")),
            column="机构职能", article=("示例县人民政府机构职能", "2023-02-10", COUNTY_OFFICE))))
        self.add("/zfxxgk/fdzdgknr/index.html", _html(_page("法定主动公开内容", (
            '<ul class="list"><li><a href="./jgzn/index.html">机构职能</a></li>'
            '<li><a href="../../zwgk/czzj/index.html">财政资金</a></li>'
            '<li><a href="../../zwgk/zcwj/index.html">政策文件</a></li></ul>'),
            crumbs=(*crumbs, ("法定主动公开内容", None)), column="法定主动公开内容")))

    def trs_reports(self) -> None:
        """TRS WCM 政府信息公开年报: index.html, index_1.html, index_2.html, paged only by
        createPageHTML(3, k, "index", "html"); articles ./YYYYMM/tYYYYMMDD_<docid>.html."""
        base = "/zfxxgk/zfxxgknb/"
        crumbs = (("政府信息公开", ZFXXGK), ("政府信息公开年报", REPORT_COLUMN))
        plans = (
            _Plan(COUNTY_GOV, 2023, HTML, Style(word_export=True), gzipped=True),
            _Plan(COUNTY_GOV, 2022, PDF),
            _Plan(COUNTY_GOV, 2021, HTML, Style(encoding="gbk", blank_detail_totals=True)),
            _Plan(COUNTY_GOV, 2020, HTML, Style(misaligned=True)),
            _Plan(COUNTY_GOV, 2019, HTML,
                  Style(encoding="gbk", nbsp_blanks=False, layout_table=False)),
            _Plan(COUNTY_OFFICE, 2022, HTML, Style()),
            _Plan(COUNTY_OFFICE, 2021, HTML, Style(word_export=True, nbsp_blanks=False)),
        )
        items: list[tuple[str, str, str]] = []  # (path, title, date)

        def article_path(date: str) -> str:
            ymd = date.replace("-", "")
            return f"{base}{ymd[:6]}/t{ymd}_{self.new_id(12000, 12999)}.html"

        self.county_reports: dict[int, Report] = {}
        for plan in plans:
            report = self.report(plan.organ, plan.year)
            if plan.organ == COUNTY_GOV:
                self.county_reports[plan.year] = report
            path = article_path(report["published"])
            items.append((path, report["title"], report["published"]))
            if plan.kind == HTML:
                self.html_report(path, plan, report, crumbs)
                continue
            ymd = report["published"].replace("-", "")
            pdf = f"{path.rsplit('/', 1)[0]}/P0{ymd}{self.digits(12)}.pdf"
            label = f"{report['title']}.pdf"
            oldsrc = f' OLDSRC="/protect/P0{ymd[:6]}/P0{ymd}/{pdf.rsplit("/", 1)[1]}"'
            href = "./" + pdf.rsplit("/", 1)[1]
            self.add(path, _html(_attachment_intro(report, href, label, crumbs, "政府信息公开年报",
                                                   oldsrc)))
            self.add(pdf, _file(self.attachment(report, PDF), b"application/octet-stream", (
                (b"Content-Disposition", GBK_DISPOSITION),
                (b"Set-Cookie", b"JSESSIONID=8F3C2B1A9E7D6C5B4A3F2E1D0C9B8A7F; Path=/; HttpOnly"),
                (b"Set-Cookie", (b"_trs_uv=lrk3b2x1_4567_9f2d; path=/; "
                                b"expires=Fri, 31 Dec 2027 16:00:00 GMT")))))
            self.expect(pdf, PDF, report, page=path)
        self.latest_reports = sorted(items, key=lambda i: i[2], reverse=True)[:4]

        # the lookalikes of the column: the 编制通知 (with the blank template), 图解, 解读
        notice_date = "2022-12-15"
        notice = article_path(notice_date)
        notice_title = "关于做好2022年政府信息公开工作年度报告编制工作的通知"
        template_path = f"{notice.rsplit('/', 1)[0]}/P020221215{self.digits(12)}.docx"
        self.notice = (notice, notice_title, notice_date)
        paragraphs = [
            "各乡（镇）人民政府，县直各部门：",
            ("根据《中华人民共和国政府信息公开条例》（以下简称《条例》）和"
             "《国务院办公厅政府信息与政务公开办公室关于印发〈中华人民共和国政府信息公开工作"
             "年度报告格式〉的通知》（国办公开办函〔2021〕30号）要求，"
             "现就做好2022年政府信息公开工作年度报告（以下简称年度报告）编制和发布工作通知如下："),
            ("一、严格执行年度报告格式。各单位须严格按照年度报告格式编制本单位"
             "2022年政府信息公开工作年度报告，年度报告中的表格不得增减栏目，数据须真实准确，"
             "确保主动公开、依申请公开、行政复议和行政诉讼数据前后一致、勾稽关系正确。"),
            ("二、按时发布年度报告。各单位须于2023年1月31日前在示例县人民政府门户网站"
             "“政府信息公开年报”栏目发布本单位年度报告，乡（镇）人民政府年度报告同步在"
             "“部门和乡镇信息公开年报”栏目发布。"),
            ("三、做好报送备案。年度报告发布后，"
             "请于2023年2月5日前将年度报告电子版报送县政务公开办。"),
            "联系人：县政务公开办　联系电话：0891-1234567",
            (f'附件：<a href="./{template_path.rsplit("/", 1)[1]}">'
             "中华人民共和国政府信息公开工作年度报告格式.docx</a>"),
            "示例县人民政府办公室", "2022年12月15日"]
        notice_article = _article(notice_title, notice_date, COUNTY_OFFICE, paragraphs)
        self.add(notice, _html(_page(notice_title, notice_article,
                                     crumbs=crumbs, column="政府信息公开年报",
                                     article=(notice_title, notice_date, COUNTY_OFFICE))))
        self.add(template_path, _file(
            _blank_template(),
            b"application/vnd.openxmlformats-officedocument.wordprocessingml.document"))
        items.append(self.notice)
        self.lookalikes |= {notice, template_path}

        report_2022 = self.county_reports[2022]
        chart_date = report_2022["published"]
        chart = article_path(chart_date)
        chart_title = f"图解：{report_2022['title']}"
        image = f"{chart.rsplit('/', 1)[0]}/W0{chart_date.replace('-', '')}{self.digits(10)}.png"
        apps, active = report_2022["applications"], report_2022["active_disclosure"]
        reviews = report_2022["review_litigation"]
        litigation = (reviews["litigation_direct"]["total"]
                      + reviews["litigation_after_review"]["total"])
        figures = [
            f'<img src="./{image.rsplit("/", 1)[1]}" alt="{_esc(chart_title)}" width="750">',
            f"一图读懂{report_2022['title']}",
            (f"主动公开：制发规范性文件{fmt(active['normative_documents']['issued'])}件，"
            f"现行有效{fmt(active['normative_documents']['in_force'])}件。"),
            (f"依申请公开：全年新收政府信息公开申请{fmt(apps['new_received']['total'])}件，"
            f"办结{fmt(apps['total_processed']['total'])}件，结转下年度继续办理"
            f"{fmt(apps['carried_over']['total'])}件。"),
            (f"复议诉讼：政府信息公开行政复议{fmt(reviews['admin_review']['total'])}件，"
            f"行政诉讼{fmt(litigation)}件。"),
        ]
        chart_article = _article(chart_title, chart_date, COUNTY_OFFICE, figures)
        self.add(chart, _html(_page(chart_title, chart_article,
                                    crumbs=crumbs, column="政府信息公开年报",
                                    article=(chart_title, chart_date, COUNTY_OFFICE))))
        self.add(image, _file(_png(), b"image/png"), "optional")
        items.append((chart, chart_title, chart_date))

        report_2021 = self.county_reports[2021]
        received_2021 = report_2021["applications"]["new_received"]["total"]
        reading = article_path(report_2021["published"])
        reading_title = f"《{report_2021['title']}》解读"
        self.add(reading, _html(_page(reading_title, _article(
            reading_title, report_2021["published"], COUNTY_OFFICE,
            ["近日，示例县人民政府发布了2021年政府信息公开工作年度报告，现就有关内容解读如下。",
             "一、年度报告的主要内容。年度报告共分六个部分，总结了一年来的政府信息公开工作。",
             (f"二、依申请公开情况。全年新收申请{fmt(received_2021)}件，"
              "均在法定期限内答复。"),
             "三、下一步工作。进一步提升政务公开标准化规范化水平。"]),
            crumbs=crumbs, column="政府信息公开年报",
            article=(reading_title, report_2021["published"], COUNTY_OFFICE))))
        items.append((reading, reading_title, report_2021["published"]))
        self.lookalikes |= {chart, reading}

        items.sort(key=lambda i: (i[2], i[0]), reverse=True)
        pages = [items[i:i + TRS_PAGE_SIZE] for i in range(0, len(items), TRS_PAGE_SIZE)]
        assert len(pages) == 3, len(pages)
        for number, chunk in enumerate(pages):
            rel = [("./" + p[len(base):], t, d) for p, t, d in chunk]
            main = (f'<div class="column-title">政府信息公开年报</div>\n{_list(rel)}\n'
                    '<div class="page"><script type="text/javascript">'
                    f"createPageHTML({len(pages)}, "
                    f'{number}, "index", "html");</script></div>')
            text = _page("政府信息公开年报", main, crumbs=crumbs, column="政府信息公开年报",
                         column_type="信息公开年报", head_extra=_TRS_PAGER_JS + "\n")
            name = "index.html" if number == 0 else f"index_{number}.html"
            self.lists.add(self.add(base + name, _html(text, gzipped=number == 0)))
            if number == 0:  # the directory URL serves the same page (the redirect chain ends here)
                self.lists.add(self.add(REPORT_COLUMN_DIR, _html(text, gzipped=True)))
        self.add(TRS_PAGE_MISSING, _html(
            '<html><head><meta http-equiv="refresh" content="0;url=./"><title>404</title></head>'
            "<body>页面不存在，正在返回栏目首页……</body></html>", status=404), "out")

    def hanweb(self) -> None:
        """大汉 JCMS column: list records only inside <script type="text/xml">; /art/ articles."""
        colid = HANWEB_COLUMN_ID
        crumbs = (("政务公开", ZWGK), ("县卫生健康委员会信息公开年报", HANWEB_COLUMN))
        plans = (
            _Plan(HEALTH, 2023, HTML, Style()),
            _Plan(HEALTH, 2022, HTML, Style(encoding="gbk", word_export=True)),
            _Plan(HEALTH, 2021, DOCX),
            _Plan(HEALTH, 2020, HTML, Style(blank_detail_totals=True)),
            _Plan(HEALTH, 2019, HTML, Style(nbsp_blanks=False)),
        )
        records = []
        for plan in plans:
            report = self.report(plan.organ, plan.year)
            y, m, d = (int(x) for x in report["published"].split("-"))
            path = f"/art/{y}/{m}/{d}/art_{colid}_{self.new_id(560, 999)}.html"
            records.append(f'<record><![CDATA[\n<li><a href="{path}" target="_blank" '
                           f'title="{_esc(report["title"])}">{_esc(report["title"])}</a>'
                           f'<span>{report["published"]}</span></li>\n]]></record>')
            if plan.kind == HTML:
                self.html_report(path, plan, report, crumbs)
                continue
            stamp = f"{y % 100:02d}{m:02d}{d:02d}{self.digits(4)}"
            docx = f"/module/download/downfile.jsp?classid=0&filename={stamp}.docx"
            self.add(path, _html(_attachment_intro(report, docx, f"{report['title']}.docx", crumbs,
                                                   "信息公开年报")))
            disposition = f"attachment; filename={stamp}.docx".encode()
            self.add(docx, _file(self.attachment(report, DOCX), b"application/octet-stream",
                                 ((b"Content-Disposition", disposition),)))
            self.expect(docx, DOCX, report, page=path)
        main = (
            f'<div class="bt-rig-cen-01" id="{colid}">\n<script type="text/xml">\n<datastore>\n'
            f"<column><![CDATA[{HEALTH}信息公开年报]]></column>\n"
            f"<totalrecord>{len(records)}</totalrecord>\n<recordset>\n" + "\n".join(records)
            + "\n</recordset>\n</datastore>\n</script>\n"
            '<script type="text/javascript">/* 大汉 jpage: the records above are written by the '
            "pager script */</script>\n</div>")
        self.lists.add(self.add(HANWEB_COLUMN, _html(_page(
            f"{HEALTH}信息公开年报", main, crumbs=crumbs, column="信息公开年报",
            column_type="信息公开年报"))))

    def department_list(self) -> None:
        """部门和乡镇信息公开年报: ?page=N with 上一页/下一页; show.html?id=N articles."""
        crumbs = (("政务公开", ZWGK), ("部门和乡镇信息公开年报", f"{BM_LIST}?page=1"))
        plans = (
            _Plan(CHENGGUAN, 2022, HTML, Style(layout_table=False)),
            _Plan(CHENGGUAN, 2021, HTML, Style(encoding="gbk")),
            _Plan(DONGBA, 2022, HTML, Style(misaligned=True, word_export=True)),
            _Plan(DONGBA, 2020, HTML, Style()),
            _Plan(FINANCE, 2022, PDF),
            _Plan(LAND, 2021, DOCX),
            _Plan(EDUCATION, 2023, HTML, Style(word_export=True), gzipped=True),
            _Plan(EDUCATION, 2022, HTML, Style(blank_detail_totals=True)),
            _Plan(MARKET, 2020, PDF),
        )
        items = []
        for plan in plans:
            report = self.report(plan.organ, plan.year)
            article_id = self.new_id(300, 499)
            path = f"/bmxxgknb/show.html?id={article_id}"
            items.append((f"show.html?id={article_id}", report["title"], report["published"]))
            if plan.kind == HTML:
                self.html_report(path, plan, report, crumbs)
                continue
            ymd = report["published"].replace("-", "")
            name = f"P0{ymd}{self.digits(6)}.{plan.kind}"
            ctype = (b"application/pdf" if plan.kind == PDF else
                     b"application/vnd.openxmlformats-officedocument.wordprocessingml.document")
            body = self.attachment(report, plan.kind)
            self.add(path, _html(_attachment_intro(report, f"files/{name}",
                                                   f"{report['title']}.{plan.kind}",
                                                   crumbs, "部门和乡镇信息公开年报")))
            self.add(f"/bmxxgknb/files/{name}", _file(body, ctype))
            self.expect(f"/bmxxgknb/files/{name}", plan.kind, report, page=path)
            if plan.organ == FINANCE:
                self.finance_pdf = (f"/bmxxgknb/files/{name}", report, body)
        items.sort(key=lambda i: (i[2], i[0]), reverse=True)
        pages = [items[i:i + BM_PAGE_SIZE] for i in range(0, len(items), BM_PAGE_SIZE)]
        for number, chunk in enumerate(pages, start=1):
            pager = [f"<span>共{len(items)}条　第{number}/{len(pages)}页</span>"]
            if number > 1:
                pager.append(f'<a href="list.html?page={number - 1}">上一页</a>')
            if number < len(pages):
                pager.append(f'<a href="list.html?page={number + 1}">下一页</a>')
            main = (f'<div class="column-title">部门和乡镇信息公开年报</div>\n{_list(chunk)}\n'
                    f'<div class="pager">{" ".join(pager)}</div>')
            self.lists.add(self.add(f"{BM_LIST}?page={number}", _html(_page(
                "部门和乡镇信息公开年报", main, crumbs=crumbs, column="部门和乡镇信息公开年报",
                column_type="信息公开年报"))))

    def zwgk(self) -> None:
        """政务公开: entries through a redirect chain, a meta-refresh and a JS shell, a 412 page
        and the re-published finance PDF."""
        crumbs = (("政务公开", ZWGK),)
        old, middle = "/xxgk/gknb.html", "/zfxxgk/gknb/"
        self.add(old, ResponseSpec(301, (SERVER, (b"Location", middle.encode()),
                                         (b"Content-Type", b"text/html")),
                                   b"<html><body>301 Moved Permanently</body></html>"))
        self.add(middle, ResponseSpec(302, (SERVER, (b"Location", REPORT_COLUMN_DIR.encode()),
                                            (b"Content-Type", b"text/html")),
                                      b"<html><body>302 Found</body></html>"))
        self.redirects |= {old: middle, middle: REPORT_COLUMN_DIR}
        bm_shell, bm_target = "/zwgk/bmnb.html", f"{BM_LIST}?page=1"
        self.add(bm_shell, _html(
            '<html><head><meta charset="utf-8"><meta http-equiv="refresh" '
            'content="0; url=../bmxxgknb/list.html?page=1">'
            "<title>部门和乡镇信息公开年报</title></head>"
            "<body>页面跳转中……</body></html>"))
        js_shell = "/zwgk/wjwnb.html"
        self.add(js_shell, _html(
            f'<html><head><meta charset="utf-8"><title>{HEALTH}</title>'
            '<script type="text/javascript">'
            f'location.replace("{HANWEB_COLUMN}");</script></head><body></body></html>'))
        self.shells |= {bm_shell: bm_target, js_shell: HANWEB_COLUMN}
        challenge = (
            '<!DOCTYPE html><html><head><meta charset="utf-8"><meta http-equiv="Content-Type" '
            'content="text/html; charset=utf-8"><script type="text/javascript" r="m">'
            "$_ts=window['$_ts'];if(!$_ts)$_ts={};$_ts.nsd=84213;"
            "$_ts.cd=\"qxrGrr9kDqAqmqKvDa3lcaLxlGVb"
            "raAqJGAqkA9qDaLSJqAbhOzqJq3lJcGGDqEQhfVIraVqhaAqJAlbhqLqJal5hfAqJqVmhf3qqv\";"
            "</script></head><body><noscript>请开启浏览器的JavaScript功能</noscript></body></html>")
        self.add("/zwgk/zcwj/index.html", _html(challenge, status=412, headers=(
            (b"Set-Cookie", (b"azSsQE5NvspcS=5cTj0jCkTtxQ8d1Xq2Vb9Ld4MOyrhN4E7qXvHf1oE; Path=/; "
                            b"expires=Sun, 19 Jan 2025 03:14:07 GMT; HttpOnly")),
            (b"Set-Cookie", b"azSsQE5NvspcT=0BrTkCz7W1; Path=/; HttpOnly"))))
        finance_path, finance_report, finance_body = self.finance_pdf
        copy = f"/zwgk/czzj/P0{finance_report['published'].replace('-', '')}{self.digits(6)}.pdf"
        self.add(copy, _file(finance_body, b"application/pdf"))
        self.expect(copy, PDF, finance_report, page="/zwgk/czzj/index.html", copy_of=finance_path)
        self.add("/zwgk/czzj/index.html", _html(_page("财政资金", _list([
            ("./" + copy.rsplit("/", 1)[1], f"{finance_report['title']}（转载）",
             finance_report["published"]),
        ]), crumbs=(*crumbs, ("财政资金", None)), column="财政资金")))
        links = [("政府信息公开", "../zfxxgk/"),
                 ("政府信息公开年报（原栏目）", "../xxgk/gknb.html"),
                 ("部门和乡镇信息公开年报", "bmnb.html"),
                 ("县卫生健康委员会信息公开年报", "wjwnb.html"),
                 ("政策文件", "zcwj/index.html"), ("财政资金", "czzj/index.html")]
        main = ('<div class="zwgk"><ul>'
                + "".join(f'<li><a href="{h}">{t}</a></li>' for t, h in links)
                + "</ul></div>")
        self.add(ZWGK, _html(_page("政务公开", main, crumbs=crumbs, column="政务公开")))

    def news_section(self) -> None:
        """新闻中心: news, a deleted article (404), one that always fails (500), a slow one."""
        crumbs = (("新闻中心", NEWS),)
        base = "/xwzx/"
        plain = [
            ("2024-01-18", "示例县召开2024年政务公开工作推进会",
             [("1月18日，示例县召开2024年政务公开工作推进会，总结2023年政务公开工作，"
               "部署2024年重点任务。"),
              ("会议要求，各单位要按时编制并公布2023年政府信息公开工作年度报告，"
               "确保年度报告数据准确、格式规范。"),
              (f'相关链接：<a href="../../bsfw/bszn.html?sid={SID}">办事指南</a>　'
              f'<a href="{GOV_CN_URL}">中国政府网</a>')]),
            ("2023-12-05", "示例县举办“政府开放日”活动",
             ["12月5日，示例县举办“政府开放日”活动，邀请群众代表走进县政务服务中心。",
              "活动现场，工作人员向群众介绍了政府信息公开申请的渠道和办理流程。"]),
        ]
        items = []
        for date, title, paragraphs in plain:
            ymd = date.replace("-", "")
            path = f"{base}{ymd[:6]}/t{ymd}_{self.new_id(20000, 20999)}.html"
            charset = "gbk" if date.startswith("2023") else "utf-8"
            text = _page(title, _article(title, date, "示例县融媒体中心", paragraphs),
                         crumbs=crumbs, column="新闻中心",
                         article=(title, date, "示例县融媒体中心"), charset=charset)
            self.add(path, _html(text, charset=charset))
            items.append((path, title, date))
        broken = [("2024-01-10", "示例县政务服务中心优化办事流程", 500),
                  ("2023-12-28", "示例县开展政府网站与政务新媒体检查", 0),
                  ("2023-12-20", "我县召开政府信息公开工作培训会", 404)]
        for date, title, status in broken:
            ymd = date.replace("-", "")
            path = f"{base}{ymd[:6]}/t{ymd}_{self.new_id(20000, 20999)}.html"
            if status == 500:
                self.add(path, _html("<html><head><title>500 Internal Server Error</title></head>"
                                     "<body>"
                                     "<h1>500 Internal Server Error</h1><hr><center>nginx</center>"
                                     "</body></html>", status=500))
            elif status == 404:
                self.add(path, _not_found())
            else:
                text = _page(title, _article(title, date, "示例县融媒体中心", [
                    ("近日，示例县组织开展政府网站与政务新媒体季度检查，"
                     "重点检查信息更新和互动回应情况。")]),
                    crumbs=crumbs, column="新闻中心", article=(title, date, "示例县融媒体中心"))
                self.add(path, _html(text, delay=self.slow_delay))
                self.slow[path] = self.slow_delay
            items.append((path, title, date))
        items.sort(key=lambda i: i[2], reverse=True)
        self.news = items
        rel = [("./" + p[len(base):], t, d) for p, t, d in items]
        self.add(NEWS, _html(_page("新闻中心", _list(rel), crumbs=crumbs, column="新闻中心")))

    def bsfw(self) -> None:
        """办事服务: a real page and two session-id variants of it (traps: same bytes)."""
        crumbs = (("办事服务", BSFW),)
        title = "政府信息公开申请办事指南"
        guide = _page(title, _article(title, "2023-06-01", COUNTY_OFFICE, [
            "一、受理机构：示例县人民政府办公室（县政务公开办）。",
            "二、申请方式：当面提交、邮寄、网上提交政府信息公开申请表。",
            ("三、办理时限：能够当场答复的当场答复；不能当场答复的，"
             "自收到申请之日起20个工作日内予以答复。")]),
            crumbs=crumbs, column="办事服务", article=(title, "2023-06-01", COUNTY_OFFICE))
        self.add(GUIDE, _html(guide))
        for variant in (f"{GUIDE};jsessionid={SESSION_ID}", f"{GUIDE}?sid={SID}"):
            self.add(variant, _html(guide), "trap")
        main = ('<ul class="list"><li><a href="bszn.html;jsessionid=' + SESSION_ID + '">'
                "政府信息公开申请"
                "</a></li><li><a href=\"../hdjl/index.html\">咨询投诉</a></li></ul>")
        self.add(BSFW, _html(_page("办事服务", main, crumbs=crumbs, column="办事服务")))

    def hdjl(self) -> None:
        """互动交流 page 1 is a real page; pages 2.. are the endless-pagination trap."""
        self.add(HDJL, _html(_hdjl_page(1)))
        last_in_bounds = 1 + self.trap_limit
        for number in range(2, last_in_bounds + 1):
            self.add(f"{HDJL}?page={number}", _html(_hdjl_page(number)), "trap")
        for number in range(last_in_bounds + 1, last_in_bounds + 1 + OUT_OF_BOUNDS_SAMPLE):
            self.out_of_bounds.add(f"{HDJL}?page={number}")

    def calendar(self) -> None:
        """The endless calendar: months within trap_limit hops of the entry month are traps a
        bounded crawl may fetch; a sample further out is out of bounds."""
        for hops in range(-self.trap_limit, self.trap_limit + 1):
            year, month = _shift(*CALENDAR_ENTRY, hops)
            self.add(_month_path(year, month), _html(_calendar_page(year, month)), "trap")
        for hops in range(self.trap_limit + 1, self.trap_limit + 1 + OUT_OF_BOUNDS_SAMPLE):
            for sign in (-1, 1):
                self.out_of_bounds.add(_month_path(*_shift(*CALENDAR_ENTRY, sign * hops)))

    def mirror(self) -> None:
        """A spam mirror injected into the site: a copy of one report page under a gambling
        header."""
        original = next(r for r in self.reports if r.organ == COUNTY_OFFICE and r.year == 2022)
        text = render_html(original.report, Style()).decode("utf-8")
        text = text.replace("<head>", '<head><meta name="keywords" content="香港免费图库资料大全,'
                                      '六合彩开奖结果">', 1)
        text = text.replace("<body>", f"<body><div class='spam'>{SPAM_LINE}</div>", 1)
        name = original.path.rsplit("/", 1)[1]
        path = f"/mirror/zfxxgknb/{name}"
        self.add(path, _html(text))
        self.expect(path, HTML, original.report, copy_of=original.path, mirror=True,
                    encoding="utf-8")
        self.mirror_path = path

    def home(self) -> None:
        notice_path, notice_title, notice_date = self.notice
        blocks = [
            ('<div class="block"><h3>政府信息公开</h3><ul>'
            '<li><a href="zfxxgk/">政府信息公开</a></li>'
            '<li><a href="zfxxgk/zfxxgknb/index.html">政府信息公开年报</a></li>'
            '<li><a href="zwgk/index.html">政务公开</a></li>'
            f'<li><a href="{SEARCH.lstrip("/")}">检索历年年度报告</a></li></ul></div>'),
            f'<div class="block"><h3>最新年报</h3>{_list(self.latest_reports)}</div>',
            ('<div class="block"><h3>通知公告</h3>'
             f"{_list([(notice_path, notice_title, notice_date)])}</div>"),
            f'<div class="block"><h3>新闻中心</h3>{_list(self.news)}</div>',
            ('<div class="block"><h3>便民服务</h3><ul>'
            '<li><a href="bsfw/bszn.html">政府信息公开申请办事指南</a>'
            f'</li><li><a href="calendar/?month={CALENDAR_ENTRY[0]:04d}-{CALENDAR_ENTRY[1]:02d}">'
            "政务活动日历</a></li></ul></div>"),
        ]
        # SEO spam injected into a hacked page: a hidden link to the mirror
        hidden = (f'<div style="display:none"><a href="{self.mirror_path}">'
                  "香港免费图库资料大全</a></div>")
        text = _page(SITE_NAME, "\n".join(blocks), column="首页", hidden=hidden)
        self.add(HOME, _html(text, gzipped=True))

    def assets(self) -> None:
        css = ("body{font-family:'Microsoft YaHei',SimSun;margin:0}"
               ".nav li{display:inline;margin:0 1em}"
               ".main{width:1000px;margin:0 auto}table{border-collapse:collapse}\n")
        self.add(CSS, _file(css.encode(), b"text/css"), "optional")


# --- attachments ------------------------------------------------------------------------------

def _png(width: int = 2, height: int = 2) -> bytes:
    """A tiny valid PNG (the 图解 page's picture)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    rows = b"".join(b"\x00" + b"\xff\xff\xff" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9))
            + chunk(b"IEND", b""))


def attachment_name(organ: str, year: int, kind: str) -> str:
    """File name of a pre-rendered attachment under gkcrawl/demo/site/."""
    return f"{ORGAN_SLUGS[organ]}-{year}.{kind}"


def report_digest(report: Report) -> str:
    """What a pre-rendered file prints: a file is reused only for the very same report."""
    canonical = json.dumps(report, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _manifest() -> dict[str, str]:
    try:
        text = (SITE_DIR / MANIFEST_NAME).read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    manifest: dict[str, str] = json.loads(text)
    return manifest


def _blank_template() -> bytes:
    """The official blank 2021 template, as the 编制通知 attaches it."""
    return (SITE_DIR / BLANK_TEMPLATE_NAME).read_bytes()


def build_site(seed: int = DEFAULT_SEED, *, slow_delay: float = SLOW_DELAY,
               trap_limit: int = TRAP_LIMIT, prerendered: bool = True) -> Site:
    """The sample portal for ``seed``. ``prerendered=False`` renders every attachment afresh
    (make_site.py does that); otherwise files under gkcrawl/demo/site/ are used when they print
    the same report."""
    if trap_limit < 1:
        raise ValueError("trap_limit must be at least 1")
    return _Builder(seed, slow_delay, trap_limit, prerendered).build()
