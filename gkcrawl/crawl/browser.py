"""A real browser where the markup is not enough: report lists built by script.

Some portals send a column page whose list is empty until its script fills it from a JSON
endpoint (``fetch``, XHR, year tabs), or the empty shell of a single-page application. The CMS
adapters (:mod:`gkcrawl.crawl.cms`) read the families they know without a browser; the rest is
rendered by headless Chromium through scrapy-playwright, with the system's ``chromium``
(``BROWSER_EXECUTABLE``; no browser is ever downloaded).

* **Which pages**: every page of a portal whose registry row says ``render=browser``
  (attachments and POSTs stay plain requests); and, in any crawl, a report column page fetched
  plainly that lists no report and gives the adapters nothing while its markup says script
  builds it (:func:`render_reason`): that page is fetched again, in the browser.
* **The archive**: every response the browser receives is written to the WARC with its request
  as sent (:class:`PageRecorder`): the page, its scripts, the JSON its script asked for. The
  browser hands bodies over decoded, so a record keeps ``Content-Encoding`` and
  ``Transfer-Encoding`` as ``X-Orig-…`` headers and gives the body's own Content-Length
  (Browsertrix-crawler's rule, :func:`as_archived`). The rendered DOM is a ``conversion`` record
  whose ``WARC-Refers-To`` is the page's response record.
* **What the spider gets**: the page as the server sent it (the archived bytes, so a replay
  parses what the crawl parsed), and the DOM, whose links it follows, as :func:`dom`. The detail
  pages and attachments it reaches are ordinary requests.
* Nothing of Playwright is imported, and no browser started, before the first page to render:
  until then :class:`BrowserDownloadHandler` is Scrapy's HTTP/1.1 handler.
"""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from ipaddress import ip_address
from typing import TYPE_CHECKING, Any
from urllib.parse import urldefrag

from parsel import Selector
from scrapy import Request
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.http import Headers, Response, TextResponse
from scrapy.responsetypes import responsetypes
from scrapy.settings import BaseSettings

from gkcrawl.archive.extension import ARCHIVED_BY_FETCHER
from gkcrawl.archive.extension import META_KEY as WARC_META
from gkcrawl.archive.signals import warc_conversion, warc_exchange
from gkcrawl.archive.writer import Exchange
from gkcrawl.crawl import cms
from gkcrawl.crawl.classify import OTHER, REPORT_COLUMN_NAME, Verdict, column_meta, report_title
from gkcrawl.crawl.links import REPORT_COLUMN_URL

if TYPE_CHECKING:
    from playwright._impl._api_structures import HttpHeader
    from playwright.async_api import Page
    from playwright.async_api import Request as BrowserRequest
    from playwright.async_api import Response as BrowserResponse
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

#: Setting: the Chromium to launch, a name looked up on PATH or a path.
BROWSER_EXECUTABLE = "chromium"
#: Why a request is rendered (in its meta): a portal opted in, or the rule's reason.
OPTED_IN = "render=browser in the registry"
RENDER_KEY = "gk_render"
#: The rendered DOM, serialised, in the meta of the request it answers.
DOM_KEY = "gk_dom"
#: The flag of a response that came through the browser.
RENDERED = "rendered"
#: Appended to a rendered request's key in the spider's set of requests made: the page may have
#: been fetched plainly first.
RENDERED_KEY = " (rendered)"
#: The browser's own requests of these kinds are never made: a list needs none of them.
SKIPPED_RESOURCES = frozenset({"image", "media", "font"})
#: After the load event, the longest wait for the network to fall quiet (500 ms without a
#: request: the script's data has come and the list is built); a page that polls for ever is
#: read as it is then.
NETWORK_IDLE_TIMEOUT_MS = 10_000
#: Once the DOM is read, the longest wait for the bodies still coming (a stalled stream); the
#: page is closed then, and they are archived cut short.
BODY_TIMEOUT_S = 10.0
#: Statuses whose body the browser does not hand over.
REDIRECTS = range(300, 400)
#: ``WARC-Truncated`` of a response whose body the browser did not hand over.
TRUNCATED_UNAVAILABLE = "unspecified"
#: Headers describing a body as it went over the wire, kept renamed with this prefix.
ORIGINAL_PREFIX = b"X-Orig-"
WIRE_CODINGS = frozenset({b"content-encoding", b"transfer-encoding"})
CONTENT_LENGTH = b"Content-Length"
DOM_CONTENT_TYPE = "text/html; charset=utf-8"

