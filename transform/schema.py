"""The data dictionary (`schema.json`, a copy of shared/spec/schema.json) as typed lookups."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

SCHEMA_PATH = Path(__file__).resolve().parent / "schema.json"
TEMPLATES = ("gov2021", "gov2019")


@dataclass(frozen=True, slots=True)
class RowDef:
    key: str
    label: str
    group: str | None


@dataclass(frozen=True, slots=True)
class ColDef:
    key: str
    label: str


@dataclass(frozen=True, slots=True)
class TableDef:
    key: str
    section: int
    caption: str
    rows: tuple[RowDef, ...]
    cols: tuple[ColDef, ...]
    col_keys: tuple[str, ...] = ()  # the cols' keys and labels, for the mappers' inner loops
    col_labels: tuple[str, ...] = ()
    cell_keys: tuple[tuple[str, str], ...] = ()  # (row, col) of every cell, rows first

    def cells(self) -> list[tuple[str, str]]:
        return [(r.key, c.key) for r in self.rows for c in self.cols]


@cache
def raw_schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@cache
def tables(template: str) -> dict[str, TableDef]:
    """Table definitions of a template, by table key, in printed order."""
    out: dict[str, TableDef] = {}
    for t in raw_schema()["templates"][template]["tables"]:
        rows = tuple(RowDef(r["key"], r["label"], r.get("group")) for r in t["rows"])
        cols = tuple(ColDef(c["key"], c["label"]) for c in t["cols"])
        out[t["table"]] = TableDef(t["table"], t["section"], t["caption"], rows, cols,
                                   tuple(c.key for c in cols), tuple(c.label for c in cols),
                                   tuple((r.key, c.key) for r in rows for c in cols))
    return out


def mapping_template(template: str) -> str:
    """The schema template a report's cells are keyed by: its own, or gov2021's keys when the template
    is unknown (§三 and §四 are the same in both templates)."""
    return template if template in TEMPLATES else "gov2021"


def expected_cells(template: str) -> int:
    return sum(len(t.rows) * len(t.cols) for t in tables(template).values())
