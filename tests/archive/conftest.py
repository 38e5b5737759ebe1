"""Fixtures for the archive tests: sample exchanges, writers, CLI tool paths, mock server."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Self

import pytest

from gkcrawl.archive.writer import WarcWriter

MOCKSERVER = Path(__file__).with_name("mockserver.py")


def exchange(**overrides: Any) -> dict[str, Any]:
    """Keyword arguments for ``WarcWriter.write_exchange`` with realistic values."""
    values: dict[str, Any] = {
        "url": "http://www.example.gov.cn/zwgk/list?page=2&t=1",
        "method": "GET",
        "request_headers": [
            (b"Accept", b"text/html"),
            (b"Accept-Encoding", b"gzip, deflate"),
            (b"User-Agent", b"gkcrawl-test"),
        ],
        "request_body": b"",
        "status": 200,
        "protocol": "HTTP/1.1",
        "response_headers": [
            (b"Content-Type", b"text/html; charset=utf-8"),
            (b"Set-Cookie", b"a=1; Path=/"),
            (b"Set-Cookie", b"b=2; Path=/"),
        ],
        "response_body": "<html><title>政府信息公开工作年度报告</title></html>".encode(),
        "ip_address": "127.0.0.1",
    }
    values.update(overrides)
    return values


@pytest.fixture
def sample_exchange() -> Callable[..., dict[str, Any]]:
    return exchange


@pytest.fixture
def make_writer(tmp_path: Path) -> Iterator[Callable[..., WarcWriter]]:
    """Factory for writers under ``tmp_path``; every writer is closed at teardown."""
    writers: list[WarcWriter] = []

    def factory(crawl_id: str = "crawl-a", **kwargs: Any) -> WarcWriter:
        kwargs.setdefault("warcinfo", {"robots": "obey", "operator": "tests"})
        writer = WarcWriter(tmp_path, crawl_id, **kwargs)
        writers.append(writer)
        return writer

    yield factory
    for writer in writers:
        writer.close()


def crash(writer: WarcWriter) -> Path:
    """Drop a writer like a killed process would: handles closed, no rename, no index merge."""
    open_file = writer.current_file
    assert open_file is not None
    writer._fh.close()  # type: ignore[union-attr]
    if writer._journal is not None:
        writer._journal.close()
    if writer.digest_store is not None:
        writer.digest_store.close()
    writer._fh = None
    writer._closed = True
    return open_file


@pytest.fixture
def simulate_crash() -> Callable[[WarcWriter], Path]:
    return crash


def run_tool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=60, check=False
    )


@pytest.fixture
def tool() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run a command line tool, capturing text output."""
    return run_tool


class MockServer:
    """Loopback HTTP server in a subprocess (Scrapy's own test pattern)."""

    def __enter__(self) -> Self:
        self.proc = subprocess.Popen(
            [sys.executable, "-u", str(MOCKSERVER)], stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip()
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.kill()
        self.proc.communicate()


@pytest.fixture(scope="module")
def mockserver() -> Iterator[MockServer]:
    with MockServer() as server:
        yield server
