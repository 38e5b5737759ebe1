"""Replay processes share the files of an archive by claiming each one before they read it."""

from __future__ import annotations

import threading
from pathlib import Path

from gkcrawl.replay_jobs import FileClaims


def test_every_file_is_claimed_by_exactly_one_process(tmp_path: Path) -> None:
    files = [tmp_path / f"{n:03d}.warc.gz" for n in range(200)]
    claims = tmp_path / "claims"
    claims.mkdir()
    got: list[list[Path]] = [[] for _ in range(4)]

    def worker(n: int) -> None:
        mine = FileClaims(claims, list(reversed(files)))  # the order given does not matter
        got[n] = [f for f in files if mine.claim(f)]

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(f for mine in got for f in mine) == files
    # a path spelled differently is the same file; one not shared is always ours
    again = FileClaims(claims, files)
    assert not again.claim(tmp_path / "x" / ".." / "000.warc.gz")
    assert again.claim(tmp_path / "elsewhere.warc.gz")
