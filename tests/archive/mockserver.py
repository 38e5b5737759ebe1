"""Loopback HTTP server for the archive crawl test; prints its base URL, then serves."""

from __future__ import annotations

import gzip
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HTML = "<html><head><title>2023年政府信息公开工作年度报告</title></head><body>报告</body></html>"
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 16 + b"\n%%EOF\n"
GBK_DISPOSITION = 'attachment; filename="2023年度报告.pdf"'.encode("gbk")

ROUTES: dict[str, tuple[int, list[tuple[str, bytes]], bytes]] = {
    "/gzip.html": (
        200,
        [("Content-Type", b"text/html; charset=utf-8"), ("Content-Encoding", b"gzip")],
        gzip.compress(HTML.encode(), mtime=0),
    ),
    "/attach-gbk": (
        200,
        [("Content-Type", b"application/octet-stream"), ("Content-Disposition", GBK_DISPOSITION)],
        b"gbk attachment body",
    ),
    "/cookies": (
        200,
        [("Content-Type", b"text/plain"), ("Set-Cookie", b"a=1; Path=/"),
         ("Set-Cookie", b"b=2; Path=/")],
        b"two cookies",
    ),
    "/a/report.pdf": (200, [("Content-Type", b"application/pdf")], PDF),
    "/b/report.pdf": (200, [("Content-Type", b"application/pdf")], PDF),
    "/old": (301, [("Location", b"/new.html"), ("Content-Type", b"text/plain")], b"moved"),
    "/new.html": (200, [("Content-Type", b"text/html; charset=utf-8")], HTML.encode()),
    "/list?page=2&t=1": (200, [("Content-Type", b"text/html; charset=utf-8")], b"<p>page 2</p>"),
}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        status, headers, body = ROUTES.get(
            self.path, (404, [("Content-Type", b"text/plain")], b"not found")
        )
        self.send_response(status)
        for name, value in headers:
            # http.server encodes header values as latin-1: this puts the raw bytes on the wire
            self.send_header(name, value.decode("latin-1"))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()
