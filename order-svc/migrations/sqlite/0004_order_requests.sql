-- The `Idempotency-Key`s of order creations: per caller (a token's subject), the request's
-- fingerprint, the order it created (set in the transaction that creates it) and, once known,
-- the first answer, which a retry with the same key and body gets again. Kept for 24 hours.
CREATE TABLE order_requests (
    caller          TEXT    NOT NULL,
    idempotency_key TEXT    NOT NULL,
    request_hash    TEXT    NOT NULL,
    order_id        INTEGER REFERENCES orders (id),
    response_status INTEGER,
    response_body   TEXT,
    -- Milliseconds since the epoch.
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (caller, idempotency_key)
);
CREATE INDEX order_requests_created_at ON order_requests (created_at);
