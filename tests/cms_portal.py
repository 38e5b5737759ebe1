"""示范市人民政府: a portal built from the markup of real government CMSes, served on 127.0.0.1.

Every report sits behind one discovery mechanism (``Expected.mechanism``): TRS pagers (the old
``createPageHTML`` call, and the newer one numbering from 1 or from 0), Hanweb jpage lists (a
POSTed range, the GET ``?page=N`` form, ``index.html?uid=…&pageNum=N``), a LonSun label list,
Guangdong's gkmlpt shell and JSON API, links in script and attributes, frames, and plain links
for comparison. The server answers as those CMSes do: the data endpoints check the form or the
parameters the page's script names (400 otherwise), ``dataproxy.jsp`` answers a range only to a
POST, attachment servers answer only a visitor of the page (Referer), and pages past a list's
end are 404. Every request is recorded (method, path, body, Referer).

    with serve_portal() as portal:
        portal.url, portal.expected, portal.requests
"""

from __future__ import annotations

import html
import json
import math
import random
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode, urlsplit

from gkcrawl.demo.render.html import render_html
from gkcrawl.demo.render.pdf import render_pdf
from gkcrawl.demo.render.reports import Report, random_report
from gkcrawl.template.spec import expected_format

HOST = "127.0.0.1"
SEED = 11
CITY = "示范市"
DEPARTMENTS = (
    "发展和改革委员会", "教育局", "科学技术局", "工业和信息化局", "公安局", "民政局", "司法局",
    "财政局", "人力资源和社会保障局", "自然资源局", "生态环境局", "住房和城乡建设局",
    "交通运输局", "水务局", "农业农村局", "商务局", "文化广电旅游体育局", "卫生健康委员会",
    "退役军人事务局", "应急管理局", "审计局", "市场监督管理局", "统计局", "医疗保障局",
    "林业局", "城市管理局", "政务服务数据管理局", "信访局", "地方金融监督管理局", "档案局",
    "城关镇人民政府", "东坝乡人民政府", "南岭街道办事处", "西河镇人民政府",
)
YEARS = (2023, 2022, 2021, 2020, 2019)
POLL_INTERVAL = 0.05

HTML_TYPE = "text/html; charset=utf-8"
XML_TYPE = "text/xml;charset=UTF-8"
JSON_TYPE = "application/json"
PDF_TYPE = "application/pdf"
OK, BAD_REQUEST, FORBIDDEN, NOT_FOUND, NOT_ALLOWED = 200, 400, 403, 404, 405

# the mechanisms a report is found through
TRS_OLD, TRS_FROM_ONE, TRS_FROM_ZERO = "trs-old-pager", "trs-pager-from-1", "trs-pager-from-0"
HANWEB_POST, HANWEB_GET, HANWEB_PAGENUM = "hanweb-post", "hanweb-get-page", "hanweb-pagenum"
LONSUN, GKMLPT = "lonsun-label", "gkmlpt-api"
ONCLICK_OPEN, ONCLICK_LOCATION, JS_HREF = "onclick-window-open", "onclick-location", "js-href"
DATA_HREF, DATA_URL, IFRAME, FRAME, PLAIN = "data-href", "data-url", "iframe", "frame", "plain"

HANWEB_PROXY = "/module/web/jpage/dataproxy.jsp"
HANWEB_POST_COLUMNS = (5001, 5004)
LONSUN_LABEL = "/site/label/8888"
GKMLPT_SID = "755999"
GKMLPT_REPORTS, GKMLPT_OTHER = 2381, 2380
GKMLPT_FIRST_POST, GKMLPT_PAGE_SIZE = 3001230, 2
WEB_ID, WEB_NAME = "12", f"{CITY}人民政府"


@dataclass(frozen=True)
class Expected:
    """A report the crawl must find: where its document is, and what it truly holds."""

    path: str
    mechanism: str
    report: Report
    page: str | None = None  #: an attachment's article page (its server checks the Referer)


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: bytes
    #: the Referer this answer needs (an attachment server's check), if any
    referer: str | None = None
    #: more headers (a Content-Encoding)
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Hit:
    method: str
    path: str
    body: bytes
    referer: str | None
    status: int


