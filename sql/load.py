"""Bulk, idempotent loading of extractions into the warehouse.

Rows are staged as Arrow tables and merged with set-based SQL, one transaction per batch, so a load killed
mid-way leaves the warehouse as it was after the last committed batch. Identity:
  report = the document (sha256); its unit and year are re-resolved on every load and updated if they change
  cell   = (report, table, row, col)
A per-report order-free digest of cells + narrative + checks makes an unchanged reload a no-op without
touching cells; a changed digest diffs the cells to count inserted / updated / unchanged / deleted.
Supersession: within a unit x year the newest publication (published_at, else first fetched_at, else load
order) is current; older versions keep their rows with is_current = false.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from pathlib import Path

import duckdb
import pyarrow as pa

from sql.units import Unit, resolve_portal, resolve_unit
from transform.records import CellRecord, CheckRecord, Extraction, NarrativeRecord, ReportMeta

VALUE_TYPE = pa.decimal128(18, 4)
_Q = Decimal("0.0001")
_MAX = Decimal("1e14")  # DECIMAL(18,4) limit; larger printed numbers keep only their raw text


@dataclass(slots=True)
class LoadItem:
    """One extracted document plus where it came from."""

    extraction: Extraction
    source_url: str | None = None  # defaults to extraction.meta.source
    portal_id: str | None = None
    fetched_at: datetime | None = None
    published_at: datetime | None = None


@dataclass(slots=True)
class LoadCounts:
    documents: int = 0
    reports_inserted: int = 0
    reports_updated: int = 0
    reports_unchanged: int = 0
    cells_inserted: int = 0
    cells_updated: int = 0
    cells_unchanged: int = 0
    cells_deleted: int = 0

    def __iadd__(self, other: LoadCounts) -> LoadCounts:
        for k, v in asdict(other).items():
            setattr(self, k, getattr(self, k) + v)
        return self

    @property
    def changed(self) -> bool:
        return bool(self.reports_inserted or self.reports_updated or self.cells_inserted
                    or self.cells_updated or self.cells_deleted)

    def summary(self) -> str:
        head = "changed" if self.changed else "no change"
        return (f"{head}: {self.documents} documents; reports {self.reports_inserted} inserted, "
                f"{self.reports_updated} updated, {self.reports_unchanged} unchanged; cells "
                f"{self.cells_inserted} inserted, {self.cells_updated} updated, {self.cells_unchanged} "
                f"unchanged, {self.cells_deleted} deleted")


# ---- staging schemas (the Arrow contract of load_batch; the bench builds these directly) -------------

UNIT_SCHEMA = pa.schema([(k, pa.int32() if k == "candidates" else pa.string())
                         for k in Unit.__dataclass_fields__])
REPORT_SCHEMA = pa.schema([
    ("doc", pa.int32()), ("sha256", pa.string()), ("unit_key", pa.string()), ("year", pa.int32()),
    ("unit_name_printed", pa.string()), ("title", pa.string()), ("template", pa.string()),
    ("fmt", pa.string()), ("source_url", pa.string()), ("portal_id", pa.string()),
    ("fetched_at", pa.timestamp("us")), ("published_at", pa.timestamp("us")),
    ("extractor_version", pa.string()), ("status", pa.string()), ("n_cells", pa.int32()),
    ("n_checks_failed", pa.int32()), ("warnings", pa.list_(pa.string()))])
CELL_SCHEMA = pa.schema([
    ("doc", pa.int32()), ("table_key", pa.string()), ("row_key", pa.string()), ("col_key", pa.string()),
    ("value", VALUE_TYPE), ("raw", pa.string()), ("status", pa.string()), ("flags", pa.list_(pa.string())),
    ("raw_row_label", pa.string()), ("raw_col_label", pa.string()), ("section", pa.int8())])
NARRATIVE_SCHEMA = pa.schema([
    ("doc", pa.int32()), ("seq", pa.int32()), ("metric", pa.string()), ("qualifier", pa.string()),
    ("value", VALUE_TYPE), ("unit", pa.string()), ("approx", pa.bool_()), ("raw", pa.string()),
    ("section", pa.int8())])
CHECK_SCHEMA = pa.schema([
    ("doc", pa.int32()), ("seq", pa.int32()), ("rule", pa.string()), ("scope", pa.string()),
    ("expected", VALUE_TYPE), ("actual", VALUE_TYPE), ("passed", pa.bool_()), ("detail", pa.string())])


def to_value(v: object) -> tuple[Decimal | None, list[str]]:
    """A number as DECIMAL(18,4), with a flag when it had to be rounded or could not be stored."""
    if v is None:
        return None, []
    try:
        d = v if isinstance(v, Decimal) else Decimal(str(v))
    except InvalidOperation:
        return None, ["value_unstorable"]
    if not d.is_finite() or abs(d) >= _MAX:
        return None, ["value_overflow"]
    q = d.quantize(_Q, rounding=ROUND_HALF_EVEN)
    return q, ([] if q == d else ["value_rounded"])


def report_status(x: Extraction) -> str:
    if x.meta.year is None:
        return "no_year"
    if not x.cells:
        return "no_tables"
    if any(c.passed is False for c in x.checks):
        return "checks_failed"
    return "ok"


@dataclass(slots=True)
class _Stage:
    units: dict[str, dict] = field(default_factory=dict)
    reports: list[dict] = field(default_factory=list)
    cells: dict[str, list] = field(default_factory=lambda: {n: [] for n in CELL_SCHEMA.names})
    narrative: dict[str, list] = field(default_factory=lambda: {n: [] for n in NARRATIVE_SCHEMA.names})
    checks: dict[str, list] = field(default_factory=lambda: {n: [] for n in CHECK_SCHEMA.names})


def resolve_item(item: LoadItem, portal: dict | None) -> Unit:
    m = item.extraction.meta
    return resolve_unit(m.unit, title=m.title, county_hint=m.county_hint, province_hint=m.province_hint,
                        phone_area_codes=m.phone_area_codes, portal=portal,
                        source=item.source_url or m.source)


def stage(items: Sequence[LoadItem], portals: dict[str, dict]) -> dict[str, pa.Table]:
    """Extractions -> Arrow staging tables (doc = position in `items`; a repeated document keeps its last)."""
    last = {it.extraction.meta.sha256: i for i, it in enumerate(items)}
    st = _Stage()
    cache: dict[tuple, Unit] = {}
    for doc, it in enumerate(items):
        x, m = it.extraction, it.extraction.meta
        if last[m.sha256] != doc:
            continue
        portal = portals.get(it.portal_id or "")
        ck = (m.unit, m.title, m.county_hint, m.province_hint, tuple(m.phone_area_codes), it.portal_id,
              it.source_url or m.source)
        unit = cache.get(ck) or cache.setdefault(ck, resolve_item(it, portal))
        st.units.setdefault(unit.unit_key, unit.row())
        st.reports.append(dict(
            doc=doc, sha256=m.sha256, unit_key=unit.unit_key, year=m.year, unit_name_printed=m.unit,
            title=m.title, template=m.template, fmt=m.fmt, source_url=it.source_url or m.source,
            portal_id=it.portal_id, fetched_at=it.fetched_at, published_at=it.published_at,
            extractor_version=m.extractor_version, status=report_status(x), n_cells=len(x.cells),
            n_checks_failed=sum(c.passed is False for c in x.checks), warnings=list(x.warnings)))
        _stage_cells(st.cells, doc, x.cells)
        _stage_narrative(st.narrative, doc, x.narrative)
        _stage_checks(st.checks, doc, x.checks)
    return {
        "units": pa.Table.from_pylist(list(st.units.values()), schema=UNIT_SCHEMA),
        "reports": pa.Table.from_pylist(st.reports, schema=REPORT_SCHEMA),
        "cells": pa.table(st.cells, schema=CELL_SCHEMA),
        "narrative": pa.table(st.narrative, schema=NARRATIVE_SCHEMA),
        "checks": pa.table(st.checks, schema=CHECK_SCHEMA),
    }


def _stage_cells(out: dict[str, list], doc: int, cells: list[CellRecord]) -> None:
    for c in cells:
        v, extra = to_value(c.value)
        for k, val in (("doc", doc), ("table_key", c.table), ("row_key", c.row), ("col_key", c.col),
                       ("value", v), ("raw", c.raw), ("status", c.status),
                       ("flags", list(c.flags) + extra), ("raw_row_label", c.raw_row_label),
                       ("raw_col_label", c.raw_col_label), ("section", c.section)):
            out[k].append(val)


def _stage_narrative(out: dict[str, list], doc: int, recs: list[NarrativeRecord]) -> None:
    for seq, n in enumerate(recs):
        for k, val in (("doc", doc), ("seq", seq), ("metric", n.metric), ("qualifier", n.qualifier),
                       ("value", to_value(n.value)[0]), ("unit", n.unit), ("approx", n.approx),
                       ("raw", n.raw), ("section", n.section)):
            out[k].append(val)


def _stage_checks(out: dict[str, list], doc: int, recs: list[CheckRecord]) -> None:
    for seq, c in enumerate(recs):
        for k, val in (("doc", doc), ("seq", seq), ("rule", c.rule), ("scope", c.scope),
                       ("expected", to_value(c.expected)[0]), ("actual", to_value(c.actual)[0]),
                       ("passed", c.passed), ("detail", c.detail)):
            out[k].append(val)


# ---- the merge ------------------------------------------------------------------------------------

_REPORT_ATTRS = ("unit_key", "year", "unit_name_printed", "title", "template", "fmt", "extractor_version",
                 "status", "n_cells", "n_checks_failed", "warnings")
_CELL_COLS = "table_key, row_key, col_key, value, raw, status, flags, raw_row_label, raw_col_label, section"
_CELL_COLS_C = ", ".join("c." + k.strip() for k in _CELL_COLS.split(","))
_CELL_KEY = ("table_key", "row_key", "col_key")
_CELL_VALS = ("value", "raw", "status", "flags", "raw_row_label", "raw_col_label", "section")


# repetitive cell columns: DuckDB ingests dictionary-encoded Arrow strings several times faster than plain
# ones, so readers of staged parquet should pass these as `read_dictionary` (bench/warehouse.py does)
CELL_DICT_COLUMNS = ("table_key", "row_key", "col_key", "status", "raw_row_label", "raw_col_label")


def load_batch(con: duckdb.DuckDBPyConnection, tables: dict[str, pa.Table]) -> LoadCounts:
    """Merge one batch of staged Arrow tables (see *_SCHEMA) in a single transaction."""
    for name in ("units", "reports", "cells", "narrative", "checks"):
        con.register(f"stg_{name}", tables[name])
    con.execute("BEGIN TRANSACTION")
    try:
        counts = _merge(con)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        for name in ("units", "reports", "cells", "narrative", "checks"):
            con.unregister(f"stg_{name}")
        for t in ("_dig", "_r", "_aff"):
            con.execute(f"DROP TABLE IF EXISTS {t}")
    return counts


def _merge(con: duckdb.DuckDBPyConnection) -> LoadCounts:
    q = con.execute
    # first resolution of a unit wins; register_portals() is the one place that overwrites units
    q("INSERT INTO units SELECT DISTINCT ON (unit_key) * FROM stg_units ON CONFLICT DO NOTHING")
    q(f"""CREATE TEMP TABLE _dig AS
        SELECT doc, bit_xor(h) AS digest FROM (
          SELECT doc, hash('c', {_CELL_COLS}) AS h FROM stg_cells
          UNION ALL SELECT doc, hash('n', seq, metric, qualifier, value, unit, approx, raw, section)
            FROM stg_narrative
          UNION ALL SELECT doc, hash('k', seq, rule, scope, expected, actual, passed, detail) FROM stg_checks)
        GROUP BY doc""")
    same_attrs = " AND ".join(f"s.{a} IS NOT DISTINCT FROM r.{a}" for a in _REPORT_ATTRS)
    q(f"""CREATE TEMP TABLE _r AS
        SELECT s.*, coalesce(d.digest, 0::UBIGINT) AS digest, r.report_id, r.content_digest AS old_digest,
               r.unit_key AS old_unit, r.year AS old_year,
               CASE WHEN r.report_id IS NULL THEN 'new'
                    WHEN r.content_digest = coalesce(d.digest, 0::UBIGINT) AND {same_attrs}
                         AND (s.published_at IS NULL OR s.published_at IS NOT DISTINCT FROM r.published_at)
                    THEN 'same' ELSE 'changed' END AS kind
        FROM stg_reports s LEFT JOIN _dig d USING (doc) LEFT JOIN reports r ON r.sha256 = s.sha256""")
    q("UPDATE _r SET report_id = nextval('report_id_seq') WHERE kind = 'new'")
    c = LoadCounts()
    kinds: dict[str, int] = {}
    n_diff = 0  # changed reports whose content differs: their cells are diffed and replaced
    for kind, n, nd in q("""SELECT kind, count(*), count(*) FILTER (WHERE kind = 'changed'
                                                     AND digest IS DISTINCT FROM old_digest)
                           FROM _r GROUP BY kind""").fetchall():
        kinds[kind] = n
        n_diff += nd
    c.documents = sum(kinds.values())
    c.reports_inserted, c.reports_updated, c.reports_unchanged = (
        kinds.get("new", 0), kinds.get("changed", 0), kinds.get("same", 0))

    q("""INSERT INTO reports SELECT report_id, sha256, unit_key, year, 1, TRUE, unit_name_printed, title,
            template, fmt, source_url, portal_id, fetched_at, published_at, extractor_version, status,
            n_cells, n_checks_failed, warnings, digest, now(), NULL
         FROM _r WHERE kind = 'new'""")
    sets = ", ".join(f"{a} = _r.{a}" for a in _REPORT_ATTRS)
    # source_url / portal_id / fetched_at keep their first values: a nightly re-fetch is not a change
    if c.reports_updated:
        q(f"""UPDATE reports SET {sets}, content_digest = _r.digest,
            published_at = coalesce(_r.published_at, reports.published_at),
            source_url = coalesce(reports.source_url, _r.source_url),
            portal_id = coalesce(reports.portal_id, _r.portal_id), updated_at = now()
         FROM _r WHERE reports.report_id = _r.report_id AND _r.kind = 'changed'""")

    # cells: unchanged digests are counted, not touched; new reports are a straight bulk insert
    c.cells_unchanged = q("""SELECT coalesce(sum(n_cells), 0) FROM _r
                             WHERE kind = 'same' OR (kind = 'changed' AND digest = old_digest)""").fetchall()[0][0]
    if c.reports_inserted:
        c.cells_inserted = q(f"""INSERT INTO cells SELECT r.report_id, {_CELL_COLS_C}
                                 FROM stg_cells c JOIN _r r USING (doc) WHERE r.kind = 'new'""").fetchall()[0][0]
    redo = "FROM _r WHERE kind = 'new' OR (kind = 'changed' AND digest IS DISTINCT FROM old_digest)"
    diff_ids = "SELECT report_id FROM _r WHERE kind = 'changed' AND digest IS DISTINCT FROM old_digest"
    # Everything below touching existing rows is skipped when no report's content changed: each of these
    # statements scans the whole (growing) cells table even for an empty id list, which made a fresh bulk
    # load quadratic in the warehouse size.
    if n_diff:
        on = " AND ".join(f"n.{k} = o.{k}" for k in _CELL_KEY)
        eq = " AND ".join(f"n.{k} IS NOT DISTINCT FROM o.{k}" for k in _CELL_VALS)
        ins, upd, same, dele = q(f"""
            WITH n AS (SELECT r.report_id, {_CELL_COLS_C} FROM stg_cells c JOIN _r r USING (doc)
                       WHERE r.report_id IN ({diff_ids})),
                 o AS (SELECT * FROM cells WHERE report_id IN ({diff_ids}))
            SELECT count(*) FILTER (WHERE o.report_id IS NULL), count(*) FILTER (WHERE n.report_id IS NOT NULL
                     AND o.report_id IS NOT NULL AND NOT ({eq})),
                   count(*) FILTER (WHERE n.report_id IS NOT NULL AND o.report_id IS NOT NULL AND {eq}),
                   count(*) FILTER (WHERE n.report_id IS NULL)
            FROM n FULL JOIN o ON n.report_id = o.report_id AND {on}""").fetchall()[0]
        c.cells_inserted += ins
        c.cells_updated, c.cells_deleted = upd, dele
        c.cells_unchanged += same
        q(f"DELETE FROM cells WHERE report_id IN ({diff_ids})")
        q(f"""INSERT INTO cells SELECT r.report_id, {_CELL_COLS_C} FROM stg_cells c JOIN _r r USING (doc)
              WHERE r.report_id IN ({diff_ids})""")
    for t in ("narrative", "checks"):
        cols = ", ".join("s." + f.name for f in (NARRATIVE_SCHEMA if t == "narrative" else CHECK_SCHEMA)
                         if f.name != "doc")
        if n_diff:
            q(f"DELETE FROM {t} WHERE report_id IN ({diff_ids})")
        if (c.reports_inserted or n_diff) and con.execute(f"SELECT count(*) FROM stg_{t}").fetchall()[0][0]:
            q(f"INSERT INTO {t} SELECT r.report_id, {cols} FROM stg_{t} s JOIN (SELECT doc, report_id {redo}) r "
              "USING (doc)")

    # supersession, recomputed only for the unit x year groups this batch touched
    if c.reports_inserted or c.reports_updated:
        q("""CREATE TEMP TABLE _aff AS
             SELECT DISTINCT unit_key, year FROM _r WHERE kind <> 'same'
             UNION SELECT old_unit, old_year FROM _r WHERE kind = 'changed'""")
        q("""UPDATE reports SET version = v.version, is_current = v.is_current FROM (
               SELECT report_id,
                      row_number() OVER (PARTITION BY unit_key, year
                                         ORDER BY coalesce(published_at, fetched_at) NULLS FIRST, report_id
                                         ) AS version,
                      row_number() OVER (PARTITION BY unit_key, year
                                         ORDER BY coalesce(published_at, fetched_at) DESC NULLS LAST,
                                                  report_id DESC) = 1 AS is_current
               FROM reports r SEMI JOIN _aff a ON r.unit_key = a.unit_key AND r.year IS NOT DISTINCT FROM a.year) v
             WHERE reports.report_id = v.report_id
               AND (reports.version <> v.version OR reports.is_current <> v.is_current)""")
    q("""INSERT INTO load_runs VALUES (nextval('load_run_seq'), now(), ?, ?, ?, ?, ?, ?, ?, ?)""",
      [c.documents, c.reports_inserted, c.reports_updated, c.reports_unchanged, c.cells_inserted,
       c.cells_updated, c.cells_unchanged, c.cells_deleted])
    return c


def portal_rows(con: duckdb.DuckDBPyConnection) -> dict[str, dict]:
    cur = con.execute("SELECT * FROM portals")
    names = [d[0] for d in cur.description]
    return {r[0]: dict(zip(names, r, strict=True)) for r in cur.fetchall()}


def load_extractions(con: duckdb.DuckDBPyConnection, items: Sequence[LoadItem], *,
                     batch_size: int = 500) -> LoadCounts:
    """Load extracted documents; returns what changed. Portals come from the `portals` table."""
    portals = portal_rows(con)
    total = LoadCounts()
    for i in range(0, len(items), batch_size):
        total += load_batch(con, stage(items[i:i + batch_size], portals))
    return total


_PORTAL_COLS = ("unit_name", "level", "province", "province_code", "prefecture", "prefecture_code", "county",
                "county_code", "township", "township_code", "family")


def register_portals(con: duckdb.DuckDBPyConnection, portals: Iterable[dict]) -> int:
    """Upsert registry rows (plain dicts, as read from extract/portals.toml) and the units they publish for."""
    rows, units = [], {}
    for p in portals:
        pid = str(p.get("portal_id") or p.get("id"))
        unit = resolve_portal(p)
        units[unit.unit_key] = unit.row()
        urls = p.get("entry_urls") or p.get("urls") or ([p["entry_url"]] if p.get("entry_url") else [])
        known = {"portal_id", "id", "unit", "entry_urls", "urls", "entry_url", *_PORTAL_COLS}
        extra = {k: v for k, v in p.items() if k not in known}
        row = {"portal_id": pid, **{k: _str(p.get(k)) for k in _PORTAL_COLS}, "entry_urls": list(urls),
               "unit_key": unit.unit_key, "extra": json.dumps(extra, ensure_ascii=False, sort_keys=True,
                                                               default=str)}
        row["unit_name"] = row["unit_name"] or _str(p.get("unit"))
        rows.append(row)
    if not rows:
        return 0
    con.register("stg_portals", pa.Table.from_pylist(rows))
    con.register("stg_units", pa.Table.from_pylist(list(units.values()), schema=UNIT_SCHEMA))
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("""INSERT OR REPLACE INTO portals SELECT portal_id, unit_name, level, province, province_code,
                       prefecture, prefecture_code, county, county_code, township, township_code, family,
                       entry_urls, unit_key, extra::JSON FROM stg_portals""")
        con.execute("INSERT OR REPLACE INTO units SELECT * FROM stg_units")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.unregister("stg_portals")
        con.unregister("stg_units")
    return len(rows)


def _str(v: object) -> str | None:
    return None if v in (None, "") else str(v)


# ---- `gongkai extract` JSON Lines -> LoadItems ------------------------------------------------------

def _dec(v: object) -> int | Decimal | None:
    if v is None or isinstance(v, int):
        return v  # type: ignore[return-value]
    return Decimal(str(v))


def items_from_jsonl(paths: Iterable[Path], warnings: list[str] | None = None) -> list[LoadItem]:
    """Regroup the per-record JSON Lines of `gongkai extract` into one LoadItem per document.

    A line that is not JSON (the cut last line of a killed run) is skipped with a warning, and so is a
    file's last document when its records stop before its checks: `gongkai extract` writes one document
    at a time, cells, narrative, then checks, so only the last one of a killed run can be cut, and a
    cut document is not loaded half."""
    warn = warnings if warnings is not None else []
    docs: dict[str, Extraction] = {}
    last_of_file: set[str] = set()
    for path in paths:
        last = None
        with open(path, encoding="utf-8", errors="replace") as fh:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    r = json.loads(line)
                except json.JSONDecodeError:
                    warn.append(f"{path}:{n}: not a JSON record (cut line?), skipped")
                    continue
                if not isinstance(r, dict):
                    warn.append(f"{path}:{n}: not a JSON object, skipped")
                    continue
                sha = r.get("sha256") or r.get("source")
                last = sha
                x = docs.get(sha)
                if x is None:
                    meta = ReportMeta(source=r.get("source", ""), sha256=sha, fmt=r.get("fmt", ""),
                                      unit=r.get("unit"), year=r.get("year"),
                                      template=r.get("template") or "unknown", title=r.get("title"),
                                      extractor_version=r.get("extractor_version", ""),
                                      county_hint=r.get("county_hint"), province_hint=r.get("province_hint"),
                                      phone_area_codes=list(r.get("phone_area_codes") or []))
                    x = docs[sha] = Extraction(meta)
                kind = r.get("kind")
                if kind == "cell":
                    x.cells.append(CellRecord(r["table"], r["row"], r["col"], _dec(r.get("value")),
                                              r.get("raw", ""), r.get("status", "reported"),
                                              list(r.get("flags") or []), r.get("raw_row_label", ""),
                                              r.get("raw_col_label", ""), int(r.get("section") or 0)))
                elif kind == "narrative":
                    x.narrative.append(NarrativeRecord(r["metric"], _dec(r.get("value")), r.get("unit", ""),
                                                       r.get("raw", ""), r.get("qualifier", ""),
                                                       bool(r.get("approx")), int(r.get("section") or 1)))
                elif kind == "check":
                    x.checks.append(CheckRecord(r["rule"], r.get("scope", ""), _dec(r.get("expected")),
                                                _dec(r.get("actual")), r.get("passed"), r.get("detail", "")))
        if last is not None:
            last_of_file.add(last)
    complete = []
    for sha, x in docs.items():
        if sha not in last_of_file or x.checks:
            complete.append(LoadItem(x, source_url=x.meta.source))
        else:
            warn.append(f"{x.meta.source}: records end before its checks (a cut extraction), not loaded")
    return complete
