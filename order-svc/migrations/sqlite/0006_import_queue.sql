-- Imports take turns: beyond IMPORT_CONCURRENCY running at once, an accepted import waits as
-- `queued` (oldest first). And a failed import's file can be uploaded again: the same bytes
-- are the same import only while that import has not failed.
--
-- `queued` widens the CHECK on status, which SQLite can change only by rebuilding the table as
-- https://www.sqlite.org/lang_altertable.html#otheralter prescribes: create the new table, copy
-- every row, drop the old one, rename the new one, recreate its indexes. platform::db::migrate
-- runs migrations with foreign keys off, so dropping the old table does not cascade to the
-- files, staged orders and errors that refer to it, and checks every reference afterwards.
-- sqlx runs a migration in one transaction: all of it happens or none of it.

CREATE TABLE imports_new (
    id               TEXT    PRIMARY KEY,
    status           TEXT    NOT NULL CHECK (status IN
                         ('queued', 'validating', 'processing', 'completed', 'completed_with_errors', 'failed')),
    file_name        TEXT,
    -- SHA-256 of the bytes as uploaded: the same file twice is the same import, unless it failed.
    file_sha256      TEXT    NOT NULL,
    idempotency_key  TEXT    UNIQUE,
    encoding         TEXT    NOT NULL,
    dry_run          INTEGER NOT NULL CHECK (dry_run IN (0, 1)),
    notify           TEXT    NOT NULL CHECK (notify IN ('per_order', 'digest', 'none')),
    total_rows       INTEGER NOT NULL DEFAULT 0,
    total_orders     INTEGER NOT NULL DEFAULT 0,
    processed_orders INTEGER NOT NULL DEFAULT 0,
    succeeded_orders INTEGER NOT NULL DEFAULT 0,
    failed_orders    INTEGER NOT NULL DEFAULT 0,
    error_count      INTEGER NOT NULL DEFAULT 0,
    -- JSON array of header texts.
    unknown_columns  TEXT    NOT NULL DEFAULT '[]',
    failure          TEXT,
    created_at       TEXT    NOT NULL,
    finished_at      TEXT
);

INSERT INTO imports_new (id, status, file_name, file_sha256, idempotency_key, encoding, dry_run, notify,
                         total_rows, total_orders, processed_orders, succeeded_orders, failed_orders,
                         error_count, unknown_columns, failure, created_at, finished_at)
    SELECT id, status, file_name, file_sha256, idempotency_key, encoding, dry_run, notify,
           total_rows, total_orders, processed_orders, succeeded_orders, failed_orders,
           error_count, unknown_columns, failure, created_at, finished_at
    FROM imports;

DROP TABLE imports;
ALTER TABLE imports_new RENAME TO imports;

CREATE UNIQUE INDEX imports_same_file ON imports(file_sha256, dry_run) WHERE status <> 'failed';
-- The queue, and the count of running imports it is measured against.
CREATE INDEX imports_by_status ON imports(status, created_at);
