"""HTTP heads of WARC records, kept as the raw bytes that went over the wire.

warcio re-serialises HTTP headers through ``to_ascii_bytes()``, which percent-encodes any
non-ASCII value (webrecorder/warcio#128): a GBK ``Content-Disposition`` filename would not
survive.  :func:`response_head` and :func:`request_head` build the heads the writer archives
as :class:`RawHttpHeaders`, a ``StatusAndHeaders`` whose serialisation is the raw bytes, never
recomputed; :func:`parse_http_head` splits a head back into bytes for the reader.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from http.client import responses
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders

#: Status/request line protocol used when the download handler did not report one, or
#: reported a non-HTTP/1.x one (h2 is recorded in HTTP/1.1 form, as Heritrix does).
DEFAULT_HTTP_VERSION = "HTTP/1.1"
CRLF = b"\r\n"
HEAD_END = b"\r\n\r\n"

HeaderPairs = Sequence[tuple[bytes, bytes]]


class RawHttpHeaders(StatusAndHeaders):  # type: ignore[misc]  # warcio is untyped
    """A ``StatusAndHeaders`` serialised as exactly the given byte headers, in order.

    ``protocol`` and ``statusline`` are the start line's two halves, as in warcio: ``HTTP/1.1``
    and ``200 OK`` for a response, ``GET`` and ``/path?query HTTP/1.1`` for a request.
    """

    def __init__(self, protocol: str, statusline: str, headers: HeaderPairs) -> None:
        for name, value in headers:
            if not name or b"\r" in name + value or b"\n" in name + value:
                # a CR or LF would end the head early: a record with forged headers
                raise ValueError(f"invalid HTTP header {name!r}: {value!r}")
        # warcio's own header list is informational here (never serialised): latin-1 is lossless
        super().__init__(statusline, [(n.decode("latin-1"), v.decode("latin-1"))
                                      for n, v in headers], protocol=protocol)
        lines = [f"{protocol} {statusline}".encode()]
        lines += [name + b": " + value for name, value in headers]
        self.headers_buff = CRLF.join(lines) + HEAD_END

    def compute_headers_buffer(self, header_filter: object = None) -> None:
        """Keep ``headers_buff`` as built: recomputing it is what mangles non-ASCII values."""


def http_version(protocol: str | None) -> str:
    """The HTTP/1.x version to put in the status/request line for ``response.protocol``."""
    if protocol and protocol.upper() in ("HTTP/1.0", "HTTP/1.1"):
        return protocol.upper()
    return DEFAULT_HTTP_VERSION


def response_head(status: int, protocol: str | None, headers: HeaderPairs) -> RawHttpHeaders:
    """Status line with the real reason phrase, then every header value as received."""
    statusline = f"{status} {responses.get(status, '')}".rstrip()
    return RawHttpHeaders(http_version(protocol), statusline, headers)


def request_head(method: str, url: str, protocol: str | None, headers: HeaderPairs,
                    body_length: int) -> RawHttpHeaders:
    """Request line with path **and** query, ``Host`` from the URL, every request header.

    Scrapy never sees the ``Host`` header (the download handler adds it), so it is rebuilt from
    the URL, without any ``user:password@``.  A ``Content-Length`` is added for a non-empty body
    when the headers lack one (Twisted adds it on the wire), so the request can be re-parsed.
    """
    parts = urlsplit(url)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    present = {name.lower() for name, _ in headers}
    all_headers = list(headers)
    if b"host" not in present:
        all_headers.insert(0, (b"Host", parts.netloc.rpartition("@")[2].encode("utf-8")))
    if body_length and b"content-length" not in present:
        all_headers.append((b"Content-Length", str(body_length).encode("ascii")))
    return RawHttpHeaders(method, f"{target} {http_version(protocol)}", all_headers)


@dataclass(frozen=True, slots=True)
class ParsedHttpHead:
    """An HTTP head split into bytes, never decoded (GBK header values stay intact)."""

    start_line: bytes
    headers: list[tuple[bytes, bytes]]
    body_offset: int

    def status_parts(self) -> tuple[str, int, bytes]:
        """(protocol, status code, reason) of a response status line."""
        protocol, _, rest = self.start_line.partition(b" ")
        code, _, reason = rest.partition(b" ")
        return protocol.decode("ascii", "replace"), int(code), reason

    def get(self, name: bytes) -> bytes | None:
        """First value of a header, case-insensitively."""
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None


def parse_http_head(block: bytes) -> ParsedHttpHead:
    """Split an ``application/http`` block into start line, raw header pairs and body offset.

    Continuation lines (obsolete folding) are joined to the previous value with a space;
    a block without the blank line is treated as headers only.
    """
    end = block.find(HEAD_END)
    head, body_offset = (block, len(block)) if end < 0 else (block[:end], end + len(HEAD_END))
    lines = head.split(CRLF)
    headers: list[tuple[bytes, bytes]] = []
    for line in lines[1:]:
        if line[:1] in (b" ", b"\t") and headers:
            name, value = headers[-1]
            headers[-1] = (name, value + b" " + line.strip())
            continue
        name, sep, value = line.partition(b":")
        if sep:
            headers.append((name.rstrip(b" \t"), value.strip(b" \t")))
    return ParsedHttpHead(lines[0].rstrip(), headers, body_offset)
