"""Deterministic parquet export of the warehouse, for researchers.

Layout of `--to DIR`:
  cells/year=YYYY/part-0.parquet   current cells, columns of v_cells_current (year lives in the path)
  reports/reports.parquet          every report version (is_current says which is current)
  units/units.parquet              the unit hierarchy
  checks/checks.parquet            check results, with the report's unit/year/sha256
  narrative/narrative.parquet      narrative figures, likewise
  dictionary.json / dictionary.csv every table/row/col key with its Chinese label, unit and meaning
  manifest.json                    per file: rows, bytes, sha256
Determinism: total sort orders (cells: report_id, then the order the extractor emitted them, i.e. rowid),
fixed row-group size, fixed writer settings (DuckDB COPY with insertion order kept for the small tables,
pyarrow for the cells: see below), no wall-clock values anywhere, so re-exporting unchanged data is
byte-identical. Atomicity: everything is written to a sibling temp dir and renamed into place; a killed
export leaves the previous export untouched.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import queue
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

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


def _queries() -> list[tuple[str, str]]:
    """The small tables, written by DuckDB's COPY (the cells are written by _write_cells)."""
    rcols = ("report_id, sha256, unit_key, year, version, is_current, unit_name_printed, title, template, fmt, "
             "source_url, portal_id, fetched_at, published_at, extractor_version, status, n_cells, "
             "n_checks_failed, warnings")
    out = [("reports/reports.parquet",
            f"SELECT {rcols} FROM reports ORDER BY unit_key, year NULLS FIRST, version, sha256"),
           ("units/units.parquet", "SELECT * FROM units ORDER BY unit_key")]
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


# ---- cells: one parquet file per year, written with pyarrow ----------------------------------------------
#
# v_cells_current repeats 8 unit and 4 report columns on every cell, and its cell columns hold a few hundred
# distinct strings. Encoding the join's output cost the parquet writer a hash of every string of every row,
# and sorting the wide join cost as much again (most of the export's time at 48M cells). Instead:
#  * the cells table is scanned once, narrow, in chunks of consecutive report_ids (about CHUNK_ROWS cells:
#    bounded memory; zone maps on report_id let a chunk's scan skip most of the table). The cells' strings come
#    out of DuckDB as hash(value) (reduced modulo a number that keeps the column's values apart, when there
#    is one: 16 bits a row), about half the cost of copying the strings out, and become indices into the
#    column's distinct values, found by one DISTINCT query per column up front;
#  * each chunk is put in export order (year, report_id, rowid) by sorting its runs of one report's cells
#    and split by year; a writer thread per year collects its rows into row groups of exactly ROW_GROUP rows;
#  * every string column but flags reaches the parquet writer as a dictionary array: int32 indices and the
#    values the row group uses, sorted (for a cell column with few distinct values: all of them), so the
#    writer hashes a dictionary, not a million strings per column.
# The files are ordinary parquet (no arrow schema stored): every string column reads back as plain strings.
# DuckDB, numpy and pyarrow release the GIL, so the scan of the next chunk, the ordering and the writers run
# in parallel. Everything that decides the bytes (row order, row-group cuts, dictionaries, which columns are
# required, the chunk ranges) is a function of the warehouse contents: unchanged data, identical bytes.

UNIT_COLUMNS = ("unit_key", "unit_name", "level", "province", "prefecture", "county", "county_code", "township")
REPORT_COLUMNS = ("template", "sha256", "source_url", "extractor_version")
_CODED_COLUMNS = ("table_key", "row_key", "col_key", "raw", "status", "raw_row_label", "raw_col_label")
_PLAIN_COLUMNS = ("report_id", "section", "value", "flags")
# write_batch_size: the writer updates the statistics once per batch (a Unique over a dictionary column's
# indices each time); 64k-row batches instead of 1k cost 40% less CPU and give the same bytes (pages are
# cut at max_rows_per_page rows).
_WRITER_OPTIONS = dict(compression="zstd", use_dictionary=True, write_statistics=True, store_schema=False,
                       store_decimal_as_integer=True, data_page_version="1.0", version="2.6",
                       write_batch_size=1 << 16, max_rows_per_page=20_000)
CHUNK_ROWS = 2 * ROW_GROUP
_POLL = 0.05  # seconds between checks of the abort flag while a queue is full or empty
_DICT_T = pa.dictionary(pa.int32(), pa.string())


class _Aborted(Exception):
    """Another part of the export failed; this one stops quietly."""


