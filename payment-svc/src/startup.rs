//! `Application`: the service assembled — database, migrations, router, outbox worker, sweep —
//! bound to a listener, so `main` and the tests start it the same way.

use anyhow::Context;
use axum::Router;
use platform::api::auth::PAYMENT_SERVICE;
use std::sync::Arc;

use platform::db::{Database, Pool};
use platform::metrics::MetricsSource;
use platform::outbox::{Outbox, OutboxWorker};
use platform::webhook::WebhookSecrets;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::clients::OrderClient;
use crate::config::Config;
use crate::gateway::capture::WebhookTarget;
use crate::gateway::Gateway;
use crate::outbox::PeerDelivery;
use crate::routes::{self, AppState};
use crate::sweep::Sweep;

pub struct Application {
    port: u16,
    gateway: Gateway,
    gateway_webhook: WebhookTarget,
    listener: TcpListener,
    router: Router,
    pool: Pool,
    outbox: Outbox,
    worker: OutboxWorker<PeerDelivery>,
    sweep: Sweep,
}

impl Application {
    /// Binds `(config.host, config.port)` and builds the service on it.
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        let listener = TcpListener::bind((config.host.as_str(), config.port)).await?;
        Self::build_with_listener(config, listener).await
    }

    /// Connects the database (on SQLite, readers plus the single writer), runs the migrations, and builds
    /// the router and the worker.
    pub async fn build_with_listener(config: Config, listener: TcpListener) -> anyhow::Result<Application> {
        let port = listener.local_addr()?.port();
        let db = Database::connect(&config.database_url, config.db_max_connections).await?;
        platform::db::migrate(&db, &crate::MIGRATIONS).await?;

        let outbox = Outbox::new();
        let gateway = Gateway::open(config.gateway.clone(), &config.gateway_ledger_url()).await?;
        let own_host = if config.host == "0.0.0.0" { "127.0.0.1" } else { config.host.as_str() };
        let gateway_webhook = WebhookTarget {
            url: config
                .gateway_webhook_url
                .clone()
                .unwrap_or_else(|| format!("http://{own_host}:{port}/api/v1/payments/webhook")),
            secrets: config.gateway_webhook_secrets.clone().into(),
        };
        let sweep = Sweep::new(db.write.clone(), gateway.clone(), outbox.clone());
        let state = AppState {
            db: db.clone(),
            gateway: gateway.clone(),
            outbox: outbox.clone(),
            verifier: config.public_keys.verifier(PAYMENT_SERVICE),
            gateway_secrets: config.gateway_webhook_secrets.clone().into(),
        };
        let (api, openapi) = routes::router(state);
        let metrics = MetricsSource {
            service: crate::metrics::SERVICE,
            collect: Arc::new(crate::metrics::Gauges { db: db.clone() }),
        };
        let router =
            platform::http::finish(api, openapi, routes::payments::ALIASES, db.read.clone(), metrics, &config.http);
        let signer = WebhookSecrets::parse(&config.order_webhook_secrets).context("ORDER_WEBHOOK_SECRETS")?;
        let delivery =
            PeerDelivery { orders: OrderClient::new(&config.order_service_url, config.order_webhook_timeout, signer) };
        // It claims rows with an UPDATE: a writer.
        let worker = OutboxWorker::new(crate::metrics::SERVICE, db.write.clone(), delivery, config.outbox);
        Ok(Application { port, gateway, gateway_webhook, listener, router, pool: db.write, outbox, worker, sweep })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The writer pool: it sees every committed write, and tests may write through it.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Serves and runs the outbox worker until `stop` is cancelled; returns once both have
    /// stopped (in-flight requests are finished first).
    pub async fn run_until_stopped(self, stop: CancellationToken) -> anyhow::Result<()> {
        // A child token, so that if serving fails the worker is stopped too without
        // cancelling the caller's token.
        let local = stop.child_token();
        let worker = self.worker.spawn(self.outbox.waker(), local.clone());
        let sweep = self.sweep.spawn(local.clone());
        let captures = self.gateway.spawn_captures(self.gateway_webhook, local.clone());
        let served = platform::http::serve(self.listener, self.router, local.clone()).await;
        local.cancel();
        worker.await?;
        sweep.await?;
        for task in captures {
            task.await?;
        }
        served?;
        Ok(())
    }
}
