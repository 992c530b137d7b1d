"""Text normalisation shared by the deadline grammar and unit-name matching.

Officials write the same thing many ways: full-width digits (３月), traditional characters
(鎮, 每週), Chinese numerals (十一月十五日), stray zero-width spaces and BOMs pasted from Word.
We normalise for *matching* only; the original text is always kept for display.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# NFKC leaves these alone, and they break regexes silently.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_DIGIT = {"〇": 0, "○": 0, "零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
          "六": 6, "七": 7, "八": 8, "九": 9}
_NUMERAL_RUN = re.compile(r"[〇○零一二两三四五六七八九十]+")


@lru_cache(maxsize=1)
def _t2s():  # type: ignore[no-untyped-def]
    # Imported lazily: only needed when a phrase actually holds non-ASCII text.
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    return str(_t2s().convert(text))


def clean(text: str) -> str:
    """NFKC, invisible characters removed, traditional → simplified, whitespace trimmed."""
    text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE).strip()
    if not text.isascii():
        text = to_simplified(text)
    return text


def name_key(name: str) -> str:
    """The key two unit names are compared by: 区级執法單位 and 区级执法单位 are one unit."""
    return re.sub(r"\s+", "", clean(name))


def numeral_value(run: str) -> int:
    """二十五 → 25, 十一 → 11, 二〇二三 → 2023 (digit by digit when there is no 十)."""
    if "十" not in run:
        return int("".join(str(_DIGIT[c]) for c in run))
    tens, _, units = run.partition("十")
    if "十" in units or len(tens) > 1 or len(units) > 1:
        raise ValueError(run)
    return (_DIGIT[tens] if tens else 1) * 10 + (_DIGIT[units] if units else 0)


def arabic_numerals(text: str) -> str:
    """Replace every run of Chinese numerals by its Arabic value (三月底前 → 3月底前)."""

    def repl(m: re.Match[str]) -> str:
        try:
            return str(numeral_value(m.group(0)))
        except (ValueError, KeyError):
            return m.group(0)  # leave it; the grammar will reject the phrase by name

    return _NUMERAL_RUN.sub(repl, text)


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """A value as it may go into a workbook or CSV cell: text a spreadsheet would run as a formula (=cmd|…,
    +1, @SUM, a leading tab) gets a leading apostrophe — OWASP's CSV-injection rule; numbers and dates stay."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value
