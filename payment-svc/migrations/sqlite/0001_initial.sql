-- Payments, their refunds, and the outbox of webhooks owed to the Order Service.

-- One payment per order (FR-014/FR-015): UNIQUE(order_id) is what arbitrates concurrent
-- duplicates, so the check cannot be raced past. The idempotency key is UNIQUE too, so two
-- retries of one request cannot both create a row.
CREATE TABLE payments (
    id              INTEGER PRIMARY KEY,
    order_id        INTEGER NOT NULL UNIQUE CHECK (order_id > 0),
    amount          INTEGER NOT NULL CHECK (amount > 0),
    currency        TEXT    NOT NULL DEFAULT 'JPY' CHECK (currency = 'JPY'),
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'completed', 'failed', 'refunded')),
    transaction_id  TEXT    NOT NULL UNIQUE,
    failure_reason  TEXT,
    idempotency_key TEXT    UNIQUE,
    created_at      TEXT    NOT NULL,
    updated_at      TEXT    NOT NULL
);

-- A refund is always of the whole amount, so a payment has at most one.
CREATE TABLE refunds (
    id              INTEGER PRIMARY KEY,
    payment_id      INTEGER NOT NULL UNIQUE REFERENCES payments (id),
    amount          INTEGER NOT NULL CHECK (amount > 0),
    reason          TEXT,
    idempotency_key TEXT,
    created_at      TEXT    NOT NULL
);

-- Columns as documented in platform/src/outbox.rs.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    kind            TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    idempotency_key TEXT    NOT NULL UNIQUE,
    request_id      TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    created_at      TEXT    NOT NULL,
    delivered_at    TEXT,
    dead_at         TEXT
);

CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE delivered_at IS NULL AND dead_at IS NULL;
