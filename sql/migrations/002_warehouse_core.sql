-- Warehouse core: units, portals, reports (versioned), long-format cells, narrative figures, checks.
-- Natural keys are enforced by sql/load.py (bulk merge), not by indexes on the big tables: ART indexes
-- would slow a 48M-cell load several-fold and DuckDB checks them eagerly inside a transaction.

-- One row per publishing unit, placed in the admin hierarchy as far as the evidence allows.
-- unit_key: '<county code>/<township base name>' for a township, the 6-digit code for county and above,
-- '?/<name>@<scope>' when unresolved (scope = portal id or source host, so two unresolved 城关镇 never merge).
CREATE TABLE IF NOT EXISTS units (
    unit_key        VARCHAR PRIMARY KEY,
    unit_name       VARCHAR NOT NULL,   -- as printed, without 人民政府/政府
    level           VARCHAR NOT NULL,   -- province|prefecture|county|township|department|unknown
    province        VARCHAR,
    province_code   VARCHAR,
    prefecture      VARCHAR,
    prefecture_code VARCHAR,
    county          VARCHAR,
    county_code     VARCHAR,
    township        VARCHAR,
    township_code   VARCHAR,            -- 9/12-digit code only when a source gives one (the gazetteer has none)
    resolution      VARCHAR NOT NULL,   -- portal|title|gazetteer|hints|county_only|unresolved
    candidates      INTEGER,            -- gazetteer candidates left; >1 with resolution=unresolved
    evidence        VARCHAR             -- which hints decided it (human-readable)
);

-- The portal registry (extract/portals.toml), copied in so units and coverage can be joined in SQL.
CREATE TABLE IF NOT EXISTS portals (
    portal_id       VARCHAR PRIMARY KEY,
    unit_name       VARCHAR,
    level           VARCHAR,
    province        VARCHAR,
    province_code   VARCHAR,
    prefecture      VARCHAR,
    prefecture_code VARCHAR,
    county          VARCHAR,
    county_code     VARCHAR,
    township        VARCHAR,
    township_code   VARCHAR,
    family          VARCHAR,
    entry_urls      VARCHAR[],
    unit_key        VARCHAR,            -- the unit the portal publishes for (resolved on registration)
    extra           JSON
);

CREATE SEQUENCE IF NOT EXISTS report_id_seq START 1;

-- One row per document version of a unit x year. The document (sha256) is the identity; unit and year
-- are re-resolved on reload. version counts a unit x year's publications, oldest first; is_current marks
-- the newest, so superseded versions stay queryable.
CREATE TABLE IF NOT EXISTS reports (
    report_id         BIGINT PRIMARY KEY,
    sha256            VARCHAR NOT NULL UNIQUE,
    unit_key          VARCHAR NOT NULL,
    year              INTEGER,
    version           INTEGER NOT NULL DEFAULT 1,
    is_current        BOOLEAN NOT NULL DEFAULT TRUE,
    unit_name_printed VARCHAR,
    title             VARCHAR,
    template          VARCHAR,
    fmt               VARCHAR,
    source_url        VARCHAR,
    portal_id         VARCHAR,
    fetched_at        TIMESTAMP,         -- first time this document was seen
    published_at      TIMESTAMP,
    extractor_version VARCHAR,
    status            VARCHAR NOT NULL,  -- ok|checks_failed|no_tables|no_year
    n_cells           INTEGER NOT NULL,
    n_checks_failed   INTEGER NOT NULL,
    warnings          VARCHAR[],
    content_digest    UBIGINT,           -- order-free hash of cells+narrative+checks: the reload fast path
    loaded_at         TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP
);

-- Long format: one row per (report, table, row, col). value NULL unless a number was printed (or 无).
CREATE TABLE IF NOT EXISTS cells (
    report_id     BIGINT NOT NULL,
    table_key     VARCHAR NOT NULL,
    row_key       VARCHAR NOT NULL,
    col_key       VARCHAR NOT NULL,
    value         DECIMAL(18, 4),
    raw           VARCHAR,
    status        VARCHAR NOT NULL,
    flags         VARCHAR[],
    raw_row_label VARCHAR,
    raw_col_label VARCHAR,
    section       TINYINT
);

-- Figures read from the narrative (mostly section 一).
CREATE TABLE IF NOT EXISTS narrative (
    report_id BIGINT NOT NULL,
    seq       INTEGER NOT NULL,          -- order in the document
    metric    VARCHAR NOT NULL,
    qualifier VARCHAR,
    value     DECIMAL(18, 4),
    unit      VARCHAR,
    approx    BOOLEAN,
    raw       VARCHAR,
    section   TINYINT
);

-- Check results of the extractor (hard rules H1-H6 and per-report soft rules).
CREATE TABLE IF NOT EXISTS checks (
    report_id BIGINT NOT NULL,
    seq       INTEGER NOT NULL,
    rule      VARCHAR NOT NULL,
    scope     VARCHAR,
    expected  DECIMAL(18, 4),
    actual    DECIMAL(18, 4),
    passed    BOOLEAN,                   -- NULL: not checkable
    detail    VARCHAR
);
