"""The CDXJ merge at close is an external sort: same lines as ``sorted(set(...))``, memory bounded
by the run size, not by the size of the crawl's index."""

from __future__ import annotations

import random
import tracemalloc
from pathlib import Path

import pytest

from gkcrawl.archive.cdxj import (
    SORT_RUN_CHARS,
    cdxj_line,
    merge_into_index,
    sort_unique_into,
    url_key,
)

#: The index lines of a 20,000-page crawl.
MANY = 20_000
#: Peak traced memory allowed for merging MANY lines (their text alone is over 5 MiB).
MERGE_PEAK_BYTES = 3 * 2**20


def lines(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [cdxj_line(
        url=f"http://www.example.gov.cn/zfxxgk/{rng.randrange(10**6)}/t{i}.html",
        warc_date=f"2026-11-22T04:{rng.randrange(60):02d}:00.123456Z", status=200,
        digest="sha1:ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", offset=rng.randrange(10**9),
        length=rng.randrange(500, 9000), filename="gkcrawl-20261122040000123-00000-host.warc.gz",
        content_type=b"text/html; charset=utf-8", is_revisit=rng.random() < 0.1)
        for i in range(n)]


def write(path: Path, text: list[str]) -> Path:
    path.write_text("".join(text), encoding="utf-8")
    return path


def test_runs_and_passes_give_sorted_unique_lines(tmp_path: Path) -> None:
    a, b = lines(500, seed=1), lines(300, seed=2)
    duplicated = a + b + a[:50]
    random.Random(3).shuffle(duplicated)
    torn = duplicated[-1].rstrip("\n")  # a last line without its newline
    sources = [write(tmp_path / "one", duplicated[:400]),
               write(tmp_path / "two", [*duplicated[400:-1], torn])]
    target = tmp_path / "index.cdxj"
    # tiny runs and a fan-in of 2: dozens of runs, merged in several passes
    count = sort_unique_into(sources, target, run_chars=2_000, fan_in=2)
    expected = sorted(set(a + b))
    assert count == len(expected) == 800
    assert target.read_text(encoding="utf-8") == "".join(expected)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.cdxj", "one", "two"]


def test_fan_in_below_two_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="fan_in"):
        sort_unique_into([write(tmp_path / "j", lines(3, seed=1))], tmp_path / "i", fan_in=1)


def test_merge_into_existing_index(tmp_path: Path) -> None:
    first, second = lines(1_000, seed=4), lines(1_000, seed=5)
    index = tmp_path / "index.cdxj"
    assert merge_into_index(index, write(tmp_path / ".j1.part", first)) == 1_000
    journal = write(tmp_path / ".j2.part", second + first[:10])
    assert merge_into_index(index, journal) == 2_000
    assert index.read_text(encoding="utf-8") == "".join(sorted(first + second))
    assert not journal.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["index.cdxj"]


def test_merge_memory_does_not_grow_with_the_index(tmp_path: Path) -> None:
    journal = write(tmp_path / ".j.part", lines(MANY, seed=6))
    size = journal.stat().st_size
    assert size > 5 * 2**20 > 2 * SORT_RUN_CHARS
    tracemalloc.start()
    try:
        count = merge_into_index(tmp_path / "index.cdxj", journal)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == MANY
    # sorting in memory would hold about twice the journal's size
    assert peak < MERGE_PEAK_BYTES < size
    assert (tmp_path / "index.cdxj").stat().st_size == size


def test_url_key_is_surt_or_the_url_itself() -> None:
    assert url_key("https://WWW.Example.GOV.cn:443/ZWGK/Index.HTML?b=2&A=1#x") == (
        "cn,gov,example)/zwgk/index.html?a=1&b=2")
    assert url_key("http://example.cn:99999/") == "http://example.cn:99999/"  # surt fails
