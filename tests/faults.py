"""A hostile portal: the ways real government servers fail a crawler, one on each page of a
report column, among normal reports.

Every link of the column (政府信息公开年报) is titled as a report of an organ of its own; behind
each is a :class:`Page` saying how the server answers (``serve``: a method of
:class:`FaultHandler`), what the bytes are (a report rendered by the demo's renderers, or what a
broken server sends instead) and what a crawl must make of it (``outcome``: stored,
quarantined, or failed with a named reason). What the server did with every request is logged
(:data:`ANSWERED`: the whole response was written; otherwise how it ended), so a test can hold
the archive against what was really sent.

The faults, as met on real servers: connection resets (before any byte, and in the middle of a
body whose Content-Length promised more), a stall, a slow drip that ends in time and one that
never does (nginx in front of a stuck or slow CMS), a 50 MB page (with and without
Content-Length), a gzip bomb, a GBK page served as UTF-8 (a server's default charset over an
old template), a redirect loop, a cookie-check redirect (安全狗/云锁 set a cookie and send the
browser back to the same URL), a 瑞数-style 412 challenge, a PDF cut short in the CMS's store,
and mis-nested HTML around a real report table.
"""

from __future__ import annotations

import random
import socket
import struct
import threading
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from gkcrawl.crawl.failures import (
    CONNECTION_LOST,
    CUT_SHORT,
    REDIRECT_LOOP,
    TIMEOUT,
    TOO_LARGE,
    TOO_LARGE_DECODED,
    http_kind,
)
from gkcrawl.demo.render.html import Style, render_html
from gkcrawl.demo.render.pdf import render_pdf
from gkcrawl.demo.render.reports import Report, random_report
from gkcrawl.demo.server import HOST, LoopbackHandler, LoopbackServer
from gkcrawl.demo.site import ResponseSpec

#: What a crawl must make of a page: its report stored, quarantined with a reason, or the fetch
#: given up and counted under a name that says why.
STORED, QUARANTINED, FAILED = "stored", "quarantined", "failed"
#: How a request ended on the server.
ANSWERED, RESET, CUT, STALLED, ABANDONED = "answered", "reset", "cut", "stalled", "abandoned"

COLUMN = "/nb/index.html"
#: The other end of the redirect loop.
LOOP_BACK = "/nb/redirect.jsp?to=112"
#: The download limits the fault test sets; the 50 MB page and the bomb are far past them.
MAXSIZE = 1024 * 1024
WARNSIZE = 256 * 1024
HUGE_BYTES = 50 * 1024 * 1024
#: The stall sends nothing for this long (or until the server stops): past any test's timeout.
STALL_SECONDS = 60.0
#: The slow drip: the body in this many pieces, one every DRIP_DELAY seconds (well within the
#: test's download timeout in all).
DRIP_PIECES, DRIP_DELAY = 8, 0.05
#: The endless drip: a few bytes every DRIP_DELAY seconds, never idle for long, never done in time.
TRICKLE_BYTES = 64
STREAM_CHUNK = 64 * 1024
SERVER = (b"Server", b"nginx")
HTML_UTF8 = (b"Content-Type", b"text/html; charset=utf-8")
PDF = (b"Content-Type", b"application/pdf")
CHECK_COOKIE = "security_session_verify"
CHALLENGE_STATUS = 412
PLAIN = Style()
#: The code the parser quarantines a PDF it cannot read under.
CORRUPT = "corrupt"

#: A 瑞数-style challenge: a script that sets the cookie the next request must carry.
CHALLENGE = (b"<!DOCTYPE html><html><head><meta charset='utf-8'><script type='text/javascript'"
             b" r='m'>$_ts=window['$_ts'];if(!$_ts)$_ts={};$_ts.nsd=84213;</script></head>"
             b"<body><noscript>please enable JavaScript</noscript></body></html>")


