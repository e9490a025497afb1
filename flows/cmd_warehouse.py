"""`gongkai load | query | compare | export`: the warehouse commands (plain functions, no Prefect)."""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tomllib
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from flows.cli import add_data_dir

DB_MISSING = "no warehouse at {}: run `gongkai load` first"


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("load", help="load `gongkai extract` JSON Lines into the DuckDB warehouse")
    p.add_argument("paths", nargs="+", type=Path, help="JSONL files (or directories of *.jsonl)")
    p.add_argument("--portals", type=Path, help="portal registry TOML to register first (e.g. extract/portals.toml)")
    p.add_argument("--batch-size", type=int, default=500, help="documents per transaction")
    add_data_dir(p)
    p.set_defaults(func=cmd_load)

    p = subparsers.add_parser("query", help="run SQL against the warehouse and print the result")
    p.add_argument("sql")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    add_data_dir(p)
    p.set_defaults(func=cmd_query)

    p = subparsers.add_parser("compare", help="township x year matrix of one metric for a county")
    p.add_argument("--county", required=True, help="county name (洛浦县) or 6-digit code")
    p.add_argument("--metric", default="applications_received", help="a v_unit_year column")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    add_data_dir(p)
    p.set_defaults(func=cmd_compare)

    p = subparsers.add_parser("export", help="write parquet + data dictionary + manifest")
    p.add_argument("--to", type=Path, required=True)
    add_data_dir(p)
    p.set_defaults(func=cmd_export)


def read_portals_toml(path: Path) -> list[dict]:
    """Portal rows from a registry TOML: a top-level array of tables (`[[portal]]` or `[[portals]]`)."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    for key in ("portal", "portals"):
        if isinstance(data.get(key), list):
            return [dict(r) for r in data[key]]
    return [dict(v, id=k) for k, v in data.items() if isinstance(v, dict)]


def cmd_load(args: argparse.Namespace) -> int:
    from sql import connect
    from sql.load import items_from_jsonl, load_extractions, register_portals

    files: list[Path] = []
    for p in args.paths:
        files += sorted(p.glob("*.jsonl")) if p.is_dir() else [p]
    missing = [f for f in files if not f.exists()]
    for f in missing:
        print(f"missing: {f}", file=sys.stderr)
    con = connect(args.data_dir)
    try:
        if args.portals:
            print(f"portals registered: {register_portals(con, read_portals_toml(args.portals))}")
        warnings: list[str] = []
        items = items_from_jsonl([f for f in files if f.exists()], warnings)
        counts = load_extractions(con, items, batch_size=args.batch_size)
    finally:
        con.close()
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    print(counts.summary())
    return 1 if missing or warnings else 0


def _open_ro(data_dir: Path):
    from sql import DB_NAME, connect

    if not (data_dir / DB_NAME).exists():
        print(DB_MISSING.format(data_dir / DB_NAME), file=sys.stderr)
        return None
    return connect(data_dir, read_only=True)


def _cell(v: object) -> object:
    if isinstance(v, Decimal):
        return int(v) if v == v.to_integral_value() else float(v.normalize())
    if isinstance(v, datetime | date):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def print_rows(columns: list[str], rows: list[tuple], fmt: str) -> None:
    rows = [tuple(_cell(v) for v in r) for r in rows]
    if fmt == "csv":
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(columns)
        w.writerows(rows)
    elif fmt == "json":
        print(json.dumps([dict(zip(columns, r, strict=True)) for r in rows], ensure_ascii=False, default=str))
    else:
        from rich.console import Console
        from rich.table import Table

        t = Table(*columns)
        for r in rows:
            t.add_row(*("" if v is None else str(v) for v in r))
        Console().print(t)


def cmd_query(args: argparse.Namespace) -> int:
    con = _open_ro(args.data_dir)
    if con is None:
        return 1
    try:
        cur = con.execute(args.sql)
        cols = [d[0] for d in cur.description] if cur.description else []
        print_rows(cols, cur.fetchall() if cols else [], args.format)
    except Exception as e:  # a typo in SQL is a usage error, not a crash
        print(f"query failed: {e}", file=sys.stderr)
        return 2
    finally:
        con.close()
    return 0


def compare_matrix(con, county: str, metric: str) -> tuple[list[str], list[tuple]]:
    """Township x year matrix of `metric` for a county (name or code); the county's own row comes last."""
    valid = {r[0] for r in con.execute("SELECT DISTINCT metric FROM v_unit_year_long").fetchall()}
    cols = {r[0] for r in con.execute("DESCRIBE v_unit_year").fetchall()}
    if metric not in cols and metric not in valid:
        raise ValueError(f"unknown metric {metric!r}")
    rows = con.execute(
        """SELECT unit_name, unit_key, level, year, value FROM v_unit_year_long
           WHERE (county = ? OR county_code = ?) AND metric = ? AND level IN ('township', 'county')""",
        [county, county, metric]).fetchall()
    years = sorted({r[3] for r in rows})
    units: dict[tuple, dict[int, object]] = {}
    for name, key, level, year, value in rows:
        units.setdefault((level != "township", name, key), {})[year] = value
    out = [(name, *(units[(lv, name, key)].get(y) for y in years)) for (lv, name, key) in sorted(units)]
    return ["unit", *map(str, years)], out


def cmd_compare(args: argparse.Namespace) -> int:
    con = _open_ro(args.data_dir)
    if con is None:
        return 1
    try:
        cols, rows = compare_matrix(con, args.county, args.metric)
    except ValueError as e:
        print(str(e), file=sys.stderr)
        return 2
    finally:
        con.close()
    if not rows:
        print(f"no townships found for county {args.county!r}", file=sys.stderr)
        return 1
    print_rows(cols, rows, args.format)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from sql.export import export

    con = _open_ro(args.data_dir)
    if con is None:
        return 1
    try:
        manifest = export(con, args.to)
    finally:
        con.close()
    for f in manifest["files"]:
        print(f"{f['rows']:>10}  {f['path']}")
    print(f"exported to {args.to}")
    return 0
