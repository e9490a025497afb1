"""Export: hive-partitioned parquet round-trips to v_cells_current, is byte-identical when re-run, atomic."""

from __future__ import annotations

import hashlib
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_warehouse_data import demo_items

import sql.export as export_mod
from sql import connect
from sql.export import CELL_COLUMNS, data_dictionary, export, read_back_cells
from sql.load import load_extractions


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    c = connect(tmp_path_factory.mktemp("wh"))
    load_extractions(c, demo_items())
    yield c
    c.close()


def tree(d) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def test_layout_and_manifest(con, tmp_path) -> None:
    out = tmp_path / "export"
    m = export(con, out)
    paths = [f["path"] for f in m["files"]]
    assert "cells/year=2022/part-0.parquet" in paths and "cells/year=2023/part-0.parquet" in paths
    for p in ("reports/reports.parquet", "units/units.parquet", "checks/checks.parquet",
              "narrative/narrative.parquet", "dictionary.json", "dictionary.csv"):
        assert p in paths
    for f in m["files"]:
        assert hashlib.sha256((out / f["path"]).read_bytes()).hexdigest() == f["sha256"]
        if f["path"].endswith(".parquet"):
            assert pq.ParquetFile(out / f["path"]).metadata.num_rows == f["rows"]
    assert json.loads((out / "manifest.json").read_text()) == m
    rows = {f["path"]: f["rows"] for f in m["files"]}
    assert rows["cells/year=2022/part-0.parquet"] == 3 * 193
    assert rows["cells/year=2023/part-0.parquet"] == 4 * 193 + 1
    assert rows["reports/reports.parquet"] == 8
    assert not list(tmp_path.glob(".export.*"))


def test_round_trip_equals_view(con, tmp_path) -> None:
    export(con, tmp_path / "e")
    t = read_back_cells(tmp_path / "e")
    assert set(t.column_names) == {*CELL_COLUMNS, "year"}
    cols = ["year", *CELL_COLUMNS]
    back = sorted(tuple(r[c] for c in cols) for r in t.to_pylist())
    view = sorted(con.execute(f"SELECT {', '.join(cols)} FROM v_cells_current").fetchall())
    assert back == view


def test_reexport_is_byte_identical(con, tmp_path) -> None:
    export(con, tmp_path / "one")
    export(con, tmp_path / "two")
    export(con, tmp_path / "two")  # over an existing export
    assert tree(tmp_path / "one") == tree(tmp_path / "two")


def test_killed_export_keeps_previous(con, tmp_path, monkeypatch) -> None:
    out = tmp_path / "x"
    export(con, out)
    before = tree(out)
    real = export_mod._write_parquet
    calls = []

    def dies(c, q, path):
        calls.append(path)
        if len(calls) == 3:
            raise KeyboardInterrupt("killed")
        return real(c, q, path)

    monkeypatch.setattr(export_mod, "_write_parquet", dies)
    with pytest.raises(KeyboardInterrupt):
        export(con, out)
    assert tree(out) == before
    assert not list(tmp_path.glob(".x.*"))


def test_kill_between_the_renames_is_recovered(con, tmp_path) -> None:
    """Killed after the old export was moved aside and before the new one took its place: the next
    export (or a bare `recover`) puts the complete previous export back first; nothing is left behind."""
    out = tmp_path / "x"
    export(con, out)
    before = tree(out)
    out.rename(tmp_path / ".x.old-4242")  # the state the kill leaves
    (tmp_path / ".x.tmp-4242").mkdir()
    export_mod.recover(out)
    assert tree(out) == before
    export(con, out)
    assert tree(out) == before and not list(tmp_path.glob(".x.*"))


def test_data_dictionary_covers_every_key() -> None:
    schema = json.loads(export_mod.SCHEMA_JSON.read_text(encoding="utf-8"))
    dd = data_dictionary()
    have = {(e["template"], e["table_key"], e["kind"], e["key"]) for e in dd}
    for template, spec in schema["templates"].items():
        for t in spec["tables"]:
            assert (template, t["table"], "table", t["table"]) in have
            for r in t["rows"]:
                assert (template, t["table"], "row", r["key"]) in have
            for c in t["cols"]:
                assert (template, t["table"], "col", c["key"]) in have
    for e in dd:
        assert e["meaning"]
        if e["kind"] in ("row", "col"):
            assert e["label_zh"] and e["unit"], e
    fee = next(e for e in dd if e["key"] == "fee_amount")
    assert fee["unit"] == "万元" and fee["label_zh"].startswith("本年收费金额")


# ---- the cells writer (sql/export.py: chunked scan, dictionary columns, a writer thread per year) -------

