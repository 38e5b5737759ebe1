"""Dedup rules without a store: organ keys, official domains, signatures, the choice."""

from __future__ import annotations

import copy
import re

from gkcrawl.parsing import parse_document
from gkcrawl.parsing.normalize import strip_pinyin, to_simplified
from gkcrawl.quality.dedup import (
    CHOSEN,
    COPY,
    SUPERSEDED,
    Copy,
    choose,
    completeness,
    is_official,
    organ_key,
)
from gkcrawl.quality.fingerprint import signature, similarity
from tests.parsing.test_seeds import parse_seed
from tests.shared import seed_path


def seed_text(prefix: str) -> str:
    return seed_path(prefix).read_text(encoding="utf-8")


def official_copy(prefix: str) -> str:
    """What the government site printed: simplified, no pinyin, no padding, no spam header."""
    text = to_simplified(strip_pinyin(seed_text(prefix))).replace("?", "")
    return "\n".join(line for line in text.splitlines() if "图库" not in line)


def test_organ_spellings_meet() -> None:
    keys = {organ_key(o) for o in ("工布江达县人民政府办公室", "工布江达县政府办公室",
                                   "工布江达县政府办", "工布江达县 人民政府办公室")}
    assert len(keys) == 1
    assert organ_key("工布江达县人民政府") != organ_key("工布江达县人民政府办公室")
    assert organ_key("西藏自治區人民政府辦公廳") == organ_key("西藏自治区人民政府办公厅")


def test_official_domains() -> None:
    assert is_official("http://www.xizang.gov.cn/zwgk/xxgk/nb/t1.html")
    assert not is_official("http://jsf24.com/a/1.html")
    assert is_official("http://127.0.0.1:8000/x", extra_domains=["127.0.0.1"])


def test_mirror_and_official_copies_have_near_identical_signatures() -> None:
    for prefix in ("000", "002"):
        mirror = parse_seed(prefix)
        official = parse_document(official_copy(prefix).encode(), "text/plain").to_dict()
        assert official["applications"] == mirror["applications"]
        a = signature(to_simplified(strip_pinyin(seed_text(prefix))), mirror)
        b = signature(official_copy(prefix), official)
        assert similarity(a, b) > 0.8
    other = parse_seed("001")
    assert similarity(signature(seed_text("001"), other),
                      signature(official_copy("000"), parse_seed("000"))) < 0.3


def test_official_complete_copy_wins_over_mirror() -> None:
    mirror = Copy(1, "http://jsf24.com/1.html", False, parse_seed("000"), "2026-01-01")
    official = Copy(2, "http://www.xizang.gov.cn/1.html", True,
                    parse_document(official_copy("000").encode()).to_dict(), "2025-01-01")
    winner, roles = choose([mirror, official])
    assert winner is official and roles == {2: CHOSEN, 1: COPY}


def test_republication_with_corrected_cell_newer_wins() -> None:
    old = copy.deepcopy(parse_seed("001"))
    new = copy.deepcopy(old)
    new["published"] = "2022-03-01"
    new["active_disclosure"]["normative_documents"]["in_force"] = 167
    winner, roles = choose([Copy(1, "http://a.gov.cn/1.html", True, old),
                            Copy(2, "http://a.gov.cn/2.html", True, new)])
    assert winner.id == 2 and roles == {2: CHOSEN, 1: SUPERSEDED}


def test_complete_table_beats_broken_one() -> None:
    # seed 003 read strictly: its rows that lost cells are null
    broken = parse_document(seed_path("003").read_bytes(), "text/plain", strict=True).to_dict()
    assert broken["applications"]["new_received"]["total"] is None
    fixed = copy.deepcopy(broken)
    for row in fixed["applications"].values():
        for col in row:
            row[col] = 0
    winner, _ = choose([Copy(1, "http://a.gov.cn/x", True, broken, "2026-02-01"),
                        Copy(2, "http://a.gov.cn/y", True, fixed, "2026-01-01")])
    assert winner.id == 2
    assert re.match(r"^白济汛乡", fixed["organ"])


def test_completeness_counts_the_cells_with_a_value() -> None:
    report = {"applications": {"new_received": {"total": 3, "natural_person": 0,
                                                "other_org": None}},
              "review_litigation": {"admin_review": {"total": None}}, "title": "not a table"}
    assert completeness(report) == 2 and completeness({}) == 0
