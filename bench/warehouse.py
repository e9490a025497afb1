"""Warehouse benchmark: a synthetic warehouse of UNITS townships x YEARS years x 200 gov2021 cells.

Figures printed (targets from issue 4, on 2 cores):
  load throughput  cells/s of sql.load.load_batch (parquet -> Arrow -> merge, one transaction per batch),
                   as a fraction of DuckDB reading the same rows from the same parquet files into a table
                   (target >= 50%)
  reload           the same batch again: must report all unchanged
  v_unit_year      one county's rows (target < 1 s)
  export           full `gongkai export` (target < 60 s; the CPU seconds are printed too, the machine
                   being shared)
  peak memory      max RSS of this process (DuckDB runs in-process, so it is included)

Run: .venv/bin/python bench/warehouse.py [--units 40000] [--years 6] [--work bench/out/warehouse]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sql import connect  # noqa: E402
from sql.export import export  # noqa: E402
from sql.load import (  # noqa: E402
    CELL_DICT_COLUMNS,
    CELL_SCHEMA,
    CHECK_SCHEMA,
    NARRATIVE_SCHEMA,
    REPORT_SCHEMA,
    UNIT_SCHEMA,
    load_batch,
)

TOWNSHIPS_PER_COUNTY = 40


def cell_keys() -> list[tuple[str, str, str, str, str, int]]:
    schema = json.loads((ROOT / "transform" / "schema.json").read_text(encoding="utf-8"))
    out = []
    for t in schema["templates"]["gov2021"]["tables"]:
        for r in t["rows"]:
            for c in t["cols"]:
                out.append((t["table"], r["key"], c["key"], r["label"], c["label"], t["section"]))
    return out


def gen_batch(first_report: int, n_reports: int, years: int, keys: list, rng: np.random.Generator):
    """Reports first_report .. first_report+n_reports (report i = unit i // years, year 2019 + i % years)."""
    ids = np.arange(first_report, first_report + n_reports)
    unit = ids // years
    year = 2019 + ids % years
    county = unit // TOWNSHIPS_PER_COUNTY
    unit_key = pa.array([f"{900000 + c}/镇{u}" for c, u in zip(county, unit, strict=True)])
    reports = pa.table({
        "doc": pa.array(np.arange(n_reports, dtype=np.int32)),
        "sha256": pa.array([f"{i:064x}" for i in ids]),
        "unit_key": unit_key, "year": pa.array(year.astype(np.int32)),
        "unit_name_printed": pa.array([f"镇{u}" for u in unit]),
        "title": pa.array([f"镇{u}{y}年政府信息公开工作年度报告" for u, y in zip(unit, year, strict=True)]),
        "template": pa.array(["gov2021"] * n_reports), "fmt": pa.array(["html"] * n_reports),
        "source_url": pa.array([f"http://bench.gov.cn/{i}.html" for i in ids]),
        "portal_id": pa.nulls(n_reports, pa.string()),
        "fetched_at": pa.nulls(n_reports, pa.timestamp("us")),
        "published_at": pa.nulls(n_reports, pa.timestamp("us")),
        "extractor_version": pa.array(["bench"] * n_reports), "status": pa.array(["ok"] * n_reports),
        "n_cells": pa.array(np.full(n_reports, len(keys), dtype=np.int32)),
        "n_checks_failed": pa.array(np.zeros(n_reports, dtype=np.int32)),
        "warnings": pa.array([[]] * n_reports, pa.list_(pa.string())),
    }, schema=REPORT_SCHEMA)
    k = len(keys)
    idx = pa.array(np.tile(np.arange(k), n_reports))
    col = list(zip(*keys, strict=True))
    values = rng.poisson(2.0, size=n_reports * k).astype(np.int32)  # int32: fits DECIMAL(18,4)
    cells = pa.table({
        "doc": pa.array(np.repeat(np.arange(n_reports, dtype=np.int32), k)),
        "table_key": pa.array(col[0]).take(idx), "row_key": pa.array(col[1]).take(idx),
        "col_key": pa.array(col[2]).take(idx),
        "value": pc.cast(pa.array(values), CELL_SCHEMA.field("value").type),
        "raw": pc.cast(pa.array(values), pa.string()),
        "status": pa.array(["reported"]).take(pa.array(np.zeros(n_reports * k, dtype=np.int64))),
        "flags": pa.array([[]], pa.list_(pa.string())).take(pa.array(np.zeros(n_reports * k, dtype=np.int64))),
        "raw_row_label": pa.array(col[3]).take(idx), "raw_col_label": pa.array(col[4]).take(idx),
        "section": pa.array(np.array(col[5], dtype=np.int8)).take(idx),
    }, schema=CELL_SCHEMA)
    uniq = sorted(set(zip(unit_key.to_pylist(), county, unit, strict=True)))
    units = pa.Table.from_pylist([dict(
        unit_key=key, unit_name=f"镇{u}", level="township", province="测试省", province_code="900000",
        prefecture="测试市", prefecture_code="900100", county=f"县{c}", county_code=str(900000 + c),
        township=f"镇{u}", township_code=None, resolution="gazetteer", candidates=1, evidence="bench")
        for key, c, u in uniq], schema=UNIT_SCHEMA)
    return units, reports, cells


def read_stage(p: dict[str, Path]) -> dict[str, pa.Table]:
    return {n: pq.read_table(p[n], read_dictionary=CELL_DICT_COLUMNS if n == "cells" else None)
            for n in ("units", "reports", "cells")}


def empty(schema: pa.Schema) -> pa.Table:
    return schema.empty_table()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--units", type=int, default=40_000)
    ap.add_argument("--years", type=int, default=6)
    ap.add_argument("--batch-reports", type=int, default=20_000)
    ap.add_argument("--work", type=Path, default=ROOT / "bench" / "out" / "warehouse")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()

    print("load average (1/5/15 min) at start: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    shutil.rmtree(a.work, ignore_errors=True)
    (a.work / "stage").mkdir(parents=True)
    keys = cell_keys()
    rng = np.random.default_rng(7)
    n_reports = a.units * a.years
    t0 = time.perf_counter()
    batches = []
    for b, first in enumerate(range(0, n_reports, a.batch_reports)):
        units, reports, cells = gen_batch(first, min(a.batch_reports, n_reports - first), a.years, keys, rng)
        paths = {n: a.work / "stage" / f"{n}_{b:03d}.parquet" for n in ("units", "reports", "cells")}
        for n, t in (("units", units), ("reports", reports), ("cells", cells)):
            pq.write_table(t, paths[n], compression="zstd")
        batches.append(paths)
    total_cells = n_reports * len(keys)
    print(f"generated {a.units} units x {a.years} years = {n_reports} reports, {total_cells:,} cells "
          f"in {len(batches)} batches ({time.perf_counter() - t0:.1f} s, not timed)")

    import duckdb

    base = duckdb.connect(str(a.work / "baseline.duckdb"))
    base.execute(f"SET threads = {a.threads}")
    t = time.perf_counter()
    base.execute(f"CREATE TABLE cells AS SELECT * FROM read_parquet('{a.work / 'stage'}/cells_*.parquet')")
    base_s = time.perf_counter() - t
    base.close()
    print(f"baseline  DuckDB parquet -> table: {base_s:7.2f} s  {total_cells / base_s:>12,.0f} cells/s")

    con = connect(a.work / "data")
    con.execute(f"SET threads = {a.threads}")
    t = time.perf_counter()
    for p in batches:
        tables = read_stage(p)
        tables["narrative"], tables["checks"] = empty(NARRATIVE_SCHEMA), empty(CHECK_SCHEMA)
        c = load_batch(con, tables)
        assert c.cells_inserted == tables["cells"].num_rows, c
    load_s = time.perf_counter() - t
    ratio = base_s / load_s
    print(f"load      load_batch x {len(batches)}:       {load_s:7.2f} s  {total_cells / load_s:>12,.0f} cells/s  "
          f"= {ratio:.0%} of baseline (target >= 50%) {'OK' if ratio >= 0.5 else 'MISSED'}")

    p = batches[len(batches) // 2]
    tables = read_stage(p)
    tables["narrative"], tables["checks"] = empty(NARRATIVE_SCHEMA), empty(CHECK_SCHEMA)
    t = time.perf_counter()
    c = load_batch(con, tables)
    print(f"reload    one batch again:          {time.perf_counter() - t:7.2f} s  {c.summary()}")
    assert not c.changed

    n_units = con.execute("SELECT count(*) FROM units").fetchall()[0][0]
    county = con.execute("SELECT county_code FROM units ORDER BY unit_key LIMIT 1 OFFSET ?",
                         [n_units // 2]).fetchall()[0][0]
    times = []
    for _ in range(3):
        t = time.perf_counter()
        rows = con.execute("SELECT * FROM v_unit_year WHERE county_code = ?", [county]).fetchall()
        times.append(time.perf_counter() - t)
    qt = sorted(times)[1]
    print(f"query     v_unit_year, one county:  {qt:7.3f} s  ({len(rows)} rows; median of 3) "
          f"{'OK' if qt < 1 else 'MISSED'}")

    t, cpu = time.perf_counter(), time.process_time()
    m = export(con, a.work / "export")
    ex_s, ex_cpu = time.perf_counter() - t, time.process_time() - cpu
    cells_rows = sum(f["rows"] for f in m["files"] if f["path"].startswith("cells/"))
    size = sum(f["bytes"] for f in m["files"])
    print(f"export    full export:              {ex_s:7.2f} s  ({cells_rows:,} cells, {size / 1e6:.0f} MB; "
          f"{ex_cpu:.1f} CPU-s in this process) {'OK' if ex_s < 60 else 'MISSED'}")
    con.close()
    db = (a.work / "data" / "gongkai.duckdb").stat().st_size
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"memory    peak RSS {peak:,.0f} MB; warehouse file {db / 1e9:.2f} GB; threads={a.threads}")
    print("load average (1/5/15 min) at end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
