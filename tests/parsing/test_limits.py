"""Parsing under limits: bombs are refused before they inflate, a parse past the time or memory
limit is stopped with a reason naming the limit, and the next document still parses."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from gkcrawl.demo.render.pdf import render_pdf
from gkcrawl.demo.render.reports import random_report, tables_of
from gkcrawl.parsing import NotAReport, Report, parse_document
from gkcrawl.parsing.extract.inflate import (
    MAX_ZIP_RATIO,
    PARSE_INFLATED,
    PARSE_MAX_INFLATED,
    inflated_size,
)
from gkcrawl.parsing.pool import PARSE_TIMEOUT, Limits, ParsePool
from tests.bombs import (
    MiB,
    docx_bomb,
    docx_of_paragraphs,
    pdf,
    pdf_bomb,
    pdf_of_operators,
    zlib_bomb,
)

#: small enough that the million-operator PDF (minutes to parse) goes over it
TIME_LIMIT = 5.0
#: far below what inflating a bomb or the million-paragraph DOCX's tree takes
MEMORY_LIMIT = 300
#: the time limit of the tests of the other limits: far more than they take on a busy machine
GENEROUS = 60.0


@pytest.fixture(scope="module")
def pool() -> Iterator[ParsePool]:
    """One worker: a document after one that killed it parses only if it was replaced."""
    with ParsePool(Limits(time=GENEROUS, memory=MEMORY_LIMIT, workers=1)) as pool:
        yield pool


@pytest.fixture(scope="module")
def report_pdf() -> tuple[dict, bytes]:
    report = random_report(random.Random(7))
    return report, render_pdf(report)


def parse(pool: ParsePool, body: bytes, url: str) -> Report | NotAReport:
    return pool.submit(body, None, url).result(timeout=120).result


def assert_next_document_parses(pool: ParsePool, report_pdf: tuple[dict, bytes]) -> None:
    report, body = report_pdf
    result = parse(pool, body, "http://x.gov.cn/next.pdf")
    assert isinstance(result, Report), result
    assert tables_of(result.to_dict()) == tables_of(report)


def test_zip_bomb_docx_is_refused_unread(pool: ParsePool,
                                         report_pdf: tuple[dict, bytes]) -> None:
    body = docx_bomb(300 * MiB)
    assert len(body) < 2 * MiB
    result = parse(pool, body, "http://x.gov.cn/bomb.docx")
    # read, 300 MB of text would have gone over the 300 MiB memory limit (parse_memory)
    assert isinstance(result, NotAReport) and result.code == PARSE_INFLATED
    assert result.reason == ("DOCX package (11 parts) inflates to 300.0 MiB, over the "
                             "PARSE_MAX_INFLATED limit of 256.0 MiB")
    assert result.over_limit == PARSE_MAX_INFLATED
    assert_next_document_parses(pool, report_pdf)


def test_zip_entry_compressed_like_a_bomb_is_refused() -> None:
    body = docx_bomb(64 * MiB)  # under the size limit, but zeros compress some 230 times
    result = parse_document(body, None, "http://x.gov.cn/zeros.docx")
    assert isinstance(result, NotAReport) and result.code == PARSE_INFLATED
    assert result.reason.startswith("DOCX part word/document.xml inflates ")
    assert f"over the {MAX_ZIP_RATIO} times a document compresses (a zip bomb)" in result.reason


def test_pdf_flate_bomb_is_refused_uninflated(pool: ParsePool,
                                              report_pdf: tuple[dict, bytes]) -> None:
    body = pdf_bomb(1024 * MiB)
    assert len(body) < 2 * MiB
    result = parse(pool, body, "http://x.gov.cn/bomb.pdf")
    assert isinstance(result, NotAReport) and result.code == PARSE_INFLATED
    assert result.reason == ("the PDF stream at byte 369 inflates to more than 256.0 MiB, over "
                             "the PARSE_MAX_INFLATED limit of 256.0 MiB")
    assert_next_document_parses(pool, report_pdf)


def test_parse_past_the_time_limit_is_stopped(report_pdf: tuple[dict, bytes]) -> None:
    body = pdf_of_operators(1_000_000)
    assert len(body) < 100_000
    with ParsePool(Limits(time=TIME_LIMIT, workers=1)) as pool:
        started = time.monotonic()
        result = parse(pool, body, "http://x.gov.cn/operators.pdf")
        assert time.monotonic() - started < GENEROUS  # stopped, not parsed to the end (minutes)
        assert isinstance(result, NotAReport) and result.code == PARSE_TIMEOUT
        assert result.reason == ("parsing took longer than the PARSE_TIME_LIMIT of 5 s; the "
                                 "worker was stopped")
        assert result.over_limit == TIME_LIMIT
        assert_next_document_parses(pool, report_pdf)  # the killed worker was replaced


def test_parse_past_the_memory_limit_is_stopped(pool: ParsePool,
                                                report_pdf: tuple[dict, bytes]) -> None:
    # 40 MB of XML inflated (under every inflation limit), a gigabyte as python-docx's tree
    result = parse(pool, docx_of_paragraphs(1_000_000), "http://x.gov.cn/paragraphs.docx")
    assert isinstance(result, NotAReport) and result.code == "parse_memory"
    assert result.reason == "parsing needed more than the PARSE_MEMORY_LIMIT of 300 MiB"
    assert result.over_limit == MEMORY_LIMIT
    assert_next_document_parses(pool, report_pdf)


def test_html_is_parsed_in_place(pool: ParsePool) -> None:
    assert pool.in_place(b"<html><body><p>x</p></body></html>", "text/html")
    assert not pool.in_place(b"%PDF-1.4 ...")
    future = pool.submit(b"<html><body><p>x</p></body></html>", "text/html")
    assert future.done()  # no worker involved
    assert isinstance(future.result().result, NotAReport)


def test_inflated_size_counts_up_to_just_past_the_limit() -> None:
    assert inflated_size(zlib.compress(b"a" * 5000), 10_000) == 5000
    assert inflated_size(zlib_bomb(64 * MiB), 64 * MiB) == 64 * MiB
    assert 8 * MiB < inflated_size(zlib_bomb(64 * MiB), 8 * MiB) <= 9 * MiB
    cut = zlib.compress(random.Random(1).randbytes(100_000))[:5000]  # what inflates is counted
    assert 4000 < inflated_size(cut, MiB) < 5000
    assert inflated_size(b"not zlib at all", MiB) == 0


def test_streams_under_the_limit_and_other_filters_pass() -> None:
    text = b"BT /F1 12 Tf 100 700 Td (hello) Tj ET"
    assert parse_document(pdf(zlib.compress(text)), None).code == "not_a_report"
    assert parse_document(pdf(text, flate=False), None).code == "not_a_report"
    # a stream that only claims FlateDecode: left to pdfminer, which finds no text in it
    assert parse_document(pdf(b"\x00garbage" * 100), None).code == "scanned_pdf"


def test_a_parse_that_inflates_under_the_limit_is_read() -> None:
    """A large DOCX that compresses like a document is not a bomb: it parses."""
    report = random_report(random.Random(3))
    from gkcrawl.demo.render.docx import render_docx

    result = parse_document(render_docx(report), None, "http://x.gov.cn/r.docx",
                            max_inflated=1 * MiB)
    assert isinstance(result, Report)
    assert tables_of(result.to_dict()) == tables_of(report)
    refused = parse_document(render_docx(report), None, max_inflated=10_000)
    assert isinstance(refused, NotAReport) and refused.code == PARSE_INFLATED
    assert refused.reason.endswith("over the PARSE_MAX_INFLATED limit of 10000 bytes")


WORKER = """
import signal, sys
from pathlib import Path
from pebble.common import process_exit
from gkcrawl.parsing.extract.legacy import _run
from gkcrawl.parsing.pool import _start_worker
signal.signal(signal.SIGTERM, process_exit)  # as a pebble worker starts
_start_worker(1024)
_run(["sh", "-c", "echo $$ > " + sys.argv[1] + "; exec sleep 120"], "sleep", Path(sys.argv[2]))
"""


def test_a_stopped_worker_ends_the_converter_it_runs(tmp_path: Path) -> None:
    """A worker stopped for its time limit (SIGTERM from the pool) kills its converter's
    process group, which would otherwise run on (converters start sessions of their own)."""
    pid_file = tmp_path / "converter.pid"
    worker = subprocess.Popen([sys.executable, "-c", WORKER, str(pid_file), str(tmp_path)])
    deadline = time.monotonic() + 60
    while not pid_file.exists() or not pid_file.read_text().strip():
        assert time.monotonic() < deadline and worker.poll() is None
        time.sleep(0.05)
    converter = int(pid_file.read_text())
    assert running(converter)
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=30) == signal.SIGTERM  # pebble's own handler ran after ours
    deadline = time.monotonic() + 10
    while running(converter) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not running(converter)


def running(pid: int) -> bool:
    """Alive and not a zombie waiting for a parent that is gone."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"
