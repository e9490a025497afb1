-- One row per load batch, with what it changed: answers "did last night's reload change anything?".
CREATE SEQUENCE IF NOT EXISTS load_run_seq START 1;
CREATE TABLE IF NOT EXISTS load_runs (
    run_id            BIGINT PRIMARY KEY,
    finished_at       TIMESTAMP NOT NULL,
    documents         INTEGER NOT NULL,
    reports_inserted  INTEGER NOT NULL,
    reports_updated   INTEGER NOT NULL,
    reports_unchanged INTEGER NOT NULL,
    cells_inserted    BIGINT NOT NULL,
    cells_updated     BIGINT NOT NULL,
    cells_unchanged   BIGINT NOT NULL,
    cells_deleted     BIGINT NOT NULL
);
