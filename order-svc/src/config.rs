//! The Order Service's settings, read from the environment. An unset variable takes its
//! default, so tests call `Config::from_env()` and then override the fields they care about.

use std::net::IpAddr;
use std::time::Duration;

use platform::config::{database_url, env_list, env_or, env_string, secret_list, Environment};
use platform::http::HttpSettings;
use platform::outbox::OutboxSettings;
use platform::webhook::DEVELOPMENT_ORDER_WEBHOOK_SECRET;

use crate::domain::identity::ThrottlePolicy;
use crate::identity::{FirstAdmin, IdentitySettings};

#[derive(Debug, Clone)]
pub struct Config {
    /// `ORDER_SERVICE_HOST`, default `127.0.0.1`.
    pub host: String,
    /// `ORDER_SERVICE_PORT`, default 8000.
    pub port: u16,
    /// `ORDER_DATABASE_URL` (else `DATABASE_URL`), default `sqlite://data/order_service.db`;
    /// `postgres://…` for PostgreSQL.
    pub database_url: String,
    /// `DB_MAX_CONNECTIONS`, default 8: on SQLite the reading pool (writes go through one
    /// connection), on PostgreSQL the one pool.
    pub db_max_connections: u32,
    /// `PAYMENT_SERVICE_URL`, default `http://127.0.0.1:8001`.
    pub payment_service_url: String,
    /// `NOTIFICATION_SERVICE_URL`, default `http://127.0.0.1:8002`.
    pub notification_service_url: String,
    /// `PAYMENT_TIMEOUT_SECS`, default 30.
    pub payment_timeout: Duration,
    /// `NOTIFICATION_TIMEOUT_SECS`, default 10.
    pub notification_timeout: Duration,
    /// `OUTBOX_RETRY_BASE_MS`, `OUTBOX_BATCH_SIZE`, `OUTBOX_LEASE_SECS` (`OutboxSettings::from_env`).
    pub outbox: OutboxSettings,
    /// `CORS_ALLOWED_ORIGINS` (comma-separated, default `http://127.0.0.1:5173`); 1 MiB bodies.
    pub http: HttpSettings,
    /// `APP_ENV`: `development` (default) or `production`.
    pub environment: Environment,
    /// `ADMIN_EMAIL` / `ADMIN_PASSWORD`: the first administrator of an empty database.
    pub first_admin: FirstAdmin,
    /// Token lifetimes, session limits and sign-in throttling (see `IdentitySettings`).
    pub identity: IdentitySettings,
    /// `ORDER_WEBHOOK_SECRETS`: the `whsec_…` secrets the Payment Service's webhooks are signed
    /// with (comma-separated, to rotate).
    pub webhook_secrets: Vec<String>,
    /// `TRUSTED_PROXIES` (default `127.0.0.1,::1`, where the dashboard runs): peers whose
    /// `X-Forwarded-For` is believed when throttling sign-ins.
    pub trusted_proxies: Vec<IpAddr>,
    /// `ORDER_RECONCILE_AFTER_SECS` (120): how long an order may wait in `payment_processing`
    /// (beyond the payment call and its retries) before the Payment Service is asked about it.
    pub reconcile_after: Duration,
    /// `IMPORT_CONCURRENCY` (2): imports validating or processing at once, in total; the next
    /// ones are `queued` and start, oldest first, as those end.
    pub import_concurrency: u32,
    /// `IMPORT_LEASE_SECS` (30): how long a replica's hold on a running import lasts unless
    /// renewed; once it lapses (the replica died), another replica takes the import over.
    pub import_lease: Duration,
}

impl Config {
    pub fn from_env() -> anyhow::Result<Config> {
        let outbox = OutboxSettings::from_env()?;
        let environment = Environment::from_env()?;
        let failure_window = Duration::from_secs(env_or("LOGIN_FAILURE_WINDOW_SECS", 900)?);
        let trusted_proxies = env_list("TRUSTED_PROXIES", "127.0.0.1,::1")
            .iter()
            .map(|text| {
                text.parse().map_err(|err| anyhow::anyhow!("TRUSTED_PROXIES: {text:?} is not an address: {err}"))
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Config {
            host: env_string("ORDER_SERVICE_HOST", "127.0.0.1"),
            port: env_or("ORDER_SERVICE_PORT", 8000)?,
            database_url: database_url("ORDER_DATABASE_URL", "sqlite://data/order_service.db"),
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
            environment,
            first_admin: FirstAdmin {
                email: env_string("ADMIN_EMAIL", "admin@example.com"),
                password: std::env::var("ADMIN_PASSWORD").ok().filter(|p| !p.is_empty()),
                environment,
            },
            identity: IdentitySettings {
                access_ttl: Duration::from_secs(env_or("AUTH_ACCESS_TOKEN_TTL_SECS", 300)?),
                session_idle: Duration::from_secs(env_or("AUTH_SESSION_IDLE_SECS", 12 * 3600)?),
                session_max: Duration::from_secs(env_or("AUTH_SESSION_MAX_SECS", 7 * 24 * 3600)?),
                invitation_ttl: Duration::from_secs(env_or("AUTH_INVITATION_TTL_SECS", 7 * 24 * 3600)?),
                account_throttle: ThrottlePolicy {
                    max_failures: env_or("LOGIN_MAX_FAILURES_PER_ACCOUNT", 5)?,
                    window: failure_window,
                },
                address_throttle: ThrottlePolicy {
                    max_failures: env_or("LOGIN_MAX_FAILURES_PER_ADDRESS", 20)?,
                    window: failure_window,
                },
            },
            webhook_secrets: secret_list("ORDER_WEBHOOK_SECRETS", environment, DEVELOPMENT_ORDER_WEBHOOK_SECRET)?,
            trusted_proxies,
            reconcile_after: Duration::from_secs(env_or("ORDER_RECONCILE_AFTER_SECS", 120)?),
            import_concurrency: positive(env_or("IMPORT_CONCURRENCY", 2)?, "IMPORT_CONCURRENCY")?,
            import_lease: Duration::from_secs(positive(env_or("IMPORT_LEASE_SECS", 30)?, "IMPORT_LEASE_SECS")?.into()),
        })
    }
}

fn positive(value: u32, name: &str) -> anyhow::Result<u32> {
    anyhow::ensure!(value > 0, "{name} must be at least 1");
    Ok(value)
}

fn trim_slash(url: String) -> String {
    url.trim_end_matches('/').to_owned()
}
