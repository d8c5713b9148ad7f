//! The Order Service's settings, read from the environment. An unset variable takes its
//! default, so tests call `Config::from_env()` and then override the fields they care about.

use std::time::Duration;

use platform::config::{env_list, env_or, env_string};
use platform::http::HttpSettings;
use platform::outbox::OutboxSettings;

#[derive(Debug, Clone)]
pub struct Config {
    /// `ORDER_SERVICE_HOST`, default `127.0.0.1`.
    pub host: String,
    /// `ORDER_SERVICE_PORT`, default 8000.
    pub port: u16,
    /// `ORDER_DATABASE_URL`, default `sqlite://data/order_service.db`.
    pub database_url: String,
    /// `DB_MAX_CONNECTIONS`, default 8: the reading pool (writes go through one connection).
    pub db_max_connections: u32,
    /// `PAYMENT_SERVICE_URL`, default `http://127.0.0.1:8001`.
    pub payment_service_url: String,
    /// `NOTIFICATION_SERVICE_URL`, default `http://127.0.0.1:8002`.
    pub notification_service_url: String,
    /// `PAYMENT_TIMEOUT_SECS`, default 30.
    pub payment_timeout: Duration,
    /// `NOTIFICATION_TIMEOUT_SECS`, default 10.
    pub notification_timeout: Duration,
    /// `OUTBOX_RETRY_BASE_MS` (500) is the first retry delay, `OUTBOX_BATCH_SIZE` (64) the rows
    /// delivered concurrently.
    pub outbox: OutboxSettings,
    /// `CORS_ALLOWED_ORIGINS` (comma-separated, default `http://127.0.0.1:5173`); 1 MiB bodies.
    pub http: HttpSettings,
}

impl Config {
    pub fn from_env() -> anyhow::Result<Config> {
        let mut outbox = OutboxSettings::default();
        outbox.backoff.base = Duration::from_millis(env_or("OUTBOX_RETRY_BASE_MS", 500u64)?);
        outbox.batch_size = env_or("OUTBOX_BATCH_SIZE", 64i64)?;
        anyhow::ensure!(outbox.batch_size > 0, "OUTBOX_BATCH_SIZE must be positive");
        Ok(Config {
            host: env_string("ORDER_SERVICE_HOST", "127.0.0.1"),
            port: env_or("ORDER_SERVICE_PORT", 8000)?,
            database_url: env_string("ORDER_DATABASE_URL", "sqlite://data/order_service.db"),
            db_max_connections: env_or("DB_MAX_CONNECTIONS", 8)?,
            payment_service_url: trim_slash(env_string("PAYMENT_SERVICE_URL", "http://127.0.0.1:8001")),
            notification_service_url: trim_slash(env_string("NOTIFICATION_SERVICE_URL", "http://127.0.0.1:8002")),
            payment_timeout: Duration::from_secs(env_or("PAYMENT_TIMEOUT_SECS", 30)?),
            notification_timeout: Duration::from_secs(env_or("NOTIFICATION_TIMEOUT_SECS", 10)?),
            outbox,
            http: HttpSettings {
                cors_origins: env_list("CORS_ALLOWED_ORIGINS", "http://127.0.0.1:5173"),
                body_limit: 1024 * 1024,
            },
        })
    }
}

fn trim_slash(url: String) -> String {
    url.trim_end_matches('/').to_owned()
}
