"""HTTP heads are archived as raw bytes and parsed back without decoding."""

from __future__ import annotations

import pytest

from gkcrawl.archive.records import parse_http_head, request_head, response_head

GBK_DISPOSITION = 'attachment; filename="2023年度报告.pdf"'.encode("gbk")


def test_response_head_keeps_raw_gbk_and_every_repeated_header() -> None:
    head = response_head(
        200,
        "HTTP/1.1",
        [
            (b"Content-Disposition", GBK_DISPOSITION),
            (b"Set-Cookie", b"a=1"),
            (b"Set-Cookie", b"b=2"),
        ],
    )
    assert head.headers_buff == (
        b"HTTP/1.1 200 OK\r\n"
        b"Content-Disposition: " + GBK_DISPOSITION + b"\r\n"
        b"Set-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n"
    )
    head.compute_headers_buffer()  # what warcio calls before writing: must be a no-op
    assert GBK_DISPOSITION in head.headers_buff


def test_status_line_uses_real_reason_and_defaults_protocol() -> None:
    assert response_head(404, None, []).headers_buff == b"HTTP/1.1 404 Not Found\r\n\r\n"
    assert response_head(301, "HTTP/1.0", []).headers_buff.startswith(
        b"HTTP/1.0 301 Moved Permanently\r\n"
    )
    # h2 is recorded in HTTP/1.1 form (WARC-Protocol carries "h2")
    assert response_head(200, "h2", []).headers_buff.startswith(b"HTTP/1.1 200 OK\r\n")
    assert response_head(599, None, []).headers_buff == b"HTTP/1.1 599\r\n\r\n"


def test_request_head_has_query_string_host_and_content_length() -> None:
    head = request_head(
        "POST",
        "http://user:pw@www.gd.gov.cn:8080/gkmlpt/search?page=2&t=1#frag",
        "HTTP/1.1",
        [(b"Accept-Encoding", b"gzip, deflate"), (b"Cookie", b"a=1")],
        body_length=7,
    )
    assert head.headers_buff == (
        b"POST /gkmlpt/search?page=2&t=1 HTTP/1.1\r\n"
        b"Host: www.gd.gov.cn:8080\r\n"
        b"Accept-Encoding: gzip, deflate\r\nCookie: a=1\r\n"
        b"Content-Length: 7\r\n\r\n"
    )


def test_request_head_root_path_and_existing_host() -> None:
    head = request_head("GET", "https://example.gov.cn", None, [(b"Host", b"x")], 0)
    assert head.headers_buff == b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"


@pytest.mark.parametrize("header",
                         [(b"X-Evil", b"a\r\nWARC/1.1"), (b"X-Evil\n", b"a"), (b"", b"a")])
def test_header_injection_is_rejected(header: tuple[bytes, bytes]) -> None:
    with pytest.raises(ValueError, match="invalid HTTP header"):
        response_head(200, None, [header])


def test_parse_http_head_returns_raw_bytes() -> None:
    block = (
        b"HTTP/1.1 200 OK\r\nContent-Disposition: " + GBK_DISPOSITION + b"\r\n"
        b"Set-Cookie: a=1\r\nSet-Cookie: b=2\r\nX-Folded: one\r\n  two\r\n\r\nbody\r\n\r\nmore"
    )
    head = parse_http_head(block)
    assert head.status_parts() == ("HTTP/1.1", 200, b"OK")
    assert head.headers == [
        (b"Content-Disposition", GBK_DISPOSITION),
        (b"Set-Cookie", b"a=1"),
        (b"Set-Cookie", b"b=2"),
        (b"X-Folded", b"one two"),
    ]
    assert block[head.body_offset :] == b"body\r\n\r\nmore"
    assert head.get(b"set-cookie") == b"a=1"
