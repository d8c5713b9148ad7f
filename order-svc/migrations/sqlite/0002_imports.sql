-- Bulk imports: the history of uploaded order files, the orders each one is turning into,
-- its error report, and the link from an order back to its import.

CREATE TABLE imports (
    id               TEXT    PRIMARY KEY,
    status           TEXT    NOT NULL CHECK (status IN
                         ('validating', 'processing', 'completed', 'completed_with_errors', 'failed')),
    file_name        TEXT,
    -- SHA-256 of the bytes as uploaded: the same file twice is the same import.
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
CREATE UNIQUE INDEX imports_same_file ON imports(file_sha256, dry_run);

-- The file of an import still being validated, so that a restart can validate it again.
-- Deleted once its orders are staged.
CREATE TABLE import_files (
    import_id TEXT PRIMARY KEY REFERENCES imports(id) ON DELETE CASCADE,
    content   BLOB NOT NULL
);

-- The valid orders of an import, in file order, and how far each has got:
-- staged → created (order_id set) → paid | failed.
CREATE TABLE import_orders (
    import_id TEXT    NOT NULL REFERENCES imports(id) ON DELETE CASCADE,
    seq       INTEGER NOT NULL,
    order_ref TEXT    NOT NULL,
    line      INTEGER NOT NULL,
    -- The validated order as a NewOrder JSON body.
    payload   TEXT    NOT NULL,
    state     TEXT    NOT NULL CHECK (state IN ('staged', 'created', 'paid', 'failed')),
    order_id  INTEGER,
    PRIMARY KEY (import_id, seq)
) WITHOUT ROWID;

CREATE TABLE import_errors (
    id          INTEGER PRIMARY KEY,
    import_id   TEXT    NOT NULL REFERENCES imports(id) ON DELETE CASCADE,
    line        INTEGER NOT NULL,
    order_ref   TEXT,
    column_name TEXT,
    message     TEXT    NOT NULL
);
CREATE INDEX import_errors_by_line ON import_errors(import_id, line, id);

ALTER TABLE orders ADD COLUMN batch_id TEXT;
ALTER TABLE orders ADD COLUMN order_ref TEXT;
-- An order is created once per import and reference, whatever restarts happen in between;
-- also the index of `GET /api/v1/orders/?batch_id=`.
CREATE UNIQUE INDEX orders_batch_ref ON orders(batch_id, order_ref) WHERE batch_id IS NOT NULL;
