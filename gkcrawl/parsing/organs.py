"""The organ a report is about, under one name across years and copies, and its division.

A title names the organ as its authors wrote it that year: 洪泽区人民政府 one year and
淮安市洪泽区人民政府 the next, 上海市科委 for 上海市科学技术委员会, 工布江达县 for its people's
government. Researchers compare an organ's reports across years and copies, so the name is made
whole the same way whatever a copy prints: with the region the page's other lines put before it,
the full form of a known abbreviation (the printed one is kept), the government of a bare region,
and the city before a district's name (district governments are styled so; counties are not).
The region is looked up in the administrative-division list (:mod:`gkcrawl.parsing.regions`) for
its GB/T 2260 code; where a name is several places' (朝阳区), the text says which.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from gkcrawl.parsing.regions import CITY, COUNTY, Division, Divisions, divisions

#: Abbreviated department names as printed (上海市科委) and their full form. A key is replaced at
#: the end of an organ's name, right after its region (市, 区, 县 …) or alone.
ABBREVIATIONS: dict[str, str] = {
    "科委": "科学技术委员会",
    "科技局": "科学技术局",
    "科技厅": "科学技术厅",
    "发改委": "发展和改革委员会",
    "发改局": "发展和改革局",
    "住建委": "住房和城乡建设委员会",
    "住建局": "住房和城乡建设局",
    "住建厅": "住房和城乡建设厅",
    "人社局": "人力资源和社会保障局",
    "人社厅": "人力资源和社会保障厅",
    "卫健委": "卫生健康委员会",
    "卫健局": "卫生健康局",
    "卫计委": "卫生和计划生育委员会",
    "教委": "教育委员会",
    "经信委": "经济和信息化委员会",
    "经信局": "经济和信息化局",
    "经信厅": "经济和信息化厅",
    "工信局": "工业和信息化局",
    "工信厅": "工业和信息化厅",
    "商务委": "商务委员会",
    "交通委": "交通委员会",
    "交通局": "交通运输局",
    "农委": "农业委员会",
    "农业农村委": "农业农村委员会",
    "文旅局": "文化和旅游局",
    "文旅厅": "文化和旅游厅",
    "市监局": "市场监督管理局",
    "自规局": "自然资源和规划局",
    "规自局": "规划和自然资源局",
    "环保局": "环境保护局",
    "国土局": "国土资源局",
    "民宗委": "民族宗教事务委员会",
    "民宗局": "民族宗教事务局",
    "国资委": "国有资产监督管理委员会",
    "医保局": "医疗保障局",
    "应急局": "应急管理局",
    "退役军人局": "退役军人事务局",
    "城管局": "城市管理局",
    "审批局": "行政审批局",
    "大数据局": "大数据管理局",
    "食药监局": "食品药品监督管理局",
    "安监局": "安全生产监督管理局",
    "质监局": "质量技术监督局",
    "工商局": "工商行政管理局",
    "广电局": "广播电视局",
    "人防办": "人民防空办公室",
    "外办": "外事办公室",
    "侨办": "侨务办公室",
    "台办": "台湾事务办公室",
    "金融办": "金融工作办公室",
    "编办": "机构编制委员会办公室",
    "管委会": "管理委员会",
    "政府办": "人民政府办公室",
    "府办": "人民政府办公室",
    "政府": "人民政府",
}
#: the last character of a region's name: what an abbreviation follows, what a parent ends in
REGION_END = "省市区县旗州盟乡镇"
_ABBREVIATED = re.compile(
    rf"(?:^|(?<=[{REGION_END}]))(?:{'|'.join(sorted(ABBREVIATIONS, key=len, reverse=True))})$")
#: the government of a bare region (a title that names only 工布江达县): the people's
#: government, or the administrative office of a prefecture (地区) or league (盟)
PEOPLES_GOVERNMENT = "人民政府"
GOVERNMENT_OF: dict[str, str] = {"地区": "行政公署", "盟": "行政公署"}
#: a region's name at the start of an organ's (a county's name, then its department): what is
#: looked up, corrected or not, when no division's name starts the organ
_REGION_WORD = re.compile(rf"[\u4e00-\u9fff]{{2,14}}?[{REGION_END}]")
#: the longest city name looked for before a county's name in the text (克孜勒苏柯尔克孜自治州)
MAX_PARENT_CHARS = 10
#: the last character of a district's name (市辖区), and of a province-level municipality's
DISTRICT, MUNICIPALITY = "区", "市"


@dataclass
class Organ:
    """The organ's full name, the printed abbreviation it was expanded from, its division."""

    name: str
    as_printed: str | None = None
    division: Division | None = None
    flags: list[str] = field(default_factory=list)


def complete_from(organ: str, others: Sequence[str]) -> str:
    """``organ`` (a title's) made whole by another line of the document that names the same
    organ with its region before it (淮安市 + 洪泽区人民政府) or as the government of a bare
    region (白济汛乡 -> 白济汛乡人民政府); never its office (…人民政府办公室 publishes for the
    government, it is not the organ the report is about)."""
    governments = {organ + PEOPLES_GOVERNMENT, *(organ + g for g in GOVERNMENT_OF.values())}
    for other in others:
        prefix = other[:-len(organ)] if other.endswith(organ) else ""
        if other in governments or (prefix and prefix[-1] in REGION_END):
            return other
    return organ


