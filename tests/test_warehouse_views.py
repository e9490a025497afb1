"""Every view's numbers on the demo fixture (see test_warehouse_data.py for how they were derived)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from test_warehouse_data import demo_items

from sql import connect
from sql.load import load_extractions

A, B, C = "410781/上乐村", "410781/唐庄", "410781"


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    c = connect(tmp_path_factory.mktemp("wh"))
    load_extractions(c, demo_items())
    yield c
    c.close()


def one(con, sql, *params):
    rows = con.execute(sql, list(params)).fetchall()
    assert len(rows) == 1, rows
    return rows[0]


def test_every_view_answers(con) -> None:
    views = [r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()]
    for v in ("v_cells_current", "v_applications_wide", "v_unit_year", "v_yoy", "v_rank_in_county",
              "v_county_rollup", "v_quality", "v_coverage", "v_cross_year"):
        assert v in views
        con.execute(f"SELECT count(*) FROM {v}").fetchall()[0]


def test_cells_current_has_required_columns_and_only_current_versions(con) -> None:
    cols = [r[0] for r in con.execute("DESCRIBE v_cells_current").fetchall()]
    for c in ("unit_name", "county", "year", "template", "table_key", "row_key", "col_key", "value", "status",
              "source_url"):
        assert c in cols
    v, url, sha = one(con, """SELECT value, source_url, sha256 FROM v_cells_current WHERE unit_key = ? AND year = 2023
                             AND table_key = 's3_applications' AND row_key = 'new_requests' AND col_key = 'total'""", A)
    assert (v, url, sha) == (12, "http://demo.gov.cn/a23v2.html", "a23v2")
    # 8 reports, 7 current (A 2023 v1 superseded); each has 175 s3 + 15 s4 + 3 s2 cells (+1 fee for A 2023)
    assert one(con, "SELECT count(DISTINCT report_id), count(*) FROM v_cells_current") == (7, 7 * 193 + 1)
    assert one(con, "SELECT county, unit_name FROM v_cells_current WHERE unit_key = ? LIMIT 1", B) == ("卫辉市", "唐庄镇")


def test_applications_wide(con) -> None:
    assert one(con, "SELECT count(*) FROM v_applications_wide")[0] == 7
    row = one(con, """SELECT new_requests__total, carried_over_from_last_year__total, result_granted__natural_person,
                             unavailable_not_held__total, carried_forward__total, new_requests__commercial_enterprise
                      FROM v_applications_wide WHERE unit_key = ? AND year = 2023""", A)
    assert row == (12, 1, 6, 1, 1, 0)
    ncols = len(con.execute("DESCRIBE v_applications_wide").fetchall())
    assert ncols == 12 + 26 * 7


def test_unit_year(con) -> None:
    row = one(con, """SELECT applications_received, carried_over, granted, partially_granted, denied, unavailable,
                             not_processed, other_processed, total_processed, carried_forward, granted_rate,
                             reviews, reviews_corrected, litigations, correction_rate, proactive_disclosures,
                             fee_amount, regulations_issued, normative_issued
                      FROM v_unit_year WHERE unit_key = ? AND year = 2023""", A)
    assert row == (12, 1, 6, 2, 1, 2, 1, 0, 12, 1, 0.5, 3, 1, 1, 0.3333, 149, Decimal("0.1234"), 0, 1)
    row = one(con, """SELECT applications_received, granted, denied, unavailable, total_processed, granted_rate,
                             denied_rate, unavailable_rate, correction_rate
                      FROM v_unit_year WHERE unit_key = ? AND year = 2022""", A)
    assert row == (10, 5, 1, 2, 9, 0.5556, 0.1111, 0.2222, None)
    assert one(con, "SELECT count(*) FROM v_unit_year")[0] == 7
    # one county's rows, as an analyst would ask
    got = con.execute("""SELECT unit_name, year, applications_received FROM v_unit_year WHERE county = '卫辉市'
                         ORDER BY level DESC, unit_name, year""").fetchall()
    assert got == [("上乐村镇", 2022, 10), ("上乐村镇", 2023, 12), ("唐庄镇", 2022, 4), ("唐庄镇", 2023, 8),
                   ("卫辉市", 2022, 30), ("卫辉市", 2023, 25)]
    assert one(con, "SELECT licensing_decisions, regulations_issued FROM v_unit_year WHERE unit_key = ? AND year = 2023",
               B) == (-3, 1)


def test_yoy(con) -> None:
    assert one(con, """SELECT prev_year, prev_value, value, change, pct_change FROM v_yoy
                       WHERE unit_key = ? AND metric = 'applications_received' AND year = 2023""", A) == \
        (2022, 10, 12, 2, 0.2)
    assert one(con, """SELECT change, pct_change FROM v_yoy WHERE unit_key = ? AND metric = 'applications_received'
                       AND year = 2023""", B) == (4, 1.0)
    assert one(con, "SELECT count(*) FROM v_yoy WHERE year = 2022")[0] == 0
    # D has one year only: no year-over-year rows
    assert one(con, "SELECT count(*) FROM v_yoy WHERE unit_name = '城关镇'")[0] == 0


def test_rank_in_county(con) -> None:
    got = con.execute("""SELECT year, unit_name, value, rank_in_county, townships_in_county FROM v_rank_in_county
                         WHERE metric = 'applications_received' ORDER BY year, rank_in_county""").fetchall()
    assert got == [(2022, "上乐村镇", 10, 1, 2), (2022, "唐庄镇", 4, 2, 2),
                   (2023, "上乐村镇", 12, 1, 2), (2023, "唐庄镇", 8, 2, 2)]


def test_county_rollup(con) -> None:
    got = con.execute("""SELECT year, townships_sum, townships_reporting, county_value, county_minus_townships
                         FROM v_county_rollup WHERE county_code = ? AND metric = 'applications_received'
                         ORDER BY year""", [C]).fetchall()
    assert got == [(2022, 14, 2, 30, 16), (2023, 20, 2, 25, 5)]
    assert one(con, "SELECT count(*) FROM v_county_rollup WHERE metric LIKE '%_rate'")[0] == 0


def test_cross_year_soft_rules(con) -> None:
    got = con.execute("""SELECT unit_key, col_key, expected, actual, passed FROM v_cross_year
                         WHERE rule = 'SR1' AND col_key IN ('total', 'natural_person') ORDER BY unit_key, col_key""").fetchall()
    assert got == [(C, "natural_person", 0, 0, True), (C, "total", 0, 0, True),
                   (A, "natural_person", 1, 1, True), (A, "total", 1, 1, True),
                   (B, "natural_person", 0, 2, False), (B, "total", 0, 2, False)]
    assert one(con, "SELECT count(*), count(*) FILTER (WHERE NOT passed) FROM v_cross_year WHERE rule = 'SR1'") == \
        (21, 2)  # 3 units with two years x 7 columns; only B fails


def test_quality(con) -> None:
    got = {(r[0], r[1], r[2]) for r in con.execute(
        "SELECT unit_name, year, kind FROM v_quality WHERE is_current").fetchall()}
    assert got == {("上乐村镇", 2022, "cell"), ("唐庄镇", 2023, "check"), ("唐庄镇", 2023, "negative"),
                   ("唐庄镇", 2023, "SR5"), ("唐庄镇", 2023, "cross_year"), ("城关镇", 2023, "unit"),
                   ("城关镇", 2023, "large")}
    reasons = dict(con.execute("SELECT kind, reason FROM v_quality WHERE unit_key = ? AND kind <> 'cross_year'",
                               [B]).fetchall())
    assert "H3" in reasons["check"] and "expected 8" in reasons["check"] and "printed 9" in reasons["check"]
    assert "-3" in reasons["negative"]
    assert "规章" in reasons["SR5"]
    assert "99 gazetteer candidates" in one(con, "SELECT reason FROM v_quality WHERE kind = 'unit'")[0]
    assert "realigned" in one(con, "SELECT reason FROM v_quality WHERE kind = 'cell'")[0]
    assert one(con, "SELECT count(*), max(value) FROM v_quality WHERE kind = 'large'") == (2, 999999)  # upheld + total


def test_coverage(con) -> None:
    got = con.execute("SELECT unit_name, year, versions, coverage FROM v_coverage ORDER BY unit_key, year").fetchall()
    assert got == [("卫辉市", 2022, 1, "present"), ("卫辉市", 2023, 1, "present"),
                   ("上乐村镇", 2022, 1, "present"), ("上乐村镇", 2023, 2, "present"),
                   ("唐庄镇", 2022, 1, "present"), ("唐庄镇", 2023, 1, "present"),
                   ("城关镇", 2022, 0, "missing"), ("城关镇", 2023, 1, "present")]


def test_history_stays_queryable(con) -> None:
    got = con.execute("SELECT sha256, version, is_current FROM reports WHERE unit_key = ? AND year = 2023 ORDER BY version",
                      [A]).fetchall()
    assert got == [("a23v1", 1, False), ("a23v2", 2, True)]
    assert one(con, """SELECT value FROM cells JOIN reports USING (report_id) WHERE sha256 = 'a23v1'
                       AND row_key = 'new_requests' AND col_key = 'total'""")[0] == 20
