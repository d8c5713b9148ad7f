//! The Order Service: orders and their status lifecycle, and the orchestrator of the
//! platform — it takes each new order's payment from the Payment Service and sends the
//! order e-mails and refunds through its outbox. It is also the platform's identity
//! provider: people sign in here, and every token the services accept is signed here.
//!
//! A library with a thin `main`, so tests start the whole service in-process on port 0.

pub mod clients;
pub mod config;
pub mod context;
pub mod db;
pub mod delivery;
pub mod domain;
pub mod housekeeping;
pub mod identity;
pub mod importer;
pub mod lifecycle;
pub mod metrics;
pub mod reconciler;
pub mod routes;
pub mod startup;

pub use startup::Application;

/// The service's schema, for each backend.
pub static MIGRATIONS: platform::db::Migrations = platform::db::Migrations {
    sqlite: sqlx::migrate!("migrations/sqlite"),
    postgres: sqlx::migrate!("migrations/postgres"),
};
