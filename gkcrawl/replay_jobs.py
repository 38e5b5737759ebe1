"""``gkcrawl replay``: ``scrapy crawl replay`` over groups of WARC files in parallel processes (one
per core by default), with one progress bar of records per second.

The parent only starts, follows and sums up the processes: it imports neither Scrapy nor the
parser, so that the workers start at once (importing Scrapy first delayed them by 0.3 s).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, Sequence

from .archive.paths import expand_warc_paths

#: A line a replay process prints for the parent's progress bar.
PROGRESS_PREFIX = "@progress "
DONE_PREFIX = "@done "
PROGRESS_EVERY = 50


def split_files(files: Sequence[Path], jobs: int) -> list[list[Path]]:
    """Groups of about equal size in bytes (largest first into the lightest group)."""
    groups: list[list[Path]] = [[] for _ in range(max(1, min(jobs, len(files))))]
    sizes = [0] * len(groups)
    for path in sorted(files, key=lambda p: p.stat().st_size, reverse=True):
        i = sizes.index(min(sizes))
        groups[i].append(path)
        sizes[i] += path.stat().st_size
    return [sorted(g) for g in groups if g]


def main_replay(paths: Sequence[str], *, jobs: int | None = None, store: str | None = None,
                reparse_older_than: str | None = None, extra_settings: Sequence[str] = ()) -> int:
    """``gkcrawl replay``: parallel ``scrapy crawl replay`` processes with one progress bar."""
    try:
        files = expand_warc_paths(paths)
    except FileNotFoundError as exc:
        print(f"gkcrawl replay: {exc}", file=sys.stderr)
        return 2
    groups = split_files(files, jobs or os.cpu_count() or 1)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "gkcrawl.settings"}
    procs = []
    for n, group in enumerate(groups):
        args = [sys.executable, "-m", "scrapy", "crawl", "replay",
                "-a", f"archive={os.pathsep.join(map(str, group))}",
                "-s", f"CRAWL_ID=replay-{stamp}-{n}", "-s", "REPLAY_PROGRESS=True",
                "-s", "LOG_LEVEL=WARNING"]
        if store:
            args += ["-s", f"{'STORE_URL' if '://' in store else 'STORE_PATH'}={store}"]
        if reparse_older_than:
            args += ["-a", f"reparse_older_than={reparse_older_than}"]
        for setting in extra_settings:
            args += ["-s", setting]
        procs.append(subprocess.Popen(args, stdout=subprocess.PIPE, text=True, env=env))
    from tqdm import tqdm  # (0.04 s: after the workers have started)

    bar = tqdm(desc="replay", unit=" records", total=None, dynamic_ncols=True)
    results: list[dict[str, Any]] = []
    lock = threading.Lock()

    def follow(stream: IO[str]) -> None:
        last = 0
        for line in stream:
            if line.startswith(PROGRESS_PREFIX):
                done = int(line[len(PROGRESS_PREFIX):])
                with lock:
                    bar.update(done - last)
                last = done
            elif line.startswith(DONE_PREFIX):
                with lock:
                    results.append(json.loads(line[len(DONE_PREFIX):]))

    readers = [threading.Thread(target=follow, args=(p.stdout,)) for p in procs]
    for reader in readers:
        reader.start()
    codes = [p.wait() for p in procs]
    for reader in readers:
        reader.join()
    bar.close()
    total = {k: sum(r.get(k, 0) for r in results) for k in
             ("records", "documents", "reports", "quarantined", "damaged", "read_errors")}
    print(f"replayed {len(files)} WARC files in {len(groups)} process(es): {total['records']} records, "
          f"{total['documents']} report documents -> {total['reports']} reports, "
          f"{total['quarantined']} quarantined; {total['damaged']} damaged records skipped",
          file=sys.stderr)
    return 0 if all(c == 0 for c in codes) else 1
