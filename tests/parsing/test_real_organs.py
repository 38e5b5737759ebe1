"""Organ, printed organ and year of every real report with true values (tests/shared.py)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from gkcrawl.parsing import parse_document
from tests.shared import CORPUS, shared

#: a report's document kind by its suffix (a hint: the bytes decide)
CONTENT_TYPES = {".pdf": "application/pdf", ".html": "text/html", ".md": "text/plain"}
#: the gold files of the corpus (its README lists them); the test fails when one is missing
GOLD = ("hongze-2023", "hongze-2024", "pingtan-2019", "pingtan-2020", "pingtan-2021",
        "stcsm-2024")


def document(name: str) -> Path:
    found = sorted(p for p in shared(CORPUS).glob(f"{name}.*") if p.suffix in CONTENT_TYPES)
    if not found:
        pytest.fail(f"no document {name}.* beside {CORPUS / 'gold' / name}.json", pytrace=False)
    return found[0]


@cache
def parsed(name: str) -> dict[str, Any]:
    """The report parsed from the document (once: the PDFs take seconds)."""
    path = document(name)
    result = parse_document(path.read_bytes(), CONTENT_TYPES[path.suffix], path.as_uri())
    assert result.ok, result
    return result.to_dict()


@pytest.mark.parametrize("name", GOLD)
def test_organ_and_year_as_the_gold_file_says(name: str) -> None:
    gold = json.loads(shared(CORPUS / "gold" / f"{name}.json").read_text(encoding="utf-8"))
    report = parsed(name)
    assert (report["organ"], report["organ_as_printed"], report["year"]) == (
        gold["organ"], gold.get("organ_as_printed"), gold["year"])


def test_every_gold_file_is_checked() -> None:
    assert sorted(p.stem for p in shared(CORPUS / "gold").glob("*.json")) == sorted(GOLD)


def test_divisions_and_publishers_of_the_real_reports() -> None:
    """洪泽区 is a district of 淮安市, its office compiles the report (本报告由…编制);
    上海市科学技术委员会 is a department of a province-level municipality; 平潭综合实验区 is not a
    division of the list (it administers 平潭县), and its pages' 来源 line names 平潭县人民政府."""
    found = {name: (parsed(name)["division_code"], parsed(name)["division_level"],
                    parsed(name)["publisher"])
             for name in ("hongze-2023", "hongze-2024", "stcsm-2024", "pingtan-2019")}
    assert found == {
        "hongze-2023": ("320813", "county", "淮安市洪泽区人民政府办公室"),
        "hongze-2024": ("320813", "county", "淮安市洪泽区人民政府办公室"),
        "stcsm-2024": ("310000", "province", None),
        "pingtan-2019": (None, None, "平潭县人民政府")}