def resolve(organ: str, text: str, year: int | None) -> Organ:
    """The organ's full name and division, from its name and the document's text."""
    found = Organ(organ)
    listed = divisions()
    abbreviated = _ABBREVIATED.search(organ)
    if abbreviated:
        found.name = organ[:abbreviated.start()] + ABBREVIATIONS[abbreviated[0]]
        found.as_printed = organ
    chain, end = _regions(listed, found.name, year)
    if end < len(found.name):
        chain, end = _corrected(listed, found, chain, end, text, year)
    if chain and end == len(found.name):
        found.name += next((g for suffix, g in GOVERNMENT_OF.items()
                            if found.name.endswith(suffix)), PEOPLES_GOVERNMENT)
    if chain:
        head = _one(listed, found, chain[0], text, year)
        if head is not None:
            _with_city(listed, found, head, year)
        found.division = head if len(chain) == 1 else _one(listed, found, chain[-1], text, year)
    return found


def _regions(listed: Divisions, organ: str, year: int | None, pos: int = 0,
             chain: list[list[Division]] | None = None) -> tuple[list[list[Division]], int]:
    """The division names ``organ`` starts with (from ``pos``, after ``chain``), each with the
    divisions it may be (one under the other), and where they end: 淮安市洪泽区人民政府 ->
    [[淮安市], [洪泽区]], 6."""
    chain = list(chain or [])
    while pos < len(organ):
        for length in range(min(listed.longest_name, len(organ) - pos), 1, -1):
            name = organ[pos:pos + length]
            if not chain and length == 2 and name.endswith(DISTRICT):
                continue  # 城区, 新区, 矿区: plain words too; a region after their city only
            candidates = ([d for above in chain[-1] for d in listed.named(name, year, above.code)]
                          if chain else listed.named(name, year))
            if candidates:
                chain.append(candidates)
                pos += length
                break
        else:
            break
    return chain, pos


def _corrected(listed: Divisions, found: Organ, chain: list[list[Division]], end: int,
               text: str, year: int | None) -> tuple[list[list[Division]], int]:
    """The region name that follows ``chain`` in the organ's name (or starts it), read with one
    look-alike character corrected when only one division under the region before it (in the
    name, else in the text: 淮安市洪择区) is that close: 洪择区 -> 洪泽区."""
    word = _REGION_WORD.match(found.name, end)
    if word is None:
        return chain, end
    above = chain[-1][0].code if chain and len(chain[-1]) == 1 else _named_before(
        listed, word[0], text, year)
    match = listed.match(word[0], year, above)
    if match is None or not match.corrected:
        return chain, end
    found.name = found.name[:end] + match.division.name + found.name[word.end():]
    found.flags.append(f"organ region {match.printed} read as {match.division.name} "
                       f"({match.division.code}): one character differs")
    return _regions(listed, found.name, year, end, chain)


def _named_before(listed: Divisions, word: str, text: str, year: int | None) -> str | None:
    """The code of the one city (or municipality) the text writes right before ``word``."""
    codes: set[str] = set()
    for at in (m.start() for m in re.finditer(re.escape(word), text)):
        for length in range(2, min(at, MAX_PARENT_CHARS) + 1):
            codes.update(d.code for d in listed.named(text[at - length:at], year)
                         if d.level != COUNTY)
    return codes.pop() if len(codes) == 1 else None


def _with_city(listed: Divisions, found: Organ, head: Division, year: int | None) -> None:
    """Put the city before a district's name (or the municipality before it), as district
    governments are styled and as the name is printed in other years: 洪泽区人民政府 ->
    淮安市洪泽区人民政府, 朝阳区 of 长春市 -> 长春市朝阳区. Counties and county-level cities go by
    their own name (兰考县人民政府), and a province never goes before a name."""
    if head.level != COUNTY or not head.name.endswith(DISTRICT) or head.parent is None:
        return
    parent = listed.division(head.parent, year)
    if parent is not None and (parent.level == CITY or parent.name.endswith(MUNICIPALITY)):
        found.name = parent.name + found.name


def _one(listed: Divisions, found: Organ, candidates: list[Division], text: str,
         year: int | None) -> Division | None:
    """The division among ``candidates`` (one name, several places: 朝阳区 of 北京市 and of
    长春市) whose province or city the text names; None, flagged, when that does not decide."""
    if len(candidates) == 1:
        return candidates[0]
    named = [d for d in candidates if any(a.name in text for a in listed.chain(d, year)[:-1])]
    if len(named) == 1:
        return named[0]
    found.flags.append(f"organ region {candidates[0].name} is one of "
                       f"{len(candidates)} divisions ({', '.join(d.code for d in candidates)}); "
                       "the text does not say which")
    return None
