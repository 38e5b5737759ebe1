"""CMS family adapters: the links a plain ``<a href>`` scan misses.

Each adapter is a few lines that know one family's trick; the spider runs all of them on every
page it reads (HTML, and the XML and JSON a list's data endpoint answers), so a portal needs no
code of its own:

* TRS WCM list pages write their pager with ``createPageHTML(...)``, old and new calls; there is
  no ``<a>`` to the other pages.
* Hanweb (大汉) JCMS lists keep their first records as HTML inside ``<script type="text/xml">``
  and ask ``dataproxy.jsp`` for the rest (a POST of the form the page's script names, or a GET).
* LonSun (龙讯) lists come from ``/site/label/8888?IsAjax=1&labelName=…``, with the parameters the
  page's script names.
* Guangdong's gkmlpt column pages are a script shell; the lists are JSON from its API.
* Shell pages redirect with ``location.replace(...)`` or ``location.href = ...``.
* Links in script and attributes (``onclick="window.open('…')"``, ``data-href``, ``javascript:``
  hrefs) and frame sources.
* Pagers anywhere: 下一页 / 尾页 links, ``?page=N`` and ``index_N`` siblings.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

from parsel import Selector
from w3lib.url import add_or_replace_parameters, url_query_parameter

from gkcrawl.crawl.links import score_text

PAGE, PAGINATION, REDIRECT, FRAME = "page", "pagination", "redirect", "frame"
GET, POST = "GET", "POST"
#: The most list pages one pager may announce; more is a trap or a broken script.
MAX_PAGER_PAGES = 200
#: A page this short whose script sets location is a redirect shell.
MAX_SHELL_BYTES = 8192
#: A JavaScript value after ``name:`` or ``name=``: quoted, or a bare token.
_JS_VALUE = r"""\s*[:=]\s*(?:'([^']*)'|"([^"]*)"|([^\s,;}&'"()]+))"""


@dataclass(frozen=True)
class Found:
    """A link an adapter found: a page to score and follow, a list page or a shell's target;
    a list's data endpoint may be asked by POST, with the form its page's script names."""

    url: str
    text: str
    kind: str
    method: str = GET
    form: tuple[tuple[str, str], ...] = ()


class Adapter:
    """Finds extra links in one family's pages."""

    name = "adapter"

    def links(self, url: str, html: str, sel: Selector) -> Iterable[Found]:  # pragma: no cover
        raise NotImplementedError


def scripts(sel: Selector) -> str:
    """The page's own script code (not the XML data islands of ``<script type="text/xml">``)."""
    return "\n".join(sel.xpath('//script[not(@type="text/xml")]/text()').getall())


def _first(found: re.Match[str] | None) -> str | None:
    """The first group that matched (patterns here are alternatives, one group each)."""
    return None if found is None else next(g for g in found.groups() if g is not None)


def _js_value(code: str, name: str) -> str | None:
    """The value a script gives ``name`` (``name: 'v'``, ``name = 3``, ``&name=v``), if any."""
    return _first(re.search(rf"(?<![\w$.]){re.escape(name)}{_JS_VALUE}", code))


def _js_var(code: str, name: str) -> str | None:
    """The value a script declares for the variable ``name`` (``var name = 'v'``), if any."""
    return _first(re.search(rf"\b(?:var|let|const)\s+{re.escape(name)}{_JS_VALUE}", code))


def _int(pattern: re.Pattern[str], text: str) -> int | None:
    value = _first(pattern.search(text))
    return None if value is None else int(value)


def _page_count(total: int, per_page: int) -> int:
    return min(math.ceil(total / per_page), MAX_PAGER_PAGES)


def _anchor_text(a: Selector) -> str:
    return " ".join(a.css("::text").getall()).strip() or a.attrib.get("title", "")


