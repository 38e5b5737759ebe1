"""``scrapy crawl portals``: find every annual report on every portal of the registry.

One spider for all portals, no per-site code: a focused crawl from each portal's start URLs,
links scored by anchor text and URL (best first), CMS pagers and data endpoints understood by the
adapters of :mod:`gkcrawl.crawl.cms` (a list range may be a POST), a list built by script read
from the page as headless Chromium renders it (:mod:`gkcrawl.crawl.browser`: a portal whose
registry row says ``render=browser``, or a report column whose markup shows script builds it),
bounded by hops from the start page and a page budget per portal.
Every response is archived by the WARC extension; this spider classifies it, writes the verdict
into the archive (a metadata record), and hands report documents to the pipelines.

Spider arguments:
    portals   path of a registry CSV (default: the registry shipped in gkcrawl/registry)
    only      comma-separated portal ids to crawl (default: all)
Settings (defaults in ``DEFAULTS``):
    CRAWL_MAX_HOPS (5), CRAWL_PAGE_BUDGET (requests per portal, 1000), CRAWL_MAX_LIST_PAGES (50)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from parsel import Selector
from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.http import HtmlResponse, Response, TextResponse
from scrapy.settings import BaseSettings
from twisted.python.failure import Failure

from gkcrawl.archive.config import crawl_id_for
from gkcrawl.archive.signals import warc_metadata
from gkcrawl.crawl import META_KEY as META
from gkcrawl.crawl import browser, cms, registry
from gkcrawl.crawl.classify import (
    REPORT,
    REPORT_LIST,
    REPORT_PAGE,
    Verdict,
    classify_html,
    is_attachment,
    report_title,
)
from gkcrawl.crawl.failures import failure_kind
from gkcrawl.crawl.links import score_link
from gkcrawl.crawl.resume import NOT_MODIFIED, UNCHANGED
from gkcrawl.crawl.urls import canonical, in_domains, request_key
from gkcrawl.items import DocumentItem
from gkcrawl.parsing.extract.decode import REPLACEMENT, codec_name, decode_html

#: Priority points per link-score point; hops subtract, so shallow strong links go first.
PRIORITY_PER_POINT = 10
START_PRIORITY = 1000
ATTACHMENT_PRIORITY = 900
#: Below every link with a report signal: list pages are walked after the links they hold.
LIST_PRIORITY = -1
#: Links with no report signal at all are followed only this many hops from the start page.
ZERO_SCORE_MAX_HOPS = 1
DEFAULTS = {"CRAWL_MAX_HOPS": 5, "CRAWL_PAGE_BUDGET": 1000, "CRAWL_MAX_LIST_PAGES": 50}
#: A list range POSTed to a data endpoint goes as the page's script sends it.
FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8",
                "X-Requested-With": "XMLHttpRequest"}


class PortalsSpider(Spider):
    name = "portals"
    # set in from_crawler, from the settings
    max_hops: int
    budget: int
    max_list_pages: int

    def __init__(self, portals: str | None = None, only: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.portals = {p.id: p for p in registry.load(portals, only)}
        # the offsite middleware keeps every request within the registry's domains
        self.allowed_domains = sorted({d for p in self.portals.values() for d in p.allowed_domains})
        self.scheduled: Counter[str] = Counter()  # requests per portal (the page budget)
        self.list_pages: Counter[str] = Counter()  # pages scheduled per list (its first page)
        self.seen: set[str] = set()  # request keys scheduled (canonical URL; a POST's body too)

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        super().update_settings(settings)
        for name, value in DEFAULTS.items():
            settings.setdefault(name, value, priority="spider")

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> PortalsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.max_hops = settings.getint("CRAWL_MAX_HOPS")
        spider.budget = settings.getint("CRAWL_PAGE_BUDGET")
        spider.max_list_pages = settings.getint("CRAWL_MAX_LIST_PAGES")
        return spider

    async def start(self) -> AsyncIterator[Request]:
        for portal in self.portals.values():
            for url in portal.start_urls:
                request = self._request(url, portal.id, hops=0, role="start", referrer=None,
                                        priority=START_PRIORITY)
                if request is not None:
                    yield request

    # --- callbacks -------------------------------------------------------------------------

    def parse(self, response: Response) -> Iterator[Request | DocumentItem]:
        info = response.meta[META]
        portal = info["portal"]
        self.crawler.stats.inc_value(f"portal/{portal}/pages")
        if not isinstance(response, TextResponse) or (not _is_html(response) and (
                is_attachment(response.url) or response.body[:5] == b"%PDF-")):
            yield from self._attachment(response, info)
            return
        html, sel, overruled = _page_text(response)
        if overruled:  # the header's charset is not the page's (a GBK page served as UTF-8)
            self.crawler.stats.inc_value(f"portal/{portal}/charset_mismatch")
        links = [(response.urljoin(a.attrib["href"]),
                  " ".join(a.css("::text").getall()).strip() or a.attrib.get("title", ""))
                 for a in sel.css("a[href]")]
        extra = cms.extra_links(response.url, html, sel)
        verdict = classify_html(response.url, html, sel,
                                links + [(f.url, f.text) for f in extra if f.kind == cms.PAGE])
        self._record(response, info, verdict)
        if verdict.role == REPORT and self._changed(response):
            yield self._document(response, info, verdict.role)
        yield from self._follow(response, info, verdict, links, extra)
        yield from self._render(response, info, sel, verdict, links, extra)

    def _attachment(self, response: Response, info: dict[str, Any]) -> Iterator[DocumentItem]:
        parsable = _parsable_document(response.body)
        verdict = Verdict("attachment", reason="report candidate" if parsable else "not parsed")
        self._record(response, info, verdict)
        if parsable and self._changed(response):
            yield self._document(response, info, "attachment")

    def _changed(self, response: Response) -> bool:
        """False for a document an earlier run archived and parsed as it is (304, same payload)."""
        if NOT_MODIFIED in response.flags or UNCHANGED in response.flags:
            self.crawler.stats.inc_value("incremental/not_reparsed")
            return False
        return True

    def on_error(self, failure: Failure) -> None:
        """A fetch given up: counted as an error and by what failed (``failed/<kind>``)."""
        request = failure.request  # type: ignore[attr-defined]  # set on the failure by Scrapy
        portal = request.meta.get(META, {}).get("portal", "?")
        error = failure.value
        assert error is not None  # a Failure holds the exception it was made of
        kind = failure_kind(error)
        self.crawler.stats.inc_value(f"portal/{portal}/errors")
        self.crawler.stats.inc_value(f"portal/{portal}/failed/{kind}")
        response = getattr(error, "response", None)
        what = (f"HTTP {response.status}" if response is not None
                else str(error) or type(error).__name__)
        self.logger.info("Fetch failed (%s: %s): %s", kind, what, request.url)

    # --- helpers ---------------------------------------------------------------------------

    def _record(self, response: Response, info: dict[str, Any], verdict: Verdict) -> None:
        """The verdict goes into the archive next to the response (a WARC metadata record)."""
        self.crawler.stats.inc_value(f"portal/{info['portal']}/role/{verdict.role}")
        fields = {"portal": info["portal"], "hops": str(info["hops"]), **verdict.fields(),
                  "in-portal": str(self._in_portal(response.url, info["portal"])).lower()}
        if info.get("referrer"):
            fields["via"] = info["referrer"]
        if info.get("anchor"):
            fields["anchor-text"] = info["anchor"][:200]
        self.crawler.signals.send_catch_log(warc_metadata, response=response, fields=fields)

    def _document(self, response: Response, info: dict[str, Any], role: str) -> DocumentItem:
        ctype = response.headers.get(b"Content-Type")
        warc = response.meta.get("warc")
        return DocumentItem(
            url=response.url, body=response.body,
            content_type=ctype.decode("latin-1") if ctype else None,
            portal=info["portal"], role=role, referrer=info.get("referrer"),
            warc=warc, crawl_id=crawl_id_for(self.crawler),
            in_portal=self._in_portal(response.url, info["portal"]),
            # the archive's date, so that a replay of the record gives the same item
            fetched_at=(warc or {}).get("date") or datetime.now(UTC).isoformat(timespec="seconds"),
        )

    def _follow(self, response: Response, info: dict[str, Any], verdict: Verdict,
                links: list[tuple[str, str]], extra: list[cms.Found]) -> Iterator[Request]:
        portal, hops = info["portal"], info["hops"]
        on_report = verdict.role in (REPORT, REPORT_PAGE)
        # one decision per request: what an adapter says a link is (pager, redirect) beats a
        # plain link
        candidates: dict[str, cms.Found] = {}
        for found in [*extra, *(cms.Found(u, t, cms.PAGE) for u, t in links)]:
            candidates.setdefault(
                request_key(found.url, found.method, _body(found.method, found.form)), found)
        for found in candidates.values():
            url, text, kind = found.url, found.text, found.kind
            if is_attachment(url, text):
                if on_report or report_title(text) or verdict.role == REPORT_LIST:
                    request = self._request(url, portal, hops, "attachment", response.url,
                                            ATTACHMENT_PRIORITY, anchor=text)
                    if request is not None:
                        yield request
                continue
            if kind == cms.REDIRECT:
                request = self._request(url, portal, hops, "redirect", response.url, START_PRIORITY)
            elif kind == cms.FRAME:
                # a frame is part of the page that holds it: same hops, same turn in the queue
                if score_link(url, text) < 0:
                    continue
                priority = response.request.priority if response.request is not None else 0
                request = self._request(url, portal, hops, "frame", response.url, priority,
                                        list_root=info.get("list_root"), anchor=text)
            elif kind == cms.PAGINATION:
                # one list may announce any number of pages: count them per list, not per chain
                root = info.get("list_root") or canonical(response.url)
                if self.list_pages[root] >= self.max_list_pages:
                    self.crawler.stats.inc_value(f"portal/{portal}/bounded/pagination")
                    continue
                # the next list page waits until this page's links are done, so the queue holds
                # one page of links, not the whole list's (memory stays flat on long lists)
                request = self._request(url, portal, hops, "list", response.url,
                                        LIST_PRIORITY - hops, list_root=root, anchor=text,
                                        method=found.method, form=found.form)
                if request is not None:
                    self.list_pages[root] += 1
            else:
                score = score_link(url, text)
                if score < 0:
                    continue
                if hops + 1 > self.max_hops or (score == 0 and hops >= ZERO_SCORE_MAX_HOPS):
                    self.crawler.stats.inc_value(f"portal/{portal}/bounded/hops")
                    continue
                request = self._request(url, portal, hops + 1, "page", response.url,
                                        score * PRIORITY_PER_POINT - hops, anchor=text)
            if request is not None:
                yield request

    def _render(self, response: Response, info: dict[str, Any], sel: Selector, verdict: Verdict,
                links: list[tuple[str, str]], extra: list[cms.Found]) -> Iterator[Request]:
        """The page again, rendered by the browser, when it was fetched plainly and is a report
        column whose list its script builds (:func:`browser.render_reason`)."""
        if browser.dom(response) is not None or not _is_html(response):
            return
        portal = self.portals[info["portal"]]
        registered = bool(portal.report_url) and canonical(response.url) == canonical(
            portal.report_url)
        reason = browser.render_reason(response.url, sel, verdict, links, extra,
                                       info.get("anchor", ""), registered)
        if reason is None:
            return
        self.crawler.stats.inc_value(f"portal/{portal.id}/browser_chosen")
        self.logger.info("Rendering %s in the browser: %s", response.url, reason)
        priority = response.request.priority if response.request is not None else 0
        request = self._request(response.url, portal.id, info["hops"], info["role"],
                                info.get("referrer"), priority, list_root=info.get("list_root"),
                                anchor=info.get("anchor", ""), render=reason)
        if request is not None:
            # Scrapy's dupefilter has seen the URL (the spider's set decides); the Referer is the
            # page's own (Scrapy's RefererMiddleware keeps one that is set)
            referer = response.request.headers.get(b"Referer") if response.request else None
            yield request.replace(dont_filter=True,
                                  headers={b"Referer": referer} if referer else None)

    def _in_portal(self, url: str, portal: str) -> bool:
        """On one of the registry's official portal domains and ports (redirects may leave
        them)."""
        row = self.portals[portal]
        return in_domains(url, row.allowed_domains, row.allowed_ports)

    def _request(self, url: str, portal: str, hops: int, role: str, referrer: str | None,
                 priority: int, list_root: str | None = None, anchor: str = "",
                 method: str = cms.GET, form: tuple[tuple[str, str], ...] = (),
                 render: str | None = None) -> Request | None:
        """A request for ``url``, or None when it was scheduled already, is off the portal or
        past its budget; a POST sends ``form`` (a list range from a data endpoint). A page is
        rendered by the browser for ``render``'s reason, and every GET of a page of a portal
        whose registry row says ``render=browser``."""
        url = canonical(url)
        body = _body(method, form)
        if (render is None and self.portals[portal].render == registry.BROWSER
                and method == cms.GET and role != "attachment"):
            render = browser.OPTED_IN
        key = request_key(url, method, body) + (browser.RENDERED_KEY if render else "")
        if key in self.seen or not self._in_portal(url, portal):
            return None
        if self.scheduled[portal] >= self.budget:
            self.crawler.stats.inc_value(f"portal/{portal}/bounded/budget")
            return None
        self.seen.add(key)
        self.scheduled[portal] += 1
        meta: dict[str, Any] = {META: {"portal": portal, "hops": hops, "role": role,
                                       "referrer": referrer, "list_root": list_root,
                                       "anchor": anchor}}
        if render:
            self.crawler.stats.inc_value(f"portal/{portal}/browser_requests")
            meta.update(browser.render_meta(render))
        # (Scrapy's RefererMiddleware sets the Referer header from the response: attachment
        # servers that answer only a visitor of the page get it)
        if method == cms.POST:
            return Request(url, method=cms.POST, body=body, headers=FORM_HEADERS,
                           callback=self.parse, errback=self.on_error, priority=priority,
                           meta=meta)
        return Request(url, callback=self.parse, errback=self.on_error, priority=priority,
                       meta=meta)


def _body(method: str, form: tuple[tuple[str, str], ...]) -> bytes:
    """What a request sends: a POST its form, URL-encoded as jQuery does; a GET nothing."""
    return urlencode(form).encode("utf-8") if method == cms.POST else b""


def _parsable_document(body: bytes) -> bool:
    """PDF, DOCX (a zip holding word/) or an OLE2 Word file, whatever the URL says."""
    head = body[:8]
    return (head.startswith((b"%PDF-", b"\xd0\xcf\x11\xe0"))
            or (head.startswith(b"PK\x03\x04") and b"word/" in body[:65536]))


def _page_text(response: TextResponse) -> tuple[str, Selector, bool]:
    """The page's text and selector: Scrapy's, unless the charset it took from the header does
    not decode the body and the page's ``<meta>`` names one that does (the parser decodes it
    the same way); and whether the header's charset was overruled. What a data endpoint answers
    (XML, JSON) is read as HTML too: the adapters read its text, the classifier its links. A
    page the browser rendered is read as it rendered it (its DOM)."""
    rendered = browser.dom(response)
    if rendered is not None:
        return rendered, Selector(text=rendered), False
    try:
        scrapy_text, scrapy_encoding = response.text, response.encoding
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except BaseException:  # noqa: BLE001 - w3lib's encoding detector panics on some cut <meta>
        # tags (gkcrawl.parsing.extract.decode._html_to_unicode): decoded as the parser does
        scrapy_text, scrapy_encoding = REPLACEMENT, ""
    if REPLACEMENT not in scrapy_text:
        selector = (response.selector if isinstance(response, HtmlResponse)
                    else Selector(text=scrapy_text, type="html"))
        return scrapy_text, selector, False
    ctype = response.headers.get(b"Content-Type")
    text, encoding = decode_html(response.body, ctype.decode("latin-1") if ctype else None,
                                 response.url)
    overruled = bool(scrapy_encoding) and codec_name(encoding) != codec_name(scrapy_encoding)
    return text, Selector(text=text), overruled


def _is_html(response: Response) -> bool:
    ctype = (response.headers.get(b"Content-Type") or b"").lower()
    return b"html" in ctype
