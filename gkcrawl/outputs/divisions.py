"""The organ's administrative division in exports: its GB/T 2260 code, named as province, city
and county, and its level.

The code is the report's own (``division_code``, read by the parser from the organ's name) when
it has one, else the region of the registry portal the report was found on (``region_code``):
the organ lies within that region, but may sit below it, so ``division_source`` says which.
:func:`division_names` is the one place that names a code: from the administrative-division
list the parser uses (``gkcrawl.parsing.regions``), and, for a code the list does not have, the
province from the code's first two digits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gkcrawl.crawl.registry import Portal
from gkcrawl.parsing.regions import divisions

#: GB/T 2260 provincial-level divisions: the code's first two digits -> name.
PROVINCE_NAMES: dict[str, str] = {
    "11": "北京市", "12": "天津市", "13": "河北省", "14": "山西省", "15": "内蒙古自治区",
    "21": "辽宁省", "22": "吉林省", "23": "黑龙江省",
    "31": "上海市", "32": "江苏省", "33": "浙江省", "34": "安徽省", "35": "福建省", "36": "江西省",
    "37": "山东省",
    "41": "河南省", "42": "湖北省", "43": "湖南省", "44": "广东省", "45": "广西壮族自治区",
    "46": "海南省",
    "50": "重庆市", "51": "四川省", "52": "贵州省", "53": "云南省", "54": "西藏自治区",
    "61": "陕西省", "62": "甘肃省", "63": "青海省", "64": "宁夏回族自治区",
    "65": "新疆维吾尔自治区",
    "71": "台湾省", "81": "香港特别行政区", "82": "澳门特别行政区",
}
PROVINCE_DIGITS = 2
CODE_DIGITS = 6
#: a code ending in this many zeros is a province; in half as many, a prefecture-level city
PROVINCE_ZEROS, CITY_ZEROS = 4, 2
PROVINCE, CITY, COUNTY = "province", "city", "county"
#: where the division came from
FROM_REPORT, FROM_PORTAL = "report", "portal"


@dataclass(frozen=True)
class Division:
    code: str | None = None
    province: str | None = None
    city: str | None = None
    county: str | None = None
    level: str | None = None
    source: str | None = None


def division_names(code: str | None, year: int | None = None
                   ) -> tuple[str | None, str | None, str | None]:
    """(province, city, county) of a GB/T 2260 code (as it was in ``year`` when given), None
    where unknown or above the code's level. The registry's 100000 (the central government and
    the ministries) is no province."""
    if not code or len(code) != CODE_DIGITS or not code.isdigit():
        return None, None, None
    place = divisions().place(code, year)
    if place is not None:
        return place.province or None, place.city, place.county
    return PROVINCE_NAMES.get(code[:PROVINCE_DIGITS]), None, None


def code_level(code: str | None) -> str | None:
    """The level a GB/T 2260 code's trailing zeros say (110000 province, 110100 city, else
    county); None for what is not a province's code."""
    if not code or code[:PROVINCE_DIGITS] not in PROVINCE_NAMES:
        return None
    if code.endswith("0" * PROVINCE_ZEROS):
        return PROVINCE
    return CITY if code.endswith("0" * CITY_ZEROS) else COUNTY


def division_of(report: Mapping[str, Any], portal: Portal | None) -> Division:
    """The report's division: its own ``division_code`` (and ``division_level``), else its
    portal's ``region_code`` and ``level``."""
    code = report.get("division_code") or None
    level = report.get("division_level") or None
    source = FROM_REPORT if code else None
    if code is None and portal is not None and portal.region_code:
        code, level, source = portal.region_code, portal.level or None, FROM_PORTAL
    if code is None:
        return Division()
    province, city, county = division_names(code, report.get("year"))
    return Division(code, province, city, county, level or code_level(code), source)
