-- The Notification Service's schema: the catalogue of templates, and the notifications
-- themselves, which double as the sender's queue (status PENDING + next_attempt_at).

CREATE TABLE notification_templates (
    name        TEXT NOT NULL CHECK (name IN ('ORDER_CONFIRMATION', 'ORDER_SHIPPED', 'ORDER_CANCELLED')),
    channel     TEXT NOT NULL CHECK (channel IN ('email', 'sms')),
    subject     TEXT NULL,
    description TEXT NOT NULL,
    PRIMARY KEY (name, channel)
);

-- The subjects mirror the askama subject templates in src/domain/templates.rs; a test
-- renders each one and compares it with this table so the two cannot drift apart.
INSERT INTO notification_templates (name, channel, subject, description) VALUES
    ('ORDER_CONFIRMATION', 'email', '【ご注文確認】ご注文ありがとうございます（注文番号: #{{ order_id }}）',
        '注文確定時に送信する確認メール（お客様名・注文番号・商品・合計金額）'),
    ('ORDER_SHIPPED', 'email', '【発送のお知らせ】ご注文の商品を発送しました（注文番号: #{{ order_id }}）',
        '商品発送時に送信するお知らせメール'),
    ('ORDER_CANCELLED', 'email', '【キャンセル完了】ご注文をキャンセルしました（注文番号: #{{ order_id }}）',
        '注文キャンセル時に送信するお知らせメール（返金のご案内を含む）'),
    ('ORDER_CONFIRMATION', 'sms', NULL, '注文確定時に送信する確認SMS'),
    ('ORDER_SHIPPED', 'sms', NULL, '商品発送時に送信するお知らせSMS'),
    ('ORDER_CANCELLED', 'sms', NULL, '注文キャンセル時に送信するお知らせSMS');

CREATE TABLE notifications (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id        INTEGER NOT NULL CHECK (order_id >= 1),
    channel         TEXT NOT NULL CHECK (channel IN ('email', 'sms')),
    recipient       TEXT NOT NULL,
    template        TEXT NOT NULL CHECK (template IN ('ORDER_CONFIRMATION', 'ORDER_SHIPPED', 'ORDER_CANCELLED')),
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
    CHECK ((channel = 'email') = (subject IS NOT NULL))
);

CREATE INDEX notifications_due ON notifications (status, next_attempt_at);
CREATE INDEX notifications_order ON notifications (order_id);