class _Values:
    """The distinct values of a unit or report column and, per report, the index of its value (-1 = NULL)."""

    def __init__(self, values: pa.Array, codes: np.ndarray) -> None:
        self.values, self.codes = values, codes
        self.rank = np.empty(len(values), dtype=np.int64)
        self.rank[pc.sort_indices(values).to_numpy()] = np.arange(len(values))

    @classmethod
    def encode(cls, arr: pa.Array | pa.ChunkedArray) -> _Values:
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        d = pc.dictionary_encode(arr)
        idx = d.indices
        codes = pc.fill_null(idx, -1).to_numpy() if idx.null_count else idx.to_numpy(zero_copy_only=False)
        return cls(d.dictionary, codes.astype(np.int32, copy=False))

    def rows(self, span: slice, counts: np.ndarray) -> pa.DictionaryArray:
        """`counts[i]` rows of report span.start + i each, over the span's values (sorted) as dictionary."""
        rc = self.codes[span]
        used = np.unique(rc[rc >= 0])
        used = used[np.argsort(self.rank[used], kind="stable")]
        lut = np.full(len(self.values) + 1, -1, dtype=np.int32)  # the last slot maps NULL (-1) to -1
        lut[used] = np.arange(len(used), dtype=np.int32)
        per_report = lut[rc]
        idx = np.repeat(per_report, counts)
        mask = idx < 0 if (per_report < 0).any() else None
        return pa.DictionaryArray.from_arrays(pa.array(idx, mask=mask), self.values.take(pa.array(used)),
                                              safe=False)


class _Coded:
    """A cell column's distinct values (in the whole table, sorted) and the map from DuckDB's hash() of a
    value to its index. With a modulus under which the column's hashes stay distinct, DuckDB sends
    hash % modulus as a 16-bit number and a lookup table gives the index. Up to SHARED_MAX values, all of
    them are every row group's dictionary; with more, each row group's dictionary is the values it uses."""

    SHARED_MAX = 256
    MAX_VALUES = 1 << 20  # more distinct values than this: the column is scanned as text

    def __init__(self, column: str, hashes: np.ndarray, values: pa.Array) -> None:
        order = pc.sort_indices(values).to_numpy()  # NULL last
        index = np.empty(len(values), dtype=np.int32)
        index[order] = np.arange(len(values), dtype=np.int32)
        self.values = values.take(pa.array(order)).drop_null()
        self.has_null = len(self.values) < len(values)
        self.shared = len(self.values) <= self.SHARED_MAX
        index[index >= len(self.values)] = -1  # NULL
        self.modulus = _modulus(hashes)
        if self.modulus is None:
            by_hash = np.argsort(hashes)
            self.hashes, self.index = hashes[by_hash], index[by_hash]
            self.sql = f"hash(c.{column}) AS {column}"
        else:
            self.lut = np.full(self.modulus, -2, dtype=np.int32)  # -2: no value has this hash
            self.lut[(hashes % np.uint64(self.modulus)).astype(np.int64)] = index
            self.sql = f"(hash(c.{column}) % {self.modulus})::USMALLINT AS {column}"

    def encode(self, h: pa.Array | pa.ChunkedArray) -> pa.DictionaryArray:
        if isinstance(h, pa.ChunkedArray):
            h = h.chunk(0) if h.num_chunks == 1 else h.combine_chunks()
        if self.modulus is not None:
            idx = self.lut[h.to_numpy()]
            bad = len(idx) and idx.min() < -1
        else:
            d = pc.dictionary_encode(h)  # few distinct hashes per chunk
            dh = d.dictionary.to_numpy()
            k = np.minimum(np.searchsorted(self.hashes, dh), len(self.hashes) - 1)
            bad = len(dh) and not np.array_equal(self.hashes[k], dh)
            idx = self.index[k][d.indices.to_numpy(zero_copy_only=False)]
        if bad:  # the DISTINCT query and the chunks share one snapshot: cannot happen
            raise RuntimeError("export: a cell value is missing from its column's distinct values")
        mask = idx < 0 if self.has_null else None
        return pa.DictionaryArray.from_arrays(pa.array(idx, mask=mask), self.values, safe=False)

    def compact(self, col: pa.ChunkedArray) -> pa.DictionaryArray:
        """A row group's column (indices into all the values) over the values it uses."""
        idx = pa.chunked_array([a.indices for a in col.chunks], pa.int32())
        codes = (pc.fill_null(idx, -1) if idx.null_count else idx).to_numpy()
        used = np.flatnonzero(np.bincount(codes[codes >= 0] if idx.null_count else codes,
                                          minlength=len(self.values)))  # in value order
        lut = np.full(len(self.values) + 1, -1, dtype=np.int32)  # the last slot maps NULL (-1) to -1
        lut[used] = np.arange(len(used), dtype=np.int32)
        new = lut[codes]
        return pa.DictionaryArray.from_arrays(pa.array(new, mask=new < 0 if idx.null_count else None),
                                              self.values.take(pa.array(used)), safe=False)


