"""One document's bytes → an Extraction (metadata, cell records, narrative figures, checks).

This is the whole of `transform` seen from outside: readers (extract.readers) produce blocks, and
everything after that is deterministic label-driven mapping. Errors reading the bytes raise
ReaderError; a document that reads but has no recognisable table still returns an Extraction, with
`table_found` checks failing so it is visible, never silently empty.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from extract.readers import read_document
from extract.readers.base import Limits

from . import EXTRACTOR_VERSION
from .checks import run_checks
from .metadata import detect_template, hints, unit_and_year
from .narrative import extract_narrative
from .records import CheckRecord, Extraction, ReportMeta
from .schema import mapping_template, tables
from .sections import build
from .tables import map_tables


def extract_bytes(data: bytes, *, source: str, filename: str | None = None, content_type: str | None = None,
                  limits: Limits | None = None) -> Extraction:
    sha = hashlib.sha256(data).hexdigest()
    name = filename or Path(source).name
    result = read_document(data, filename=name, content_type=content_type, limits=limits or Limits())
    doc = build(result.blocks)
    template = detect_template(doc)
    meta_d = unit_and_year(doc, title=result.title, filename=name)
    h = hints(doc, meta_d["unit"])
    meta = ReportMeta(source=source, sha256=sha, fmt=result.fmt, unit=meta_d["unit"], year=meta_d["year"],
                      template=template, title=meta_d["title"], unit_evidence=meta_d["unit_evidence"],
                      year_evidence=meta_d["year_evidence"], extractor_version=EXTRACTOR_VERSION, **h)
    tmpl = mapping_template(template)
    mapped = map_tables(doc, tmpl)
    cells = [c for tkey in mapped for c in _ordered(mapped[tkey], template, tkey)]
    narrative = extract_narrative(doc.section_text(1) or doc.head_text(), doc.section_text(6))
    checks = run_checks(template, cells, narrative, meta.unit)
    for tkey in tables(tmpl):
        found = tkey in mapped
        checks.insert(0, CheckRecord("table_found", tkey, 1, int(found), found,
                                     "" if found else "table not found in the document"))
    ex = Extraction(meta, cells, narrative, checks, list(result.warnings))
    if template == "unknown":
        ex.warnings.append("template not recognised from the labels")
    return ex


def _ordered(cells: dict, template: str, tkey: str) -> list:
    """A table's cells in printed order (rows, then columns), extra rows after the template's."""
    order = _cell_order(mapping_template(template), tkey)
    if order is None:
        return list(cells.values())
    out = [c for c in map(cells.get, order) if c is not None]
    if len(out) < len(cells):
        out += sorted((c for k, c in cells.items() if k not in order), key=lambda c: (c.row, c.col))
    return out


@cache
def _cell_order(template: str, tkey: str) -> dict[tuple[str, str], int] | None:
    tdef = tables(template).get(tkey)
    return None if tdef is None else {k: i for i, k in enumerate(tdef.cells())}


def extract_path(path: Path | str, *, limits: Limits | None = None) -> Extraction:
    p = Path(path)
    return extract_bytes(p.read_bytes(), source=str(path), filename=p.name, limits=limits)
