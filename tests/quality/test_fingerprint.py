"""Signatures and LSH band keys (``gkcrawl.quality.fingerprint``) against what dedup needs:
copies of one report come out above ``SAME_REPORT`` and share a band, different reports stay
well below it and rarely share one, and band keys are the same in every process."""

from __future__ import annotations

import copy
import os
import random
import subprocess
import sys
from typing import Any

import pytest

from gkcrawl.demo.render.html import STYLES, render_html
from gkcrawl.demo.render.reports import random_report
from gkcrawl.parsing import parse_document
from gkcrawl.parsing.normalize import strip_pinyin, to_simplified
from gkcrawl.quality.fingerprint import (
    BANDS,
    MIN_VALUES,
    NUM_PERM,
    SAME_REPORT,
    TEXT_BANDS,
    VALUE_BANDS,
    bands,
    lsh_bands,
    minhash,
    shingles,
    signature,
    similarity,
)
from tests.parsing.test_seeds import parse_seed
from tests.quality.test_dedup import official_copy, seed_text


def page(seed: int, version: str, style: int) -> tuple[str, dict[str, Any]]:
    """(text, report) of a rendered page, as ParsePipeline takes its signature."""
    from gkcrawl.parsing import extract_document, parse_extracted

    report = random_report(random.Random(seed), version)
    doc = extract_document(render_html(report, STYLES[style]), "text/html")
    result = parse_extracted(doc)
    assert result.ok, result
    return doc.prose, result.to_dict()


@pytest.fixture(scope="module")
def pages() -> list[tuple[str, dict[str, Any]]]:
    return [page(i, ("2021", "2019")[i % 2], i % len(STYLES)) for i in range(40)]


def seeds() -> list[tuple[str, dict[str, Any]]]:
    return [(seed_text(p), parse_seed(p)) for p in ("000", "001", "002", "003", "004")]


def test_similarity_is_the_share_of_equal_positions() -> None:
    a, b = signature(*seeds()[0]), signature(official_copy("000"), parse_seed("000"))
    assert len(a) == NUM_PERM
    assert similarity(a, b) == sum(x == y for x, y in zip(a, b, strict=True)) / NUM_PERM
    assert similarity(a, a) == 1.0
    with pytest.raises(ValueError, match="lengths"):
        similarity(a, b[:-1])


def test_the_estimate_is_unbiased_on_random_sets() -> None:
    """Over many pairs of sets with a known overlap, the signature's estimate is off by no more
    than the 64 permutations allow (standard error ~0.06), and not one way more than the other."""
    rng = random.Random(3)
    errors = []
    for _ in range(200):
        tokens = [f"t{rng.randrange(10**9)}" for _ in range(800)]
        cut = rng.randrange(100, 700)
        a, b = set(tokens[:cut + 100]), set(tokens[100:])
        true = len(a & b) / len(a | b)
        errors.append(similarity(minhash(a), minhash(b)) - true)
    assert abs(sum(errors) / len(errors)) < 0.02
    assert max(map(abs, errors)) < 0.25


