"""Wrong data from the source is not our error (issue 6, item 5): a township reporting 规章, negative counts,
implausibly large numbers and printed totals that disagree are loaded as printed and listed in v_quality
with the reason. End to end: rendered report bytes → extract_bytes → load → v_quality."""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from extract.demo.render import cell_keys, random_truth, render
from sql import connect
from sql.load import LoadItem, load_extractions

UNIT, TITLE = "卫辉市上乐村镇", "卫辉市上乐村镇人民政府"


def _key(template: str, table: str, not_col: str = "total") -> tuple[str, str, str]:
    return next(k for k in cell_keys(template) if k[0] == table and k[2] != not_col)


def _load(tmp: Path, truths: list, fmt: str = "tab") -> duckdb.DuckDBPyConnection:
    from transform.pipeline import extract_bytes

    items = []
    for i, t in enumerate(truths):
        data = render(t, fmt)
        x = extract_bytes(data, source=f"http://demo.gov.cn/wrong{i}.txt", filename=f"wrong{i}.txt")
        items.append(LoadItem(x, source_url=f"http://demo.gov.cn/wrong{i}.txt"))
    con = connect(tmp)
    load_extractions(con, items)
    return con


def _truth(year: int, **kw: object):  # noqa: ANN202
    return random_truth(random.Random(year), unit=UNIT, unit_title=TITLE, year=year, template="gov2021",
                        zero_share=0.3, **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def wh(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    rules = _truth(2021)
    rules.cells[("s2_regulatory_documents", "regulations", "issued")] = 2
    rules.cells[("s2_regulatory_documents", "regulations", "in_force")] = 5
    neg = _truth(2022)
    neg_key = _key("gov2021", "s3_applications")
    neg.cells[neg_key] = -3
    big = _truth(2023)
    big_key = _key("gov2021", "s3_applications")
    big.cells[big_key] = 5_000_000
    totals = _truth(2024, consistent=False, break_rule="H1")
    assert totals.broken_rules
    con = _load(tmp_path_factory.mktemp("wrong"), [rules, neg, big, totals])
    yield con, {"neg": neg_key, "big": big_key, "broken": totals.broken_rules}
    con.close()


def _quality(con: duckdb.DuckDBPyConnection, year: int, kind: str) -> list[tuple]:
    return con.execute("SELECT rule, table_key, row_key, col_key, value, reason FROM v_quality "
                       "WHERE year = ? AND kind = ?", [year, kind]).fetchall()


def _cell(con: duckdb.DuckDBPyConnection, year: int, key: tuple[str, str, str]) -> tuple:
    return con.execute("SELECT value, raw, status FROM v_cells_current WHERE year = ? AND table_key = ? "
                       "AND row_key = ? AND col_key = ?", [year, *key]).fetchall()[0]


def test_township_reporting_rules(wh) -> None:  # noqa: ANN001
    con, _ = wh
    level = con.execute("SELECT DISTINCT level FROM v_quality WHERE year = 2021").fetchall()
    assert ("township",) in level
    assert _cell(con, 2021, ("s2_regulatory_documents", "regulations", "issued"))[0] == 2  # as printed
    rows = _quality(con, 2021, "SR5")
    assert rows and any("规章" in r[5] and r[3] == "issued" and r[4] == 2 for r in rows), rows


def test_negative_count(wh) -> None:  # noqa: ANN001
    con, keys = wh
    value, raw, _status = _cell(con, 2022, keys["neg"])
    assert value == -3 and "-3" in raw  # loaded as printed
    rows = _quality(con, 2022, "negative")
    assert any(r[1:4] == keys["neg"] and r[4] == -3 and "negative" in r[5] for r in rows), rows


def test_implausibly_large_count(wh) -> None:  # noqa: ANN001
    con, keys = wh
    assert _cell(con, 2023, keys["big"])[0] == Decimal(5_000_000)
    rows = _quality(con, 2023, "large")
    assert any(r[1:4] == keys["big"] and "implausibly large" in r[5] for r in rows), rows


def test_printed_totals_disagree(wh) -> None:  # noqa: ANN001
    con, keys = wh
    rows = _quality(con, 2024, "check")
    rules = {r[0] for r in rows}
    assert set(keys["broken"]) & rules, (keys["broken"], rows)
    assert all("expected" in r[5] and "printed" in r[5] for r in rows)
    # the report is loaded with its printed numbers, not corrected ones
    n = con.execute("SELECT count(*) FROM v_cells_current WHERE year = 2024").fetchall()[0][0]
    assert n > 100


def test_applications_beyond_population(tmp_path: Path) -> None:
    t = _truth(2022)
    key = ("s3_applications", "new_requests", "total")
    t.cells[key] = 90_000  # under the flat 100000 cut-off, far beyond a township of ~30000 people
    con = _load(tmp_path, [t])
    try:
        rows = con.execute("SELECT reason FROM v_quality WHERE kind IN ('large', 'population')").fetchall()
        assert rows
    finally:
        con.close()
