"""``gkcrawl replay``: ``scrapy crawl replay`` in parallel processes (one per core by default)
over the WARC files, with one progress bar of records per second.

Every process is given every file and a claims directory. The files are cut into parts of
``REPLAY_PART_BYTES``; before a process reads a part it claims it (:class:`FileClaims`, an
exclusive create), and it skips a part another process claimed first. The processes go through
the parts in the same order, so each takes the next free part when it is done with one: they
finish within one part's time of each other, whatever the files hold, and one large file is
shared too.

The parent only starts, follows and sums up the processes: it imports neither Scrapy nor the
parser, so that the workers start at once.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from gkcrawl.archive.paths import expand_warc_paths

if TYPE_CHECKING:
    from gkcrawl.archive.reader import Part

#: Exit statuses (docs/operations.md): done; could not do the work; a usage error; done, but
#: something could not be read.
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_LOST = 0, 1, 2, 3
#: A line a replay process prints for the parent's progress bar.
PROGRESS_PREFIX = "@progress "
DONE_PREFIX = "@done "
PROGRESS_EVERY = 50


class FileClaims:
    """Which replay process reads which part of which file: the first to create
    ``<dir>/<n>-<start>.claim``, ``n`` the file's position in the shared, sorted list (so any
    spelling of its path works) and ``start`` the part's offset. ``O_CREAT | O_EXCL`` is atomic
    on a local file system, so exactly one process gets a part."""

    def __init__(self, directory: str | Path, files: Sequence[Path]) -> None:
        self.directory = Path(directory)
        self.index = {path.resolve(): n for n, path in enumerate(sorted(files))}

    def claim(self, part: Part) -> bool:
        n = self.index.get(part.path.resolve())
        if n is None:  # not one of the shared files: nobody else reads it
            return True
        name = self.directory / f"{n}-{part.start}.claim"
        try:
            os.close(os.open(name, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return False
        return True


def main_replay(paths: Sequence[str], *, jobs: int | None = None, store: str | None = None,
                reparse_older_than: str | None = None, extra_settings: Sequence[str] = ()) -> int:
    """``gkcrawl replay``: parallel ``scrapy crawl replay`` processes with one progress bar."""
    try:
        files = expand_warc_paths(paths)
    except FileNotFoundError as exc:
        print(f"gkcrawl replay: {exc}", file=sys.stderr)
        return EXIT_USAGE
    # every process claims parts of every file: even one WARC file is shared
    workers = max(1, jobs or os.cpu_count() or 1)
    claims = tempfile.mkdtemp(prefix="gkcrawl-replay-claims-")
    archive = os.pathsep.join(map(str, files))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "gkcrawl.settings"}
    procs = []
    for n in range(workers):
        args = [sys.executable, "-m", "scrapy", "crawl", "replay", "-a", f"archive={archive}",
                "-s", f"CRAWL_ID=replay-{stamp}-{n}", "-s", "REPLAY_PROGRESS=True",
                "-s", "LOG_LEVEL=WARNING"]
        if workers > 1:
            args += ["-a", f"claims={claims}"]
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
    shutil.rmtree(claims, ignore_errors=True)
    total = {k: sum(r.get(k, 0) for r in results) for k in
             ("records", "documents", "reports", "quarantined", "damaged", "read_errors")}
    print(f"replayed {len(files)} WARC files in {workers} process(es): {total['records']} records, "
          f"{total['documents']} report documents -> {total['reports']} reports, "
          f"{total['quarantined']} quarantined; {total['damaged']} damaged records skipped",
          file=sys.stderr)
    if any(codes):
        print(f"gkcrawl replay: a replay process failed (exit {max(codes)})", file=sys.stderr)
        return EXIT_FAILED
    if not total["records"]:
        print(f"gkcrawl replay: no WARC record could be read from {len(files)} files",
              file=sys.stderr)
        return EXIT_FAILED
    if total["damaged"] or total["read_errors"]:
        print(f"gkcrawl replay: {total['damaged']} damaged records could not be read: what they "
              "held is not in the store", file=sys.stderr)
        return EXIT_LOST
    return EXIT_OK
