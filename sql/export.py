"""Deterministic parquet export of the warehouse, for researchers.

Layout of `--to DIR`:
  cells/year=YYYY/part-0.parquet   current cells, columns of v_cells_current (year lives in the path)
  reports/reports.parquet          every report version (is_current says which is current)
  units/units.parquet              the unit hierarchy
  checks/checks.parquet            check results, with the report's unit/year/sha256
  narrative/narrative.parquet      narrative figures, likewise
  dictionary.json / dictionary.csv every table/row/col key with its Chinese label, unit and meaning
  manifest.json                    per file: rows, bytes, sha256
Determinism: total sort orders, fixed row-group size, DuckDB COPY with insertion order kept, no wall-clock
values anywhere, so re-exporting unchanged data is byte-identical. Atomicity: everything is written to a
sibling temp dir and renamed into place; a killed export leaves the previous export untouched.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
from pathlib import Path

import duckdb
import pyarrow as pa

SCHEMA_JSON = Path(__file__).resolve().parent.parent / "transform" / "schema.json"
ROW_GROUP = 1 << 20

CELL_COLUMNS = ("unit_key", "unit_name", "level", "province", "prefecture", "county", "county_code", "township",
                "template", "section", "table_key", "row_key", "col_key", "value", "raw", "status", "flags",
                "raw_row_label", "raw_col_label", "report_id", "version", "sha256", "source_url",
                "extractor_version")

COLUMN_MEANINGS = {
    "unit_key": "stable id of the publishing unit: '<county code>/<township>' or a 6-digit code; '?/…' unresolved",
    "unit_name": "unit name as printed (without 人民政府)",
    "level": "province | prefecture | county | township | department | unknown",
    "province": "省级 name", "prefecture": "地级 name", "county": "县级 name", "county_code": "GB/T 2260 6-digit code",
    "township": "乡级 name (NULL unless level = township)",
    "year": "report year (the year reported on, not the publication year)",
    "template": "gov2021 | gov2019 | pre2019 | unknown (detected from the table labels)",
    "section": "report section number (2 = 二 主动公开, 3 = 三 申请, 4 = 四 复议诉讼)",
    "table_key": "table key (see dictionary rows with kind=table)", "row_key": "row key", "col_key": "column key",
    "value": "the number printed (DECIMAL(18,4)); NULL for blank/dash/unparsed; 无 = 0",
    "raw": "the cell text as printed", "status": "reported | blank | dash | none_text | layout_suspect | missing | unparsed",
    "flags": "what the extractor had to guess (fuzzy_label, realigned, ...) or value_rounded/value_overflow",
    "raw_row_label": "row label as printed", "raw_col_label": "column label as printed",
    "report_id": "warehouse report id (stable within one warehouse)", "version": "1 = first publication of the unit x year",
    "sha256": "sha256 of the source document (the raw archive key)", "source_url": "where the document was fetched",
    "extractor_version": "version of the extractor that produced the record",
}

# unit of a value by (template, table, col); the spec's §7.1
_AMOUNT_COLS = {"fee_amount": "万元", "procurement_amount": "万元"}
_TABLE_UNIT = {"s3_applications": "件 (applications)", "s4_review_litigation": "件 (cases)",
               "s2_regulatory_documents": "件 (documents)", "s2_licensing": "件 (decisions)",
               "s2_penalty_coercion": "件 (decisions)", "s2_fees": "项 (items)", "s2_procurement": "个 (projects)"}
_TABLE_MEANING = {
    "s2_regulatory_documents": "第二十条第（一）项: rules (规章) and normative documents made/repealed/in force",
    "s2_licensing": "第二十条第（五）项: administrative licensing (and, gov2019, other external services)",
    "s2_penalty_coercion": "第二十条第（六）项: administrative penalty and coercion decisions",
    "s2_fees": "第二十条第（八）项: administrative fees",
    "s2_procurement": "第二十条第（九）项: centralized government procurement (gov2019 only)",
    "s3_applications": "三: disclosure applications received and how they were handled, by applicant type",
    "s4_review_litigation": "四: administrative reviews and lawsuits about disclosure, by outcome",
}


def value_unit(table: str, col: str) -> str:
    if col in _AMOUNT_COLS:
        return _AMOUNT_COLS[col]
    if col in ("items_last_year", "items_change"):
        return "项 (items)"
    if table == "s2_procurement" and col == "procurement_projects":
        return "个 (projects)"
    return _TABLE_UNIT.get(table, "")


def data_dictionary(schema_path: Path = SCHEMA_JSON) -> list[dict]:
    """One entry per (template, table) and per row/col key, from schema.json, plus the export columns."""
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    out: list[dict] = []
    for template, spec in sorted(schema["templates"].items()):
        for t in spec["tables"]:
            tk, cap = t["table"], t.get("caption", "")
            out.append(dict(kind="table", template=template, table_key=tk, key=tk, label_zh=cap, group_zh="",
                            unit="", meaning=_TABLE_MEANING.get(tk, cap)))
            for r in t["rows"]:
                grp = r.get("group") or ""
                path = " > ".join(x for x in (grp, r["label"]) if x)
                out.append(dict(kind="row", template=template, table_key=tk, key=r["key"], label_zh=r["label"],
                                group_zh=grp, unit=_TABLE_UNIT.get(tk, ""),
                                meaning=f"row of {tk}: {path}"))
            for c in t["cols"]:
                out.append(dict(kind="col", template=template, table_key=tk, key=c["key"], label_zh=c["label"],
                                group_zh="", unit=value_unit(tk, c["key"]),
                                meaning=f"column of {tk}: {c['label']} (value unit {value_unit(tk, c['key'])})"))
    for col, meaning in COLUMN_MEANINGS.items():
        out.append(dict(kind="column", template="", table_key="cells", key=col, label_zh="", group_zh="",
                        unit="", meaning=meaning))
    return out


def _queries(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    years = [r[0] for r in con.execute(
        "SELECT DISTINCT year FROM reports WHERE is_current AND year IS NOT NULL ORDER BY year").fetchall()]
    cols = ", ".join(CELL_COLUMNS)
    # v_cells_current's rows, in a cheap total order: report, then the order the extractor emitted the cells
    # (rowid). Sorting 48M rows by string keys took minutes; integers keep the export well under a minute.
    out = [(f"cells/year={y}/part-0.parquet",
            f"""SELECT {cols} FROM (
                  SELECT u.*, r.year, r.template, c.*, r.version, r.sha256, r.source_url, r.extractor_version,
                         c.rowid AS _pos
                  FROM cells c JOIN reports r ON r.report_id = c.report_id AND r.is_current AND r.year = {int(y)}
                  JOIN units u ON u.unit_key = r.unit_key)
                ORDER BY report_id, _pos""") for y in years]
    rcols = ("report_id, sha256, unit_key, year, version, is_current, unit_name_printed, title, template, fmt, "
             "source_url, portal_id, fetched_at, published_at, extractor_version, status, n_cells, "
             "n_checks_failed, warnings")
    out.append(("reports/reports.parquet",
                f"SELECT {rcols} FROM reports ORDER BY unit_key, year NULLS FIRST, version, sha256"))
    out.append(("units/units.parquet", "SELECT * FROM units ORDER BY unit_key"))
    for t in ("checks", "narrative"):
        out.append((f"{t}/{t}.parquet",
                    f"SELECT r.sha256, r.unit_key, r.year, r.is_current, x.* FROM {t} x "
                    "JOIN reports r USING (report_id) ORDER BY r.unit_key, r.year NULLS FIRST, r.sha256, x.seq"))
    return out


def _write_parquet(con: duckdb.DuckDBPyConnection, sql: str, path: Path) -> int:
    """DuckDB's parallel parquet writer; with an ORDER BY and insertion order preserved its output is a
    function of the rows alone (fixed row-group size, no timestamps), which the tests check byte for byte."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con.execute("SET preserve_insertion_order = true")
    q = str(path).replace("'", "''")
    n = con.execute(f"COPY ({sql}) TO '{q}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {ROW_GROUP})"
                    ).fetchall()[0][0]
    return int(n)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def export(con: duckdb.DuckDBPyConnection, to: Path | str) -> dict:
    """Write the export to `to` atomically and return the manifest."""
    to = Path(to).resolve()
    to.parent.mkdir(parents=True, exist_ok=True)
    tmp = to.parent / f".{to.name}.tmp-{os.getpid()}"
    for stale in to.parent.glob(f".{to.name}.tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)
    tmp.mkdir()
    try:
        files = []
        for rel, sql in _queries(con):
            rows = _write_parquet(con, sql, tmp / rel)
            files.append((rel, rows))
        dd = data_dictionary()
        (tmp / "dictionary.json").write_text(json.dumps(dd, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        buf = io.StringIO()
        wr = csv.DictWriter(buf, fieldnames=list(dd[0]), lineterminator="\n")
        wr.writeheader()
        wr.writerows(dd)
        (tmp / "dictionary.csv").write_text(buf.getvalue(), encoding="utf-8")
        files += [("dictionary.json", len(dd)), ("dictionary.csv", len(dd))]
        version = con.execute("SELECT max(version) FROM schema_version").fetchall()[0][0]
        manifest = {"format": 1, "schema_version": version, "files": [
            {"path": rel, "rows": rows, "bytes": (tmp / rel).stat().st_size, "sha256": _sha256(tmp / rel)}
            for rel, rows in sorted(files)]}
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
        old = to.parent / f".{to.name}.old-{os.getpid()}"
        if to.exists():
            to.rename(old)
        tmp.rename(to)
        shutil.rmtree(old, ignore_errors=True)
        return manifest
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def read_back_cells(to: Path | str) -> pa.Table:
    """The exported cells as one table (hive year column restored), for round-trip checks."""
    import pyarrow.dataset as ds

    return ds.dataset(Path(to) / "cells", format="parquet", partitioning="hive").to_table()