VIEW_ORDERED = """
    SELECT r.year, u.unit_key, u.unit_name, u.level, u.province, u.prefecture, u.county, u.county_code, u.township,
           r.template, c.section, c.table_key, c.row_key, c.col_key, c.value, c.raw, c.status, c.flags,
           c.raw_row_label, c.raw_col_label, r.report_id, r.version, r.sha256, r.source_url, r.extractor_version
    FROM cells c JOIN reports r ON r.report_id = c.report_id AND r.is_current JOIN units u ON u.unit_key = r.unit_key
    WHERE r.year IS NOT NULL ORDER BY r.year, r.report_id, c.rowid"""  # v_cells_current's rows, in export order


@pytest.fixture()
def odd(tmp_path):
    """The demo warehouse plus what the demo lacks: NULLs in the cell columns, flags, an empty year, a
    report without a unit row, a report without a year, cells out of report order."""
    c = connect(tmp_path / "odd")
    load_extractions(c, demo_items())
    c.execute("UPDATE cells SET value = NULL, raw = NULL, status = 'blank' WHERE report_id = 4 AND row_key = 'new_requests'")
    c.execute("UPDATE cells SET raw = '—', status = 'dash', value = NULL WHERE report_id = 1 AND col_key = 'other_org'")
    c.execute("UPDATE cells SET raw_row_label = NULL, section = NULL WHERE report_id = 6 AND col_key = 'total'")
    c.execute("UPDATE cells SET flags = ['fuzzy_label', 'realigned'] WHERE report_id = 7 AND row_key = 'total_processed'")
    c.execute("UPDATE reports SET year = NULL WHERE report_id = 8")
    c.execute("INSERT INTO reports (report_id, sha256, unit_key, year, status, n_cells, n_checks_failed, loaded_at) "
              "VALUES (100, 'empty', '410781', 2021, 'no_tables', 0, 0, now()), "
              "(101, 'orphan', 'no/such unit', 2022, 'ok', 193, 0, now())")
    c.execute("INSERT INTO cells SELECT 101, table_key, row_key, col_key, value, raw, status, flags, raw_row_label, "
              "raw_col_label, section FROM cells WHERE report_id = 1")
    # a second copy of report 2's cells after everything else, the first copy deleted: out of rowid order
    c.execute("INSERT INTO cells SELECT * FROM cells WHERE report_id = 2 AND row_key = 'total_processed'")
    c.execute("DELETE FROM cells WHERE rowid IN (SELECT min(rowid) FROM cells WHERE report_id = 2 "
              "AND row_key = 'total_processed' GROUP BY table_key, row_key, col_key)")
    yield c
    c.close()


def _files(out) -> list:
    return sorted((out / "cells").glob("year=*/part-0.parquet"))


def _read_back_duckdb(out) -> list[tuple]:
    import duckdb

    rows = []
    for f in _files(out):
        year = int(f.parent.name.split("=")[1])
        rows += [(year, *r) for r in duckdb.sql(
            f"SELECT {', '.join(CELL_COLUMNS)} FROM read_parquet('{f}', hive_partitioning = false)").fetchall()]
    return rows


