//! Payment Service (port 8001): charges orders through the payment gateway, keeps one
//! payment per order, refunds completed payments, and passes the gateway's late verdicts on
//! to the Order Service through a durable outbox.

pub mod charging;
pub mod clients;
pub mod config;
pub mod db;
pub mod domain;
pub mod gateway;
pub mod metrics;
pub mod outbox;
pub mod routes;
pub mod startup;
pub mod sweep;

pub use startup::Application;

/// The service's schema, for each backend.
pub static MIGRATIONS: platform::db::Migrations = platform::db::Migrations {
    sqlite: sqlx::migrate!("migrations/sqlite"),
    postgres: sqlx::migrate!("migrations/postgres"),
};
