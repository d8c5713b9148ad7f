-- An outbox row keeps the W3C trace context (`traceparent`) of the request that wrote it, beside
-- its request id, so that its delivery — a retry an hour later included — belongs to the same
-- trace across the services' logs.
ALTER TABLE outbox ADD COLUMN traceparent TEXT;