def test_the_estimate_follows_the_jaccard_similarity_of_the_shingles() -> None:
    a = seed_text("001")
    lines = a.splitlines()
    for cut in (0.9, 0.6, 0.3):  # keep the first part of the report, replace the rest
        b = "\n".join(lines[:int(len(lines) * cut)]) + seed_text("004")[:len(a) // 3]
        true = len(shingles(a) & shingles(b)) / len(shingles(a) | shingles(b))
        assert abs(similarity(signature(a, {}), signature(b, {})) - true) < 0.15, cut


def test_spaces_and_punctuation_do_not_count() -> None:
    text = "政府信息公开工作年度报告，本年新收申请12件。"
    assert signature(text, {}) == signature(" 政府信息公开 工作年度报告 本年新收申请12件", {})
    assert shingles("短") == {"短"} and len(signature("", {})) == NUM_PERM


def test_cell_values_compare_as_numbers() -> None:
    def report(total: Any, natural_person: Any) -> dict[str, Any]:
        return {"applications": {"new_received": {"total": total, "natural_person": natural_person,
                                                  "other_org": None}}}

    base, same, blank = report(3, 0), report(3.0, -0.0), report(3, None)
    assert signature("文本", base) == signature("文本", same)
    assert signature("文本", base) != signature("文本", blank)


def test_mirror_copies_of_the_seeds_are_the_same_report() -> None:
    for prefix in ("000", "002"):
        mirror = parse_seed(prefix)
        official = parse_document(official_copy(prefix).encode(), "text/plain").to_dict()
        a = signature(to_simplified(strip_pinyin(seed_text(prefix))), mirror)
        b = signature(official_copy(prefix), official)
        assert similarity(a, b) >= 0.9
        assert set(lsh_bands(mirror, a)) & set(lsh_bands(official, b))


def test_different_seeds_are_well_apart() -> None:
    """(Their sets' Jaccard similarity is 0.03 to 0.24, 0.13 on average.)"""
    prints = [signature(text, report) for text, report in seeds()]
    pairs = [similarity(prints[i], prints[j]) for i in range(5) for j in range(i + 1, 5)]
    assert max(pairs) < 0.4
    assert sum(pairs) / len(pairs) < 0.25


def test_one_report_in_two_renderings_is_the_same_report() -> None:
    for i in range(12):
        version = ("2021", "2019")[i % 2]
        a, b = page(i, version, i % 6), page(i, version, (i + 3) % 6)
        fa, fb = signature(*a), signature(*b)
        assert similarity(fa, fb) >= SAME_REPORT, i
        assert set(lsh_bands(a[1], fa)) & set(lsh_bands(b[1], fb)), i


def test_a_corrected_cell_is_still_the_same_report(pages: list[tuple[str, dict[str, Any]]]) -> None:
    text, report = pages[0]
    corrected = copy.deepcopy(report)
    corrected["applications"]["new_received"]["natural_person"] += 1
    a, b = signature(text, report), signature(text, corrected)
    assert similarity(a, b) >= 0.9
    assert len(set(lsh_bands(report, a)) & set(lsh_bands(corrected, b))) >= BANDS // 2


def test_different_reports_of_one_template_stay_below_the_threshold(
        pages: list[tuple[str, dict[str, Any]]]) -> None:
    """Different reports share the page's boilerplate sentences and their zero cells, about a
    third of their tokens, and their non-zero values almost nothing."""
    prints = [signature(t, r) for t, r in pages]
    found = [set(lsh_bands(r, p)) for (t, r), p in zip(pages, prints, strict=True)]
    n = len(pages)
    same_version = [(i, j) for i in range(n) for j in range(i + 1, n) if i % 2 == j % 2]
    sims = [similarity(prints[i], prints[j]) for i, j in same_version]
    assert max(sims) < 0.75
    assert 0.2 < sorted(sims)[len(sims) // 2] < 0.5
    assert sum(bool(found[i] & found[j]) for i, j in same_version) <= len(same_version) // 100


def test_a_mirror_that_garbles_the_organ_everywhere_is_the_same_report() -> None:
    """All-zero tables and the template's words are what two townships share; what tells them
    apart is their own text (a report's 总体情况 runs to several paragraphs), and a mirror's
    mojibake name is taken out with the name."""
    from gkcrawl.parsing import extract_document

    def township(organ: str, prose: str) -> tuple[str, dict[str, Any]]:
        report = random_report(random.Random(3), "2021", 2023, organ)
        for table in ("active_disclosure", "applications", "review_litigation"):
            for cells in report[table].values():
                cells.update(dict.fromkeys(cells, 0))
        text = extract_document(render_html(report), "text/html").prose
        return f"{text}\n{organ}{prose}", report

    text, report = township("东坝乡人民政府", "以村务公开栏为主阵地，全年公开惠农补贴、低保救助、"
                            "村级财务等信息三百六十余条，更新公开栏十二期，接受群众咨询八十余人次，"
                            "办理群众来信来访十五件，均按期办结，群众满意度较高。")
    garbled = "东坝乡人民政府".encode().decode("gbk", errors="replace")
    mirror = ("香港免费图库资料大全\n" + text.replace("东坝乡人民政府", garbled),
              copy.deepcopy(report) | {"organ": garbled})
    other = township("西山镇人民政府", "依托镇政府门户网站和微信公众号，发布工作动态二百一十篇、"
                     "政策解读九篇，召开政务公开专题会议四次，组织业务培训两场，"
                     "完成基层政务公开标准目录的梳理和更新。")
    sig = signature(text, report)
    assert similarity(sig, signature(*mirror)) >= 0.9
    assert similarity(sig, signature(*other)) < SAME_REPORT


def test_short_texts_are_not_all_alike() -> None:
    a, b = signature("甲乙丙丁戊己庚辛", {}), signature("子丑寅卯辰巳午未", {})
    assert similarity(a, b) < 0.2
    assert similarity(signature("完全不同的一份文件，关于道路施工的通知" * 5, {}),
                      signature("完全不同的一份文件，关于道路施工的通知。" * 5, {})) == 1.0


def test_bands_by_values_or_by_text() -> None:
    text, report = seeds()[1]
    sig = signature(text, report)
    by_values = lsh_bands(report, sig)
    assert len(by_values) == BANDS and all(k.startswith(VALUE_BANDS) for k in by_values)
    assert lsh_bands(report, None) == by_values  # the text does not count
    few = {"applications": {"new_received": {"total": 3, "natural_person": 3, "other_org": 0}}}
    assert MIN_VALUES > 2
    assert lsh_bands(few, sig) == bands(sig, TEXT_BANDS)
    assert lsh_bands(few, None) == [] and lsh_bands({}, []) == []
    keys = bands(list(range(NUM_PERM)), "x")
    assert len(set(keys)) == BANDS and keys[1].startswith("x1:") and len(keys[1]) == 3 + 16


def test_band_keys_are_the_same_in_every_process() -> None:
    """No ``hash()``: a worker on another machine, or with another PYTHONHASHSEED, computes the
    same keys for the same copy."""
    code = ("from tests.quality.test_fingerprint import seeds; "
            "from gkcrawl.quality.fingerprint import lsh_bands, signature; "
            "t, r = seeds()[1]; s = signature(t, r); "
            "print(lsh_bands(r, s)[0], lsh_bands({}, s)[0])")
    text, report = seeds()[1]
    sig = signature(text, report)
    expected = f"{lsh_bands(report, sig)[0]} {lsh_bands({}, sig)[0]}"
    for seed in ("0", "12345"):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True, env={**os.environ, "PYTHONHASHSEED": seed})
        assert out.stdout.strip() == expected