@dataclass(frozen=True)
class Page:
    """A link of the column: how it is served and what the crawl must make of it."""

    path: str
    serve: str  #: the FaultHandler method that answers it
    response: ResponseSpec
    report: Report  #: the report behind the link
    outcome: str  #: STORED | QUARANTINED | FAILED
    #: the failure kind (FAILED) or the quarantine code (QUARANTINED)
    why: str = ""
    title: str = ""  #: the link's text (default: the report's title)

    @property
    def link_text(self) -> str:
        return self.title or str(self.report["title"])


def _report(organ: str, year: int = 2022) -> Report:
    return random_report(random.Random(f"faults/{organ}/{year}"), "2021", year, organ)


def _ok(body: bytes, *headers: tuple[bytes, bytes], status: int = 200) -> ResponseSpec:
    return ResponseSpec(status, (SERVER, *headers), body)


def _broken_markup(report: Report) -> bytes:
    """The report's table inside the chrome of a page a CMS template mangled: unclosed and
    stray tags, a script that prints markup, unquoted attributes, no closing body or html."""
    page = render_html(report).decode("utf-8")
    head, _, rest = page.partition("<body>")
    body = rest.removesuffix("</body></html>")
    chrome = ("<div class=top><div class=logo>示例县<span>人民政府</div>"
              "<script>document.write('<div class=\"nav\"><ul><li>首页</li>');</script>"
              "</ul></li></div></div></span><form action=/search><input name=q></p>"
              "<table width=100%><tr><td><div class=main>")
    return (head + "<body>" + chrome + body + "</td></div><p><b>打印本页</i>").encode("utf-8")


