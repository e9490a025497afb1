"""Export: hive-partitioned parquet round-trips to v_cells_current, is byte-identical when re-run, atomic."""

from __future__ import annotations

import hashlib
import json

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
