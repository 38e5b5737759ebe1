"""Payload digests and the sqlite digest store shared by crawls and processes."""

from __future__ import annotations

import base64
import hashlib
import random
import subprocess
import sys
from pathlib import Path

import pytest

from gkcrawl.archive import digests
from gkcrawl.archive.digests import (EMPTY_SHA1, DigestEntry, DigestStore, _b32_160, digest_matches,
                                     sha1_digest)


def test_sha1_digest_is_base32_with_prefix() -> None:
    # value from warc-anchors.md: warcio's digest of an empty request body
    assert sha1_digest(b"") == "sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ"
    raw = hashlib.sha1(b"abc").digest()
    assert sha1_digest(b"abc") == "sha1:" + base64.b32encode(raw).decode()


def test_digest_matches_other_encodings() -> None:
    data = b"report"
    assert digest_matches(sha1_digest(data), data)
    assert digest_matches("sha1:" + hashlib.sha1(data).hexdigest(), data)
    assert digest_matches("sha256:" + hashlib.sha256(data).hexdigest(), data)
    assert not digest_matches(sha1_digest(data), data + b"!")
    assert not digest_matches("nonsense", data)


def _entry(n: int) -> DigestEntry:
    return DigestEntry(f"http://x/{n}", "2026-01-01T00:00:00.000000Z", f"<urn:uuid:{n}>",
                       "crawl/f.warc.gz", n * 100, 50)


def test_store_keeps_a_small_page_cache(tmp_path: Path) -> None:
    store = DigestStore(tmp_path / "digests.sqlite3")
    try:
        assert store._db.execute("PRAGMA cache_size").fetchone()[0] == -digests.CACHE_KIB
    finally:
        store.close()


def test_store_first_capture_wins_and_persists(tmp_path: Path) -> None:
    with DigestStore.in_archive(tmp_path) as store:
        assert store.lookup("sha1:AAAA") is None
        assert store.add("sha1:AAAA", _entry(1))
        assert not store.add("sha1:AAAA", _entry(2))
        assert store.lookup("sha1:AAAA") == _entry(1)
    with DigestStore(tmp_path / "digests.sqlite3") as again:  # a later crawl / a resume
        assert again.lookup("sha1:AAAA") == _entry(1)
        assert len(again) == 1
        mode = again._conn().execute("PRAGMA journal_mode").fetchone()[0]
        assert mode == "wal"


WRITER_SCRIPT = """
import sys
from gkcrawl.archive.digests import DigestEntry, DigestStore
store = DigestStore(sys.argv[1])
for n in range(200):
    store.add(f"sha1:{n}", DigestEntry("u" + sys.argv[2], "d", "id", "f", n, 1))
store.close()
"""


def test_store_concurrent_processes(tmp_path: Path) -> None:
    db = tmp_path / "digests.sqlite3"
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER_SCRIPT, str(db), str(i)])
        for i in range(4)
    ]
    assert [p.wait(timeout=60) for p in procs] == [0, 0, 0, 0]
    with DigestStore(db) as store:
        assert len(store) == 200


def test_batched_store_writes_at_batch_size_and_close(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(digests, "BATCH_SECONDS", 3600.0)  # batches by size only
    db = tmp_path / "digests.sqlite3"
    batched = DigestStore(db, batch=3)
    other = DigestStore(db)  # another process's view
    assert batched.add("sha1:A", _entry(1)) and batched.add("sha1:B", _entry(2))
    assert not batched.add("sha1:A", _entry(3))  # pending already: the first one wins
    assert batched.lookup("sha1:A") == _entry(1)  # this process sees its pending captures
    assert other.lookup("sha1:A") is None  # not written yet
    assert batched.add("sha1:C", _entry(4))  # the third: the batch is written
    assert other.lookup("sha1:A") == _entry(1) and other.lookup("sha1:C") == _entry(4)
    assert batched.add("sha1:D", _entry(5))
    assert other.lookup("sha1:D") is None
    batched.close()
    assert other.lookup("sha1:D") == _entry(5)
    assert len(other) == 4
    other.close()


def test_batched_store_keeps_a_capture_written_by_another_process_first(tmp_path: Path) -> None:
    db = tmp_path / "digests.sqlite3"
    with DigestStore(db) as first, DigestStore(db, batch=10) as batched:
        assert batched.add("sha1:A", _entry(2))
        assert first.add("sha1:A", _entry(1))  # written while the batch was pending
        batched.flush()
        assert batched.lookup("sha1:A") == first.lookup("sha1:A") == _entry(1)


def test_fast_base32_equals_base64_b32encode() -> None:
    for n in (0, 1, 19, 20, 64, 4096):
        data = bytes(range(256)) * (n // 256) + bytes(n % 256)
        raw = hashlib.sha1(data).digest()
        assert sha1_digest(data) == "sha1:" + base64.b32encode(raw).decode()
        assert sha1_digest(data[: n // 2], data[n // 2:]) == sha1_digest(data)  # head + payload
    assert sha1_digest(b"", b"") == sha1_digest(b"") == EMPTY_SHA1


def test_fast_base32_on_edge_and_random_digests() -> None:
    rng = random.Random(7)
    digests = [bytes(20), b"\xff" * 20, b"\x80" + bytes(19), bytes(19) + b"\x01",
               bytes(9) + b"\xff" + bytes(10), bytes(10) + b"\xff" + bytes(9)]
    digests += [rng.randbytes(20) for _ in range(5_000)]
    for raw in digests:
        assert _b32_160(raw) == base64.b32encode(raw).decode("ascii")
    assert _b32_160(bytes(20)) == "A" * 32 and _b32_160(b"\xff" * 20) == "7" * 32
