//! The service's settings, read from the environment with a default for each (README lists
//! them). Tests call `from_env()` and then override fields.

use std::time::Duration;

use platform::auth::PublicKeys;
use platform::config::{database_url, env_list, env_or, env_string, secret_list, Environment};
use platform::http::HttpSettings;
use platform::outbox::OutboxSettings;
use platform::webhook::DEVELOPMENT_ORDER_WEBHOOK_SECRET;

/// What the gateway simulator signs its webhooks with when `PAYMENT_GATEWAY_WEBHOOK_SECRETS` is
/// unset: development only (`APP_ENV=production` refuses it).
pub const DEVELOPMENT_GATEWAY_SECRET: &str = "gwsec_development_only_gateway_webhook_secret";

pub use crate::gateway::{CaptureMode, GatewaySettings};

#[derive(Debug, Clone)]
pub struct Config {
    pub host: String,
    pub port: u16,
    pub database_url: String,
    /// `DB_MAX_CONNECTIONS`: on SQLite the read connections (every write goes through one more,
    /// the single writer); on PostgreSQL the one pool's.
    pub db_max_connections: u32,
    /// Base URL of the Order Service, which receives the payment webhooks.
    pub order_service_url: String,
    pub order_webhook_timeout: Duration,
    pub gateway: GatewaySettings,
    /// `PAYMENT_GATEWAY_DATABASE_URL`: the simulator's ledger; unset, a SQLite file beside the
    /// service's own SQLite database (`…/payment_service-gateway.db`), or `data/payment_gateway.db`
    /// when the service is on PostgreSQL (replicas on one machine share that file; set it to a
    /// PostgreSQL database of its own for replicas on several).
    pub gateway_database_url: Option<String>,
    /// `PAYMENT_GATEWAY_WEBHOOK_URL`: where the gateway simulator reports deferred captures;
    /// unset, this process's own `/api/v1/payments/webhook` (set it to the balancer's when there
    /// are replicas).
    pub gateway_webhook_url: Option<String>,
    /// `OUTBOX_RETRY_BASE_MS`, `OUTBOX_BATCH_SIZE`, `OUTBOX_LEASE_SECS` (`OutboxSettings::from_env`).
    pub outbox: OutboxSettings,
    pub http: HttpSettings,
    /// `APP_ENV`: `development` (default) or `production`.
    pub environment: Environment,
    /// Where the Order Service's public keys are: `AUTH_JWKS_URL`, by default its
    /// `/.well-known/jwks.json`.
    pub public_keys: PublicKeys,
    /// `ORDER_WEBHOOK_SECRETS`: the `whsec_…` secrets the webhooks to the Order Service are
    /// signed with (the Order Service has the same; comma-separated, to rotate).
    pub order_webhook_secrets: Vec<String>,
    /// `PAYMENT_GATEWAY_WEBHOOK_SECRETS`: what the gateway signs its webhooks with (the first
    /// one is what the simulator signs with; comma-separated, to rotate).
    pub gateway_webhook_secrets: Vec<String>,
}

impl Config {
    pub fn from_env() -> anyhow::Result<Config> {
        let decline_rate: f64 = env_or("PAYMENT_GATEWAY_DECLINE_RATE", 0.0)?;
        if !(0.0..=1.0).contains(&decline_rate) {
            anyhow::bail!("PAYMENT_GATEWAY_DECLINE_RATE={decline_rate} must be between 0.0 and 1.0");
        }
        let capture: CaptureMode = env_string("PAYMENT_GATEWAY_CAPTURE", "immediate")
            .parse()
            .map_err(|err| anyhow::anyhow!("PAYMENT_GATEWAY_CAPTURE: {err}"))?;

        let outbox = OutboxSettings::from_env()?;

        let environment = Environment::from_env()?;
        let order_service_url = env_string("ORDER_SERVICE_URL", "http://127.0.0.1:8000");
        let gateway_webhook_secrets =
            secret_list("PAYMENT_GATEWAY_WEBHOOK_SECRETS", environment, DEVELOPMENT_GATEWAY_SECRET)?;
        anyhow::ensure!(
            gateway_webhook_secrets.iter().all(|secret| secret.len() >= 24),
            "PAYMENT_GATEWAY_WEBHOOK_SECRETS: each secret needs at least 24 characters"
        );
        Ok(Config {
            host: env_string("PAYMENT_SERVICE_HOST", "127.0.0.1"),
            port: env_or("PAYMENT_SERVICE_PORT", 8001)?,
            database_url: database_url("PAYMENT_DATABASE_URL", "sqlite://data/payment_service.db"),
            db_max_connections: env_or("DB_MAX_CONNECTIONS", 8)?,
            public_keys: PublicKeys::from_env(&order_service_url),
            order_service_url,
            order_webhook_timeout: Duration::from_secs(env_or("ORDER_WEBHOOK_TIMEOUT_SECS", 10)?),
            gateway: GatewaySettings {
                latency: Duration::from_millis(env_or("PAYMENT_GATEWAY_LATENCY_MS", 0)?),
                decline_rate,
                capture,
                timeout: Duration::from_secs(env_or("PAYMENT_GATEWAY_TIMEOUT_SECS", 30)?),
                capture_delay: Duration::from_millis(env_or("PAYMENT_GATEWAY_CAPTURE_DELAY_MS", 2_000)?),
            },
            gateway_webhook_url: std::env::var("PAYMENT_GATEWAY_WEBHOOK_URL").ok().filter(|url| !url.trim().is_empty()),
            gateway_database_url: std::env::var("PAYMENT_GATEWAY_DATABASE_URL")
                .ok()
                .filter(|url| !url.trim().is_empty()),
            outbox,
            http: HttpSettings {
                cors_origins: env_list("CORS_ALLOWED_ORIGINS", "http://127.0.0.1:5173"),
                body_limit: 1024 * 1024,
            },
            environment,
            order_webhook_secrets: secret_list("ORDER_WEBHOOK_SECRETS", environment, DEVELOPMENT_ORDER_WEBHOOK_SECRET)?,
            gateway_webhook_secrets,
        })
    }
}

impl Config {
    /// Where the gateway simulator keeps its ledger.
    pub fn gateway_ledger_url(&self) -> String {
        if let Some(url) = &self.gateway_database_url {
            return url.clone();
        }
        if !self.database_url.starts_with("sqlite:") {
            return "sqlite://data/payment_gateway.db".to_owned();
        }
        match self.database_url.strip_suffix(".db") {
            Some(stem) => format!("{stem}-gateway.db"),
            None => format!("{}-gateway", self.database_url),
        }
    }
}
