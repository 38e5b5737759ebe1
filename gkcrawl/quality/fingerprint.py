"""Signatures of report copies: which documents are near-identical, and the keys to find them by.

A signature is a MinHash of the document's set of tokens:

* the character shingles (``SHINGLE`` characters) of its prose (``Document.prose``: the text
  outside its tables), line by line, stripped of spaces and punctuation, so that padding and a
  spam header's layout change little; less the shingles of the template's own words (table
  titles, row and column labels), which every report prints, and with the organ's name as
  printed taken out, which a mirror garbles everywhere;
* every table cell as ``table.row.column=value``, so that copies of one report agree on their
  numbers whatever their text looks like.

The tables enter by their cells only: their printed text (labels interleaved with numbers) is
what every report of a template shares, and townships' all-zero tables would otherwise make
them look alike.

Two signatures estimate the Jaccard similarity of the two sets (``similarity``): copies of one
report (a page and its PDF, a mirror) come out near 1, different organs' reports far below
(their prose and numbers differ; what they share is the template, left out).

The store looks copies up by LSH band keys (``lsh_bands``): a report with at least
``MIN_VALUES`` non-zero cells by a MinHash of those cells (which unrelated reports hardly
share), one with fewer (a township that received no application prints nearly all zeros) by
its signature. Band keys are hashed with BLAKE2b, never ``hash()``: workers on other machines
and Python versions must compute the same keys.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from gkcrawl.template.spec import TEMPLATES

#: Permutations of a signature: 16 bands of 4 rows for the store's look-up.
NUM_PERM = 64
BANDS, ROWS = 16, 4
#: Characters per shingle of the text.
SHINGLE = 4
#: Estimated Jaccard similarity from which two copies of one year are the same report.
SAME_REPORT = 0.8
#: A report with at least this many non-zero table cells is looked up by its values.
MIN_VALUES = 8
#: Prefixes of the two kinds of band keys (values, text).
VALUE_BANDS, TEXT_BANDS = "v", "t"
#: The three statistical tables of docs/report-schema.md.
TABLE_KEYS = ("active_disclosure", "applications", "review_litigation")

_STRIP = re.compile(r"[\s\W_]+")
#: The permutations ``h -> a * h + b mod 2**32`` (``a`` odd), drawn once from a fixed seed:
#: stored signatures compare only with signatures of the same ones.
_PERMUTATIONS = np.random.RandomState(1).randint(0, 1 << 32, size=(2, NUM_PERM, 1), dtype=np.uint64)
_A = (_PERMUTATIONS[0] | 1).astype(np.uint32)
_B = _PERMUTATIONS[1].astype(np.uint32)
#: MurmurHash3's 32-bit finalizer: spreads the bits of a token's CRC-32 before the permutations
_FMIX = (np.uint32(0x85EBCA6B), np.uint32(0xC2B2AE35))
_EMPTY = np.uint32(0xFFFFFFFF)


def shingles(text: str) -> set[str]:
    """The text's ``SHINGLE``-character shingles, spaces and punctuation removed first (a text
    shorter than a shingle is one)."""
    flat = _STRIP.sub("", text)
    return {flat[i:i + SHINGLE] for i in range(max(1, len(flat) - SHINGLE + 1))}


def _template_shingles() -> frozenset[str]:
    """The shingles of every template version's own words."""
    words = set()
    for template in TEMPLATES.values():
        for table in template.tables:
            words.add(table.title)
            words.update(column.label for column in table.columns)
            words.update(w for row in table.rows for w in (row.label, row.group))
    return frozenset().union(*(shingles(w) for w in words if len(_STRIP.sub("", w)) >= SHINGLE))


#: What every report prints: left out of signatures (``_template_shingles``).
TEMPLATE_SHINGLES = _template_shingles()


def cell_tokens(report: dict[str, Any], *, nonzero: bool = False) -> list[str]:
    """Every table cell as ``table.row.column=value`` (only the non-zero ones with ``nonzero``).

    A number is written by value (3 and 3.0 are one token), a blank cell as None."""
    tokens = []
    for key in TABLE_KEYS:
        for row, cells in (report.get(key) or {}).items():
            for column, value in cells.items():
                if nonzero and not value:
                    continue
                number = int(value) if isinstance(value, float) and value.is_integer() else value
                tokens.append(f"{key}.{row}.{column}={number}")
    return tokens


def minhash(tokens: Iterable[str]) -> list[int]:
    """The MinHash of a set of tokens (repeats do not count): for each permutation, the least
    permuted hash. Each token is hashed by CRC-32 and MurmurHash3's finalizer; the permutations
    run in numpy, one (NUM_PERM, tokens) product."""
    h = np.fromiter((zlib.crc32(token.encode("utf-8")) for token in tokens), dtype=np.uint32)
    if not len(h):
        return [int(_EMPTY)] * NUM_PERM
    h ^= h >> np.uint32(16)
    h *= _FMIX[0]
    h ^= h >> np.uint32(13)
    h *= _FMIX[1]
    h ^= h >> np.uint32(16)
    values: list[int] = (h * _A + _B).min(axis=1).tolist()  # mod 2**32: uint32 wraps
    return values


def signature(text: str, report: dict[str, Any]) -> list[int]:
    """The MinHash signature of the text's own shingles and the report's table cells.

    The template's words are left out (every report prints them), and so is the organ's name as
    the report prints it: a mirror that garbles the name everywhere is still the same text."""
    organ = report.get("organ")
    if organ:
        text = text.replace(organ, "")
    own = set().union(*(shingles(line) for line in text.splitlines() if line.strip()))
    return minhash((own - TEMPLATE_SHINGLES).union(cell_tokens(report)))


def similarity(a: Sequence[int], b: Sequence[int]) -> float:
    """Estimated Jaccard similarity of two signatures: the share of equal positions."""
    if len(a) != len(b):
        raise ValueError("signatures of different lengths cannot be compared")
    return sum(x == y for x, y in zip(a, b, strict=True)) / len(a) if a else 0.0


def bands(signature: Sequence[int], prefix: str = "") -> list[str]:
    """LSH band keys of a signature: ``<prefix><band>:<BLAKE2b of the band's rows>``. Copies
    sharing a key are candidates for a similarity check."""
    keys = []
    for band in range(BANDS):
        rows = ",".join(map(str, signature[band * ROWS:(band + 1) * ROWS]))
        keys.append(f"{prefix}{band}:{hashlib.blake2b(rows.encode(), digest_size=8).hexdigest()}")
    return keys


def lsh_bands(report: dict[str, Any], signature: Sequence[int] | None) -> list[str]:
    """The band keys a copy is stored and looked up under: of its non-zero cells when it has at
    least ``MIN_VALUES``, else of its signature (none without one)."""
    values = cell_tokens(report, nonzero=True)
    if len(values) >= MIN_VALUES:
        return bands(minhash(values), VALUE_BANDS)
    return bands(signature, TEXT_BANDS) if signature else []
