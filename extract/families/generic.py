"""Generic adapter for unknown CMSs: report links by their text (年度报告, 政府信息公开 + a year),
pagination by 下一页/尾页/page numbers, attachments by extension. Everything is in `Family`."""

from __future__ import annotations

from typing import ClassVar

from extract.families.base import Family


class Generic(Family):
    name: ClassVar[str] = "generic"
    content_selectors: ClassVar[tuple[str, ...]] = (
        "div.TRS_Editor", "#zoom", "#vsb_content", ".v_news_content", ".pages_content", "article",
        "div.article", "div.content", "#content")