# --- the rule: which page fetched plainly is to be rendered ------------------------------------

#: Script that loads content once the page is there: fetch, XMLHttpRequest, jQuery's and axios'
#: requests, jQuery's ``.load(url)``.
LOADS_CONTENT = re.compile(
    r"\bfetch\s*\(|\bXMLHttpRequest\b|\$\.(?:ajax|get|getJSON|post)\s*\(|\baxios\b"
    r"""|\.load\(\s*['"]""")
#: A list container that holds nothing yet: a list, a table body, or an element whose id or
#: class names a list.
EMPTY_LIST = ("//body//*[self::ul or self::ol or self::tbody or self::dl or contains(translate("
              "concat(@id, ' ', @class), 'LIST', 'list'), 'list')][not(*)][not(normalize-space())]")
#: The mount point of a single-page application (Vue, React, Nuxt, Next) with nothing in it.
SPA_SHELL = ('//body//div[@id="app" or @id="root" or @id="__nuxt" or @id="__next"]'
             "[not(*)][not(normalize-space())]")
SPA_REASON = "an empty single-page application shell"
SCRIPTED_LIST_REASON = "an empty list and script that loads content"


def script_built(sel: Selector) -> str | None:
    """Why the page's content looks built by script, by its markup alone: an empty mount point
    of a single-page application, or an empty list container and inline script that loads
    content. None without such signs (a list loaded by a script file of its own is not seen:
    such a portal says ``render=browser`` in the registry)."""
    if sel.xpath(SPA_SHELL):
        return SPA_REASON
    if sel.xpath(EMPTY_LIST) and LOADS_CONTENT.search(cms.scripts(sel)):
        return SCRIPTED_LIST_REASON
    return None


def render_reason(url: str, sel: Selector, verdict: Verdict, links: list[tuple[str, str]],
                  extra: list[cms.Found], anchor: str = "", registered: bool = False) -> str | None:
    """Why a page fetched plainly is to be fetched again in the browser, or None.

    It must be a report column (by its URL, its column meta or title, the link that led to it,
    or the registry's ``report_url``: ``registered``) whose markup lists no report and gives
    the adapters nothing, while its script builds its content (:func:`script_built`)."""
    if verdict.role != OTHER or extra or any(report_title(text) for _, text in links):
        return None
    names = " ".join([anchor, *sel.css("title::text").getall(), *column_meta(sel)])
    if not (registered or REPORT_COLUMN_URL.search(url) or REPORT_COLUMN_NAME.search(names)):
        return None
    return script_built(sel)


# --- requests and responses -------------------------------------------------------------------


def render_meta(reason: str) -> dict[str, Any]:
    """The meta that has a request rendered (scrapy-playwright's key and the reason)."""
    return {"playwright": True, RENDER_KEY: reason}


def is_rendered(request: Request) -> bool:
    return bool(request.meta.get(RENDER_KEY))


def dom(response: Response) -> str | None:
    """The DOM of a page the browser rendered, serialised; None for a page fetched plainly."""
    return response.meta.get(DOM_KEY) if RENDERED in response.flags else None


class BrowserUnavailable(RuntimeError):
    """No browser to render with; the message says what to install or set."""


def executable(settings: BaseSettings) -> str:
    """The path of the Chromium to launch (``BROWSER_EXECUTABLE``, looked up on PATH)."""
    name = str(settings.get("BROWSER_EXECUTABLE", BROWSER_EXECUTABLE))
    path = shutil.which(name)
    if path is None:
        raise BrowserUnavailable(
            f"BROWSER_EXECUTABLE {name!r} is not an executable on PATH: install Debian's "
            "chromium (apt-get install chromium) or set BROWSER_EXECUTABLE")
    return path


def skip_resource(request: BrowserRequest) -> bool:
    """``PLAYWRIGHT_ABORT_REQUEST``: images, media and fonts are never asked for (a list needs
    none of them, and the portal is spared them)."""
    return request.resource_type in SKIPPED_RESOURCES


async def wait_for_network_idle(page: Page) -> None:
    """A page method: until the network is quiet, at most ``NETWORK_IDLE_TIMEOUT_MS``."""
    from playwright.async_api import TimeoutError as PlaywrightTimeout

    try:
        await page.wait_for_load_state("networkidle", timeout=NETWORK_IDLE_TIMEOUT_MS)
    except PlaywrightTimeout:
        logger.info("The network of %s did not fall quiet; read as it is", page.url)


# --- the archive of what the browser fetched ----------------------------------------------------


