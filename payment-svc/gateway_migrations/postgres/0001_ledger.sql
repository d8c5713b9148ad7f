-- The payment gateway simulator's own record of every transaction it was asked to charge, on
-- PostgreSQL (as gateway_migrations/sqlite/0001_ledger.sql): the outside world's memory, kept
-- apart from the Payment Service's database and shared by all its replicas, as one real
-- gateway would be.
CREATE TABLE transactions (
    transaction_id TEXT        PRIMARY KEY,
    amount         BIGINT      NOT NULL,
    -- captured | declined | authorised (deferred capture: the webhook will settle it)
    outcome        TEXT        NOT NULL CHECK (outcome IN ('captured', 'declined', 'authorised')),
    reason         TEXT,
    created_at     TIMESTAMPTZ NOT NULL
);
