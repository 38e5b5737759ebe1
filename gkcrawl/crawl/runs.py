"""``gkcrawl crawl``: ``scrapy crawl portals`` as one scheduled run, with a crawl id, a JOBDIR and a
WARC directory of its own, and the same ones only to resume it.

A reused JOBDIR would make Scrapy skip everything the earlier run saw, so a new run gets a new
one. The arguments a run started with are kept in its JOBDIR (``ARGS_FILE``): ``--resume`` runs
the same crawl again (arguments given with it come after, and win). SIGTERM and SIGINT are passed
on to the crawl, which stops cleanly and can be resumed; a run that stops before its end says the
command that resumes it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from gkcrawl.archive.config import CRAWL_ID_TIME_FORMAT, check_crawl_id

#: The file in a run's JOBDIR that keeps the arguments it started with.
ARGS_FILE = "gkcrawl-args.json"
EXIT_OK, EXIT_USAGE = 0, 2
FORWARDED = (signal.SIGTERM, signal.SIGINT)


def main_crawl(jobs_dir: Path, resume: str | None, scrapy_args: list[str]) -> int:
    crawl_id = resume or "portals-" + datetime.now(UTC).strftime(CRAWL_ID_TIME_FORMAT)
    try:
        check_crawl_id(crawl_id)
    except ValueError as exc:
        return _usage(str(exc))
    jobdir = jobs_dir / crawl_id
    given = [a for a in scrapy_args if a != "--"]
    if resume:
        if not jobdir.exists():
            return _usage(f"no run {crawl_id} in {jobs_dir}")
        saved = jobdir / ARGS_FILE
        started = json.loads(saved.read_text(encoding="utf-8")) if saved.exists() else []
        arguments = [*started, *given]
    else:
        if jobdir.exists():
            return _usage(f"{jobdir} exists; use --resume {crawl_id}")
        jobdir.mkdir(parents=True)
        (jobdir / ARGS_FILE).write_text(json.dumps(given, ensure_ascii=False), encoding="utf-8")
        arguments = given
    command = [sys.executable, "-m", "scrapy", "crawl", "portals", "-s", f"JOBDIR={jobdir}",
               "-s", f"CRAWL_ID={crawl_id}", *arguments]
    print(f"{'Resuming' if resume else 'Starting'} run {crawl_id} (JOBDIR {jobdir})",
          file=sys.stderr)
    status = _run(command)
    if status != EXIT_OK:
        print(f"gkcrawl crawl: run {crawl_id} stopped before its end (exit {status}); resume it "
              f"with: gkcrawl crawl --jobs-dir {jobs_dir} --resume {crawl_id}", file=sys.stderr)
    return status


def _run(command: list[str]) -> int:
    """The crawl in a process of its own session, so that a terminal's Ctrl-C reaches it once,
    through us, as does a SIGTERM from systemd or cron's kill: Scrapy stops cleanly at the
    first and at once at the second."""
    env = {**os.environ,
           "SCRAPY_SETTINGS_MODULE": os.environ.get("SCRAPY_SETTINGS_MODULE", "gkcrawl.settings")}
    crawl = subprocess.Popen(command, env=env, start_new_session=True)

    def forward(signum: int, frame: FrameType | None) -> None:
        crawl.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in FORWARDED}
    try:
        return crawl.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _usage(message: str) -> int:
    print(f"gkcrawl crawl: {message}", file=sys.stderr)
    return EXIT_USAGE