def as_archived(headers: list[tuple[bytes, bytes]], body: bytes) -> list[tuple[bytes, bytes]]:
    """Response headers for a body the browser decoded: a coding the body no longer has, and a
    Content-Length that is not its length, kept as ``X-Orig-…``; Content-Length the body's. The
    record then reads back as what it holds."""
    length = str(len(body)).encode("ascii")
    kept: list[tuple[bytes, bytes]] = []
    for name, value in headers:
        lower = name.lower()
        if lower in WIRE_CODINGS or (lower == CONTENT_LENGTH.lower() and value.strip() != length):
            kept.append((ORIGINAL_PREFIX + name, value))
        elif lower != CONTENT_LENGTH.lower():
            kept.append((name, value))
    return [*kept, (CONTENT_LENGTH, length)]


def _header_pairs(headers: list[HttpHeader]) -> list[tuple[bytes, bytes]]:
    return [(_wire_bytes(h["name"]), _wire_bytes(h["value"])) for h in headers]


def _wire_bytes(text: str) -> bytes:
    """A header as bytes: Latin-1 gives back the bytes Chromium read; text beyond it was UTF-8."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")


@dataclass(frozen=True)
class Document:
    """A page as the server sent it to the browser (a main frame's document)."""

    url: str
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    ip_address: str | None
    #: its response record in the archive (None when nothing was archived)
    pointer: dict[str, Any] | None


class PageRecorder:
    """Archives every exchange of one browser page as its response comes; keeps the main frame's
    documents by URL."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.documents: dict[str, Document] = {}
        self._tasks: list[asyncio.Future[None]] = []

    def on_response(self, response: BrowserResponse) -> None:
        """Page event ``response``: its body is read and archived in a task of its own."""
        self._tasks.append(asyncio.ensure_future(self._record(response)))

    def on_request_failed(self, request: BrowserRequest) -> None:
        """Page event ``requestfailed``: no response to archive; counted and logged."""
        self.crawler.stats.inc_value("browser/requests_failed")
        logger.info("Browser request failed (%s): %s", request.failure, request.url)

    async def settle(self, timeout: float | None = None) -> bool:
        """Until every response seen so far is archived, or known lost (counted, logged); at
        most ``timeout`` seconds. Whether they all are."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        done = 0
        while done < len(self._tasks):
            batch = self._tasks[done:]
            left = None if deadline is None else max(0.0, deadline - loop.time())
            _, pending = await asyncio.wait(batch, timeout=left)
            if pending:
                return False
            done += len(batch)
            for task in batch:
                if (error := task.exception()) is not None:
                    self.crawler.stats.inc_value("browser/unarchived")
                    logger.warning("A browser response could not be archived: %s", error)
        return True

    async def _record(self, response: BrowserResponse) -> None:
        """One exchange into the archive (through ``warc_exchange``); a main frame's document
        kept."""
        from playwright.async_api import Error as PlaywrightError

        request = response.request
        # what the browser knows at once first: a body still coming may never come
        received = _header_pairs(await response.headers_array())
        sent = _header_pairs(await request.headers_array())
        address = await response.server_addr()
        protocol = await response.http_version()
        body, truncated = b"", None
        if response.status not in REDIRECTS:
            try:
                body = await response.body()
            except PlaywrightError:  # the load failed, or the page closed first
                truncated = TRUNCATED_UNAVAILABLE
        headers = as_archived(received, body)
        ip = address["ipAddress"] if address else None
        start_ms = request.timing["startTime"]
        exchange = Exchange(
            url=response.url, status=response.status, method=request.method,
            request_headers=sent, request_body=request.post_data_buffer or b"",
            protocol=protocol, response_headers=headers, response_body=body, ip_address=ip,
            fetch_date=datetime.fromtimestamp(start_ms / 1000, UTC) if start_ms > 0 else None,
            truncated=truncated)
        results = self.crawler.signals.send_catch_log(warc_exchange, exchange=exchange)
        pointer = next((result for _, result in results if isinstance(result, dict)), None)
        self.crawler.stats.inc_value("browser/exchanges")
        if (request.is_navigation_request() and response.frame.parent_frame is None
                and response.status not in REDIRECTS):
            url = urldefrag(response.url).url
            self.documents[url] = Document(url, response.status, headers, body, ip, pointer)


# --- the download handler ---------------------------------------------------------------------

#: What a render puts in its request's meta for scrapy-playwright, taken out once it is done.
PAGE_META = ("playwright_include_page", "playwright_page_event_handlers",
             "playwright_page_methods", "playwright_page_goto_kwargs")


def _open_page(request: Request, recorder: PageRecorder) -> None:
    """Have scrapy-playwright keep the page open for the recorder, tell it each response, and
    wait for the network to fall quiet before it reads the DOM."""
    from scrapy_playwright.page import PageMethod

    request.meta.update({
        "playwright_include_page": True,
        "playwright_page_event_handlers": {"response": recorder.on_response,
                                           "requestfailed": recorder.on_request_failed},
        "playwright_page_methods": [PageMethod(wait_for_network_idle)]})
    referer = request.headers.get(b"Referer")
    if referer:  # Chromium takes a navigation's Referer from goto, not from its headers
        request.meta["playwright_page_goto_kwargs"] = {"referer": referer.decode("latin-1")}


async def _close_page(request: Request, recorder: PageRecorder) -> None:
    """The page closed once the recorder has what it saw; the meta as it was."""
    page = request.meta.pop("playwright_page", None)
    events = request.meta.get("playwright_page_event_handlers") or {}
    for key in PAGE_META:
        request.meta.pop(key, None)
    if page is not None:
        await recorder.settle(BODY_TIMEOUT_S)
        for event, handler in events.items():
            page.remove_listener(event, handler)
        await page.close()
    await recorder.settle()  # what was still coming, archived cut short



class BrowserDownloadHandler(HTTP11DownloadHandler):
    """The http and https download handler: Scrapy's HTTP/1.1 handler, and for a request marked
    by :func:`render_meta` scrapy-playwright's, made and started at the first such request."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self._browser: Any = None  # scrapy-playwright's handler, once a page is rendered
        self._unavailable: BrowserUnavailable | None = None
        self._starting = asyncio.Lock()

    async def download_request(self, request: Request) -> Response:
        if not is_rendered(request):
            return await super().download_request(request)
        browser = await self._browser_handler()
        recorder = PageRecorder(self.crawler)
        _open_page(request, recorder)
        try:
            rendered = await browser.download_request(request)
        finally:
            await _close_page(request, recorder)
        self.crawler.stats.inc_value("browser/pages")
        return self._response(request, rendered, recorder)

    async def close(self) -> None:
        await super().close()
        if self._browser is not None:
            await self._browser.close()

    async def _browser_handler(self) -> Any:
        """scrapy-playwright's handler, made and started once, with the system's Chromium; a
        missing browser is said once, in one line, and fails every page to render."""
        async with self._starting:
            if self._unavailable is not None:
                raise self._unavailable
            if self._browser is None:
                try:
                    path = executable(self.crawler.settings)
                except BrowserUnavailable as exc:
                    self._unavailable = exc
                    self.crawler.stats.set_value("browser/unavailable", 1)
                    logger.error("A page is to be rendered, but %s", exc)
                    raise
                from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

                handler = ScrapyPlaywrightDownloadHandler.from_crawler(self.crawler)
                handler.config.launch_options = {**handler.config.launch_options,
                                                 "executable_path": path}
                logger.info("Starting headless Chromium (%s) to render pages", path)
                # scrapy-playwright starts Playwright on engine_started, which has fired already
                await handler._launch()
                self._browser = handler
            return self._browser

    def _response(self, request: Request, rendered: Response, recorder: PageRecorder) -> Response:
        """The page as the server sent it, flagged: its exchanges are archived already; the DOM
        in the meta, and in the archive as a conversion of the page's response record."""
        if not isinstance(rendered, TextResponse):  # a download: its bytes are the response
            return rendered
        request.meta[DOM_KEY] = rendered.text
        flags = [RENDERED, ARCHIVED_BY_FETCHER]
        document = recorder.documents.get(urldefrag(rendered.url).url)
        if document is None:  # the server sent no document of this URL (a page made by script)
            return rendered.replace(flags=flags)
        if document.pointer is not None:
            request.meta[WARC_META] = document.pointer
            self.crawler.signals.send_catch_log(
                warc_conversion, refers_to=document.pointer["record_id"], url=document.url,
                body=rendered.text.encode("utf-8"), content_type=DOM_CONTENT_TYPE)
        headers = Headers(document.headers)
        cls = responsetypes.from_args(headers=headers, url=document.url, body=document.body)
        return cls(url=document.url, status=document.status, headers=headers, body=document.body,
                   request=request, flags=flags,
                   ip_address=ip_address(document.ip_address) if document.ip_address else None)
