//! The Notification Service: accepts e-mail and SMS notifications about orders, renders
//! them from askama templates in Japanese, stores them PENDING and sends them in the
//! background at a limited rate (NFR-008), tracking PENDING → SENT or FAILED.

pub mod config;
pub mod db;
pub mod domain;
pub mod metrics;
pub mod routes;
pub mod send_rate;
pub mod sender;
pub mod startup;
pub mod transport;

pub use config::Config;
pub use startup::Application;

/// The service's schema, for each backend.
pub static MIGRATIONS: platform::db::Migrations = platform::db::Migrations {
    sqlite: sqlx::migrate!("migrations/sqlite"),
    postgres: sqlx::migrate!("migrations/postgres"),
};
