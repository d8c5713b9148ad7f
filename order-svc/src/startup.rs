//! Assembling the service: database and migrations, clients, router, outbox worker; then
//! serving until told to stop. Tests build it on port 0 exactly as `main` does.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use platform::db::{Database, Pool};
use platform::metrics::MetricsSource;
use platform::outbox::{Outbox, OutboxWorker};
use platform::webhook::WebhookSecrets;
use platform::worker::Backoff;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::clients::{NotificationClient, PaymentClient};
use crate::config::Config;
use crate::context::{Context, Settings};
use crate::delivery::OrderDelivery;
use crate::housekeeping::Housekeeping;
use crate::identity::IdentityProvider;
use crate::importer::Importer;
use crate::reconciler::Reconciler;
use crate::routes::{self, AppState};

/// Margin beyond the payment timeout before a new order's payment row is due: the request's
/// own call has ended by then, one way or the other.
const PAYMENT_LEASE_MARGIN: Duration = Duration::from_secs(10);
/// Longest wait between two attempts of an import step that failed.
const IMPORT_RETRY_MAX: Duration = Duration::from_secs(10);

pub struct Application {
    port: u16,
    pool: Pool,
    listener: TcpListener,
    router: Router,
    worker: OutboxWorker<OrderDelivery>,
    outbox: Outbox,
    state: AppState,
    reconcile_after: Duration,
}

impl Application {
    /// Binds `(config.host, config.port)` and builds the service on it.
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        let listener = TcpListener::bind((config.host.as_str(), config.port))
            .await
            .with_context(|| format!("cannot listen on {}:{}", config.host, config.port))?;
        Self::build_with_listener(config, listener).await
    }

    pub async fn build_with_listener(config: Config, listener: TcpListener) -> anyhow::Result<Application> {
        // Password hashes work in 19 MiB each: give it back once they are done.
        platform::memory::return_large_blocks_when_freed();
        let db = Database::connect(&config.database_url, config.db_max_connections)
            .await
            .with_context(|| format!("cannot open the database {}", config.database_url))?;
        platform::db::migrate(&db, &crate::MIGRATIONS).await.context("cannot migrate the database")?;

        let identity = IdentityProvider::start(&db, config.identity.clone(), &config.first_admin)
            .await
            .context("cannot set up sign-in and tokens")?;
        let tokens = identity.service_tokens();
        let outbox = Outbox::new();
        let core = Context {
            db: db.clone(),
            payments: PaymentClient::new(&config.payment_service_url, config.payment_timeout, tokens.clone()),
            outbox: outbox.clone(),
            settings: Settings {
                payment_call_lease: config.payment_timeout + PAYMENT_LEASE_MARGIN,
                payment_retry_delay: config.outbox.backoff.base,
            },
        };
        let state = AppState {
            core: core.clone(),
            // An import retries sooner than the outbox's longest delay: it is being watched.
            importer: Importer::new(
                Backoff { base: config.outbox.backoff.base, max: IMPORT_RETRY_MAX },
                config.import_concurrency,
                config.import_lease,
                &format!("{}:{}", config.host, listener.local_addr()?.port()),
            ),
            verifier: identity.verifier(),
            identity,
            webhook_secrets: WebhookSecrets::parse(&config.webhook_secrets).context("ORDER_WEBHOOK_SECRETS")?,
            trusted_proxies: config.trusted_proxies.clone().into(),
        };
        let notifications =
            NotificationClient::new(&config.notification_service_url, config.notification_timeout, tokens);
        let worker = OutboxWorker::new(
            crate::metrics::SERVICE,
            db.write.clone(),
            OrderDelivery::new(core, notifications),
            config.outbox,
        );
        let (api, openapi) = routes::router(state.clone());
        let metrics = MetricsSource {
            service: crate::metrics::SERVICE,
            collect: Arc::new(crate::metrics::Gauges { db: db.clone() }),
        };
        let router = platform::http::finish(api, openapi, &routes::aliases(), db.read.clone(), metrics, &config.http);
        let port = listener.local_addr()?.port();
        Ok(Application {
            port,
            pool: db.write,
            listener,
            router,
            worker,
            outbox,
            state,
            reconcile_after: config.reconcile_after,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The writer: it sees every committed write, and tests may write through it.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Serves and runs the outbox worker until `stop` is cancelled; returns once both have
    /// stopped.
    pub async fn run_until_stopped(self, stop: CancellationToken) -> anyhow::Result<()> {
        // A child token, so that a server failure also stops the worker without cancelling
        // the caller's token.
        let workers_stop = stop.child_token();
        let worker = self.worker.spawn(self.outbox.waker(), workers_stop.clone());
        let housekeeping = Housekeeping::new(self.state.core.db.clone()).spawn(workers_stop.clone());
        let reconciler = Reconciler::new(self.state.core.clone(), self.reconcile_after).spawn(workers_stop.clone());
        let key_follower = self.state.identity.follow_signing_key(workers_stop.clone());
        self.state
            .importer
            .take_over_lapsed(&self.state.core, true)
            .await
            .context("cannot resume the unfinished imports")?;
        self.state.importer.watch(self.state.core.clone());
        // Imports and their event streams stop as soon as the service does, so that an open
        // stream does not keep the graceful shutdown waiting.
        let importer = self.state.importer.clone();
        let stopping = stop.clone();
        tokio::spawn(async move {
            stopping.cancelled().await;
            importer.begin_shutdown();
        });
        let served = platform::http::serve(self.listener, self.router, stop).await;
        workers_stop.cancel();
        self.state.importer.shutdown().await;
        worker.await.context("the outbox worker panicked")?;
        housekeeping.await.context("the housekeeping worker panicked")?;
        reconciler.await.context("the reconciler panicked")?;
        key_follower.await.context("the signing key follower panicked")?;
        served.context("the HTTP server failed")?;
        Ok(())
    }
}
