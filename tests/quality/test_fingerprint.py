"""The dedup signature (``gkcrawl.quality.dedup.fingerprint``, scheme ``SCHEME``) and its LSH bands.

The numpy code is checked against a plain-Python statement of the scheme (``spec_fingerprint``:
the stripped text's shingles and the table cells, hashed, subsampled, and given to datasketch's
own ``MinHash``), and the scheme against what dedup needs: mirror copies of one report stay above
``SAME_REPORT``, different reports well below it."""

from __future__ import annotations

import copy
import hashlib
import random
import struct
from typing import Any

import numpy as np
import pytest
from datasketch import MinHash

from gkcrawl.quality import dedup
from gkcrawl.quality.dedup import (BANDS, MIN_SAMPLED, MIN_VALUES, NUM_PERM, ROWS, SAME_REPORT, SAMPLE,
                           SCHEME, TABLE_KEYS, bands, fingerprint, lsh_bands, similarity)
from gkcrawl.parsing import parse_document
from gkcrawl.parsing.normalize import strip_pinyin, to_simplified
from gkcrawl.demo.render.html import STYLES, render_html
from gkcrawl.demo.render.reports import random_report

from ..parsing.test_seeds import parse_seed
from tests.quality.test_dedup import official_copy, seed_text

M64 = (1 << 64) - 1


# --------------------------------------------------------------------------- the scheme, in Python


def spec_shingles(text: str) -> list[int]:
    units = [c if c < 0x10000 else 0xD800 + ((c - 0x10000) & 0x7FF)
             for c in map(ord, dedup._STRIP.sub("", text))]
    units += [0] * (4 - len(units))
    keys = [units[i] | units[i + 1] << 16 | units[i + 2] << 32 | units[i + 3] << 48
            for i in range(len(units) - 3)]
    return [(k * 0x9E3779B97F4A7C15 & M64) >> 32 for k in keys]


