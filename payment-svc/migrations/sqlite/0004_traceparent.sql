-- The W3C trace context (`traceparent`) of the request behind a payment's last change, and of
-- the webhook row that announces it (beside their request ids): the webhook's delivery belongs to
-- the same trace across the services' logs. The trigger of 0003 is made anew to carry it.
ALTER TABLE payments ADD COLUMN traceparent TEXT;
ALTER TABLE outbox ADD COLUMN traceparent TEXT;

DROP TRIGGER payments_status_webhook;
CREATE TRIGGER payments_status_webhook AFTER UPDATE OF status ON payments
WHEN NEW.status <> OLD.status
BEGIN
    INSERT OR IGNORE INTO outbox
        (kind, payload, idempotency_key, request_id, traceparent, attempts, next_attempt_at, created_at)
    VALUES (
        'order_webhook',
        json_object(
            'order_id', NEW.order_id,
            'webhook', json_object(
                'order_id', NEW.order_id,
                'payment_id', NEW.id,
                'status', NEW.status,
                'reason', NEW.failure_reason
            )
        ),
        'payment-' || NEW.id || '-' || NEW.status,
        NEW.request_id,
        NEW.traceparent,
        0,
        CAST(unixepoch('subsec') * 1000 AS INTEGER),
        strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
    );
END;
