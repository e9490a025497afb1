"""Cell text → (value, status, flags), spec §7. The raw text is always kept by the caller.

Statuses: reported, blank, dash, none_text, unparsed (see records.py). Flags: joined_digits (a
number broken over lines or by spaces inside its cell), unit_converted (元 → 万元), thousands_sep,
non_integer (a decimal in a count column).
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from .labels import _WS

DASHES = {"-", "--", "---", "—", "——", "–", "/", "//", "\\", "－", "―", "~", "_"}
_NUM = re.compile(r"^[+-]?(?:\d+(?:\.\d+)?|\.\d+)$")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_UNIT_SUFFIX = re.compile(r"^(?P<num>[+-]?[\d.,]+)(?P<unit>万元|元|件|个|项|条|次|宗|人次)$")
_SPLIT_DIGITS = re.compile(r"\d[\s\u00a0\u3000]+\d")


def is_value_text(text: str) -> bool:
    """Whether a cell reads as a value (number, blank, dash, 无) rather than a label."""
    s = _WS.sub("", unicodedata.normalize("NFKC", text))
    if not s or s in DASHES or s == "无":
        return True
    if _NUM.match(s) or _THOUSANDS.match(s.replace("，", ",")):
        return True
    m = _UNIT_SUFFIX.match(s)
    return bool(m and re.search(r"\d", m.group("num")))


def parse_value(raw: str, *, money: bool = False) -> tuple[int | Decimal | None, str, list[str]]:
    """Parse one cell. `money`: the column is in 万元 (a 元 suffix is converted)."""
    value, status, flags = _parse_cached(raw, money)
    return value, status, list(flags)


@lru_cache(maxsize=200_000)
def _parse_cached(raw: str, money: bool) -> tuple[int | Decimal | None, str, tuple[str, ...]]:
    value, status, flags = _parse(raw, money=money)
    return value, status, tuple(flags)


def _parse(raw: str, *, money: bool = False) -> tuple[int | Decimal | None, str, list[str]]:
    flags: list[str] = []
    nfkc = unicodedata.normalize("NFKC", raw)
    s = _WS.sub("", nfkc)
    if not s:
        return None, "blank", flags
    if s in DASHES:
        return None, "dash", flags
    if s == "无":
        return 0, "none_text", flags
    if _SPLIT_DIGITS.search(nfkc.strip()):
        flags.append("joined_digits")
    unit = ""
    m = _UNIT_SUFFIX.match(s)
    if m:
        s, unit = m.group("num"), m.group("unit")
    if "," in s:
        if not _THOUSANDS.match(s):
            return None, "unparsed", flags
        s = s.replace(",", "")
        flags.append("thousands_sep")
    if not _NUM.match(s):
        return None, "unparsed", flags
    digits = s.lstrip("+-")
    # "0\n0" joined would read as 00: two values in one cell, not one number
    if "joined_digits" in flags and len(digits) > 1 and digits[0] == "0" and not digits.startswith("0."):
        return None, "unparsed", flags
    try:
        d = Decimal(s)
    except InvalidOperation:
        return None, "unparsed", flags
    if unit == "元" and money:
        d = d / Decimal(10000)
        flags.append("unit_converted")
    if d == d.to_integral_value() and "." not in s and unit != "元":
        return int(d), "reported", flags
    if not money:
        if d == d.to_integral_value():
            return int(d), "reported", flags
        flags.append("non_integer")
    return d.normalize() if d != 0 else Decimal(0), "reported", flags
