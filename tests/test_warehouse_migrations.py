"""Migrations: from empty, and from every older schema version, with data surviving the upgrade."""

from __future__ import annotations

import duckdb
import pytest
from test_warehouse_data import demo_items

import sql
from sql import DB_NAME, apply_migrations, connect, create_views, migrations
from sql.load import load_extractions

VERSIONS = [v for v, _ in migrations()]
MINE = [v for v in VERSIONS if v >= 2]


def test_migrations_are_numbered_and_unique() -> None:
    assert VERSIONS == sorted(set(VERSIONS))
    assert {2, 3} <= set(VERSIONS)
    assert all(p.name.endswith(".sql") for _, p in migrations())


def test_from_empty(tmp_path) -> None:
    con = connect(tmp_path)
    got = [r[0] for r in con.execute("SELECT version FROM schema_version ORDER BY version").fetchall()]
    assert got == VERSIONS
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert {"units", "portals", "reports", "cells", "narrative", "checks", "load_runs", "schema_version"} <= tables
    con.close()
    # reopening applies nothing
    con = connect(tmp_path)
    assert apply_migrations(con) == []
    con.close()


@pytest.mark.parametrize("upto", [v for v in MINE if v < max(VERSIONS)])
def test_from_each_older_version(tmp_path, upto) -> None:
    con = duckdb.connect(str(tmp_path / DB_NAME))
    apply_migrations(con, upto=upto)
    assert max(r[0] for r in con.execute("SELECT version FROM schema_version").fetchall()) == upto
    # data written by the older schema survives the upgrade (the core tables exist from 002 on)
    con.execute("""INSERT INTO units (unit_key, unit_name, level, resolution) VALUES ('410781', '卫辉市', 'county', 'gazetteer')""")
    con.close()
    con = connect(tmp_path)
    assert [r[0] for r in con.execute("SELECT version FROM schema_version ORDER BY 1").fetchall()] == VERSIONS
    assert con.execute("SELECT unit_name FROM units").fetchall() == [("卫辉市",)]
    n = load_extractions(con, demo_items())
    assert n.reports_inserted == 8
    con.close()


def test_failed_migration_rolls_back(tmp_path, monkeypatch) -> None:
    bad = tmp_path / "migrations"
    bad.mkdir()
    for _v, p in migrations():
        (bad / p.name).write_text(p.read_text(encoding="utf-8"), encoding="utf-8")
    (bad / "999_broken.sql").write_text("CREATE TABLE half_done (x INT); SELECT * FROM no_such_table;")
    monkeypatch.setattr(sql, "MIGRATIONS_DIR", bad)
    con = duckdb.connect(str(tmp_path / DB_NAME))
    with pytest.raises(duckdb.Error):
        apply_migrations(con)
    assert 999 not in {r[0] for r in con.execute("SELECT version FROM schema_version").fetchall()}
    assert "half_done" not in {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}


def test_views_are_recreated_idempotently(tmp_path) -> None:
    con = connect(tmp_path)
    create_views(con)
    create_views(con)
    views = {r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
    assert len(views) == len(list(sql.VIEWS_DIR.glob("*.sql")))


def test_every_view_file_says_what_it_answers() -> None:
    for p in sql.VIEWS_DIR.glob("*.sql"):
        text = p.read_text(encoding="utf-8")
        assert text.startswith("--") and "Answers:" in text, p.name


def test_read_only_open_needs_nothing_else(tmp_path) -> None:
    connect(tmp_path).close()
    con = connect(tmp_path, read_only=True)
    assert con.execute("SELECT count(*) FROM v_unit_year").fetchall() == [(0,)]


def test_request_method_migration_keeps_crawl_rows_and_older_staged_crawls_merge(tmp_path) -> None:
    """004 adds `method` to crawl_state and documents: rows crawled before it read as GET, and a crawl
    folder staged by the older schema (parquet without the column) still merges, by column name."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from flows.staging import _CRAWL_MERGE

    con = duckdb.connect(str(tmp_path / DB_NAME))
    apply_migrations(con, upto=3)
    con.execute("INSERT INTO crawl_state (url, portal_id, kind, status) VALUES ('http://a/1', 'p', 'list', 'ok')")
    old_staged = con.sql("SELECT * FROM crawl_state").to_arrow_table()  # the pre-004 columns
    con.close()
    con = connect(tmp_path)
    assert con.execute("SELECT url, method FROM crawl_state").fetchall() == [("http://a/1", "GET")]
    con.execute("UPDATE crawl_state SET method = 'POST'")
    f = tmp_path / "crawl_state.parquet"
    pq.write_table(old_staged.set_column(old_staged.schema.get_field_index("status"), "status",
                                         pa.array(["failed"])), f)
    con.execute(_CRAWL_MERGE["crawl_state"], [str(f)])
    assert con.execute("SELECT status, method FROM crawl_state").fetchall() == [("failed", "POST")]
    con.close()


def test_crawl_only_database_gets_the_crawl_migrations(tmp_path) -> None:
    con = duckdb.connect(str(tmp_path / DB_NAME))
    assert apply_migrations(con, only=sql.CRAWL_MIGRATIONS) == list(sql.CRAWL_MIGRATIONS)
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert {"crawl_state", "documents", "crawl_log"} <= tables and "cells" not in tables
    cols = {r[0] for r in con.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = 'crawl_state'")
            .fetchall()}
    assert "method" in cols
    con.close()
