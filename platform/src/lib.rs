//! The platform's shared crate.
//!
//! Without features: the JSON contracts (`api`), money (`money`) and the rules of a new order
//! (`new_order`), which the services and the dashboard share. With `server` (the default): the pieces every axum service assembles
//! the same way — error type, extractors, bearer-token checks, signed webhooks, database,
//! telemetry, HTTP front, peer calls, worker loop and outbox — so there is one way to do each
//! of those things.

pub mod api;
pub mod japan_time;
pub mod money;
pub mod new_order;
pub mod whole_number;

#[cfg(feature = "server")]
pub mod auth;
#[cfg(feature = "server")]
pub mod config;
#[cfg(feature = "server")]
pub mod db;
#[cfg(feature = "server")]
pub mod error;
#[cfg(feature = "server")]
pub mod extract;
#[cfg(feature = "server")]
pub mod http;
#[cfg(feature = "server")]
pub mod memory;
#[cfg(feature = "server")]
pub mod metrics;
#[cfg(feature = "server")]
pub mod openapi;
#[cfg(feature = "server")]
pub mod outbox;
#[cfg(feature = "server")]
pub mod peer;
#[cfg(feature = "server")]
pub mod telemetry;
#[cfg(feature = "test-support")]
pub mod testing;
#[cfg(feature = "server")]
pub mod trace_context;
#[cfg(feature = "server")]
pub mod webhook;
#[cfg(feature = "server")]
pub mod worker;

pub use money::{Currency, Yen};

#[cfg(feature = "server")]
pub use error::{ApiError, ApiResult};
