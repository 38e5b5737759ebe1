"""A sample portal served from a subprocess, as crawl tests use it
(``python -m gkcrawl.demo.server``)."""

from __future__ import annotations

import subprocess
import sys
from http.client import HTTPConnection, HTTPResponse
from urllib.parse import urlsplit

STARTUP_TIMEOUT = 30
STOP_TIMEOUT = 10


class PortalProcess:
    """``python -m gkcrawl.demo.server`` in a subprocess, as a crawl test would run it."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gkcrawl.demo.server", *args],
            stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip()
        assert self.url.startswith("http://127.0.0.1:"), f"first stdout line: {self.url!r}"
        parts = urlsplit(self.url)
        self.host, self.port = parts.hostname or "", parts.port or 0

    def get(self, path: str, method: str = "GET") -> tuple[HTTPResponse, bytes]:
        conn = HTTPConnection(self.host, self.port, timeout=STARTUP_TIMEOUT)
        try:
            conn.request(method, path)
            response = conn.getresponse()
            return response, response.read()
        finally:
            conn.close()

    def stop(self) -> int:
        self.proc.terminate()
        try:
            self.proc.communicate(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.communicate()
        return self.proc.returncode
