//! The service's settings, read from the environment with a default for each (see the
//! README for the list). Tests call `from_env()` and then override fields.

use std::path::PathBuf;
use std::time::Duration;

use platform::auth::PublicKeys;
use platform::config::{database_url, env_list, env_or, env_string};
use platform::http::HttpSettings;
use platform::worker::Backoff;

#[derive(Debug, Clone)]
pub struct Config {
    pub host: String,
    pub port: u16,
    pub database_url: String,
    /// `DB_MAX_CONNECTIONS`: on SQLite the read connections (every write goes through one more
    /// connection of its own); on PostgreSQL the one pool's.
    pub db_max_connections: u32,
    /// Messages actually sent per second (NFR-008); accepting requests is never limited.
    pub rate_per_sec: u32,
    /// Delivery attempts before a notification is marked FAILED.
    pub max_attempts: i64,
    pub retry_backoff: Backoff,
    /// Where the default e-mail transport writes `<id>.eml` files.
    pub mail_dir: PathBuf,
    /// Where the SMS gateway simulator writes `<id>.txt` files.
    pub sms_dir: PathBuf,
    /// The `From` of every e-mail.
    pub from: String,
    /// When set (`smtp://…`, `smtps://…`), e-mail goes through this SMTP server instead of files.
    pub smtp_url: Option<String>,
    /// Probability (0.0..=1.0) that the outside world refuses a message, to exercise retries.
    pub failure_rate: f64,
    /// `NOTIFICATION_SEND_TIMEOUT_SECS`, default 30: how long one send (an SMTP conversation,
    /// a file written) may take before it counts as failed. It also sets how soon a message
    /// whose sender died mid-send is sent again (`sender::Sender::new`).
    pub send_timeout: Duration,
    pub http: HttpSettings,
    /// Where the Order Service's public keys are: `AUTH_JWKS_URL`, by default the
    /// `/.well-known/jwks.json` of `ORDER_SERVICE_URL` (`http://127.0.0.1:8000`).
    pub public_keys: PublicKeys,
}

impl Config {
    pub fn from_env() -> anyhow::Result<Config> {
        let config = Config {
            host: env_string("NOTIFICATION_SERVICE_HOST", "127.0.0.1"),
            port: env_or("NOTIFICATION_SERVICE_PORT", 8002)?,
            database_url: database_url("NOTIFICATION_DATABASE_URL", "sqlite://data/notification_service.db"),
            db_max_connections: env_or("DB_MAX_CONNECTIONS", 8)?,
            rate_per_sec: env_or("NOTIFICATION_RATE_PER_SEC", 10)?,
            max_attempts: env_or("NOTIFICATION_MAX_ATTEMPTS", 5)?,
            retry_backoff: Backoff {
                base: Duration::from_millis(env_or("NOTIFICATION_RETRY_BASE_MS", 1000)?),
                max: Duration::from_secs(5 * 60),
            },
            mail_dir: PathBuf::from(env_string("NOTIFICATION_MAIL_DIR", "data/mail")),
            sms_dir: PathBuf::from(env_string("NOTIFICATION_SMS_DIR", "data/sms")),
            from: env_string("NOTIFICATION_FROM", "注文サービス <noreply@example.co.jp>"),
            smtp_url: std::env::var("SMTP_URL").ok().filter(|url| !url.trim().is_empty()),
            failure_rate: env_or("NOTIFICATION_FAILURE_RATE", 0.0)?,
            send_timeout: Duration::from_secs(env_or("NOTIFICATION_SEND_TIMEOUT_SECS", 30)?),
            http: HttpSettings {
                cors_origins: env_list("CORS_ALLOWED_ORIGINS", "http://127.0.0.1:5173"),
                body_limit: 1024 * 1024,
            },
            public_keys: PublicKeys::from_env(&env_string("ORDER_SERVICE_URL", "http://127.0.0.1:8000")),
        };
        config.validate()?;
        Ok(config)
    }

    /// Refuses settings the service cannot honour; also run by `Application::build`, since
    /// tests construct a `Config` by hand.
    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(self.rate_per_sec >= 1, "NOTIFICATION_RATE_PER_SEC must be at least 1");
        anyhow::ensure!(self.max_attempts >= 1, "NOTIFICATION_MAX_ATTEMPTS must be at least 1");
        anyhow::ensure!(!self.send_timeout.is_zero(), "NOTIFICATION_SEND_TIMEOUT_SECS must be at least 1");
        anyhow::ensure!(
            (0.0..=1.0).contains(&self.failure_rate),
            "NOTIFICATION_FAILURE_RATE must be between 0.0 and 1.0 (got {})",
            self.failure_rate
        );
        Ok(())
    }
}
