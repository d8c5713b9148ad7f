-- The digest e-mail of bulk imports (ORDER_DIGEST): one message listing a customer's orders
-- of one import. It widens the CHECK on template names of both tables.
--
-- SQLite cannot alter a CHECK constraint, so each table is rebuilt the way
-- https://www.sqlite.org/lang_altertable.html#otheralter prescribes: create the new table,
-- copy every row, drop the old one, rename the new one, recreate its indexes. sqlx runs a
-- migration in one transaction, so either all of it happens or none of it. No foreign key
-- refers to these tables and they have no triggers or views, so the procedure's steps about
-- those have nothing to do.

-- The catalogue.

CREATE TABLE notification_templates_new (
    name        TEXT NOT NULL
        CHECK (name IN ('ORDER_CONFIRMATION', 'ORDER_SHIPPED', 'ORDER_CANCELLED', 'ORDER_DIGEST')),
    channel     TEXT NOT NULL CHECK (channel IN ('email', 'sms')),
    subject     TEXT NULL,
    description TEXT NOT NULL,
    PRIMARY KEY (name, channel),
    -- There is no SMS digest: a list of orders does not fit a text message.
    CHECK (name <> 'ORDER_DIGEST' OR channel = 'email')
);

INSERT INTO notification_templates_new (name, channel, subject, description)
    SELECT name, channel, subject, description FROM notification_templates;

DROP TABLE notification_templates;
ALTER TABLE notification_templates_new RENAME TO notification_templates;

-- Mirrors `DigestSubject` in src/domain/templates.rs, like the rows of 0001 (a test compares
-- the two).
INSERT INTO notification_templates (name, channel, subject, description) VALUES
    ('ORDER_DIGEST', 'email', '【ご注文確認】{{ order_count }}件のご注文を承りました',
        '一括取込で登録したご注文をお客様ごとにまとめてお知らせする確認メール（取込ID・お客様の注文参照番号・注文番号・商品・各注文の金額・総合計）');

-- The notifications (and the sender's queue).

CREATE TABLE notifications_new (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id        INTEGER NOT NULL CHECK (order_id >= 1),
    channel         TEXT NOT NULL CHECK (channel IN ('email', 'sms')),
    recipient       TEXT NOT NULL,
    template        TEXT NOT NULL
        CHECK (template IN ('ORDER_CONFIRMATION', 'ORDER_SHIPPED', 'ORDER_CANCELLED', 'ORDER_DIGEST')),
    -- E-mail only; NULL for SMS.
    subject         TEXT NULL,
    -- Rendered when the request is accepted: exactly what is (or was) sent.
    body            TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'SENT', 'FAILED')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    error           TEXT NULL,
    -- The caller's Idempotency-Key: a retried request finds the row it already created.
    idempotency_key TEXT NULL UNIQUE,
    -- Milliseconds since the epoch; pushed one lease ahead while a sender works on the row.
    next_attempt_at INTEGER NOT NULL,
    created_at      TEXT NOT NULL,
    sent_at         TEXT NULL,
    CHECK ((channel = 'email') = (subject IS NOT NULL)),
    -- A digest is filed under the first of its orders and is e-mail only.
    CHECK (template <> 'ORDER_DIGEST' OR channel = 'email')
);

INSERT INTO notifications_new
    (id, order_id, channel, recipient, template, subject, body, status, attempts, error,
     idempotency_key, next_attempt_at, created_at, sent_at)
    SELECT id, order_id, channel, recipient, template, subject, body, status, attempts, error,
           idempotency_key, next_attempt_at, created_at, sent_at
    FROM notifications;

-- AUTOINCREMENT promises an id is never handed out twice. Copying the rows set the new
-- table's counter to the highest id present; carry over the old counter instead, which may
-- be higher. DROP TABLE removes the old table's entry and RENAME renames the new one's.
DELETE FROM sqlite_sequence WHERE name = 'notifications_new';
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'notifications_new', seq FROM sqlite_sequence WHERE name = 'notifications';

DROP TABLE notifications;
ALTER TABLE notifications_new RENAME TO notifications;

CREATE INDEX notifications_due ON notifications (status, next_attempt_at);
CREATE INDEX notifications_order ON notifications (order_id);
