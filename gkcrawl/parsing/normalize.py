"""Text normalisation: labels for matching against the template, cells for reading numbers.

Mirror sites print traditional script with pinyin after some characters (區(qū)), Word exports put
line breaks and spaces inside labels, PDFs print 结\\n果\\n维\\n持, and pages pad cells with ``?``,
NBSP or U+3000. All of that is removed here, once, so the template's patterns stay simple.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

import opencc

_T2S = opencc.OpenCC("t2s")

#: Pinyin in brackets right after a Han character, toned (區(qū)) or toneless (发(fa)).
#: (The bracket comes first and the Han character is checked behind it: re then skips to brackets
#: instead of trying the lookbehind at every position.)
_PINYIN = re.compile(r"[(（](?<=[\u4e00-\u9fff][(（])[a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]{1,7}[)）]")
_HAN = re.compile(r"[\u4e00-\u9fff]")
#: Full-width ASCII and the ideographic space, to what NFKC makes of them (exactly its mapping).
_FULLWIDTH = {chr(cp): chr(cp - 0xFEE0) for cp in range(0xFF01, 0xFF5F)} | {"\u3000": " "}
_FULLWIDTH_RE = re.compile("[\uff01-\uff5e\u3000]")
_NOISE = re.compile(r"[\s\u00a0\u3000\u200b\ufeff?？�]+")
_QUOTES = str.maketrans("", "", "\"'“”‘’「」『』")
_NUMBERING = re.compile(r"^(\d{1,2})[、.．,，]")
_BRACKETS = str.maketrans({"【": "(", "】": ")", "〔": "(", "〕": ")", "［": "(", "］": ")"})

#: A traditional-script document: at least this share of its Han characters change under t2s.
TRADITIONAL_SHARE = 0.02
#: ... and at least this many of them (a few 乾/後 in a simplified text are not enough).
TRADITIONAL_MIN_CHARS = 5
#: Characters of a document read to decide its script.
TRADITIONAL_SAMPLE_CHARS = 20000


def strip_pinyin(text: str) -> str:
    if "(" not in text and "（" not in text:
        return text
    return _PINYIN.sub("", text)


def nfkc(text: str) -> str:
    """``unicodedata.normalize("NFKC", text)``, fast for Chinese text with full-width punctuation.

    NFKC's quick check fails on every full-width （ or ：, and the full normalisation of a page of
    Chinese is slow; the full-width forms are mapped first (to what NFKC maps them to), so the
    quick check usually passes and the result is the same string NFKC would give."""
    if text.isascii():
        return text
    # a page uses a handful of distinct full-width forms: one str.replace each is C all the way
    # (a sub() with a callback calls Python per match; str.translate is slower still)
    for char in set(_FULLWIDTH_RE.findall(text)):
        text = text.replace(char, _FULLWIDTH[char])
    if unicodedata.is_normalized("NFKC", text):
        return text
    return unicodedata.normalize("NFKC", text)


@lru_cache(maxsize=1)
def _traditional_chars() -> re.Pattern[str]:
    """Han characters that t2s changes on their own (computed once from OpenCC's tables)."""
    han = [chr(cp) for cp in range(0x4E00, 0xA000)]
    converted = to_simplified("\n".join(han)).split("\n")
    changed = "".join(a for a, b in zip(han, converted, strict=True) if a != b)
    return re.compile(f"[{changed}]")


def to_simplified(text: str) -> str:
    simplified: str = _T2S.convert(text)
    return simplified


def looks_traditional(text: str) -> bool:
    """True when the text is in traditional script (decided once per document, not per cell)."""
    return traditional_script(strip_pinyin(text))


def traditional_script(stripped: str) -> bool:
    """:func:`looks_traditional` of a text whose pinyin is already removed (the parser removes it
    once per document and reuses the result)."""
    sample = stripped[:TRADITIONAL_SAMPLE_CHARS]
    # quick reject: too few characters that are traditional on their own (t2s is phrase-based,
    # so the exact count below can differ a little; it decides whenever this one is close)
    if len(_traditional_chars().findall(sample)) < TRADITIONAL_MIN_CHARS:
        return False
    han = _HAN.findall(sample)
    if not han:
        return False
    converted = to_simplified("".join(han))
    changed = sum(1 for a, b in zip(han, converted, strict=False) if a != b)  # lengths may differ
    return changed >= TRADITIONAL_MIN_CHARS and changed / len(han) >= TRADITIONAL_SHARE


#: Distinct cell texts whose label/value form is remembered. Cells repeat across reports (the
#: template's labels, "0", blanks), so 1,024 entries hit ~97% of the cells of the bench portal's
#: reports; caches sized for every text ever met grow through a long crawl of varied reports
#: (24 MiB held once 70,000 distinct texts were met) and keep the crawl's memory from staying flat.
CELL_CACHE = 1024


def clean_text(text: str, traditional: bool) -> str:
    """Running text for metadata: pinyin removed, simplified script, widths folded."""
    return fold_script(strip_pinyin(text), traditional)


def fold_script(stripped: str, traditional: bool) -> str:
    """:func:`clean_text` of a text whose pinyin is already removed."""
    if traditional:
        stripped = to_simplified(stripped)
    return nfkc(stripped)


@lru_cache(maxsize=CELL_CACHE)
def label(text: str) -> str:
    """The matching form of a label: no spaces, breaks, quotes, pinyin; half-width brackets."""
    text = unicodedata.normalize("NFKC", strip_pinyin(text))
    text = _NOISE.sub("", text).translate(_QUOTES).translate(_BRACKETS)
    return _NUMBERING.sub(r"\1.", text)


# --- values -------------------------------------------------------------------------------------

#: Marks that stand for "nothing printed" in a value cell.
_BLANK_MARKS = frozenset({"", "-", "--", "—", "——", "–", "/", "\\", "无", "空"})
_VALUE = re.compile(
    r"^(?P<sign>[+-]?)(?P<num>\d{1,3}(?:,\d{3})+|\d+)(?P<frac>\.\d+)?"
    r"(?P<unit>万元|元|件|个|项|条|次)?"
    # a note after the number: 13(其中修订2件), 55(含自然失效3件) are 13 and 55
    r"(?:\((?:其中|含|包括|包含)[^()]*\))?$"
)
#: A page number printed inside a table by a conversion of a PDF: — 4 —, - 4 -, 第4页(共9页).
_PAGE_FOOTER = re.compile(r"^(?:[-—–]+\d{1,3}[-—–]+|第\d{1,3}页(?:共\d{1,3}页)?)$")
YUAN_PER_10K = Decimal(10000)
#: Units that make a value an amount of money.
MONEY_UNITS = frozenset({"元", "万元"})


@dataclass(frozen=True, slots=True)
class Value:
    """A number read from a cell: ``number`` is None for a printed blank."""

    number: Decimal | None
    unit: str = ""

    @property
    def blank(self) -> bool:
        return self.number is None


BLANK = Value(None)


@lru_cache(maxsize=CELL_CACHE)
def value(text: str) -> Value | None:
    """The value in a cell, ``BLANK`` for an empty cell, or None when the cell is a label."""
    compact = _NOISE.sub("", unicodedata.normalize("NFKC", text))
    if compact in _BLANK_MARKS:
        return BLANK
    match = _VALUE.match(compact)
    if not match:
        return None
    digits = match["num"].replace(",", "") + (match["frac"] or "")
    try:
        number = Decimal(digits)
    except InvalidOperation:  # pragma: no cover - the regex admits only digits
        return None
    if match["sign"] == "-":
        number = -number
    return Value(number, match["unit"] or "")


@lru_cache(maxsize=CELL_CACHE)
def page_footer(text: str) -> bool:
    """True for a page number a PDF conversion left among the cells (— 4 —, 第4页)."""
    return bool(_PAGE_FOOTER.match(_NOISE.sub("", unicodedata.normalize("NFKC", text))))


def to_10k_yuan(val: Value) -> Decimal | None:
    """An amount column's value in 万元 ("251000元" is 25.1)."""
    if val.number is None:
        return None
    if val.unit == "元":
        return val.number / YUAN_PER_10K
    return val.number
