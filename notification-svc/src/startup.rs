//! Assembling the service: database and migrations, transport, sender and HTTP front.

use std::num::NonZeroU32;
use std::sync::Arc;

use axum::Router;
use platform::api::auth::NOTIFICATION_SERVICE;
use platform::db::{Database, Pool};
use platform::metrics::MetricsSource;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::routes::{self, AppState};
use crate::sender::Sender;
use crate::transport::Transport;

pub struct Application {
    port: u16,
    pool: Pool,
    listener: TcpListener,
    router: Router,
    sender: Sender,
    sender_wake: Arc<Notify>,
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        let listener = TcpListener::bind((config.host.as_str(), config.port)).await?;
        Self::build_with_listener(config, listener).await
    }

    pub async fn build_with_listener(config: Config, listener: TcpListener) -> anyhow::Result<Application> {
        config.validate()?;
        let rate_per_sec = NonZeroU32::new(config.rate_per_sec)
            .ok_or_else(|| anyhow::anyhow!("NOTIFICATION_RATE_PER_SEC must be at least 1"))?;
        let transport = Transport::from_config(&config)?;

        let db = Database::connect(&config.database_url, config.db_max_connections).await?;
        platform::db::migrate(&db, &crate::MIGRATIONS).await?;

        let sender_wake = Arc::new(Notify::new());
        // The sender claims and updates rows: it writes, so it gets the writer.
        let sender = Sender::new(
            db.write.clone(),
            transport,
            rate_per_sec,
            config.max_attempts,
            config.retry_backoff,
            config.send_timeout,
        );
        let state = AppState {
            db: db.clone(),
            sender_wake: sender_wake.clone(),
            rate_per_sec: config.rate_per_sec,
            verifier: config.public_keys.verifier(NOTIFICATION_SERVICE),
        };
        let (api, openapi) = routes::router(state);
        let metrics = MetricsSource {
            service: crate::metrics::SERVICE,
            collect: Arc::new(crate::metrics::Gauges { db: db.clone(), rate_per_sec: config.rate_per_sec }),
        };
        let router = platform::http::finish(api, openapi, &routes::aliases(), db.read.clone(), metrics, &config.http);
        let port = listener.local_addr()?.port();
        Ok(Application { port, pool: db.write, listener, router, sender, sender_wake })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The writer: it sees every committed write, and tests may write through it.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Serves and sends until `stop` is cancelled; returns once both have stopped.
    pub async fn run_until_stopped(self, stop: CancellationToken) -> anyhow::Result<()> {
        // A child token, so that the sender also stops if the server ends on its own (an I/O
        // error) without cancelling the caller's token.
        let workers = stop.child_token();
        let sender = self.sender.spawn(self.sender_wake, workers.clone());
        let served = platform::http::serve(self.listener, self.router, stop).await;
        workers.cancel();
        sender.await?;
        served?;
        Ok(())
    }
}
