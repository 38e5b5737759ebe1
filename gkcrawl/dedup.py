"""Deduplication rules: when two documents are the same report, and which copy wins.

The same report is met at several URLs, as a page and as its attachment, re-published with a
correction, and copied to mirror sites. Copies are grouped by (organ key, year) and, when the
organ is written differently, by near-duplicate content: a MinHash (datasketch) of the
normalised text and the table values. Within a group one copy is chosen: an official government
domain beats a mirror, a complete table beats a broken one, fewer failed identities beat more,
and a later publication beats an earlier one (corrections). Every copy stays a source.
"""

from __future__ import annotations

import functools
import hashlib
import re
import zlib
from dataclasses import dataclass
from typing import Any, Iterable, Sequence
from urllib.parse import urlsplit

import numpy as np
from datasketch import MinHash

from .parsing.normalize import to_simplified

#: Permutations of the MinHash signature; 16 bands of 4 rows for the LSH lookup in the store.
NUM_PERM = 64
BANDS, ROWS = 16, 4
#: Jaccard similarity above which two copies of the same year are the same report.
SAME_REPORT = 0.8
SHINGLE = 4
#: A report with at least this many non-zero table cells is looked up by its values, not its text.
MIN_VALUES = 8
#: Prefixes of the two kinds of band keys (values, text).
VALUE_BANDS, TEXT_BANDS = "v", "t"
#: datasketch's hashing scheme, stored with nothing else: signatures compare only within one.
SCHEME = "affine32"
#: Host suffixes of official government sites.
OFFICIAL_SUFFIXES = ("gov.cn",)
CHOSEN, COPY, SUPERSEDED = "chosen", "copy", "superseded"

_STRIP = re.compile(r"[\s\W_]+", re.U)
# organ spelling variants, most specific first: the key keeps what tells organs apart
_ORGAN_VARIANTS = (
    (re.compile(r"人民政府"), "政府"),
    (re.compile(r"政府办公厅$"), "政府办公厅"),
    (re.compile(r"政府(办公室|办)$"), "政府办公室"),
    (re.compile(r"^中华人民共和国"), ""),
)


def organ_key(organ: str | None) -> str | None:
    """A key under which spellings of one organ meet (工布江达县人民政府办公室 = 工布江达县政府办)."""
    if not organ:
        return None
    key = _STRIP.sub("", to_simplified(organ))
    for pattern, replacement in _ORGAN_VARIANTS:
        key = pattern.sub(replacement, key)
    return key or None


def is_official(url: str | None, extra_domains: Iterable[str] = ()) -> bool:
    """A government domain (``*.gov.cn``) or one of the registry's portal domains."""
    host = (urlsplit(url or "").hostname or "").lower()
    domains = (*OFFICIAL_SUFFIXES, *extra_domains)
    return any(host == d or host.endswith("." + d) for d in domains)


def is_mirror(report: dict[str, Any]) -> bool:
    return any(f.startswith("mirror copy") for f in report.get("flags") or [])


def completeness(report: dict[str, Any]) -> int:
    """Number of table cells with a value."""
    count = 0
    for key in ("active_disclosure", "applications", "review_litigation"):
        for row in (report.get(key) or {}).values():
            count += sum(1 for v in row.values() if v is not None)
    return count


def failed_checks(report: dict[str, Any]) -> int:
    return sum(1 for c in report.get("checks") or [] if c.get("status") == "fail")


def _table_tokens(report: dict[str, Any], *, nonzero: bool = False) -> list[str]:
    """Every cell as ``table.row.column=value`` (only the non-zero ones with ``nonzero``)."""
    tokens = []
    for key in ("active_disclosure", "applications", "review_litigation"):
        for row, cells in (report.get(key) or {}).items():
            tokens += [f"{key}.{row}.{col}={value}" for col, value in cells.items()
                       if value or not nonzero]
    return tokens


def value_tokens(report: dict[str, Any]) -> list[str]:
    """The table's non-zero values: what tells one organ's report from another's (blank and
    zero cells are shared by most reports of a year)."""
    return _table_tokens(report, nonzero=True)


@functools.cache
def _permutations() -> Any:
    """datasketch draws the same permutations (seed 1) for every MinHash it builds; draw once."""
    return MinHash(num_perm=NUM_PERM, scheme=SCHEME).permutations


#: Odd 64-bit multipliers that mix a shingle's code points into one hash (any fixed odd
#: constants do; these are the golden-ratio and MurmurHash3 ones).
_MIX = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x85EBCA77C2B2AE63],
                dtype=np.uint64)[:SHINGLE]