def test_cells_round_trip_in_order_with_nulls_chunks_and_row_groups(odd, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(export_mod, "ROW_GROUP", 100)
    monkeypatch.setattr(export_mod, "CHUNK_ROWS", 250)  # several chunks; row groups span chunks
    out = tmp_path / "e"
    m = export(odd, out)
    expected = odd.execute(VIEW_ORDERED).fetchall()
    assert _read_back_duckdb(out) == expected
    rows = {f["path"]: f["rows"] for f in m["files"]}
    assert rows["cells/year=2021/part-0.parquet"] == 0  # a year whose only report has no cells
    assert sum(n for p, n in rows.items() if p.startswith("cells/")) == len(expected)
    schemas = set()
    for f in _files(out):
        meta = pq.ParquetFile(f).metadata
        sizes = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
        assert all(n == 100 for n in sizes[:-1]) and (not sizes or 0 < sizes[-1] <= 100)
        schemas.add(str(pq.ParquetFile(f).schema).split("\n", 1)[1])
    assert len(schemas) == 1  # every year file has the same parquet schema
    # required exactly where the exported data has no NULL (as DuckDB's COPY wrote it)
    schema = pq.read_schema(_files(out)[1])
    optional = {f.name for f in schema if f.nullable}
    assert {"value", "raw", "raw_row_label", "section", "township", "source_url"} <= optional
    assert not optional & {"unit_key", "unit_name", "table_key", "row_key", "col_key", "status", "report_id",
                           "version", "sha256", "raw_col_label", "flags", "county"}
    # deterministic, and independent of how the cell strings travel from DuckDB
    export(odd, tmp_path / "again")
    assert tree(out) == tree(tmp_path / "again")
    monkeypatch.setattr(export_mod, "_modulus", lambda h: None)
    export(odd, tmp_path / "hashes")
    assert tree(out) == tree(tmp_path / "hashes")
    monkeypatch.setattr(export_mod._Coded, "SHARED_MAX", 0)  # row groups' dictionaries: the values they use
    export(odd, tmp_path / "compact")
    assert _read_back_duckdb(tmp_path / "compact") == expected
    f = _files(tmp_path / "compact")[1]
    assert pq.read_table(f, read_dictionary=["row_key"]).column("row_key").chunk(0).dictionary.to_pylist() == \
        sorted(set(pq.read_table(f).column("row_key").to_pylist()[:100]))  # first row group's own values
    monkeypatch.setattr(export_mod._Coded, "MAX_VALUES", 0)  # every cell string column scanned as text
    export(odd, tmp_path / "text")
    assert _read_back_duckdb(tmp_path / "text") == expected


def test_cells_read_back_as_plain_strings(con, tmp_path) -> None:
    """Unit, report and cell strings reach the writer as dictionary arrays; readers see plain strings with
    the view's types."""
    import duckdb
    import polars as pl

    out = tmp_path / "e"
    export(con, out)
    cols = ", ".join(CELL_COLUMNS)
    view_types = [r[1] for r in con.execute(f"DESCRIBE SELECT {cols} FROM v_cells_current").fetchall()]
    glob = out / "cells" / "*" / "*.parquet"
    hive = duckdb.sql(f"SELECT * FROM read_parquet('{glob}', hive_partitioning = true)")
    assert dict(zip(hive.columns, hive.types, strict=True))["year"] in ("BIGINT", "INTEGER")
    assert [str(t) for t in duckdb.sql(f"SELECT {cols} FROM read_parquet('{glob}')").types] == view_types
    expected = con.execute(VIEW_ORDERED).fetchall()
    assert _read_back_duckdb(out) == expected
    for f in _files(out):
        schema = pq.read_schema(f)
        assert not any(pa.types.is_dictionary(t) for t in schema.types)
        assert schema.field("unit_key").type == schema.field("raw").type == "string"
        df = pl.read_parquet(f)
        assert all(df.schema[c] == pl.String for c in CELL_COLUMNS if view_types[CELL_COLUMNS.index(c)] == "VARCHAR")
        year = int(f.parent.name.split("=")[1])
        assert [(year, *r) for r in df.select(list(CELL_COLUMNS)).rows()] == [r for r in expected if r[0] == year]
    t = read_back_cells(out)
    assert not any(pa.types.is_dictionary(x) for x in t.schema.types)


def test_export_order_matches_a_full_sort() -> None:
    import numpy as np

    rng = np.random.default_rng(1)
    for trial in range(200):
        ids_all = np.sort(rng.choice(1000, size=int(rng.integers(1, 30)), replace=False))
        g_ids = rng.permutation(ids_all[rng.random(len(ids_all)) < 0.7])  # exported reports, in g order
        by_id = np.argsort(g_ids, kind="stable")
        n = int(rng.integers(0, 200))
        rid = rng.choice(ids_all, size=n)
        if trial % 2:  # runs of one report, as a chunk holds them
            rid = np.sort(rid) if trial % 4 == 1 else rid[np.argsort(rng.integers(0, 5, n), kind="stable")]
        rowid = np.arange(n) * 3 + 5
        if trial % 3 == 0:  # not in rowid order: the full sort
            rowid = rng.permutation(rowid)
        rows, g = export_mod._export_order(rid, rowid, g_ids[by_id], by_id)
        g_of = {int(r): i for i, r in enumerate(g_ids)}
        want = sorted((g_of[int(rid[i])], int(rowid[i]), i) for i in range(n) if int(rid[i]) in g_of)
        assert rows.tolist() == [w[2] for w in want] and g.tolist() == [w[0] for w in want]


def test_failure_in_a_year_writer_or_the_scan_keeps_previous(con, tmp_path, monkeypatch) -> None:
    import threading

    out = tmp_path / "x"
    export(con, out)
    before = tree(out)
    monkeypatch.setattr(export_mod, "ROW_GROUP", 100)
    monkeypatch.setattr(export_mod, "CHUNK_ROWS", 250)
    real_write, real_order = export_mod._YearWriter._write, export_mod._export_order
    calls = []

    def write_fails(self, *a):
        calls.append(1)
        if len(calls) == 3:
            raise OSError("disk full")
        return real_write(self, *a)

    monkeypatch.setattr(export_mod._YearWriter, "_write", write_fails)
    with pytest.raises(OSError, match="disk full"):
        export(con, out)
    assert tree(out) == before and not list(tmp_path.glob(".x.*"))
    assert not [t for t in threading.enumerate() if t.name.startswith("export-")]
    monkeypatch.setattr(export_mod._YearWriter, "_write", real_write)

    def scan_killed(*a):
        calls.append(2)
        if calls.count(2) == 3:
            raise KeyboardInterrupt
        return real_order(*a)

    monkeypatch.setattr(export_mod, "_export_order", scan_killed)
    with pytest.raises(KeyboardInterrupt):
        export(con, out)
    assert tree(out) == before and not list(tmp_path.glob(".x.*"))
    assert not [t for t in threading.enumerate() if t.name.startswith("export-")]