def _modulus(hashes: np.ndarray) -> int | None:
    """A number below 2^16 modulo which the hashes stay distinct, if one is found quickly."""
    n = len(hashes)
    rng = np.random.default_rng(len(hashes))  # any candidate will do; seeded, so the search is repeatable
    lo = max(n, 16)
    while n <= 4096 and lo < 1 << 16:
        for m in rng.integers(lo, min(2 * lo, 1 << 16), size=8):
            if len(np.unique(hashes % np.uint64(m))) == n:
                return int(m)
        lo *= 2
    return None


def _put(q: queue.Queue, item: object, abort: threading.Event) -> None:
    while True:
        if abort.is_set():
            raise _Aborted
        try:
            q.put(item, timeout=_POLL)
            return
        except queue.Full:
            pass


class _YearWriter(threading.Thread):
    """Writes one year's cells file from the rows it is given in export order: (a chunk's cells, the indices
    of this year's rows in it, their positions in this year's report list)."""

    def __init__(self, path: Path, schema: pa.Schema, version: np.ndarray, per_report: dict[str, _Values],
                 compact: dict[str, _Coded], abort: threading.Event) -> None:
        super().__init__(name=f"export-{path.parent.name}", daemon=True)
        self.path, self.schema, self.version, self.abort = path, schema, version, abort
        self.per_report, self.compact = per_report, compact
        self.queue: queue.Queue = queue.Queue(maxsize=2)
        self.rows = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._run()
        except _Aborted:
            pass
        except BaseException as e:  # noqa: BLE001 - handed to the exporting thread
            self.error = e
            self.abort.set()

    def _get(self) -> tuple[pa.Table, np.ndarray, np.ndarray] | None:
        while True:
            try:
                return self.queue.get(timeout=_POLL)
            except queue.Empty:
                if self.abort.is_set():
                    raise _Aborted from None

    def _run(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tables: list[pa.Table] = []
        positions: list[np.ndarray] = []
        n = 0
        with pq.ParquetWriter(self.path, self.schema, **_WRITER_OPTIONS) as writer:
            while (item := self._get()) is not None:
                cells, rows, pos = item
                tables.append(cells.take(rows))
                positions.append(pos)
                n += len(pos)
                while n >= ROW_GROUP:
                    t = pa.concat_tables(tables)
                    pos = np.concatenate(positions)
                    self._write(writer, t.slice(0, ROW_GROUP), pos[:ROW_GROUP])
                    tables, positions, n = [t.slice(ROW_GROUP)], [pos[ROW_GROUP:]], n - ROW_GROUP
                if self.abort.is_set():
                    raise _Aborted
            if n:
                self._write(writer, pa.concat_tables(tables), np.concatenate(positions))

    def _write(self, writer: pq.ParquetWriter, t: pa.Table, pos: np.ndarray) -> None:
        """One row group: the cells `t` of the reports at `pos` (non-decreasing) of this year's report list."""
        p0, p1 = int(pos[0]), int(pos[-1]) + 1
        span = slice(p0, p1)  # the row group's reports
        counts = np.diff(np.searchsorted(pos, np.arange(p0, p1 + 1)))  # rows per report
        cols = {c: v.rows(span, counts) for c, v in self.per_report.items()}
        cols.update({c: v.compact(t.column(c)) for c, v in self.compact.items()})
        cols["version"] = pa.array(np.repeat(self.version[span], counts))
        arrays = [cols[c] if c in cols else t.column(c) for c in CELL_COLUMNS]
        # the pieces' boundaries inside `t` come from the chunk ranges, a function of the data: same bytes
        writer.write_table(pa.Table.from_arrays(arrays, schema=self.schema), row_group_size=ROW_GROUP)
        self.rows += len(pos)


def _chunks(report_ids: np.ndarray, n_cells: np.ndarray, size: int) -> list[tuple[int, int]]:
    """Inclusive report_id ranges of about `size` cells each (report_ids sorted)."""
    out = []
    start, acc = 0, 0
    for i, n in enumerate(n_cells.tolist()):
        acc += max(int(n), 1)
        if acc >= size:
            out.append((int(report_ids[start]), int(report_ids[i])))
            start, acc = i + 1, 0
    if start < len(report_ids):
        out.append((int(report_ids[start]), int(report_ids[-1])))
    return out


def _export_order(rid: np.ndarray, rowid: np.ndarray, ids_sorted: np.ndarray, by_id: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Rows of a chunk that belong to the export, in export order (g, rowid), and their g.

    A chunk holds runs of cells of one report. When the scan returned the rows in rowid order (DuckDB does
    for a plain scan) the runs are sorted instead of the rows: a few thousand runs per chunk, not millions."""
    n = len(rid)
    if n == 0 or len(ids_sorted) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    heads = np.concatenate(([0], np.flatnonzero(rid[1:] != rid[:-1]) + 1))
    lens = np.diff(np.append(heads, n))
    j = np.minimum(np.searchsorted(ids_sorted, rid[heads]), len(ids_sorted) - 1)
    ok = ids_sorted[j] == rid[heads]  # cells of other reports in the range (not current, no year) are dropped
    if n > 1 and not bool((rowid[1:] > rowid[:-1]).all()):
        keep = np.flatnonzero(np.repeat(ok, lens))
        g = np.repeat(by_id[j], lens)[keep]
        order = np.lexsort((rowid[keep], g))
        return keep[order], g[order]
    heads, lens, g_run = heads[ok], lens[ok], by_id[j[ok]]
    order = np.lexsort((heads, g_run))  # (g, first rowid): rowids ascend within and across runs
    heads, lens, g_run = heads[order], lens[order], g_run[order]
    ends = np.cumsum(lens)
    rows = np.arange(int(ends[-1]) if len(ends) else 0, dtype=np.int64) + np.repeat(heads - (ends - lens), lens)
    return rows, np.repeat(g_run, lens)


def _write_cells(con: duckdb.DuckDBPyConnection, tmp: Path) -> list[tuple[str, int]]:
    """The current cells of every year as cells/year=YYYY/part-0.parquet under `tmp`; returns (path, rows)."""
    cur = con.cursor()
    abort = threading.Event()
    writers: list[_YearWriter] = []
    fetcher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="export-scan")
    try:
        cur.execute("BEGIN TRANSACTION")  # one snapshot for the report list, the distinct values and the chunks
        years = [r[0] for r in cur.execute(
            "SELECT DISTINCT year FROM reports WHERE is_current AND year IS NOT NULL ORDER BY year").fetchall()]
        if not years:
            return []
        units = cur.sql(f"SELECT {', '.join(UNIT_COLUMNS)} FROM units ORDER BY unit_key").to_arrow_table()
        reports = cur.sql(f"""
            WITH u AS (SELECT unit_key, (row_number() OVER (ORDER BY unit_key) - 1)::INTEGER AS upos FROM units)
            SELECT r.report_id, r.year, u.upos, r.version, r.n_cells, {', '.join('r.' + c for c in REPORT_COLUMNS)}
            FROM reports r JOIN u USING (unit_key)
            WHERE r.is_current AND r.year IS NOT NULL
            ORDER BY r.year, r.report_id""").to_arrow_table()
        # g = position in `reports` (year, report_id order): the export order of the cells is (g, rowid)
        g_ids = reports["report_id"].to_numpy()
        g_year = reports["year"].to_numpy()
        version = reports["version"].to_numpy()
        upos = reports["upos"].to_numpy()
        per_report: dict[str, _Values] = {}
        for c in UNIT_COLUMNS:
            v = _Values.encode(units[c])
            per_report[c] = _Values(v.values, v.codes[upos])
        for c in REPORT_COLUMNS:
            per_report[c] = _Values.encode(reports[c])
        # a column is written as required when it holds no NULL (as DuckDB's COPY did from its statistics)
        nullable = {c for c, v in per_report.items() if (v.codes < 0).any()}
        coded: dict[str, _Coded] = {}
        for c in _CODED_COLUMNS:
            d = cur.sql(f"SELECT hash(v) AS h, v FROM (SELECT DISTINCT {c} AS v FROM cells)").to_arrow_table()
            h, values = d["h"].to_numpy(), d["v"].combine_chunks()
            if values.null_count:
                nullable.add(c)
            # many values, or two values with one hash: that column is scanned as text
            if len(h) <= _Coded.MAX_VALUES and len(np.unique(h)) == len(h):
                coded[c] = _Coded(c, h, values)
        nulls = cur.execute(f"SELECT {', '.join(f'count(*) - count({c})' for c in _PLAIN_COLUMNS)} FROM cells"
                            ).fetchall()[0]
        nullable |= {c for c, n in zip(_PLAIN_COLUMNS, nulls, strict=True) if n}

        scan = [f"c.{c}" for c in _PLAIN_COLUMNS] + [coded[c].sql if c in coded else f"c.{c}"
                                                    for c in _CODED_COLUMNS]
        types = cur.sql(f"SELECT {', '.join(f'c.{c}' for c in (*_PLAIN_COLUMNS, *_CODED_COLUMNS))} "
                        "FROM cells c LIMIT 0").to_arrow_table().schema
        schema = pa.schema([pa.field(c, _DICT_T if c in per_report or c in coded else
                                     pa.int32() if c == "version" else types.field(c).type,
                                     nullable=c in nullable) for c in CELL_COLUMNS])
        by_id = np.argsort(g_ids, kind="stable")
        ids_sorted = g_ids[by_id]
        starts = np.searchsorted(g_year, np.array(years + [years[-1] + 1], dtype=g_year.dtype))
        (tmp / "cells").mkdir(parents=True, exist_ok=True)
        for i, y in enumerate(years):
            a, b = int(starts[i]), int(starts[i + 1])
            w = _YearWriter(tmp / f"cells/year={y}/part-0.parquet", schema, version[a:b],
                            {c: _Values(v.values, v.codes[a:b]) for c, v in per_report.items()},
                            {c: v for c, v in coded.items() if not v.shared}, abort)
            writers.append(w)
            w.start()

        def fetch(lo: int, hi: int) -> pa.Table:
            return cur.sql(f"SELECT c.rowid AS _rowid, {', '.join(scan)} FROM cells c "
                           f"WHERE c.report_id BETWEEN {lo} AND {hi}").to_arrow_table().combine_chunks()

        chunks = _chunks(ids_sorted, reports["n_cells"].to_numpy()[by_id], CHUNK_ROWS)
        nxt = fetcher.submit(fetch, *chunks[0]) if chunks else None
        for k in range(len(chunks)):
            t = nxt.result()
            nxt = fetcher.submit(fetch, *chunks[k + 1]) if k + 1 < len(chunks) else None
            if abort.is_set():
                raise _Aborted
            rows, g = _export_order(t["report_id"].to_numpy(), t["_rowid"].to_numpy(), ids_sorted, by_id)
            cells = pa.table({c: coded[c].encode(t[c]) if c in coded else t[c]
                              for c in (*_PLAIN_COLUMNS, *_CODED_COLUMNS)})
            cuts = np.searchsorted(g, starts)
            for i, w in enumerate(writers):
                a, b = int(cuts[i]), int(cuts[i + 1])
                if b > a:
                    _put(w.queue, (cells, rows[a:b], (g[a:b] - starts[i]).astype(np.int32)), abort)
            del t, cells
        for w in writers:
            _put(w.queue, None, abort)
        for w in writers:
            w.join()
        for w in writers:
            if w.error is not None:
                raise w.error
        return [(f"cells/year={y}/part-0.parquet", w.rows) for y, w in zip(years, writers, strict=True)]
    except BaseException as e:
        abort.set()
        try:
            cur.interrupt()
        except Exception:  # noqa: BLE001 - nothing running
            pass
        for w in writers:
            w.join()
        errors = [w.error for w in writers if w.error is not None]
        if isinstance(e, _Aborted) and errors:
            raise errors[0] from None
        raise
    finally:
        fetcher.shutdown(wait=True, cancel_futures=True)
        cur.close()


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def recover(to: Path) -> None:
    """A kill between the two renames of `export` leaves the previous export as `.NAME.old-PID` and no
    NAME: put it back (it is complete), and drop older leftovers."""
    olds = sorted(to.parent.glob(f".{to.name}.old-*"), key=lambda p: p.stat().st_mtime)
    if olds and not to.exists():
        olds.pop().rename(to)
    for stale in olds:
        shutil.rmtree(stale, ignore_errors=True)


def export(con: duckdb.DuckDBPyConnection, to: Path | str) -> dict:
    """Write the export to `to` atomically and return the manifest. The cells are read through a cursor of
    `con` (a connection of its own, in one transaction): changes `con` has not committed are not exported."""
    to = Path(to).resolve()
    to.parent.mkdir(parents=True, exist_ok=True)
    recover(to)
    tmp = to.parent / f".{to.name}.tmp-{os.getpid()}"
    for stale in to.parent.glob(f".{to.name}.tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)
    tmp.mkdir()
    try:
        files = _write_cells(con, tmp)
        for rel, sql in _queries():
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
