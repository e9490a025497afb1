"""Label normalisation and matching against the schema's printed labels (spec §6).

Normalise: NFKC (full-width → half-width), drop every kind of whitespace and quote marks, then split
off the leading enumerator (一、 (一) 1. 1、 （3）) as a separate ordinal. Matching falls back, in
order: exact → alias → prefix (truncated label) → label inside a longer text (instructions left in the
label) → edit distance 1 on labels of 6+ characters. Anything past an alias is flagged `fuzzy_label`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

_WS = re.compile(r"[\s\u00a0\u3000\u2000-\u200b\ufeff]+")
_QUOTES = str.maketrans("", "", "“”\"'‘’「」『』")
_CN_NUM = "一二三四五六七八九十"
# enumerators: 一、 / (一) / 1. / 1、 / (3) / 第一 ; the text after it is the label proper
_ORDINAL = re.compile(
    r"^(?:(?P<cn>[一二三四五六七八九十]{1,3})[、.．]"
    r"|\((?P<pcn>[一二三四五六七八九十]{1,3})\)"
    r"|\((?P<pd>\d{1,2})\)"
    r"|(?P<d>\d{1,2})(?:[、.．](?!\d)))"
)


# full-width ASCII (Ｆ１，（） …), the ideographic space and NBSP: what NFKC changes in report text that the
# regexes care about, as one table (NFKC over a whole report costs ~1 ms); the pattern finds its keys
_NARROW = {chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)} | dict.fromkeys("\u3000\u00a0\u2002\u2003", " ")
_WIDE = re.compile("[" + "".join(map(re.escape, _NARROW)) + "]")


def narrow(text: str) -> str:
    """Full-width ASCII and wide spaces → ASCII; a fast stand-in for NFKC on long running text.
    One str.replace per distinct wide character found: a report body has ~140 wide characters but
    only ~5 distinct ones, so this beats a substitution callback per character (and str.translate,
    which looks every character of CJK text up in the table, by 6x)."""
    for ch in set(_WIDE.findall(text)):
        text = text.replace(ch, _NARROW[ch])
    return text


def norm(text: str) -> str:
    """NFKC, no whitespace, no quote marks: the form every label comparison uses."""
    return _WS.sub("", unicodedata.normalize("NFKC", text)).translate(_QUOTES)


@dataclass(frozen=True, slots=True)
class Label:
    ordinal: str  # "一", "(一)", "1" … or "" ; kind-tagged so 一、 and (一) differ
    text: str  # normalised label without the ordinal


def split_ordinal(normed: str) -> Label:
    m = _ORDINAL.match(normed)
    if not m:
        return Label("", normed)
    if m.group("cn"):
        ordinal = m.group("cn")
    elif m.group("pcn"):
        ordinal = f"({m.group('pcn')})"
    elif m.group("pd"):
        ordinal = f"({_CN_NUM[int(m.group('pd')) - 1] if 0 < int(m.group('pd')) <= 10 else m.group('pd')})"
    else:
        ordinal = m.group("d")
    return Label(ordinal, normed[m.end():])


def parse_label(text: str) -> Label:
    return split_ordinal(norm(text))


def edit_distance_le1(a: str, b: str) -> bool:
    """True when a and b differ by at most one substitution, insertion or deletion."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la > lb:
        a, b, la, lb = b, a, lb, la
    i = 0
    while i < la and a[i] == b[i]:
        i += 1
    if la == lb:
        return a[i + 1:] == b[i + 1:]
    return a[i:] == b[i + 1:]


@dataclass(frozen=True, slots=True)
class Match:
    key: str
    fuzzy: bool
    how: str  # exact | alias | prefix | contains | edit1 | fragment


class Vocabulary:
    """Canonical label texts (normalised, without ordinals) → keys, with aliases."""

    def __init__(self, entries: dict[str, str], aliases: dict[str, str] | None = None,
                 min_prefix: int = 4) -> None:
        self.exact = dict(entries)
        self.aliases = dict(aliases or {})
        self.min_prefix = min_prefix
        self._texts = sorted(self.exact, key=len, reverse=True)

    def match(self, text: str) -> Match | None:
        return _match_cached(self, text)


@lru_cache(maxsize=65536)
def _match_cached(vocab: Vocabulary, text: str) -> Match | None:
    if not text:
        return None
    key = vocab.exact.get(text)
    if key:
        return Match(key, False, "exact")
    key = vocab.aliases.get(text)
    if key:
        return Match(key, False, "alias")
    # a truncated label ("要求提供公开出版"): unique label that starts with the text
    if len(text) >= vocab.min_prefix:
        hits = {vocab.exact[t] for t in vocab._texts if t.startswith(text)}
        hits |= {k for a, k in vocab.aliases.items() if a.startswith(text)}
        if len(hits) == 1:
            return Match(hits.pop(), True, "prefix")
    # instructions or units left inside the label ("规章(设区的市…应提供相关数据)")
    for t in vocab._texts:
        if len(t) >= 2 and text.startswith(t) and len(text) > len(t):
            rest = text[len(t):]
            if rest[0] in "(（[【:：,，/" or len(t) >= 4:
                return Match(vocab.exact[t], True, "contains")
    if len(text) >= 6:
        hits = {vocab.exact[t] for t in vocab._texts if len(t) >= 6 and edit_distance_le1(text, t)}
        if len(hits) == 1:
            return Match(hits.pop(), True, "edit1")
    return None
