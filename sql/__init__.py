"""The DuckDB warehouse: ordered migrations in `sql/migrations/NNN_name.sql`, views in `sql/views/`.

`connect(data_dir)` opens `DATA_DIR/gongkai.duckdb` and applies every migration not yet recorded in
`schema_version`, each in its own transaction, so any older database is brought up to date on open.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

SQL_DIR = Path(__file__).resolve().parent
MIGRATIONS_DIR = SQL_DIR / "migrations"
VIEWS_DIR = SQL_DIR / "views"
DB_NAME = "gongkai.duckdb"
_MIGRATION_RE = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")
CRAWL_MIGRATIONS = (1, 4)  # the raw/crawl tables: all a crawl-only database (flows' staging) needs


def migrations() -> list[tuple[int, Path]]:
    out = []
    for p in sorted(MIGRATIONS_DIR.glob("*.sql")):
        m = _MIGRATION_RE.match(p.name)
        if m:
            out.append((int(m.group(1)), p))
    return out


def apply_migrations(con: duckdb.DuckDBPyConnection, upto: int | None = None,
                     only: tuple[int, ...] | None = None) -> list[int]:
    """Apply pending migrations (optionally only up to version `upto`, or only the versions in `only`);
    return the versions applied."""
    con.execute("CREATE TABLE IF NOT EXISTS schema_version ("
                "version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP DEFAULT now())")
    done = {r[0] for r in con.execute("SELECT version FROM schema_version").fetchall()}
    applied = []
    for version, path in migrations():
        if version in done or (upto is not None and version > upto) or (only is not None and version not in only):
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(path.read_text(encoding="utf-8"))
            con.execute("INSERT INTO schema_version (version, name) VALUES (?, ?)", [version, path.stem])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        applied.append(version)
    return applied


def create_views(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)create every view in sql/views, in file-name order (a view may use an earlier one)."""
    for p in sorted(VIEWS_DIR.glob("*.sql")):
        con.execute(p.read_text(encoding="utf-8"))


def connect(data_dir: Path | str, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    data_dir = Path(data_dir)
    if read_only:
        return duckdb.connect(str(data_dir / DB_NAME), read_only=True)
    data_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(data_dir / DB_NAME))
    apply_migrations(con)
    create_views(con)  # views are CREATE OR REPLACE: cheap, and always match the code
    return con
