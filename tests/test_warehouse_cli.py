"""`gongkai load | query | compare | export` end to end, from `gongkai extract`-style JSON Lines."""

from __future__ import annotations

import json

import pytest
from test_warehouse_data import demo_items

from flows.cli import main


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    with open(d / "extract.jsonl", "w", encoding="utf-8") as fh:
        for it in demo_items():
            for r in it.extraction.records():
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    return d


def test_load_query_compare_export(data, capsys) -> None:
    dd = ["--data-dir", str(data / "wh")]
    assert main(["load", str(data / "extract.jsonl"), *dd]) == 0
    assert "8 inserted" in capsys.readouterr().out
    assert main(["load", str(data / "extract.jsonl"), *dd]) == 0
    assert capsys.readouterr().out.startswith("no change")

    assert main(["query", "SELECT unit_name, year, applications_received FROM v_unit_year "
                 "WHERE county = '卫辉市' AND level = 'township' ORDER BY 1, 2", "--format", "csv", *dd]) == 0
    # JSONL carries no publication dates, so A 2023's current version is the one loaded last (v1: 20)
    assert capsys.readouterr().out.splitlines() == [
        "unit_name,year,applications_received", "上乐村镇,2022,10", "上乐村镇,2023,20", "唐庄镇,2022,4",
        "唐庄镇,2023,8"]
    assert main(["query", "SELECT count(*) AS n FROM v_quality WHERE kind = 'SR5'", "--format", "json", *dd]) == 0
    assert json.loads(capsys.readouterr().out) == [{"n": 1}]
    assert main(["query", "SELECT * FROM nope", *dd]) == 2

    assert main(["compare", "--county", "卫辉市", "--format", "csv", *dd]) == 0
    assert capsys.readouterr().out.splitlines() == ["unit,2022,2023", "上乐村镇,10,20", "唐庄镇,4,8", "卫辉市,30,25"]
    assert main(["compare", "--county", "410781", "--metric", "granted", *dd]) == 0
    out = capsys.readouterr().out
    assert "上乐村镇" in out and "唐庄镇" in out
    assert main(["compare", "--county", "卫辉市", "--metric", "nope", *dd]) == 2

    assert main(["export", "--to", str(data / "out"), *dd]) == 0
    assert (data / "out" / "manifest.json").exists()


def test_query_without_warehouse(tmp_path, capsys) -> None:
    assert main(["query", "SELECT 1", "--data-dir", str(tmp_path)]) == 1
    assert "no warehouse" in capsys.readouterr().err


def test_jsonl_carries_title_and_hints_to_the_warehouse(tmp_path, capsys) -> None:
    """`gongkai extract` JSON Lines keep the title and the placement hints (county named in the body, the
    province's regulations, phone area codes), so a JSONL load places a bare township as an in-process
    load would: seed 001's 苏店镇 only says 上党区 in its body."""
    from pathlib import Path

    from sql.load import items_from_jsonl
    from transform.pipeline import extract_path

    seeds = sorted((Path(__file__).parent / "fixtures" / "seeds").glob("00[14]_*.txt"))
    assert main(["extract", *map(str, seeds)]) == 0
    (tmp_path / "x.jsonl").write_text(capsys.readouterr().out, encoding="utf-8")
    items = {it.extraction.meta.source: it.extraction.meta for it in items_from_jsonl([tmp_path / "x.jsonl"])}
    for p in seeds:
        want, got = extract_path(p).meta, items[str(p)]
        assert (got.title, got.county_hint, got.province_hint, got.phone_area_codes) == (
            want.title, want.county_hint, want.province_hint, want.phone_area_codes)
    assert items[str(seeds[0])].county_hint == "上党区"
    assert items[str(seeds[1])].phone_area_codes == ["0379"]

    dd = ["--data-dir", str(tmp_path / "wh")]
    assert main(["load", str(tmp_path / "x.jsonl"), *dd]) == 0
    capsys.readouterr()
    assert main(["query", "SELECT unit_name, county FROM v_unit_year WHERE unit_name = '苏店镇'",
                 "--format", "csv", *dd]) == 0
    assert capsys.readouterr().out.splitlines() == ["unit_name,county", "苏店镇,上党区"]
