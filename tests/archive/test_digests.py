"""Payload digests and the sqlite digest store shared by crawls and processes."""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
from pathlib import Path

from gkcrawl.archive.digests import DigestEntry, DigestStore, digest_matches, sha1_digest


def test_sha1_digest_is_base32_with_prefix() -> None:
    # what warcio writes for an empty request body
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
