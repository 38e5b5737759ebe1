"""Deduplication rules: when two documents are the same report, and which copy wins.

The same report is met at several URLs, as a page and as its attachment, re-published with a
correction, and copied to mirror sites. Copies are grouped by (organ key, year) and, when the
organ is written differently, by near-duplicate content: a MinHash (datasketch's, in numpy) of the
normalised text and the table values. Within a group one copy is chosen: an official government
domain beats a mirror, a complete table beats a broken one, fewer failed identities beat more,
and a later publication beats an earlier one (corrections). Every copy stays a source.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass
from itertools import chain
from typing import Any, Iterable, Sequence
from urllib.parse import urlsplit

import numpy as np

from gkcrawl.parsing.normalize import to_simplified

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
#: The signature's scheme (what set it is a MinHash of, and how; see "signatures" below), stored
#: with nothing else: signatures compare only within one, so a change needs a store migration.
SCHEME = "affine32/units-cells/sample8"
#: datasketch's permutation scheme: h -> a * fmix32(h) + b mod 2**32, seed 1.
PERMUTATIONS = "affine32"
#: Consistent subsampling: the signature is a MinHash of the hashes below 2**32 / SAMPLE...
SAMPLE = 8
#: ...unless fewer than MIN_SAMPLED of them remain: then of all of them (short texts).
MIN_SAMPLED = 16
#: Host suffixes of official government sites.
OFFICIAL_SUFFIXES = ("gov.cn",)
CHOSEN, COPY, SUPERSEDED = "chosen", "copy", "superseded"
TABLE_KEYS = ("active_disclosure", "applications", "review_litigation")

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
    for key in TABLE_KEYS:
        for row in (report.get(key) or {}).values():
            values = list(row.values())
            count += len(values) - values.count(None)  # in C: a loop per cell was 20 µs a report
    return count


def failed_checks(report: dict[str, Any]) -> int:
    return sum(1 for c in report.get("checks") or [] if c.get("status") == "fail")


def _table_tokens(report: dict[str, Any], *, nonzero: bool = False) -> list[str]:
    """Every cell as ``table.row.column=value`` (only the non-zero ones with ``nonzero``)."""
    tokens = []
    for key in TABLE_KEYS:
        for row, cells in (report.get(key) or {}).items():
            tokens += [f"{key}.{row}.{col}={value}" for col, value in cells.items()
                       if value or not nonzero]
    return tokens


def value_tokens(report: dict[str, Any]) -> list[str]:
    """The table's non-zero values: what tells one organ's report from another's (blank and
    zero cells are shared by most reports of a year). ``lsh_bands`` bands these cells (hashed
    in numpy, not as these strings)."""
    return _table_tokens(report, nonzero=True)


# --------------------------------------------------------------------------- signatures
#
# The signature (``SCHEME``) is datasketch's MinHash (scheme affine32, seed 1, ``NUM_PERM``
# permutations) of a set of 32-bit hashes, computed in numpy: the same numbers as
# ``MinHash.update_batch`` of that set (tests check). The set:
#
# * text: every ``SHINGLE``-character shingle of the text stripped of spaces and punctuation
#   (``_STRIP``), its four UTF-16 code units read as one 64-bit key (injective on the Basic
#   Multilingual Plane; a rarer character is folded onto a code unit the stripped text never
#   has), hashed by multiply-shift;
# * tables: every cell, hashed from its position (table.row.column) and its value: numbers by
#   value (3 = 3.0), a blank cell other than a zero;
# * of those, only the hashes below 2**32 / ``SAMPLE`` (consistent subsampling: two copies keep
#   the same share of what they have in common, so the Jaccard similarity is the same in
#   expectation, and the permutations cost SAMPLE times less), or all of them when fewer than
#   ``MIN_SAMPLED`` remain (a short text).
#
# ``lsh_bands`` bands a MinHash of the non-zero cells' hashes (all of them).
#
# Every step is a handful of numpy calls over whole arrays: on a report each call handles a few
# hundred to a few thousand numbers, so what costs is the number of calls, not their size.


#: datasketch's seed: its MinHash draws its permutations from ``RandomState(1)``
_SEED = 1


@functools.cache
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    """The permutations (a, b) datasketch's ``MinHash(num_perm=NUM_PERM, scheme="affine32")``
    draws (its ``_init_permutations``: odd ``a``, any ``b``, 32 bits), drawn here the same way
    (tests compare): importing datasketch imports scipy, a third of a replay's start-up."""
    gen = np.random.RandomState(_SEED)
    a = gen.randint(0, 1 << 31, NUM_PERM, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, NUM_PERM, dtype=np.uint32)
    return a, b


