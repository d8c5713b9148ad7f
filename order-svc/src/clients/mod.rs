//! Typed clients of the two peers this service calls, built on `platform::peer` so that
//! timeouts, request ids, idempotency keys and error classification are the same everywhere.

pub mod notification;
pub mod payment;

pub use notification::NotificationClient;
pub use payment::PaymentClient;