def blake2b64(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")


def spec_cells(report: dict[str, Any], *, nonzero: bool = False) -> list[int]:
    out = []
    for key in TABLE_KEYS:
        for row, cells in (report.get(key) or {}).items():
            for col, value in cells.items():
                if nonzero and not (value and value == value):
                    continue
                position = blake2b64(f"{key}.{row}.{col}")
                try:  # a number by value, a blank as NaN, anything else by its text
                    number = float("nan") if value is None else float(value)
                    bits = struct.unpack("<Q", struct.pack("<d", number + 0.0))[0]
                except (TypeError, ValueError, OverflowError):
                    bits = blake2b64(f"{value}")
                out.append(((position ^ bits) * 0xC2B2AE3D27D4EB4F & M64) >> 32)
    return out


def datasketch_minhash(hashes: set[int]) -> list[int]:
    mh = MinHash(num_perm=NUM_PERM, scheme="affine32", hashfunc=lambda v: v)
    mh.update_batch(sorted(hashes))
    return mh.hashvalues.tolist()


def spec_fingerprint(text: str, report: dict[str, Any]) -> list[int]:
    hashes = set(spec_shingles(text) + spec_cells(report))
    sample = {h for h in hashes if h < (1 << 32) // SAMPLE}
    return datasketch_minhash(sample if len(sample) >= MIN_SAMPLED else hashes)


def spec_bands(signature: list[int], prefix: str) -> list[str]:
    rows = (list(signature) + [0] * BANDS * ROWS)[:BANDS * ROWS]
    mul = [int(m) for m in dedup._BAND_MUL]
    out = []
    for b in range(BANDS):
        h = sum(r * m for r, m in zip(rows[b * ROWS:(b + 1) * ROWS], mul)) & M64
        out.append(f"{prefix}{b}:{h:016x}")
    return out


def spec_lsh_bands(report: dict[str, Any], signature: list[int]) -> list[str]:
    values = spec_cells(report, nonzero=True)
    if len(values) >= MIN_VALUES:
        return spec_bands(datasketch_minhash(set(values)), "v")
    return spec_bands(signature, "t") if signature else []


# --------------------------------------------------------------------------- documents


def page(seed: int, version: str, style: int) -> tuple[str, dict[str, Any]]:
    """(text, report) of a rendered page, as ParsePipeline fingerprints it."""
    from gkcrawl.parsing import extract_document, parse_extracted

    report = random_report(random.Random(seed), version)
    doc = extract_document(render_html(report, STYLES[style]), "text/html")
    result = parse_extracted(doc)
    assert result.ok, result
    return doc.text, result.to_dict()


@pytest.fixture(scope="module")
def pages() -> list[tuple[str, dict[str, Any]]]:
    return [page(i, ("2021", "2019")[i % 2], i % len(STYLES)) for i in range(40)]


def seeds() -> list[tuple[str, dict[str, Any]]]:
    return [(seed_text(p), parse_seed(p)) for p in ("000", "001", "002", "003", "004")]


# --------------------------------------------------------------------------- the numpy code


def test_stripping_in_numpy_is_the_regular_expression_on_every_code_point() -> None:
    everything = "".join(map(chr, range(0x110000)))
    kept = dedup._STRIP.sub("", everything)
    assert kept == "".join(c for c in everything if c.isalnum())
    bmp = np.flatnonzero(dedup._kept())
    assert "".join(map(chr, bmp)) == dedup._STRIP.sub("", everything[:0x10000])


def test_minhash_in_numpy_is_datasketch() -> None:
    rng = np.random.default_rng(3)
    for n in (0, 1, 2, 5, 63, 64, 65, 255, 256, 257, 300, 1023, 1024, 1025, 2049, 5000):
        hashes = rng.integers(0, 1 << 32, n, dtype=np.uint64).astype(np.uint32)
        if n > 10:
            hashes[: n // 3] = hashes[n // 3: 2 * (n // 3)]  # repeats
        expected = datasketch_minhash(set(hashes.tolist()))
        assert dedup._minhash_array(hashes).tolist() == expected, n
    assert dedup._minhash_array(np.array([0, 0xFFFFFFFF], dtype=np.uint32)).tolist() == \
        datasketch_minhash({0, 0xFFFFFFFF})


TEXTS = ["", "短", "ab", "a b c", "政府信息公开", "？？！！ ，", "a\ud800b\udfffcd", "𠀀𠀁𠀂 x 𪚥𪚥 abc",
         "中華人民共和國政府信息公開條例第二十條" * 3, "AbC_dEf-123 456\t789\n0"]


def test_fingerprint_follows_the_scheme_on_edge_texts_and_values() -> None:
    report = copy.deepcopy(parse_seed("004"))
    odd = copy.deepcopy(report)
    row = odd["applications"]["new_received"]
    row.update(natural_person=3.0, total=None, other_org="12", research=-0.0)
    odd["active_disclosure"]["extra_row"] = {"x": "abc", "y": 10 ** 400}
    for text in TEXTS:
        for r in ({}, report, odd):
            assert fingerprint(text, r) == spec_fingerprint(text, r), (text, bool(r))


def test_fingerprint_follows_the_scheme_on_reports(pages: list[tuple[str, dict[str, Any]]]) -> None:
    for text, report in pages[:12] + seeds():
        assert fingerprint(text, report) == spec_fingerprint(text, report)


def test_lsh_bands_follow_the_scheme(pages: list[tuple[str, dict[str, Any]]]) -> None:
    few = {"applications": {"new_received": {"total": 3, "natural_person": 3, "other_org": 0}}}
    for text, report in pages[:12] + seeds() + [("短", few), ("", {})]:
        signature = fingerprint(text, report)
        assert lsh_bands(report, signature) == spec_lsh_bands(report, signature)
    assert lsh_bands(few, [7, 1, 2 ** 40]) == spec_bands([7, 1, 2 ** 40], "t")
    assert lsh_bands({}, []) == [] and len(bands(list(range(100)))) == BANDS
    assert bands(list(range(64)), "v")[1] == spec_bands(list(range(64)), "v")[1]


def test_cell_values_compare_as_numbers() -> None:
    def report(total: Any, natural_person: Any) -> dict[str, Any]:
        return {"applications": {"new_received": {"total": total, "natural_person": natural_person,
                                                  "other_org": None}}}

    base, same, blank = report(3, 0), report(3.0, -0.0), report(3, None)
    assert fingerprint("文本", base) == fingerprint("文本", same)
    assert fingerprint("文本", base) != fingerprint("文本", blank)


def test_golden_signature() -> None:
    """A change of these numbers is a change of scheme: bump SCHEME and migrate the store (old
    fingerprints cannot be compared with new ones)."""
    report = parse_seed("001")
    signature = fingerprint(seed_text("001"), report)
    assert SCHEME == "affine32/units-cells/sample8"
    assert signature[:4] == spec_fingerprint(seed_text("001"), report)[:4]
    assert hashlib.sha256(repr(signature).encode()).hexdigest()[:16] == GOLDEN_001
    assert lsh_bands(report, signature)[:2] == GOLDEN_BANDS_001


GOLDEN_001 = "aa3b3ff5d1c163ef"
GOLDEN_BANDS_001 = ["v0:6d0d1427ea43ed44", "v1:817a3d0809c06cfd"]


# --------------------------------------------------------------------------- what dedup needs


def test_mirror_copies_of_the_seeds_are_the_same_report() -> None:
    for prefix in ("000", "002"):
        mirror = parse_seed(prefix)
        official = parse_document(official_copy(prefix).encode(), "text/plain").to_dict()
        a = fingerprint(to_simplified(strip_pinyin(seed_text(prefix))), mirror)
        b = fingerprint(official_copy(prefix), official)
        assert similarity(a, b) >= 0.95
        assert set(lsh_bands(mirror, a)) & set(lsh_bands(official, b))


def test_different_seeds_are_well_apart() -> None:
    prints = [fingerprint(text, report) for text, report in seeds()]
    pairs = [similarity(prints[i], prints[j]) for i in range(5) for j in range(i + 1, 5)]
    assert max(pairs) < 0.4
    assert sum(pairs) / len(pairs) < 0.2


def test_one_report_in_two_renderings_is_the_same_report() -> None:
    for i in range(12):
        version = ("2021", "2019")[i % 2]
        a, b = page(i, version, i % 6), page(i, version, (i + 3) % 6)
        fa, fb = fingerprint(*a), fingerprint(*b)
        assert similarity(fa, fb) >= SAME_REPORT, i
        assert set(lsh_bands(a[1], fa)) & set(lsh_bands(b[1], fb)), i


def test_a_corrected_cell_is_still_the_same_report(pages: list[tuple[str, dict[str, Any]]]) -> None:
    text, report = pages[0]
    corrected = copy.deepcopy(report)
    corrected["applications"]["new_received"]["natural_person"] += 1
    a, b = fingerprint(text, report), fingerprint(text, corrected)
    assert similarity(a, b) >= 0.9
    assert len(set(lsh_bands(report, a)) & set(lsh_bands(corrected, b))) >= BANDS // 2


def test_different_reports_of_one_template_stay_below_the_threshold(
        pages: list[tuple[str, dict[str, Any]]]) -> None:
    """The template's labels are most of a page: different reports share about half of their
    shingles, and their non-zero values almost nothing."""
    prints = [fingerprint(t, r) for t, r in pages]
    found = [set(lsh_bands(r, p)) for (t, r), p in zip(pages, prints)]
    n = len(pages)
    same_version = [(i, j) for i in range(n) for j in range(i + 1, n) if i % 2 == j % 2]
    sims = [similarity(prints[i], prints[j]) for i, j in same_version]
    assert max(sims) < 0.75
    assert 0.35 < sorted(sims)[len(sims) // 2] < 0.65
    assert sum(bool(found[i] & found[j]) for i, j in same_version) <= len(same_version) // 100


def test_short_texts_are_not_all_alike() -> None:
    """A short text keeps all its hashes (fewer than MIN_SAMPLED are sampled): two different
    ones must not both come out empty, i.e. identical."""
    a, b = fingerprint("甲乙丙丁戊己庚辛", {}), fingerprint("子丑寅卯辰巳午未", {})
    assert similarity(a, b) < 0.2
    assert fingerprint("短", {}) == fingerprint("短", {}) and len(fingerprint("", {})) == NUM_PERM
    assert similarity(fingerprint("完全不同的一份文件，关于道路施工的通知" * 5, {}),
                      fingerprint("完全不同的一份文件，关于道路施工的通知。" * 5, {})) == 1.0


def test_permutations_are_datasketchs_and_datasketch_is_not_imported() -> None:
    """The permutations are drawn as datasketch draws them, without importing it (it imports
    scipy: a third of a replay's start-up)."""
    import subprocess
    import sys

    a, b = dedup._permutations()
    expected = MinHash(num_perm=dedup.NUM_PERM, scheme=dedup.PERMUTATIONS).permutations
    assert a.tolist() == expected[0].tolist() and b.tolist() == expected[1].tolist()
    code = ("import sys, gkcrawl.quality.dedup as d; d.fingerprint('政府信息公开工作年度报告', {}); "
            "print(sorted(m for m in ('datasketch', 'scipy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
