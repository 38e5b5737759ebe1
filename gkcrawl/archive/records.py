"""Byte-faithful HTTP blocks for WARC records.

warcio re-serialises HTTP headers through ``to_ascii_bytes()``, which percent-encodes any
non-ASCII value (webrecorder/warcio#128): a GBK ``Content-Disposition`` filename would not
survive.  Here the HTTP head is assembled as raw bytes (``response_head``, ``request_head``:
what the writer puts in its records) or handed to warcio inside a ``StatusAndHeaders`` subclass
that refuses to recompute its buffer (``build_response_head``, ``build_request_head``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import SplitResult, urlsplit

from warcio.statusandheaders import StatusAndHeaders

#: Status/request line protocol used when the download handler did not report one, or
#: reported a non-HTTP/1.x one (h2 is recorded in HTTP/1.1 form, as Heritrix does).
DEFAULT_HTTP_VERSION = "HTTP/1.1"
CRLF = b"\r\n"
HEAD_END = b"\r\n\r\n"
_FORBIDDEN_IN_HEADER = (b"\r", b"\n")
_HTTP1_VERSIONS = ("HTTP/1.0", "HTTP/1.1")
#: ``HTTPStatus(code).phrase`` of every registered code (the enum lookup, for every archived
#: response, cost more than the table).
_REASONS = {status.value: status.phrase for status in HTTPStatus}

HeaderPairs = Sequence[tuple[bytes, bytes]]


class RawHttpHeaders(StatusAndHeaders):  # type: ignore[misc]  # warcio is untyped
    """A ``StatusAndHeaders`` whose serialisation is exactly the bytes we give it."""

    def __init__(
        self,
        raw: bytes,
        *,
        statusline: str,
        protocol: str,
        headers: Iterable[tuple[bytes, bytes]],
    ) -> None:
        super().__init__(
            statusline,
            [(_latin1(name), _latin1(value)) for name, value in headers],
            protocol=protocol,
        )
        self.headers_buff = raw

    def compute_headers_buffer(self, header_filter: object = None) -> None:
        """Keep ``headers_buff`` as given: recomputing it is what mangles non-ASCII values."""


def _latin1(value: bytes) -> str:
    """Lossless bytes→str for warcio's informational header list (never serialised)."""
    return value.decode("latin-1")


def reason_phrase(status: int) -> str:
    """Real reason phrase for a status code ("" when the code is not registered)."""
    return _REASONS.get(status, "")


def http_version(protocol: str | None) -> str:
    """The HTTP/1.x version to put in the status/request line for ``response.protocol``."""
    if protocol and protocol.upper() in _HTTP1_VERSIONS:
        return protocol.upper()
    return DEFAULT_HTTP_VERSION


def warc_protocol(protocol: str | None) -> str | None:
    """Value for the ``WARC-Protocol`` header (``http/1.1``, ``h2``), when known."""
    return protocol.lower() if protocol else None


def _check_header(name: bytes, value: bytes) -> None:
    """Reject CR/LF: they would break the record framing (header injection)."""
    if not name or any(c in name or c in value for c in _FORBIDDEN_IN_HEADER):
        raise ValueError(f"invalid HTTP header {name!r}: {value!r}")


def _header_lines(headers: HeaderPairs) -> bytes:
    block = b"".join([name + b": " + value + CRLF for name, value in headers])
    # one CR and one LF per line are ours: any other is in a name or value (checked per header
    # only then, since this runs for every archived exchange)
    if block.count(b"\r") != len(headers) or block.count(b"\n") != len(headers) or not all(
            name for name, _ in headers):
        for name, value in headers:
            _check_header(name, value)
    return block


def _status_line(status: int, protocol: str | None) -> tuple[str, str]:
    """(HTTP version, ``"<code> <reason>"``) of a response's status line."""
    return http_version(protocol), f"{status} {reason_phrase(status)}".rstrip()


def response_head(status: int, protocol: str | None, headers: HeaderPairs) -> bytes:
    """Status line with the real reason phrase, then every header value as raw bytes."""
    version, statusline = _status_line(status, protocol)
    return f"{version} {statusline}\r\n".encode("ascii") + _header_lines(headers) + CRLF


def build_response_head(
    status: int, protocol: str | None, headers: HeaderPairs
) -> RawHttpHeaders:
    """:func:`response_head` in warcio's ``StatusAndHeaders`` form."""
    version, statusline = _status_line(status, protocol)
    raw = response_head(status, protocol, headers)
    return RawHttpHeaders(raw, statusline=statusline, protocol=version, headers=headers)


def _target(parts: SplitResult) -> str:
    path = parts.path or "/"
    return f"{path}?{parts.query}" if parts.query else path


def _host(parts: SplitResult) -> bytes:
    return parts.netloc.rpartition("@")[2].encode("utf-8")  # drop any user:password@


def request_target(url: str) -> str:
    """Origin-form request target: path **and** query string (scrapy-webarchive drops it)."""
    return _target(urlsplit(url))


def host_header(url: str) -> bytes:
    """``Host`` value built from the URL (the download handler adds it, Scrapy never sees it)."""
    return _host(urlsplit(url))


def _request_parts(method: str, url: str, protocol: str | None, headers: HeaderPairs,
                   body_length: int) -> tuple[str, list[tuple[bytes, bytes]], bytes]:
    """(request line after the method, every header, the raw head)."""
    version = http_version(protocol)
    parts = urlsplit(url)
    lowered = {name.lower() for name, _ in headers}
    all_headers: list[tuple[bytes, bytes]] = []
    if b"host" not in lowered:
        all_headers.append((b"Host", _host(parts)))
    all_headers.extend(headers)
    if body_length and b"content-length" not in lowered:
        all_headers.append((b"Content-Length", str(body_length).encode("ascii")))
    statusline = f"{_target(parts)} {version}"
    raw = f"{method} {statusline}\r\n".encode() + _header_lines(all_headers) + CRLF
    return statusline, all_headers, raw


def request_head(method: str, url: str, protocol: str | None, headers: HeaderPairs,
                 body_length: int) -> bytes:
    """Request line with path and query, ``Host`` from the URL, every request header.

    A ``Content-Length`` is added for a non-empty body when the caller's headers lack one
    (Twisted adds it on the wire), so the recorded request can be re-parsed.
    """
    return _request_parts(method, url, protocol, headers, body_length)[2]


def build_request_head(
    method: str, url: str, protocol: str | None, headers: HeaderPairs, body_length: int
) -> RawHttpHeaders:
    """:func:`request_head` in warcio's ``StatusAndHeaders`` form."""
    statusline, all_headers, raw = _request_parts(method, url, protocol, headers, body_length)
    return RawHttpHeaders(raw, statusline=statusline, protocol=method, headers=all_headers)


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
