"""A writer killed with SIGKILL leaves closed files clean and a readable ``.open`` file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from gkcrawl.archive.reader import ReadStats, iter_archive
from gkcrawl.archive.verify import verify

PAIRS_BEFORE_KILL = 25
WRITER_LOOP = """
import os, sys
from gkcrawl.archive.writer import WarcWriter
writer = WarcWriter(sys.argv[1], "killed", max_size=40_000)
n = 0
while True:
    writer.write_exchange(url=f"http://x.gov.cn/{n}", status=200,
                          response_headers=[(b"Content-Type", b"application/pdf")],
                          response_body=os.urandom(5000))
    print(n, flush=True)
    n += 1
"""


def test_sigkill_mid_crawl(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER_LOOP, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    written = [proc.stdout.readline() for _ in range(PAIRS_BEFORE_KILL)]
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert written[-1].strip() == str(PAIRS_BEFORE_KILL - 1)

    crawl = tmp_path / "killed"
    closed = sorted(crawl.glob("*.warc.gz"))
    (open_file,) = crawl.glob("*.warc.gz.open")
    assert len(closed) >= 2
    assert verify(closed).ok

    report = verify([crawl])
    (open_report,) = [f for f in report.files if f.incomplete]
    assert open_report.path == open_file and open_report.ok and not report.ok
    assert open_report.record_types["warcinfo"] == 1

    stats = ReadStats()
    urls = [e.url for e in iter_archive([crawl], stats=stats)]
    # every pair reported written is readable, in order, from closed and .open files alike
    assert urls[:PAIRS_BEFORE_KILL] == [f"http://x.gov.cn/{n}" for n in range(PAIRS_BEFORE_KILL)]
    assert stats.incomplete_files == 1
    assert stats.damaged <= 1  # at most the record being written when the kill came
