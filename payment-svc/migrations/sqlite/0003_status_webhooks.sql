-- FR-018: the Order Service hears of every status change of a payment, whoever made it (the
-- order flow, a direct call, the gateway's webhook, the sweep, a refund). The database makes it
-- so: the change and its webhook row in the outbox are one statement, whatever code path ran
-- the UPDATE. `request_id` is the request that made the change, carried on to the webhook so a
-- flow can be followed in the logs; the key names the payment and the status, so a status is
-- announced once (a repeat of it re-arms the same row: see routes::webhooks).
ALTER TABLE payments ADD COLUMN request_id TEXT;

-- The sweep (src/sweep.rs): when a payment left pending was last asked about (milliseconds since
-- the epoch), and the index that finds the pending ones.
ALTER TABLE payments ADD COLUMN checked_at INTEGER;
CREATE INDEX payments_pending ON payments (created_at) WHERE status = 'pending';

CREATE TRIGGER payments_status_webhook AFTER UPDATE OF status ON payments
WHEN NEW.status <> OLD.status
BEGIN
    INSERT OR IGNORE INTO outbox (kind, payload, idempotency_key, request_id, attempts, next_attempt_at, created_at)
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
        0,
        CAST(unixepoch('subsec') * 1000 AS INTEGER),
        strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
    );
END;
