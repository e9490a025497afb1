"""Bulk load: idempotent reload, changed re-extraction, supersession, re-resolution, atomic batches."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from test_warehouse_data import demo_items, doc, s3

import sql.load as load_mod
from sql import connect
from sql.load import LoadCounts, load_extractions, register_portals, to_value
from transform.records import CellRecord


def snapshot(con) -> dict:
    return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
            for t in ("units", "cells", "narrative", "checks")} | {
        "reports": con.execute("SELECT * EXCLUDE (loaded_at, updated_at) FROM reports ORDER BY ALL").fetchall()}


@pytest.fixture()
def con(tmp_path):
    c = connect(tmp_path)
    yield c
    c.close()


def test_first_load_counts(con) -> None:
    n = load_extractions(con, demo_items())
    assert (n.documents, n.reports_inserted, n.reports_updated, n.reports_unchanged) == (8, 8, 0, 0)
    assert n.cells_inserted == 8 * 193 + 1 and n.cells_updated == n.cells_unchanged == n.cells_deleted == 0
    assert n.changed


def test_reload_changes_nothing_and_says_so(con) -> None:
    load_extractions(con, demo_items())
    before = snapshot(con)
    n = load_extractions(con, demo_items(), batch_size=3)
    assert n == LoadCounts(8, 0, 0, 8, 0, 0, 8 * 193 + 1, 0)
    assert not n.changed and n.summary().startswith("no change")
    assert snapshot(con) == before
    assert con.execute("SELECT count(*), sum(reports_unchanged) FROM load_runs").fetchall()[0] == (4, 8)


def test_reload_in_a_fresh_process_order_is_stable(tmp_path) -> None:
    """Same documents, different order and batching: same cells, same current flags."""
    a = connect(tmp_path / "a")
    b = connect(tmp_path / "b")
    load_extractions(a, demo_items())
    load_extractions(b, list(reversed(demo_items())), batch_size=2)
    q = """SELECT unit_key, year, sha256, version, is_current FROM reports ORDER BY sha256"""
    assert a.execute(q).fetchall() == b.execute(q).fetchall()
    q = "SELECT unit_key, year, table_key, row_key, col_key, value FROM v_cells_current ORDER BY ALL"
    assert a.execute(q).fetchall() == b.execute(q).fetchall()


def test_changed_reextraction_updates_in_place(con) -> None:
    load_extractions(con, demo_items())
    items = demo_items()
    x = items[0].extraction  # A 2022, same document, new extractor: one value fixed, one cell dropped
    cells = [dataclasses.replace(c) for c in x.cells]
    cells[0] = dataclasses.replace(cells[0], value=11, raw="11")
    del cells[-1]
    items[0] = dataclasses.replace(items[0], extraction=dataclasses.replace(
        x, cells=cells, meta=dataclasses.replace(x.meta, extractor_version="test-2")))
    n = load_extractions(con, items)
    assert (n.reports_inserted, n.reports_updated, n.reports_unchanged) == (0, 1, 7)
    assert (n.cells_inserted, n.cells_updated, n.cells_deleted) == (0, 1, 1)
    assert n.cells_unchanged == 7 * 193 + 1 + 191
    assert con.execute("SELECT count(*), max(extractor_version) FROM reports WHERE sha256 = 'a22'").fetchall()[0] == \
        (1, "test-2")
    assert con.execute("""SELECT value FROM v_cells_current WHERE sha256 = 'a22' AND row_key = 'new_requests'
                          AND col_key = 'natural_person'""").fetchall()[0][0] == 11


def test_republication_becomes_current_and_history_stays(con) -> None:
    load_extractions(con, demo_items())
    new = doc("b23v2", "卫辉市唐庄镇", 2023, s3(new_requests=9, total_processed=9, result_granted=9),
              published="2024-05-01")
    n = load_extractions(con, [new])
    assert (n.reports_inserted, n.cells_inserted) == (1, 175)
    rows = con.execute("""SELECT sha256, version, is_current FROM reports WHERE unit_key = '410781/唐庄'
                          AND year = 2023 ORDER BY version""").fetchall()
    assert rows == [("b23", 1, False), ("b23v2", 2, True)]
    assert con.execute("""SELECT applications_received FROM v_unit_year WHERE unit_key = '410781/唐庄'
                          AND year = 2023""").fetchall()[0][0] == 9
    # reloading the old version again does not flip it back
    load_extractions(con, demo_items())
    assert con.execute("SELECT sha256 FROM reports WHERE unit_key = '410781/唐庄' AND year = 2023 AND is_current"
                       ).fetchall() == [("b23v2",)]


def test_portal_registered_later_reresolves_without_duplicates(con) -> None:
    load_extractions(con, demo_items())
    assert con.execute("SELECT unit_key FROM reports WHERE sha256 = 'd23'").fetchall()[0][0].startswith("?/")
    register_portals(con, [{"id": "weihui-chengguan", "unit_name": "城关镇", "level": "township",
                            "province": "河南省", "province_code": "410000", "prefecture": "新乡市",
                            "prefecture_code": "410700", "county": "卫辉市", "county_code": "410781",
                            "township": "城关镇", "entry_urls": ["http://demo.gov.cn/"], "family": "trs"}])
    items = demo_items()
    items[-1] = dataclasses.replace(items[-1], portal_id="weihui-chengguan")
    n = load_extractions(con, items)
    assert (n.reports_updated, n.reports_inserted) == (1, 0)
    assert con.execute("SELECT count(*) FROM reports").fetchall()[0][0] == 8
    assert con.execute("SELECT unit_key, portal_id FROM reports WHERE sha256 = 'd23'").fetchall()[0] == \
        ("410781/城关", "weihui-chengguan")
    assert con.execute("SELECT resolution, county FROM units WHERE unit_key = '410781/城关'").fetchall()[0] == \
        ("portal", "卫辉市")
    assert con.execute("SELECT count(*) FROM v_coverage WHERE unit_key = '410781/城关'").fetchall()[0][0] == 2


def test_killed_batch_leaves_warehouse_consistent(con, monkeypatch) -> None:
    load_extractions(con, demo_items()[:2])
    before = snapshot(con)
    real = load_mod._merge

    def dies_after_writing(c):
        real(c)  # everything written ...
        raise KeyboardInterrupt("killed")  # ... then the process is killed before COMMIT

    monkeypatch.setattr(load_mod, "_merge", dies_after_writing)
    with pytest.raises(KeyboardInterrupt):
        load_extractions(con, demo_items())
    assert snapshot(con) == before
    monkeypatch.undo()
    n = load_extractions(con, demo_items())
    assert (n.reports_inserted, n.reports_unchanged) == (6, 2)


def test_source_errors_load_as_printed(con) -> None:
    cells = [CellRecord("s3_applications", "new_requests", "total", -5, "-5", "reported"),
             CellRecord("s3_applications", "total_processed", "total", 10 ** 20, "1" + "0" * 20, "reported"),
             CellRecord("s2_fees", "administrative_fees", "fee_amount", Decimal("1.234567"), "1.234567", "reported")]
    load_extractions(con, [doc("bad", "卫辉市唐庄镇", 2021, cells)])
    got = dict((r[0], (r[1], r[2], r[3])) for r in con.execute(
        "SELECT row_key, value, raw, flags FROM cells").fetchall())
    assert got["new_requests"] == (Decimal("-5"), "-5", [])
    assert got["total_processed"] == (None, "1" + "0" * 20, ["value_overflow"])
    assert got["administrative_fees"] == (Decimal("1.2346"), "1.234567", ["value_rounded"])
    kinds = {r[0] for r in con.execute("SELECT kind FROM v_quality").fetchall()}
    assert {"negative", "cell"} <= kinds


def test_duplicate_document_in_one_batch_loads_once(con) -> None:
    items = demo_items()
    n = load_extractions(con, items + items[:1])
    assert n.reports_inserted == 8 and con.execute("SELECT count(*) FROM reports").fetchall()[0][0] == 8


def test_to_value() -> None:
    assert to_value(3) == (Decimal("3.0000"), [])
    assert to_value(None) == (None, [])
    assert to_value(Decimal("NaN")) == (None, ["value_overflow"])