Handler = Callable[[str, dict[str, str]], Answer]


def key(path: str) -> str:
    """A path with its query sorted: the crawler asks canonical URLs."""
    parts = urlsplit(path)
    query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)))
    return parts.path + (f"?{query}" if query else "")


def page_html(title: str, main: str, head: str = "") -> bytes:
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(title)}'
            f"_{CITY}人民政府</title>{head}</head><body><div class='top'>{CITY}人民政府</div>"
            f"<div class='main'>{main}</div><div class='footer'>主办单位：{CITY}人民政府办公室"
            "</div></body></html>").encode()


def _list(items: list[tuple[str, str]]) -> str:
    return "<ul class='list'>" + "".join(
        f"<li><a href='{href}' target='_blank' title='{html.escape(title)}'>{html.escape(title)}"
        "</a></li>" for href, title in items) + "</ul>"


def _pages(items: list[Expected], per_page: int) -> list[list[Expected]]:
    return [items[i:i + per_page] for i in range(0, len(items), per_page)]


@dataclass
class Portal:
    """The portal's answers (static pages by sorted path, endpoints by path) and ground truth."""

    url: str
    pages: dict[str, Answer] = field(default_factory=dict)
    endpoints: dict[str, Handler] = field(default_factory=dict)
    expected: list[Expected] = field(default_factory=list)
    requests: list[Hit] = field(default_factory=list)
    #: Hanweb columns answered by POSTed ranges (their form) and by GET pages (their size)
    proxy_ranges: dict[str, tuple[dict[str, str], list[Expected]]] = field(default_factory=dict)
    proxy_pages: dict[str, tuple[int, list[Expected]]] = field(default_factory=dict)
    #: the LonSun category: its id, page size and reports
    label_items: tuple[str, int, list[Expected]] = ("", 1, [])
    gkmlpt_items: list[Expected] = field(default_factory=list)
    _reports: Iterator[tuple[str, int]] = field(default_factory=lambda: iter(
        (f"{CITY}{d}", y) for d in DEPARTMENTS for y in YEARS))
    _rng: random.Random = field(default_factory=lambda: random.Random(SEED))

    def answer(self, method: str, path: str, form: dict[str, str]) -> Answer:
        parts = urlsplit(path)
        endpoint = self.endpoints.get(parts.path)
        if endpoint is not None:
            return endpoint(method, {**dict(parse_qsl(parts.query)), **form})
        if method != "GET":
            return Answer(NOT_ALLOWED, HTML_TYPE, b"method not allowed")
        return self.pages.get(key(path)) or Answer(NOT_FOUND, HTML_TYPE, page_html(
            "404", "<h2>对不起，您访问的页面不存在或已被删除！</h2>"))

    # --- reports ---------------------------------------------------------------------------

    def new_report(self) -> Report:
        organ, year = next(self._reports)
        version = expected_format(year)
        assert version is not None, year
        return random_report(random.Random(f"{SEED}/{organ}/{year}"), version, year, organ)

    def html_report(self, path: str, mechanism: str) -> Expected:
        """A report printed in its article page."""
        report = self.new_report()
        self.pages[key(path)] = Answer(OK, HTML_TYPE, render_html(report))
        expected = Expected(path, mechanism, report)
        self.expected.append(expected)
        return expected

    def pdf_report(self, page: str, attachment: str, href: str, mechanism: str) -> Expected:
        """An article page whose report is an attached PDF, served only to the page's
        visitors."""
        report = self.new_report()
        title = report["title"]
        main = (f"<h1 class='title'>{html.escape(title)}</h1><div class='TRS_Editor'>"
                f"<p>现公布{html.escape(title)}，全文详见附件。</p>"
                f"<p>附件：<a href='{href}'>{html.escape(title)}.pdf</a></p></div>")
        self.pages[key(page)] = Answer(OK, HTML_TYPE, page_html(title, main))
        self.pages[key(attachment)] = Answer(OK, PDF_TYPE, render_pdf(report),
                                              referer=self.url + page)
        expected = Expected(attachment, mechanism, report, page)
        self.expected.append(expected)
        return expected

    def article_id(self) -> int:
        return self._rng.randint(100000, 999999)

    # --- sections --------------------------------------------------------------------------

    def trs_column(self, base: str, mechanism: str, call: Callable[[int, int], str],
                   names: Callable[[int], str], per_page: int, count: int, pdfs: int) -> None:
        """A TRS WCM column: articles ./YYYYMM/tYYYYMMDD_<id>.html, attachments ./P0….pdf,
        list pages paged only by the pager call."""
        items = []
        for number in range(count):
            day = f"202301{10 + number:02d}"
            article = f"{base}{day[:6]}/t{day}_{self.article_id()}.html"
            if number < pdfs:
                name = f"P0{day}{self._rng.randint(10**11, 10**12 - 1)}.pdf"
                items.append(self.pdf_report(article, article.rsplit("/", 1)[0] + "/" + name,
                                             f"./{name}", mechanism))
            else:
                items.append(self.html_report(article, mechanism))
        pages = _pages(items, per_page)
        for index, chunk in enumerate(pages):
            links = [("./" + e.path.removeprefix(base) if e.page is None
                      else "./" + e.page.removeprefix(base), e.report["title"]) for e in chunk]
            main = (f"<div class='column-title'>政府信息公开年报</div>{_list(links)}"
                    f"<div id='page_div' class='page'></div><script>{call(len(pages), index)}"
                    "</script>")
            self.pages[key(base + names(index))] = Answer(OK, HTML_TYPE,
                                                           page_html("政府信息公开年报", main))
        self.pages[key(base)] = self.pages[key(base + names(0))]

    def hanweb_articles(self, column: int, count: int, pdfs: int,
                        mechanism: str) -> list[Expected]:
        """Hanweb articles /art/Y/M/D/art_<column>_<id>.html; attachments from
        /module/download/downfile.jsp?classid=0&filename=…&showname=….pdf."""
        items = []
        for number in range(count):
            article = f"/art/2023/1/{10 + number}/art_{column}_{self.article_id()}.html"
            if number < pdfs:
                filename = f"2301{10 + number}{self.article_id()}.pdf"
                query = urlencode({"classid": "0", "filename": filename,
                                   "showname": f"{CITY}年度报告{number}.pdf"})
                attachment = f"/module/download/downfile.jsp?{query}"
                items.append(self.pdf_report(article, attachment, attachment, mechanism))
            else:
                items.append(self.html_report(article, mechanism))
        return items

    @staticmethod
    def records(items: list[Expected]) -> str:
        return "\n".join(
            f"<record><![CDATA[\n<li><a href='{e.page or e.path}' target='_blank' title="
            f"'{html.escape(e.report['title'])}'>{html.escape(e.report['title'])}</a>"
            f"<span>{e.report['published']}</span></li>]]></record>" for e in items)

    def hanweb_column(self, column: int, unit: str, items: list[Expected], embedded: int,
                      head: str, script: str, total_tag: bool = False) -> bytes:
        total = f"<totalrecord>{len(items)}</totalrecord>" if total_tag else ""
        main = (f"<div class='column-title'>部门信息公开年报</div><div id='{unit}'>"
                f"<script type='text/xml'><datastore>{head}{total}<recordset>"
                f"{self.records(items[:embedded])}</recordset></datastore></script></div>"
                f"<script type='text/javascript'>{script}</script>")
        return page_html("部门信息公开年报", main)

    def hanweb_post(self, column: int, unit: str, count: int, pdfs: int) -> None:
        """jpage with proxyUrl and ajaxParam: the rest of the list is POSTed by range. Two such
        columns ask the same URLs (``dataproxy.jsp?startrecord=5&endrecord=8&perpage=2``) with
        their own forms."""
        per_page, group = 2, 2
        items = self.hanweb_articles(column, count, pdfs, HANWEB_POST)
        form = {"col": "1", "appid": "1", "webid": WEB_ID, "path": "/", "columnid": str(column),
                "sourceContentType": "1", "unitid": unit, "webname": WEB_NAME,
                "permissiontype": "0"}
        script = (
            "$(document).ready(function(){ $('#" + unit + "').jpage({ dataStore: dataStore, "
            f"totalRecord: {len(items)}, perPage: {per_page}, groupSize: {group}, "
            "barPosition: 'bottom', themeName: 'default', showMode: 'full', "
            f"proxyUrl: '{HANWEB_PROXY}', ajaxParam: {{col: 1, appid: 1, webid: {WEB_ID}, "
            f"path: '/', columnid: {column}, sourceContentType: 1, unitid: '{unit}', "
            f"webname: '{WEB_NAME}', permissiontype: 0}} }}); }});")
        self.pages[key(f"/col/col{column}/index.html")] = Answer(OK, HTML_TYPE, self.hanweb_column(
            column, unit, items, per_page * group, "", script))
        self.proxy_ranges[str(column)] = (form, items)

    def hanweb_get(self) -> None:
        """The nextgroup link names the GET form: dataproxy.jsp?page=N&columnid=…"""
        column, unit, per_page = 5002, "38102", 3
        items = self.hanweb_articles(column, 8, 0, HANWEB_GET)
        query = urlencode({"page": "1", "appid": "1", "webid": WEB_ID, "path": "/",
                           "columnid": str(column), "unitid": unit, "webname": WEB_NAME,
                           "permissiontype": "0", "perpage": str(per_page)})
        head = f"<nextgroup><![CDATA[<a href=\"{HANWEB_PROXY}?{query}\"></a>]]></nextgroup>"
        self.pages[key(f"/col/col{column}/index.html")] = Answer(OK, HTML_TYPE, self.hanweb_column(
            column, unit, items, per_page, head, "var currentpage = 1;", total_tag=True))
        self.proxy_pages[str(column)] = (per_page, items)

    def hanweb_pagenum(self) -> None:
        """No endpoint named: the column page renders page N for ?uid=<unit>&pageNum=N."""
        column, unit, per_page = 5003, "38103", 2
        items = self.hanweb_articles(column, 5, 0, HANWEB_PAGENUM)
        script = f"$('#{unit}').jpage({{ totalRecord: {len(items)}, perPage: {per_page} }});"
        path = f"/col/col{column}/index.html"
        for number, chunk in enumerate(_pages(items, per_page), start=1):
            body = self.hanweb_column(column, unit, chunk, per_page, "", script)
            self.pages[key(f"{path}?uid={unit}&pageNum={number}")] = Answer(OK, HTML_TYPE, body)
        self.pages[key(path)] = self.pages[key(f"{path}?uid={unit}&pageNum=1")]

    def dataproxy(self, method: str, params: dict[str, str]) -> Answer:
        """/module/web/jpage/dataproxy.jsp: a POSTed range, or a GET page of one column."""
        column = params.get("columnid", "")
        if method == "POST" and column in self.proxy_ranges:
            form, items = self.proxy_ranges[column]
            if any(params.get(k) != v for k, v in form.items()):
                return Answer(BAD_REQUEST, XML_TYPE, b"<datastore>bad form</datastore>")
            start, end = int(params["startrecord"]), int(params["endrecord"])
            chosen = items[start - 1:end]
        elif method == "GET" and column in self.proxy_pages and params.get("page"):
            per_page, items = self.proxy_pages[column]
            page = int(params["page"])
            chosen = items[(page - 1) * per_page:page * per_page]
        else:
            return Answer(NOT_ALLOWED if method == "GET" else BAD_REQUEST, XML_TYPE,
                          b"<datastore></datastore>")
        total = len(items)
        body = (f"<?xml version='1.0' encoding='UTF-8'?><datastore><totalrecord>{total}"
                f"</totalrecord><recordset>{self.records(chosen)}</recordset></datastore>")
        return Answer(OK, XML_TYPE, body.encode())

    def lonsun(self) -> None:
        """A LonSun column page whose script asks /site/label/8888 for the list."""
        organ, cat, per_page = "6600001", "7000001", 3
        items = [self.html_report(f"/public/{organ}/{self.article_id()}.html", LONSUN)
                 for _ in range(7)]
        script = (
            f"var catId = '{cat}';\nfunction getList(pageIndex) {{\n  Ls.ajax({{\n"
            f"    url: \"{LONSUN_LABEL}?IsAjax=1&dataType=html&_=\" + Math.random(),\n"
            "    data: {\n      labelName: \"publicInfoList\", siteId: 6600001, "
            f"pageSize: {per_page}, pageIndex: pageIndex, action: \"list\", isDate: true,\n"
            f"      dateFormat: \"yyyy-MM-dd\", length: 50, organId: \"{organ}\", type: 4, "
            "catId: catId, cId: \"\", result: \"暂无相关信息\",\n"
            "      file: \"/c1/xxgk/publicInfoList_newest\"\n    }\n"
            "  }).done(function (html) { $(\"#xxgk_lmcon\").html(html); });\n}\ngetList(1);")
        main = ("<div class='xxgk_title'>政府信息公开年报</div><div id='xxgk_lmcon'></div>"
                f"<script type='text/javascript'>{script}</script>")
        self.pages[key(f"/public/column/{organ}?type=4&action=list&nav=3&catId={cat}")] = Answer(
            OK, HTML_TYPE, page_html("政府信息公开年报", main))
        self.label_items = (cat, per_page, items)

    def label(self, method: str, params: dict[str, str]) -> Answer:
        """/site/label/8888: the list fragment of one category, page by page."""
        cat, per_page, items = self.label_items
        if (params.get("IsAjax") != "1" or params.get("labelName") != "publicInfoList"
                or params.get("catId") != cat or params.get("pageSize") != str(per_page)):
            return Answer(BAD_REQUEST, HTML_TYPE, "参数错误".encode())
        index = int(params.get("pageIndex") or 1)
        chunk = items[(index - 1) * per_page:index * per_page]
        count = math.ceil(len(items) / per_page)
        rows = "".join(
            f"<ul><li class='mc'><div><a href='{e.path}' target='_blank' title="
            f"'{html.escape(e.report['title'])}'>{html.escape(e.report['title'])}</a></div></li>"
            f"<li class='rq'>{e.report['published']}</li></ul>" for e in chunk)
        fragment = (f"<div class='xxgk_navli'>{rows or '暂无相关信息'}</div>"
                    "<div class='pagination' id='page_public_info'></div>"
                    "<script>Ls.pagination('#page_public_info', function (pageIndex) "
                    f"{{ getList(pageIndex); }}, {{ pageCount: {count}, pageIndex: {index} }});"
                    "</script>")
        return Answer(OK, HTML_TYPE, fragment.encode())

    def gkmlpt(self) -> None:
        """The gkmlpt shell: window._CONFIG names SID and TREE; lists come from the JSON API."""
        items = []
        for number in range(5):
            article = f"/gkmlpt/content/3/3001/post_{GKMLPT_FIRST_POST + number}.html"
            if number == 0:
                name = f"/gkmlpt/attachment/0/300/300123/{self.article_id()}.pdf"
                items.append(self.pdf_report(article, name, name, GKMLPT))
            else:
                items.append(self.html_report(article, GKMLPT))
        tree = [{"id": GKMLPT_OTHER, "name": "政策文件", "post_count": 0, "children": []},
                {"id": GKMLPT_REPORTS, "name": "政府信息公开年报", "post_count": len(items),
                 "children": []}]
        script = (f"window._CONFIG = {{\n  SID: '{GKMLPT_SID}',\n  SITE_NAME: '{WEB_NAME}',\n"
                  f"  TREE: {json.dumps(tree, ensure_ascii=False)},\n  SERVICE_AREA_ID: 440399\n"
                  "};")
        main = (f"<div id='app'></div><script>{script}</script>"
                "<script src='/gkmlpt/static/js/app.js'></script>")
        self.pages[key("/gkmlpt/index")] = Answer(OK, HTML_TYPE, page_html("政府信息公开", main))
        self.gkmlpt_items = items

    def gkmlpt_api(self, method: str, params: dict[str, str], *, column: int) -> Answer:
        if params.get("sid") != GKMLPT_SID:
            return Answer(BAD_REQUEST, JSON_TYPE, b'{"message":"sid"}')
        items = self.gkmlpt_items if column == GKMLPT_REPORTS else []
        per_page = GKMLPT_PAGE_SIZE
        page = int(params.get("page") or 1)
        first = (page - 1) * per_page
        articles = [{"id": GKMLPT_FIRST_POST + first + i, "title": e.report["title"],
                     "publisher": e.report["organ"],
                     "url": f"{self.url}{e.page or e.path}#{column}"}
                    for i, e in enumerate(items[first:first + per_page])]
        body = {"articles": articles, "total": len(items),
                "classify": {"id": column, "post_count": len(items)}}
        return Answer(OK, JSON_TYPE, json.dumps(body, ensure_ascii=False).encode())

    def scripted(self) -> None:
        """Links a browser follows through script and attributes, and frames."""
        entries = []
        for mechanism, markup in (
                (ONCLICK_OPEN, "<li onclick=\"window.open('{href}','_blank')\">{title}</li>"),
                (ONCLICK_LOCATION, ("<li><a href='javascript:void(0)' "
                                    "onclick=\"location.href='{href}'\">{title}</a></li>")),
                (JS_HREF, "<li><a href=\"javascript:openArticle('{href}')\">{title}</a></li>"),
                (DATA_HREF, "<li class='item' data-href='{href}'><span>{title}</span></li>"),
                (DATA_URL, "<li class='item' data-url='{href}' title='{title}'></li>")):
            expected = self.html_report(f"/xxgk/qtnb/{self.article_id()}.html", mechanism)
            entries.append(markup.format(href=expected.path, title=expected.report["title"]))
        framed = [self.html_report(f"/xxgk/qtnb/frame/{self.article_id()}.html", IFRAME)
                  for _ in range(2)]
        self.pages[key("/xxgk/qtnb/frame/list.html")] = Answer(OK, HTML_TYPE, page_html(
            "列表", _list([(e.path, e.report["title"]) for e in framed])))
        main = ("<div class='column-title'>其他单位政府信息公开年报</div><ul>" + "".join(entries)
                + "</ul><iframe src='/xxgk/qtnb/frame/list.html' width='100%' height='600'"
                " frameborder='0' scrolling='no'></iframe>"
                "<script>function openArticle(url){ window.open(url); }</script>")
        self.pages[key("/xxgk/qtnb/index.html")] = Answer(
            OK, HTML_TYPE, page_html("其他单位政府信息公开年报", main))
        in_frame = self.html_report(f"/xzjd/frame/{self.article_id()}.html", FRAME)
        self.pages[key("/xzjd/frame/main.html")] = Answer(OK, HTML_TYPE, page_html(
            "乡镇街道", _list([(in_frame.path, in_frame.report["title"])])))
        self.pages[key("/xzjd/frame/menu.html")] = Answer(OK, HTML_TYPE, page_html("导航", ""))
        self.pages[key("/xzjd/index.html")] = Answer(OK, HTML_TYPE, (
            f"<html><head><meta charset='utf-8'><title>乡镇街道信息公开年报_{CITY}</title></head>"
            "<frameset cols='20%,80%'><frame src='frame/menu.html' name='menu'>"
            "<frame src='frame/main.html' name='main'></frameset></html>").encode())

    def home(self) -> None:
        plain = [self.html_report(f"/xwzx/nb/t{self.article_id()}.html", PLAIN) for _ in range(2)]
        links = [
            ("政府信息公开年报", "/zfxxgk/zfxxgknb/index.html"),
            ("部门信息公开年报", "/bmxxgk/bmnb/index.shtml"),
            ("乡镇街道信息公开年报（旧）", "/xzjd/nb/list.shtml"),
            ("部门信息公开年报（发改 教育）", "/col/col5001/index.html"),
            ("部门信息公开年报（公安 民政）", "/col/col5002/index.html"),
            ("部门信息公开年报（司法 财政）", "/col/col5003/index.html"),
            ("部门信息公开年报（交通 水务）", "/col/col5004/index.html"),
            ("县直部门信息公开年报",
             "/public/column/6600001?type=4&action=list&nav=3&catId=7000001"),
            ("政府信息公开目录", f"/gkmlpt/index#{GKMLPT_REPORTS}"),
            ("其他单位政府信息公开年报", "/xxgk/qtnb/index.html"),
            ("乡镇街道信息公开年报", "/xzjd/index.html"),
        ]
        main = ("<div class='block'><h3>政府信息公开</h3>"
                + _list([(href, text) for text, href in links]) + "</div>"
                "<div class='block'><h3>最新年报</h3>"
                + _list([(e.path, e.report["title"]) for e in plain]) + "</div>")
        self.pages[key("/")] = Answer(OK, HTML_TYPE, page_html(f"{CITY}人民政府", main))
        self.pages[key("/robots.txt")] = Answer(OK, "text/plain", b"User-agent: *\nDisallow:\n")

    def build(self) -> Portal:
        self.trs_column("/zfxxgk/zfxxgknb/", TRS_OLD,
                        lambda count, index: f'createPageHTML({count}, {index}, "index", "html");',
                        lambda i: "index.html" if i == 0 else f"index_{i}.html", 2, 5, 1)
        self.trs_column("/bmxxgk/bmnb/", TRS_FROM_ONE,
                        lambda count, index: (f"createPageHTML('page_div', {count}, {index + 1}, "
                                              "'index', 'shtml', 5);"),
                        lambda i: "index.shtml" if i == 0 else f"index_{i + 1}.shtml", 2, 5, 2)
        self.trs_column("/xzjd/nb/", TRS_FROM_ZERO,
                        lambda count, index: (f"createPageHTML('page_div', {count}, {index + 1}, "
                                              "'list', 'shtml', 4);"),
                        lambda i: "list.shtml" if i == 0 else f"list_{i}.shtml", 2, 4, 0)
        self.hanweb_post(HANWEB_POST_COLUMNS[0], "38101", 9, 1)
        self.hanweb_post(HANWEB_POST_COLUMNS[1], "38104", 8, 0)
        self.hanweb_get()
        self.hanweb_pagenum()
        self.endpoints[HANWEB_PROXY] = self.dataproxy
        self.lonsun()
        self.endpoints[LONSUN_LABEL] = self.label
        self.gkmlpt()
        for column in (GKMLPT_REPORTS, GKMLPT_OTHER):
            self.endpoints[f"/gkmlpt/api/all/{column}"] = partial(self.gkmlpt_api, column=column)
        self.scripted()
        self.home()
        return self

    @property
    def mechanisms(self) -> list[str]:
        return list(dict.fromkeys(e.mechanism for e in self.expected))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    portal: Portal


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_GET(self) -> None:
        self._answer(b"")

    def do_POST(self) -> None:
        self._answer(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

    def _answer(self, body: bytes) -> None:
        portal = self.server.portal
        form = dict(parse_qsl(body.decode("utf-8"))) if body else {}
        answer = portal.answer(self.command, self.path, form)
        referer = self.headers.get("Referer")
        if answer.referer is not None and referer != answer.referer:
            answer = Answer(FORBIDDEN, HTML_TYPE, page_html("403", "<h2>禁止访问</h2>"))
        portal.requests.append(Hit(self.command, self.path, body, referer, answer.status))
        self.send_response_only(answer.status)
        self.send_header("Content-Type", answer.content_type)
        for name, value in answer.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serve_portal(build: Callable[[Portal], Portal] = Portal.build) -> Iterator[Portal]:
    """The portal (the sections ``build`` adds) served from a background thread on a free port
    of 127.0.0.1."""
    server = _Server((HOST, 0), _Handler)
    host, port = server.server_address[:2]
    server.portal = build(Portal(f"http://{host!s}:{port}"))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": POLL_INTERVAL},
                              daemon=True)
    thread.start()
    try:
        yield server.portal
    finally:
        server.shutdown()
        server.server_close()
        thread.join()

