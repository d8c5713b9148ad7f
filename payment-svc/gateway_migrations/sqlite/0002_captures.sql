-- The gateway simulator reports what it captures later (deferred capture) through its signed
-- webhook, as a real gateway does, until the Payment Service acknowledges it: the reports wait
-- in an outbox of the gateway's own (the columns of platform::outbox), written in the
-- transaction that captures the charge.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    kind            TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    idempotency_key TEXT    NOT NULL UNIQUE,
    request_id      TEXT,
    traceparent     TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    -- Milliseconds since the Unix epoch.
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    created_at      TEXT    NOT NULL,
    delivered_at    TEXT,
    dead_at         TEXT
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE delivered_at IS NULL AND dead_at IS NULL;
-- The charges waiting for their capture, oldest first.
CREATE INDEX transactions_authorised ON transactions (created_at) WHERE outcome = 'authorised';