def _gzip_bomb(inflated: int) -> bytes:
    """A gzip member of ``inflated`` zero bytes, written without holding them."""
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    zeros = bytes(STREAM_CHUNK)
    parts = [packer.compress(zeros) for _ in range(inflated // STREAM_CHUNK)]
    return b"".join(parts) + packer.flush()


def build_pages() -> list[Page]:
    """Every link of the column, in order (deterministic)."""
    pages: list[Page] = []

    def html_page(path: str, serve: str, organ: str, outcome: str, why: str = "",
                  style: Style = PLAIN) -> None:
        report = _report(organ)
        # a UTF-8 Content-Type whatever the page's own charset (a GBK page declares it in <meta>)
        pages.append(Page(path, serve, _ok(render_html(report, style), HTML_UTF8), report,
                          outcome, why))

    def pdf_page(path: str, serve: str, organ: str, outcome: str, why: str = "",
                 cut: bool = False) -> None:
        report = _report(organ)
        body = render_pdf(report)
        body = body[:len(body) // 2] if cut else body
        pages.append(Page(path, serve, _ok(body, PDF), report, outcome, why,
                          title=f"{report['title']}.pdf"))

    def page(path: str, organ: str, response: ResponseSpec, outcome: str, why: str = "") -> None:
        pages.append(Page(path, "send", response, _report(organ), outcome, why))

    html_page("/nb/t20230115_101.html", "send", "示例县发展和改革委员会", STORED)
    pdf_page("/nb/P020230116101.pdf", "send", "示例县统计局", STORED)
    html_page("/nb/t20230117_102.html", "reset_once", "示例县公安局", STORED)
    html_page("/nb/t20230118_103.html", "reset", "示例县民政局", FAILED, CONNECTION_LOST)
    pdf_page("/nb/P020230119102.pdf", "cut", "示例县司法局", FAILED, CUT_SHORT)
    html_page("/nb/t20230120_104.html", "stall", "示例县审计局", FAILED, TIMEOUT)
    html_page("/nb/t20230121_105.html", "drip", "示例县水利局", STORED)
    html_page("/nb/t20230121_114.html", "trickle", "示例县交通运输局", FAILED, TIMEOUT)
    html_page("/nb/t20230122_106.html", "huge", "示例县农业农村局", FAILED, TOO_LARGE)
    html_page("/nb/t20230123_107.html", "huge_chunked", "示例县商务局", FAILED, TOO_LARGE)
    html_page("/nb/t20230124_108.html", "send", "示例县文化和旅游局", STORED,
              style=Style(encoding="gbk"))
    html_page("/nb/t20230125_109.html", "cookie_check", "示例县退役军人事务局", STORED)
    pdf_page("/nb/P020230126103.pdf", "send", "示例县应急管理局", QUARANTINED, CORRUPT,
             cut=True)
    broken = _report("示例县林业和草原局")
    pages.append(Page("/nb/t20230127_110.html", "send", _ok(_broken_markup(broken), HTML_UTF8),
                      broken, STORED))
    page("/nb/t20230128_111.html", "示例县医疗保障局",
         _ok(_gzip_bomb(HUGE_BYTES), HTML_UTF8, (b"Content-Encoding", b"gzip")),
         FAILED, TOO_LARGE_DECODED)
    page("/nb/t20230129_112.html", "示例县乡村振兴局",
         _ok(b"", (b"Location", LOOP_BACK.encode()), status=302), FAILED, REDIRECT_LOOP)
    page("/nb/t20230130_113.html", "示例县住房和城乡建设局",
         _ok(CHALLENGE, HTML_UTF8, (b"Set-Cookie", b"azSsQE5NvspcS=5cTj0jCk; Path=/"),
             status=CHALLENGE_STATUS),
         FAILED, http_kind(CHALLENGE_STATUS))
    return pages


def column_page(pages: list[Page]) -> bytes:
    """The report column: a link per page that has a title."""
    items = "".join(f'<li><a href="{quote(p.path, safe="/?=&_.")}">{p.link_text}</a></li>'
                    for p in pages)
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'>"
            "<meta name='ColumnName' content='政府信息公开年报'><title>政府信息公开年报</title>"
            f"</head><body><h2>政府信息公开年报</h2><ul class='list'>{items}</ul></body></html>"
            ).encode()


class FaultServer(LoopbackServer):
    """The portal's pages and the log of what was done with each request."""

    def __init__(self, pages: list[Page], host: str = HOST, port: int = 0) -> None:
        self.pages = {p.path: p for p in pages}
        home = ("<html><head><meta charset='utf-8'><title>示例县人民政府</title></head><body>"
                f"<a href='{COLUMN}'>政府信息公开年报</a></body></html>").encode()
        loop_start = next(p.path for p in pages if p.why == REDIRECT_LOOP)
        self.static = {"/": _ok(home, HTML_UTF8), COLUMN: _ok(column_page(pages), HTML_UTF8),
                       "/robots.txt": _ok(b"User-agent: *\n", (b"Content-Type", b"text/plain")),
                       LOOP_BACK: _ok(b"", (b"Location", loop_start.encode()), status=302)}
        self.log: list[tuple[str, str]] = []
        self._log_lock = threading.Lock()
        super().__init__(FaultHandler, host, port)

    def record(self, path: str, outcome: str) -> None:
        with self._log_lock:
            self.log.append((path, outcome))

    def answered(self) -> Counter[str]:
        """Path -> requests answered in full."""
        with self._log_lock:
            return Counter(path for path, outcome in self.log if outcome == ANSWERED)


class FaultHandler(LoopbackHandler):
    server: FaultServer

    def answer(self, with_body: bool) -> None:
        seen = self.server.count(self.path)
        page = self.server.pages.get(self.path)
        if page is None:
            static = self.server.static.get(self.path) or _ok(b"not found", status=404)
            self._send(static, with_body)
            return
        getattr(self, page.serve)(page, seen, with_body)

    # --- how a page is served ---------------------------------------------------------------

    def send(self, page: Page, seen: int, with_body: bool) -> None:
        self._send(page.response, with_body)

    def reset(self, page: Page, seen: int, with_body: bool) -> None:
        """A TCP reset instead of an answer (a WAF or a load balancer dropping the request)."""
        self._reset(RESET)

    def reset_once(self, page: Page, seen: int, with_body: bool) -> None:
        if seen == 1:
            self._reset(RESET)
        else:
            self._send(page.response, with_body)

    def cut(self, page: Page, seen: int, with_body: bool) -> None:
        """The head and half the body Content-Length promises, then a reset."""
        body = page.response.body
        self.send_head(page.response, len(body))
        if self._write(body[:len(body) // 2]):
            self._reset(CUT)

    def stall(self, page: Page, seen: int, with_body: bool) -> None:
        self.server.stopping.wait(STALL_SECONDS)
        self.close_connection = True
        self.server.record(self.path, STALLED)

    def drip(self, page: Page, seen: int, with_body: bool) -> None:
        body = page.response.body
        self.send_head(page.response, len(body))
        step = -(-len(body) // DRIP_PIECES)
        for start in range(0, len(body), step):
            if self.server.stopping.wait(DRIP_DELAY) or not self._write(body[start:start + step]):
                return
        self.server.record(self.path, ANSWERED)

    def trickle(self, page: Page, seen: int, with_body: bool) -> None:
        """A body a few bytes at a time: the connection never idles, the answer never ends in
        time (a download timeout that only counted idle time would wait for ever)."""
        body = page.response.body
        self.send_head(page.response, len(body))
        for start in range(0, len(body), TRICKLE_BYTES):
            if (self.server.stopping.wait(DRIP_DELAY)
                    or not self._write(body[start:start + TRICKLE_BYTES])):
                return
        self.server.record(self.path, ANSWERED)

    def huge(self, page: Page, seen: int, with_body: bool) -> None:
        """A 50 MB page that says so in its Content-Length."""
        self.send_head(page.response, HUGE_BYTES)
        self._stream(lambda chunk: chunk)

    def huge_chunked(self, page: Page, seen: int, with_body: bool) -> None:
        """A 50 MB page streamed in chunks, its size unknown until the end."""
        self.send_head(page.response, None)
        self._stream(lambda chunk: b"%x\r\n%s\r\n" % (len(chunk), chunk), b"0\r\n\r\n")

    def cookie_check(self, page: Page, seen: int, with_body: bool) -> None:
        """Without the check cookie: a 302 back to this very URL that sets it."""
        if CHECK_COOKIE in (self.headers.get("Cookie") or ""):
            self._send(page.response, with_body)
            return
        self._send(_ok(b"", (b"Location", self.path.encode()),
                       (b"Set-Cookie", f"{CHECK_COOKIE}=1f2e3d; Path=/".encode()), status=302),
                   with_body)

    # --- wire helpers -----------------------------------------------------------------------

    def _send(self, response: ResponseSpec, with_body: bool) -> None:
        try:
            self.send_spec(response, with_body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
            self.server.record(self.path, ABANDONED)
            return
        self.server.record(self.path, ANSWERED)

    def _write(self, data: bytes) -> bool:
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
            self.server.record(self.path, ABANDONED)
            return False
        return True

    def _stream(self, frame: Callable[[bytes], bytes], end: bytes = b"") -> None:
        """Filler until HUGE_BYTES are sent or, as it happens, the client hangs up."""
        chunk = (b"<p>" + b"0" * STREAM_CHUNK)[:STREAM_CHUNK - 4] + b"</p>"
        for _ in range(HUGE_BYTES // STREAM_CHUNK):
            if self.server.stopping.is_set() or not self._write(frame(chunk)):
                return
        if self._write(end):
            self.server.record(self.path, ANSWERED)

    def _reset(self, outcome: str) -> None:
        """Close with a TCP RST (SO_LINGER 0), as a dropped connection reaches the client."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.rfile.close()
        self.connection.close()
        self.close_connection = True
        self.server.record(self.path, outcome)