class TrsPager(Adapter):
    """TRS WCM pagers. The old call ``createPageHTML(count, current, "index", "html")`` counts
    from 0: page 1 is ``index.html``, page k+1 is ``index_k.html``. The newer
    ``createPageHTML('page_div', count, current, 'index', 'shtml', rows)`` names page 2
    ``index_2.shtml`` on many sites and ``index_1.shtml`` on others: a current page of 0 says
    0-based, a later page's own number against its ``current`` says which; where the call does
    not tell (page 1 with ``current`` 1), both are asked and the 404 of the wrong one settles it.
    """

    name = "trs"
    _CALL = re.compile(r"createPageHTML\s*\(([^)]*)\)")
    _VAR = r"var\s+{name}\s*=\s*(\d+)"
    _EXT = frozenset({"html", "htm", "shtml", "jhtml"})
    #: The suffix of page 2: ``_1`` where pages count from 0, ``_2`` where they count from 1.
    _FROM_ZERO, _FROM_ONE = 1, 2

    def links(self, url: str, html: str, sel: Selector) -> Iterable[Found]:
        for call in self._CALL.finditer(html):
            args = [a.strip() for a in call.group(1).split(",")]
            strings = [a.strip("'\"") for a in args if a[:1] in "'\""]
            parsed = [self._number(a, html) for a in args if a[:1] not in "'\""]
            numbers = [n for n in parsed if n is not None]
            if len(strings) < 2 or strings[-1] not in self._EXT or not numbers:
                continue
            prefix, ext = strings[-2], strings[-1]
            newer = len(strings) > 2  # the container's id comes first
            current = numbers[1] if len(numbers) > 1 else 0
            total = min(numbers[0], MAX_PAGER_PAGES)
            pages = {f"{prefix}.{ext}": 1} if total else {}
            for first in sorted(self._numbering(url, prefix, ext, current, newer)):
                for page in range(2, total + 1):
                    pages.setdefault(f"{prefix}_{page - 2 + first}.{ext}", page)
            for name, page in pages.items():
                yield Found(urljoin(url, name), f"第{page}页", PAGINATION)

    def _numbering(self, url: str, prefix: str, ext: str, current: int, newer: bool) -> set[int]:
        if not newer or current == 0:
            return {self._FROM_ZERO}
        own = re.fullmatch(rf"{re.escape(prefix)}_(\d+)\.{re.escape(ext)}",
                           urlsplit(url).path.rsplit("/", 1)[-1])
        if own is not None and int(own.group(1)) == current:
            return {self._FROM_ONE}
        if own is not None and int(own.group(1)) == current - 1:
            return {self._FROM_ZERO}
        return {self._FROM_ZERO, self._FROM_ONE}

    def _number(self, arg: str, html: str) -> int | None:
        if arg.isdigit():
            return int(arg)
        if not arg.isidentifier():
            return None
        found = re.search(self._VAR.format(name=re.escape(arg)), html)
        return int(found.group(1)) if found else None


