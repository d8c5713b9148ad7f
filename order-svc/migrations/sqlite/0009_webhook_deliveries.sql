-- A webhook receipt names the delivery — `{webhook-id}.{webhook-timestamp}`, both covered by the
-- signature — rather than the signature header's text, which a replay could pad with other
-- `v1,…` entries and so pass for new. The receipts kept so far name signatures, which no
-- delivery key will match: the housekeeping forgets them within ten minutes, as any receipt.
ALTER TABLE webhook_receipts RENAME COLUMN signature TO delivery;
