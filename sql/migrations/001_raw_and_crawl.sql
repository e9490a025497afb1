-- Raw archive manifest and crawl state (owned by the crawler, extract/crawl.py).

-- One row per (url, content version). The bytes live in data/raw/ab/cd/<sha256>.
CREATE TABLE documents (
    url            VARCHAR NOT NULL,
    sha256         VARCHAR NOT NULL,
    portal_id      VARCHAR,
    kind           VARCHAR NOT NULL,      -- list | article | attachment | robots
    content_type   VARCHAR,
    http_status    INTEGER,
    size           BIGINT NOT NULL,
    fetched_at     TIMESTAMP NOT NULL,    -- first fetch of this version
    last_seen      TIMESTAMP NOT NULL,    -- last time the server returned these bytes
    etag           VARCHAR,
    last_modified  VARCHAR,
    final_url      VARCHAR,               -- after redirects
    parent_url     VARCHAR,               -- list page of an article, article of an attachment
    title          VARCHAR,               -- link text that led here
    year           INTEGER,               -- report year parsed from the title
    run_id         VARCHAR,
    PRIMARY KEY (url, sha256)
);

-- Latest known state of every URL a crawl has queued; what makes re-runs incremental and resumable.
CREATE TABLE crawl_state (
    url            VARCHAR PRIMARY KEY,
    portal_id      VARCHAR,
    kind           VARCHAR NOT NULL,      -- list | article | attachment
    parent_url     VARCHAR,
    title          VARCHAR,
    year           INTEGER,
    list_sig       VARCHAR,               -- title + date as shown on the list; a change triggers a re-fetch
    status         VARCHAR NOT NULL,      -- pending | ok | failed | broken | skipped
    http_status    INTEGER,
    sha256         VARCHAR,
    etag           VARCHAR,
    last_modified  VARCHAR,
    content_type   VARCHAR,
    first_seen     TIMESTAMP,
    fetched_at     TIMESTAMP,             -- last successful fetch (200 or 304)
    checked_at     TIMESTAMP,             -- last attempt
    error          VARCHAR,
    attempts       INTEGER DEFAULT 0
);

CREATE TABLE crawl_runs (
    run_id       VARCHAR PRIMARY KEY,
    started_at   TIMESTAMP NOT NULL,
    finished_at  TIMESTAMP,
    status       VARCHAR NOT NULL,        -- running | ok | failed  (a killed run stays 'running')
    portals      VARCHAR,                 -- comma-separated portal ids
    config       VARCHAR                  -- JSON of the fetch config
);

CREATE TABLE crawl_portal_runs (
    run_id     VARCHAR NOT NULL,
    portal_id  VARCHAR NOT NULL,
    pages      INTEGER, reports INTEGER, new INTEGER, changed INTEGER, unchanged INTEGER,
    failed     INTEGER, broken INTEGER, skipped INTEGER,
    PRIMARY KEY (run_id, portal_id)
);

-- Every noteworthy event: new/changed documents, failures with their reason.
CREATE TABLE crawl_log (
    run_id       VARCHAR NOT NULL,
    ts           TIMESTAMP NOT NULL,
    portal_id    VARCHAR,
    url          VARCHAR NOT NULL,
    kind         VARCHAR,
    event        VARCHAR NOT NULL,        -- new | changed | unchanged | failed | broken | skipped | error
    http_status  INTEGER,
    sha256       VARCHAR,
    error        VARCHAR
);
