-- The reconciliation of orders left in payment_processing (src/reconciler.rs): when the Payment
-- Service was last asked about the order's payment (milliseconds since the epoch), so that an
-- order waiting for a deferred capture is asked about once per period, not every round.
ALTER TABLE orders ADD COLUMN payment_checked_at INTEGER;
CREATE INDEX orders_awaiting_payment ON orders (updated_at) WHERE status = 'payment_processing';
