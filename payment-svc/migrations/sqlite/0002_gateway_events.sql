-- What the payment gateway reported about each payment through its signed webhook, applied or
-- not: an event that repeats the recorded outcome, or contradicts it (a `failed` for a completed
-- payment), is acknowledged to the gateway and kept here as `repeated` or `ignored`, so that it
-- is visible on the payment instead of lost.
CREATE TABLE gateway_events (
    id          INTEGER PRIMARY KEY,
    payment_id  INTEGER NOT NULL REFERENCES payments (id),
    status      TEXT    NOT NULL,
    reason      TEXT,
    outcome     TEXT    NOT NULL CHECK (outcome IN ('applied', 'repeated', 'ignored')),
    detail      TEXT,
    received_at TEXT    NOT NULL
);
CREATE INDEX gateway_events_payment ON gateway_events (payment_id);

-- Signatures of the gateway webhooks received in the last minutes: the same signature twice is a
-- replay (the gateway signs every delivery anew).
CREATE TABLE gateway_receipts (
    signature   TEXT    PRIMARY KEY,
    -- Milliseconds since the epoch.
    received_at INTEGER NOT NULL
);
CREATE INDEX gateway_receipts_received_at ON gateway_receipts (received_at);