_BMP = 0x10000
#: where a character beyond the BMP is folded: the surrogate code units, which ``_STRIP``
#: removes from any text (so no character of the BMP meets a folded one)
_FOLD_BASE, _FOLD_MASK = 0xD800, 0x7FF
#: odd 64-bit multipliers of the multiply-shift hashes (golden ratio; MurmurHash3's)
_SHINGLE_MUL = np.uint64(0x9E3779B97F4A7C15)
_CELL_MUL = np.uint64(0xC2B2AE3D27D4EB4F)
_SAMPLE_BELOW = np.uint32((1 << 32) // SAMPLE)


@functools.cache
def _kept() -> np.ndarray:
    """``_kept()[c]``: code point ``c`` of the BMP survives ``_STRIP``.

    ``[\\s\\W_]`` is exactly "not ``str.isalnum()``" (``re``'s word characters are the
    alphanumeric ones and ``_``, and no alphanumeric character is a space; a test checks every
    code point), so the text is stripped with one lookup per code point in numpy: the regular
    expression cost as much as the whole signature does now."""
    return np.array([chr(c).isalnum() for c in range(_BMP)], dtype=bool)


def _code_units(text: str) -> np.ndarray:
    """``_STRIP.sub("", text)`` as uint16 code units (a character beyond the BMP folded)."""
    data = text.encode("utf-16-le", "surrogatepass")  # a lone surrogate is stripped below
    if len(data) == 2 * len(text):  # no character beyond the BMP (they take 4 bytes)
        units = np.frombuffer(data, dtype=np.uint16)
        return units[np.take(_kept(), units)]
    points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    bmp = points < _BMP
    keep = np.zeros(len(points), dtype=bool)
    keep[bmp] = _kept()[points[bmp]]
    keep[~bmp] = [chr(c).isalnum() for c in points[~bmp].tolist()]
    points = points[keep]
    folded = _FOLD_BASE + ((points - _BMP) & _FOLD_MASK)
    return np.where(points < _BMP, points, folded).astype(np.uint16)


def _unit_shingles(units: np.ndarray) -> np.ndarray:
    """32-bit hashes of the ``SHINGLE``-unit shingles of a run of code units."""
    if len(units) < SHINGLE:  # a short text is one shingle
        units = np.pad(units, (0, SHINGLE - len(units)))
    # the shingle at i is units[i:i + 4] read as one little-endian uint64: a view, no copy
    keys = np.ndarray((len(units) - SHINGLE + 1,), dtype="<u8", buffer=units, strides=(2,))
    return _multiply_shift(keys, _SHINGLE_MUL)


def _multiply_shift(keys: np.ndarray, multiplier: np.uint64) -> np.ndarray:
    """The high 32 bits of ``keys * multiplier`` mod 2**64 (multiply-shift hashing): a view."""
    return (keys * multiplier).view(np.uint32)[1::2]


def _position_hash(ref: str) -> int:
    return int.from_bytes(hashlib.blake2b(ref.encode("utf-8"), digest_size=8).digest(), "little")


#: table layout (row keys and their column keys) -> a 64-bit hash of every cell's position
_LAYOUTS: dict[tuple, np.ndarray] = {}
_MAX_LAYOUTS = 256
_values = dict.values


def _cells(report: dict[str, Any]) -> tuple[np.ndarray, list[Any]]:
    """A hash of every cell's position (``table.row.column``), and its value. Positions depend
    only on the layout of the tables (the template's, for a parsed report): hashed once per
    layout; the walk over the cells stays in C."""
    tables = [report.get(key) or {} for key in TABLE_KEYS]
    rows = list(chain.from_iterable(map(_values, tables)))
    layout = (tuple(map(len, tables)), tuple(chain.from_iterable(tables)), tuple(map(tuple, rows)))
    positions = _LAYOUTS.get(layout)
    if positions is None:
        if len(_LAYOUTS) >= _MAX_LAYOUTS:
            _LAYOUTS.clear()
        positions = _LAYOUTS[layout] = np.array(
            [_position_hash(f"{key}.{row}.{col}") for key, table in zip(TABLE_KEYS, tables)
             for row, cells in table.items() for col in cells], dtype=np.uint64)
    return positions, list(chain.from_iterable(map(_values, rows)))


def _value_bits(values: list[Any]) -> tuple[np.ndarray, np.ndarray | None]:
    """Each value as 64 bits: a number as its float64 (3, 3.0 and "3" are one value), a blank as
    NaN, anything else as a hash of its text; and the numbers (None when not all are)."""
    try:  # numpy reads None as NaN
        numbers = np.array(values, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):  # text, or an integer beyond float64
        numbers = None
    if numbers is None or numbers.shape != (len(values),):
        return np.array([_other_bits(v) for v in values], dtype=np.uint64), None
    numbers += 0.0  # -0.0 is 0
    return numbers.view(np.uint64), numbers


def _other_bits(value: Any) -> int:
    try:
        number = float("nan") if value is None else float(value)
    except (TypeError, ValueError, OverflowError):
        return _position_hash(f"{value}")
    return int(np.array([number + 0.0]).view(np.uint64)[0])


def _nonzero(values: list[Any], numbers: np.ndarray | None) -> np.ndarray:
    """Which values are non-zero: neither 0 nor blank (nor NaN)."""
    if numbers is not None:
        return (numbers != 0) & (numbers == numbers)
    return np.array([bool(v) and v == v for v in values], dtype=bool)


def _cell_hashes(positions: np.ndarray, bits: np.ndarray) -> np.ndarray:
    """32-bit hashes of the cells (position, value)."""
    return _multiply_shift(positions ^ bits, _CELL_MUL)


#: datasketch's affine32 scheme: each hash is pre-mixed with MurmurHash3's 32-bit finalizer,
#: then permuted as (a * h + b) mod 2**32 (minhash.py, ``update_batch`` and ``_fmix``)
_FMIX32 = (np.uint32(16), np.uint32(0x85EBCA6B), np.uint32(13), np.uint32(0xC2B2AE35),
           np.uint32(16))
_EMPTY = np.uint32(0xFFFFFFFF)  # datasketch's initial hash value of the scheme
#: hashes permuted at a time: the (NUM_PERM, _CHUNK) uint32 product is at most 256 KB (a report
#: of the template has 90 to 190 hashes once subsampled: one chunk)
_CHUNK = 1024


@functools.cache
def _affine() -> tuple[np.ndarray, np.ndarray]:
    """The permutations' a and b as (NUM_PERM, 1) columns, broadcast along a chunk of hashes.

    (Repeated to the chunk's width, as two (NUM_PERM, _CHUNK) arrays of 256 KB, they were read
    back from beyond the core's own cache for every report of a replay, since the parser's work
    in between had evicted them: in cachegrind, a replay had 1,600 more cache misses and 200,000
    more instructions a report; docs/benchmarks.md, Replay, twelfth session.)"""
    a, b = _permutations()
    return a.astype(np.uint32)[:, None], b.astype(np.uint32)[:, None]


def _minhash_array(hashes: np.ndarray) -> np.ndarray:
    """datasketch's MinHash (scheme affine32, seed 1) of a set of 32-bit hash values (repeats
    allowed: they do not change a minimum), computed in numpy: the same numbers as
    ``MinHash.update_batch``, without its Python list and per-call set-up: each chunk of hashes
    permuted as one (NUM_PERM, chunk) product, contiguous along the hashes (an (n, 64) product
    cost three times as much)."""
    if not len(hashes):
        return np.full(NUM_PERM, _EMPTY, dtype=np.uint32)
    s1, m1, s2, m2, s3 = _FMIX32
    hv = hashes >> s1
    hv ^= hashes
    hv *= m1
    hv ^= hv >> s2
    hv *= m2
    hv ^= hv >> s3
    a, b = _affine()
    out = None
    for start in range(0, len(hv), _CHUNK):
        permuted = hv[start:start + _CHUNK] * a  # mod 2**32
        permuted += b
        least = permuted.min(axis=1)
        out = least if out is None else np.minimum(out, least, out=out)
    return out


def _distinct(hashes: np.ndarray) -> np.ndarray:
    """The distinct values, sorted (np.unique is five times slower on a few hundred)."""
    hv = np.sort(hashes)
    if len(hv) > 1:
        keep = np.empty(len(hv), dtype=bool)
        keep[0] = True
        np.not_equal(hv[1:], hv[:-1], out=keep[1:])
        hv = hv[keep]
    return hv


def _sampled(hashes: np.ndarray) -> np.ndarray:
    """The distinct hashes below 2**32 / ``SAMPLE``; all distinct hashes when fewer than
    ``MIN_SAMPLED`` are below (a short text)."""
    sample = _distinct(hashes[hashes < _SAMPLE_BELOW])
    return sample if len(sample) >= MIN_SAMPLED else _distinct(hashes)


def fingerprint(text: str, report: dict[str, Any]) -> list[int]:
    """MinHash signature of the text's character shingles and the table cells (``SCHEME``)."""
    positions, values = _cells(report)
    hashes = np.concatenate([_unit_shingles(_code_units(text)),
                             _cell_hashes(positions, _value_bits(values)[0])])
    return _minhash_array(_sampled(hashes)).tolist()


def similarity(a: Sequence[int], b: Sequence[int]) -> float:
    """Estimated Jaccard similarity: the share of equal signature positions (as datasketch's
    ``MinHash.jaccard``, without building two objects per pair)."""
    if len(a) != len(b):
        raise ValueError("signatures of different lengths cannot be compared")
    return sum(1 for x, y in zip(a, b) if x == y) / len(a) if a else 0.0


#: odd 64-bit multipliers of the band hash: sum(row * multiplier) mod 2**64 over a band's rows
_BAND_MUL = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9,
                      0x85EBCA77C2B2AE63, 0x27D4EB2F165667C5, 0xFF51AFD7ED558CCD,
                      0xC4CEB9FE1A85EC53, 0x94D049BB133111EB][:ROWS], dtype=np.uint64)


