//! `Context`: what the Order Service's work needs wherever it runs — the database, the
//! Payment Service's client, the outbox and the payment timings. The HTTP handlers, the
//! order lifecycle, the importer and the outbox's deliveries all take it, so none of them
//! depends on another's types (the routes' `AppState` holds one).

use std::time::Duration;

use platform::db::Database;
use platform::outbox::Outbox;

use crate::clients::PaymentClient;

/// Timings of the payment of a new order.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// How long the payment row of a new order waits before the worker may take it over: the
    /// request makes the call itself, so the row only matters if the request never finishes.
    /// Longer than the payment timeout, so the two never call at once.
    pub payment_call_lease: Duration,
    /// When an unanswered payment is first retried.
    pub payment_retry_delay: Duration,
}

#[derive(Clone)]
pub struct Context {
    /// Reads through `db.read`, every write through the single `db.write` connection.
    pub db: Database,
    pub payments: PaymentClient,
    pub outbox: Outbox,
    pub settings: Settings,
}
