"""Replay processes share the files of an archive by claiming each one before they read it."""

from __future__ import annotations

import threading
from pathlib import Path

from gkcrawl.archive.reader import Part
from gkcrawl.replay.jobs import FileClaims


def test_every_part_is_claimed_by_exactly_one_process(tmp_path: Path) -> None:
    files = [tmp_path / f"{n:03d}.warc.gz" for n in range(50)]
    units = [Part(f, start) for f in files for start in (0, 1000, 2000, 3000)]
    claims = tmp_path / "claims"
    claims.mkdir()
    got: list[list[Path]] = [[] for _ in range(4)]

    def worker(n: int) -> None:
        mine = FileClaims(claims, list(reversed(files)))  # the order given does not matter
        got[n] = [u for u in units if mine.claim(u)]

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(u for mine in got for u in mine) == units
    # a path spelled differently is the same file; one not shared is always ours
    again = FileClaims(claims, files)
    assert not again.claim(Part(tmp_path / "x" / ".." / "000.warc.gz", 1000))
    assert again.claim(Part(tmp_path / "elsewhere.warc.gz"))