@functools.lru_cache(maxsize=8)
def _band_prefixes(prefix: str) -> tuple[str, ...]:
    return tuple(f"{prefix}{b}:" for b in range(BANDS))


def bands(signature: Sequence[int], prefix: str = "") -> list[str]:
    """LSH band hashes: copies sharing one band are candidates for a similarity check.

    Each band's rows (64-bit integers) are hashed as sum(row * odd constant) mod 2**64 in numpy
    (multilinear hashing; no ``hash()``: workers on other machines and Python versions must
    agree), printed as 16 hex digits. A signature shorter than BANDS x ROWS has zeros after its
    end."""
    rows = np.zeros(BANDS * ROWS, dtype=np.uint64)
    rows[:len(signature)] = np.asarray(signature, dtype=np.uint64)[:BANDS * ROWS]
    digits = (rows.reshape(BANDS, ROWS) @ _BAND_MUL).astype(">u8").tobytes().hex()
    return [p + digits[16 * b:16 * b + 16] for b, p in enumerate(_band_prefixes(prefix))]


def lsh_bands(report: dict[str, Any], signature: Sequence[int]) -> list[str]:
    """The band keys under which a copy is stored and looked up.

    Banding the whole-text signature made nearly every report of a year a candidate: the
    template's headings and labels are most of the text, so two unrelated reports share a band
    with probability ~0.75 (docs/benchmarks.md, Replay). Copies of one report print the same
    numbers, so a report with at least ``MIN_VALUES`` non-zero cells is banded by a MinHash of
    those cells (unrelated reports: Jaccard ~0.03); one with fewer, by its text signature.
    ``similarity`` on the full signature still decides."""
    positions, values = _cells(report)
    bits, numbers = _value_bits(values)
    nonzero = _nonzero(values, numbers)
    if np.count_nonzero(nonzero) >= MIN_VALUES:
        return bands(_minhash_array(_cell_hashes(positions[nonzero], bits[nonzero])), VALUE_BANDS)
    return bands(signature, TEXT_BANDS) if signature is not None and len(signature) else []


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
