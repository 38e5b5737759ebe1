"""CMS family adapters: the links a plain ``<a href>`` scan misses.

Each adapter is a few lines that know one family's trick; the spider runs all
of them on every HTML page, so a portal needs no code of its own:

* TRS WCM list pages write their pager with ``createPageHTML(total, current, "index", "html")``:
  page 1 is ``index.html``, page k+1 is ``index_k.html``, and there is no ``<a>`` to them.
* Hanweb JCMS lists keep their items as HTML inside ``<script type="text/xml">`` records.
* Shell pages redirect with ``location.replace(...)`` or ``location.href = ...``.
* Pagers anywhere: 下一页 / 尾页 links, ``?page=N`` and ``index_N`` siblings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urljoin

from parsel import Selector

PAGE, PAGINATION, REDIRECT = "page", "pagination", "redirect"
#: The most list pages one pager may announce; more is a trap or a broken script.
MAX_PAGER_PAGES = 200
#: A page this short whose script sets location is a redirect shell.
MAX_SHELL_BYTES = 8192


@dataclass(frozen=True)
class Found:
    url: str
    text: str
    kind: str


class Adapter:
    """Finds extra links in one family's pages."""

    name = "adapter"

    def links(self, url: str, html: str, sel: Selector) -> Iterable[Found]:  # pragma: no cover
        raise NotImplementedError


class TrsPager(Adapter):
    name = "trs"
    _CALL = re.compile(r"createPageHTML\s*\(([^)]*)\)")
    _VAR = r"var\s+{name}\s*=\s*(\d+)"
    _EXT = frozenset({"html", "htm", "shtml", "jhtml"})

    def links(self, url: str, html: str, sel: Selector) -> Iterable[Found]:
        for call in self._CALL.finditer(html):
            args = [a.strip() for a in call.group(1).split(",")]
            strings = [a.strip("'\"") for a in args if a[:1] in "'\""]
            parsed = [self._number(a, html) for a in args if a[:1] not in "'\""]
            numbers = [n for n in parsed if n is not None]
            if len(strings) < 2 or strings[-1] not in self._EXT or not numbers:
                continue
            prefix, ext = strings[-2], strings[-1]
            total = min(numbers[0], MAX_PAGER_PAGES)
            for page in range(total):
                name = f"{prefix}.{ext}" if page == 0 else f"{prefix}_{page}.{ext}"
                yield Found(urljoin(url, name), f"第{page + 1}页", PAGINATION)

    def _number(self, arg: str, html: str) -> int | None:
        if arg.isdigit():
            return int(arg)
        if not arg.isidentifier():
            return None
        found = re.search(self._VAR.format(name=re.escape(arg)), html)
        return int(found.group(1)) if found else None


class HanwebXmlList(Adapter):
    name = "hanweb"
    _RECORD = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.DOTALL)

    def links(self, url: str, html: str, sel: Selector) -> Iterable[Found]:
        for script in sel.xpath('//script[@type="text/xml"]/text()').getall():
            for record in self._RECORD.finditer(script):
                inner = Selector(text=record.group(1))
                for a in inner.css("a[href]"):
                    text = (" ".join(a.css("::text").getall()).strip()
                            or a.attrib.get("title") or "")
                    yield Found(urljoin(url, a.attrib["href"]), text, PAGE)


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


ADAPTERS: tuple[Adapter, ...] = (TrsPager(), HanwebXmlList(), ScriptRedirect(), Pager())


def extra_links(url: str, html: str, sel: Selector) -> list[Found]:
    return [found for adapter in ADAPTERS for found in adapter.links(url, html, sel)]
