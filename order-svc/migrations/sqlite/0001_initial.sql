-- The Order Service's own tables: orders with their items, the status history of each order,
-- and the transactional outbox of effects on the Payment and Notification services.

CREATE TABLE orders (
    id             INTEGER PRIMARY KEY,
    -- NOCASE so that the customer filter finds `Tanaka@Example.co.jp` as `tanaka@example.co.jp`,
    -- through the index below.
    customer_email TEXT    NOT NULL COLLATE NOCASE,
    customer_name  TEXT    NOT NULL,
    status         TEXT    NOT NULL CHECK (status IN
                       ('pending', 'payment_processing', 'paid', 'shipped', 'delivered', 'cancelled')),
    -- Whole yen.
    total_amount   INTEGER NOT NULL CHECK (total_amount >= 0),
    currency       TEXT    NOT NULL DEFAULT 'JPY' CHECK (currency = 'JPY'),
    created_at     TEXT    NOT NULL,
    updated_at     TEXT    NOT NULL
);
CREATE INDEX orders_status ON orders(status);
CREATE INDEX orders_customer_email ON orders(customer_email);

CREATE TABLE order_items (
    id           INTEGER PRIMARY KEY,
    order_id     INTEGER NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    product_name TEXT    NOT NULL,
    quantity     INTEGER NOT NULL CHECK (quantity > 0),
    unit_price   INTEGER NOT NULL CHECK (unit_price >= 0)
);
CREATE INDEX order_items_order_id ON order_items(order_id);

CREATE TABLE order_status_history (
    id          INTEGER PRIMARY KEY,
    order_id    INTEGER NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    -- NULL for the entry that records the order's creation.
    from_status TEXT,
    to_status   TEXT    NOT NULL,
    reason      TEXT,
    created_at  TEXT    NOT NULL
);
CREATE INDEX order_status_history_order_id ON order_status_history(order_id);

-- The columns platform::outbox reads and writes.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    kind            TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    idempotency_key TEXT    NOT NULL UNIQUE,
    request_id      TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    -- Milliseconds since the Unix epoch.
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    created_at      TEXT    NOT NULL,
    delivered_at    TEXT,
    dead_at         TEXT
);
CREATE INDEX outbox_due ON outbox(next_attempt_at) WHERE delivered_at IS NULL AND dead_at IS NULL;