_HALF = np.uint64(32)


def _same(value: int) -> int:
    return value


def _shingle_hashes(flat: str) -> np.ndarray:
    """32-bit hashes of the text's ``SHINGLE``-character shingles, computed on its code points
    in numpy: hashing every shingle string with SHA-1 in Python cost as much as parsing."""
    points = np.frombuffer(flat.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    if len(points) < SHINGLE:  # a short text is one shingle
        points = np.pad(points, (0, SHINGLE - len(points)))
    n = len(points) - SHINGLE + 1
    mixed = np.zeros(n, dtype=np.uint64)
    for k in range(SHINGLE):  # uint64 arithmetic wraps: modulo 2**64, as intended
        mixed = (mixed ^ points[k:k + n]) * _MIX[k]
    return (mixed ^ (mixed >> _HALF)).astype(np.uint32)


def _token_hashes(tokens: Iterable[str]) -> np.ndarray:
    return np.fromiter((zlib.crc32(t.encode("utf-8")) for t in tokens), dtype=np.uint32)


def _minhash(hashes: np.ndarray) -> list[int]:
    """datasketch's MinHash (affine32 permutations) of distinct 32-bit hash values."""
    mh = MinHash(num_perm=NUM_PERM, scheme=SCHEME, permutations=_permutations(), hashfunc=_same)
    mh.update_batch(np.unique(hashes).tolist())
    return mh.hashvalues.tolist()


def fingerprint(text: str, report: dict[str, Any]) -> list[int]:
    """MinHash signature of the text's character shingles and the table values."""
    flat = _STRIP.sub("", text)
    return _minhash(np.concatenate([_shingle_hashes(flat), _token_hashes(_table_tokens(report))]))


def similarity(a: Sequence[int], b: Sequence[int]) -> float:
    """Estimated Jaccard similarity: the share of equal signature positions (as datasketch's
    ``MinHash.jaccard``, without building two objects per pair)."""
    if len(a) != len(b):
        raise ValueError("signatures of different lengths cannot be compared")
    return sum(1 for x, y in zip(a, b) if x == y) / len(a) if a else 0.0


def bands(signature: Sequence[int], prefix: str = "") -> list[str]:
    """LSH band hashes: copies sharing one band are candidates for a similarity check.

    blake2b, not ``hash()``: workers on other machines and Python versions must agree."""
    out = []
    for b in range(BANDS):
        rows = signature[b * ROWS:(b + 1) * ROWS]
        digest = hashlib.blake2b(b"".join(int(v).to_bytes(8, "little") for v in rows), digest_size=8)
        out.append(f"{prefix}{b}:{digest.hexdigest()}")
    return out


def lsh_bands(report: dict[str, Any], signature: Sequence[int]) -> list[str]:
    """The band keys under which a copy is stored and looked up.

    Banding the whole-text signature made nearly every report of a year a candidate: the
    template's headings and labels are most of the text, so two unrelated reports share a band
    with probability ~0.75 (docs/benchmarks.md, Replay). Copies of one report print the same
    numbers, so a report with at least ``MIN_VALUES`` non-zero cells is banded by a MinHash of
    those values (unrelated reports: Jaccard ~0.03); one with fewer, by its text signature.
    ``similarity`` on the full signature still decides."""
    values = value_tokens(report)
    if len(values) >= MIN_VALUES:
        return bands(_minhash(_token_hashes(values)), VALUE_BANDS)
    return bands(signature, TEXT_BANDS) if signature else []


@dataclass
class Copy:
    """What the choice looks at for one stored copy of a report."""

    id: int
    url: str | None
    official: bool
    report: dict[str, Any]
    fetched_at: str | None = None

    def rank(self) -> tuple:
        return (self.official and not is_mirror(self.report), completeness(self.report),
                -failed_checks(self.report), self.report.get("published") or "",
                self.fetched_at or "", self.id)


def choose(copies: Sequence[Copy]) -> tuple[Copy, dict[int, str]]:
    """The winning copy and every copy's role: chosen, copy (same numbers), superseded."""
    winner = max(copies, key=Copy.rank)
    tables = _table_tokens(winner.report)
    roles = {}
    for c in copies:
        if c is winner:
            roles[c.id] = CHOSEN
        else:
            roles[c.id] = COPY if _table_tokens(c.report) == tables else SUPERSEDED
    return winner, roles
