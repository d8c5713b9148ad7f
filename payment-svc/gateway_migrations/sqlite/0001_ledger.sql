-- The payment gateway simulator's own record of every transaction it was asked to charge: the
-- outside world's memory, kept apart from the Payment Service's database. A charge is recorded
-- here before its answer travels back, so a Payment Service that dies before it hears the answer
-- can ask again and learn what happened, as it would ask a real gateway.
CREATE TABLE transactions (
    transaction_id TEXT    PRIMARY KEY,
    amount         INTEGER NOT NULL,
    -- captured | declined | authorised (deferred capture: the webhook will settle it)
    outcome        TEXT    NOT NULL CHECK (outcome IN ('captured', 'declined', 'authorised')),
    reason         TEXT,
    created_at     TEXT    NOT NULL
);
