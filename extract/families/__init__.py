"""CMS family adapters: one class per family, chosen by the registry row or by fingerprint."""

from __future__ import annotations

from extract.families.base import (
    ArticlePage,
    Family,
    Link,
    ListPage,
    is_attachment_url,
    is_report_title,
    report_year,
)
from extract.families.generic import Generic
from extract.families.hanweb import Hanweb
from extract.families.trs import Trs
from extract.families.vsb import Vsb

FAMILIES: dict[str, type[Family]] = {"hanweb": Hanweb, "trs": Trs, "vsb": Vsb, "generic": Generic}


def get_family(name: str | None) -> Family:
    if not name or name == "auto":
        return Generic()
    try:
        return FAMILIES[name]()
    except KeyError:
        raise ValueError(f"unknown CMS family {name!r} (known: {', '.join(FAMILIES)})") from None


def detect_family(url: str, html: str, *, min_score: int = 3) -> Family:
    """The family whose fingerprints score highest on a page; Generic when the evidence is weak."""
    best, best_score = Generic, 0
    for cls in (Hanweb, Trs, Vsb):
        s = cls.detect(url, html)
        if s > best_score:
            best, best_score = cls, s
    return best() if best_score >= min_score else Generic()


__all__ = ["FAMILIES", "ArticlePage", "Family", "Generic", "Hanweb", "Link", "ListPage", "Trs", "Vsb",
           "detect_family", "get_family", "is_attachment_url", "is_report_title", "report_year"]