class HanwebJpage(Adapter):
    """Hanweb JCMS lists (jpage). The page holds the first records as HTML in
    ``<record><![CDATA[…]]></record>`` of a ``<script type="text/xml"><datastore>``, the total in
    its script (``totalRecord``, ``perPage``, ``groupSize``) or ``<totalrecord>``; the rest come
    from ``dataproxy.jsp``, the first way the page names:

    * its script's ``proxyUrl`` and form (``col``, ``appid``, ``webid``, ``path``, ``columnid``,
      ``sourceContentType``, ``unitid``, ``webname``, ``permissiontype``): a POST to
      ``…?startrecord=N&endrecord=M&perpage=K`` per group of pages;
    * the ``<nextgroup>`` link (``dataproxy.jsp?page=1&columnid=…``): a GET per page;
    * neither: the column page itself, ``index.html?uid=<unit>&pageNum=N``.

    The answers of the data endpoint are read the same way (their records, their
    ``<totalrecord>``).
    """

    name = "hanweb"
    FIELDS = ("col", "appid", "webid", "path", "columnid", "sourceContentType", "unitid",
              "webname", "permissiontype")
    #: Pages jpage asks at once when the page does not say (its ``groupSize`` default).
    GROUP_SIZE = 3
    _ENDPOINT = "dataproxy"
    _RECORD = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.DOTALL)
    _NEXTGROUP = re.compile(r"<nextgroup>\s*<!\[CDATA\[(.*?)\]\]>\s*</nextgroup>", re.DOTALL)
    _PROXY = re.compile(r"""proxyUrl\s*:\s*['"]([^'"]+)['"]""", re.IGNORECASE)
    _TOTAL = re.compile(r"""totalRecord\s*[:=]\s*['"]?(\d+)|<totalrecord>\s*(\d+)""",
                        re.IGNORECASE)
    _PER_PAGE = re.compile(r"""perPage\s*[:=]\s*['"]?(\d+)|<perpage>\s*(\d+)""", re.IGNORECASE)
    _GROUP = re.compile(r"""groupSize\s*[:=]\s*['"]?(\d+)""", re.IGNORECASE)

    def links(self, url: str, html: str, sel: Selector) -> Iterable[Found]:
        records = self._RECORD.findall(html)
        for record in records:
            for a in Selector(text=record).css("a[href]"):
                yield Found(urljoin(url, a.attrib["href"]), _anchor_text(a), PAGE)
        if "<datastore" in html:
            yield from self._rest(url, html, sel, len(records))

    def _rest(self, url: str, html: str, sel: Selector, embedded: int) -> Iterator[Found]:
        code = scripts(sel)
        total = _int(self._TOTAL, code) or _int(self._TOTAL, html)
        per_page = (_int(self._PER_PAGE, code) or _int(self._PER_PAGE, url)
                    or _int(self._PER_PAGE, html) or embedded)
        proxy = self._PROXY.search(code)
        form = tuple((name, value) for name in self.FIELDS
                     if (value := _js_value(code, name)) is not None)
        nextgroup = self._nextgroup(url, html)
        if total is None or not per_page:
            if nextgroup:  # its answer tells the total
                yield Found(nextgroup, "nextgroup", PAGINATION)
        elif proxy and any(name == "columnid" for name, _ in form):
            group = per_page * (_int(self._GROUP, code) or self.GROUP_SIZE)
            yield from self._posts(urljoin(url, proxy.group(1)), form, total, per_page, group,
                                   embedded)
        else:
            template, parameter = nextgroup, "page"
            if template is None and url_query_parameter(url, "page") and self._ENDPOINT in url:
                template = url  # an answer of the endpoint's GET form
            if template is None:
                unit = (sel.xpath('//script[@type="text/xml"]/parent::*/@id').get()
                        or _js_value(code, "unitid"))
                if unit is None:
                    return
                template, parameter = add_or_replace_parameters(url, {"uid": unit}), "pageNum"
            for page in range(embedded // per_page + 1, _page_count(total, per_page) + 1):
                yield Found(add_or_replace_parameters(template, {parameter: str(page)}),
                            f"第{page}页", PAGINATION)

    @staticmethod
    def _posts(endpoint: str, form: tuple[tuple[str, str], ...], total: int, per_page: int,
               group: int, embedded: int) -> Iterator[Found]:
        """A POST per group of pages, from the first group the page does not hold."""
        last = min(total, group * MAX_PAGER_PAGES)
        for start in range(embedded // group * group + 1, last + 1, group):
            query = urlencode({"startrecord": start, "endrecord": min(start + group - 1, total),
                               "perpage": per_page})
            yield Found(f"{endpoint}?{query}", f"第{start}条起", PAGINATION, POST, form)

    def _nextgroup(self, url: str, html: str) -> str | None:
        found = self._NEXTGROUP.search(html)
        href = Selector(text=found.group(1)).css("a::attr(href)").get() if found else None
        return urljoin(url, href) if href else None


class LonsunLabel(Adapter):
    """LonSun (龙讯) EX8/EX9 lists: the page's script asks ``/site/label/8888`` for the list
    (``IsAjax=1&dataType=html&labelName=publicInfoList&siteId=…&pageIndex=…&catId=…``, the
    parameters an object literal of the script names); the answer is an HTML fragment whose
    pager gives the page count (``pageCount: N`` or 共N页). Without a count, the next page is
    asked while pages list links."""

    name = "lonsun"
    _LABEL = re.compile(r"""['"]([^'"]*/site/label/\d+[^'"]*)['"]""")
    _OBJECT = re.compile(r"\{[^{}]*\blabelName\b[^{}]*\}")
    _PAIR = re.compile(rf"""['"]?([A-Za-z_]\w*)['"]?{_JS_VALUE}""")
    _COUNT = re.compile(r"""pageCount\s*[:=]\s*['"]?(\d+)|共\s*(\d+)\s*页""")
    _FIXED = (("IsAjax", "1"), ("dataType", "html"))
    _PATH = "/site/label/"
    _CACHE_BUSTER = "_"
    _INDEX = "pageIndex"

    def links(self, url: str, html: str, sel: Selector) -> Iterable[Found]:
        if self._PATH in urlsplit(url).path:
            yield from self._more_pages(url, html, sel)
            return
        code = scripts(sel)
        labels = list(self._LABEL.finditer(code))
        for literal in self._OBJECT.finditer(code):
            # the label URL nearest before the literal (a page may list several labels)
            before = [m for m in labels if m.start() < literal.start()]
            label = before[-1] if before else next(iter(labels), None)
            if label is not None:
                yield self._first_page(url, code, label.group(1), literal.group(0))

    def _first_page(self, url: str, code: str, label: str, literal: str) -> Found:
        endpoint, _, query = label.partition("?")
        params = dict(self._FIXED)
        params.update(parse_qsl(query))
        for match in self._PAIR.finditer(literal):
            name, single, double, bare = match.groups()
            value = single if single is not None else double
            if value is None:  # a literal, or a variable the script declares
                value = bare if re.fullmatch(r"[\d.]+|true|false", bare) else _js_var(code, bare)
            if value is not None:
                params[name] = value
        params.pop(self._CACHE_BUSTER, None)
        params[self._INDEX] = "1"
        return Found(f"{urljoin(url, endpoint)}?{urlencode(params)}", "第1页", PAGINATION)

    def _more_pages(self, url: str, html: str, sel: Selector) -> Iterator[Found]:
        count = _int(self._COUNT, html)
        current = int(url_query_parameter(url, self._INDEX) or "1")
        if count is not None:
            pages = range(1, min(count, MAX_PAGER_PAGES) + 1)
        elif sel.css("a[href]"):
            pages = range(current + 1, current + 2)
        else:
            return
        for page in pages:
            if page != current:
                yield Found(add_or_replace_parameters(url, {self._INDEX: str(page)}),
                            f"第{page}页", PAGINATION)


class Gkmlpt(Adapter):
    """Guangdong's 政府信息公开目录管理平台 (``/gkmlpt/index``): the page is a script shell whose
    ``window._CONFIG`` names the site (``SID``) and its column tree (``TREE``); each column's list
    is JSON from ``/gkmlpt/api/all/<column>?page=N&sid=<SID>`` (``articles[].url``, ``total``).
    The columns offered are those whose name has a signal of the link scoring: every API URL
    looks alike, and a province's tree has hundreds of columns of thousands of documents."""

    name = "gkmlpt"
    _SID = re.compile(r"""\bSID\s*:\s*['"]?(\w+)""")
    _TREE = re.compile(r"\bTREE\s*[:=]\s*(?=\[)")
    _API = re.compile(r"/gkmlpt/api/all/\d+$")
    _ROOT = "/gkmlpt/"

    def links(self, url: str, html: str, sel: Selector) -> Iterable[Found]:
        path = urlsplit(url).path
        if self._API.search(path):
            yield from self._list(url, html)
        elif self._ROOT in path:
            yield from self._columns(url, path, html)

    def _columns(self, url: str, path: str, html: str) -> Iterator[Found]:
        sid, tree = self._SID.search(html), self._TREE.search(html)
        if sid is None or tree is None:
            return
        try:
            nodes, _ = json.JSONDecoder().raw_decode(html, tree.end())
        except ValueError:
            return
        root = path[:path.index(self._ROOT) + len(self._ROOT)]
        stack: list[Any] = list(nodes) if isinstance(nodes, list) else []
        while stack:
            node = stack.pop()
            if not isinstance(node, dict) or "id" not in node:
                continue
            stack.extend(node.get("children") or ())
            name = str(node.get("name") or "")
            if score_text(name) <= 0:
                continue
            if node.get("jump_url"):
                yield Found(urljoin(url, str(node["jump_url"])), name, PAGE)
            else:
                query = urlencode({"page": 1, "sid": sid.group(1)})
                yield Found(urljoin(url, f"{root}api/all/{node['id']}?{query}"), name, PAGE)

    def _list(self, url: str, text: str) -> Iterator[Found]:
        try:
            data = json.loads(text)
        except ValueError:
            return
        articles = data.get("articles") if isinstance(data, dict) else None
        if not isinstance(articles, list):
            return
        for article in articles:
            if isinstance(article, dict) and article.get("url"):
                yield Found(urljoin(url, str(article["url"])), str(article.get("title") or ""),
                            PAGE)
        classify = data.get("classify")
        total = data.get("total") or (classify.get("post_count") if isinstance(classify, dict)
                                      else None)
        if url_query_parameter(url, "page") not in (None, "1") or not articles:
            return
        if isinstance(total, int | str) and str(total).isdigit():
            for page in range(2, _page_count(int(total), len(articles)) + 1):
                yield Found(add_or_replace_parameters(url, {"page": str(page)}), f"第{page}页",
                            PAGINATION)


class ScriptRedirect(Adapter):
    name = "script-redirect"
    _LOCATION = re.compile(
        r"(?:window\.|document\.|top\.|self\.)?location(?:\.href)?"
        r"""\s*(?:=|\.replace\(|\.assign\()\s*["']([^"']+)["']""")

    def links(self, url: str, html: str, sel: Selector) -> Iterable[Found]:
        if len(html) > MAX_SHELL_BYTES:
            return
        for script in sel.css("script::text").getall():
            for match in self._LOCATION.finditer(script):
                yield Found(urljoin(url, match.group(1)), "location redirect", REDIRECT)


class ScriptLinks(Adapter):
    """Links a browser follows through script or attributes: ``onclick="window.open('…')"``,
    ``onclick="location.href='…'"``, ``href="javascript:openWin('…')"``, ``data-href`` and
    ``data-url``; and ``<iframe>``/``<frame>`` sources, followed as part of the page that
    holds them. In script, a quoted string is a URL when it is a path (``/``, ``./``, ``../``,
    ``http``) or names a page or document file."""

    name = "script-links"
    _URL = re.compile(
        r"""['"]((?:https?://|\.{0,2}/)[^'"\s]*"""
        r"""|[^'"\s/]+(?:/[^'"\s/]+)*\.(?:s?html?|jsp|aspx?|php|pdf|docx?|wps|xlsx?|ofd)"""
        r"""(?:\?[^'"\s]*)?)['"]""", re.IGNORECASE)
    _JAVASCRIPT = "javascript:"
    _DATA = ("data-href", "data-url")
    _CANDIDATES = ("//*[@onclick or @data-href or @data-url or starts-with(normalize-space("
                   "translate(@href, 'JAVSCRIPT', 'javscript')), 'javascript:')]")

    def links(self, url: str, html: str, sel: Selector) -> Iterable[Found]:
        for element in sel.xpath(self._CANDIDATES):
            attrib = element.attrib
            scripted = [attrib.get("onclick", "")]
            if attrib.get("href", "").strip().lower().startswith(self._JAVASCRIPT):
                scripted.append(attrib["href"])
            targets = [t for code in scripted for t in self._URL.findall(code)]
            targets += [t for name in self._DATA
                        if (t := attrib.get(name, "").strip())
                        and not t.lower().startswith(self._JAVASCRIPT)]
            for target in targets:
                yield Found(urljoin(url, target), _anchor_text(element), PAGE)
        for frame in sel.xpath("//iframe[@src] | //frame[@src]"):
            target = frame.attrib["src"].strip()
            if target and not target.lower().startswith((self._JAVASCRIPT, "about:")):
                text = frame.attrib.get("title") or frame.attrib.get("name") or "frame"
                yield Found(urljoin(url, target), text, FRAME)


class Pager(Adapter):
    """下一页 / 尾页 / page-number links, marked so that list chains are followed past the depth
    limit."""

    name = "pager"
    _TEXT = re.compile(r"^(下一页|下页|后页|尾页|末页|上一页|上页|首页|\d{1,3}|>|>>|»|›)$")
    _URL = re.compile(r"(index_\d+\.\w+|[?&](page|pageNo|pageIndex|cur_page|p)=\d+|/\d+\.html?)$",
                      re.IGNORECASE)

    def links(self, url: str, html: str, sel: Selector) -> Iterable[Found]:
        for a in sel.css("a[href]"):
            text = " ".join(a.css("::text").getall()).strip()
            href = a.attrib["href"]
            if (self._TEXT.match(text)
                    and (self._URL.search(href) or text in ("下一页", "下页", "尾页", "末页"))
                    and (text != "首页" or self._URL.search(href))):
                yield Found(urljoin(url, href), text, PAGINATION)


ADAPTERS: tuple[Adapter, ...] = (TrsPager(), HanwebJpage(), LonsunLabel(), Gkmlpt(),
                                 ScriptRedirect(), ScriptLinks(), Pager())


def extra_links(url: str, html: str, sel: Selector) -> list[Found]:
    return [found for adapter in ADAPTERS for found in adapter.links(url, html, sel)]
