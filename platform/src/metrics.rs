//! Metrics, served at `GET /metrics` in the Prometheus text format by every service.
//!
//! One recorder per process (`recorder`): installed by the first service that starts in it and
//! shared by any other (the test binaries start all three in one process), so every series
//! carries a `service` label of its own. What each service measures is recorded with the
//! `metrics` macros where it happens (requests, deliveries, sends, payments, imports); what is
//! a count of rows — the outbox and send queues, imports by status — is read from the database
//! when the page is scraped (`Collect`), so it is the same on every replica and never drifts.
//!
//! The page is public, like `/health`: it holds counts and timings, never a customer's data.
//! Serve it on the internal network only. Behind a balancer it is scraped at each replica's own
//! address; the replica set-up's HAProxy answers 404 for it rather than one replica's figures.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::future::BoxFuture;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::db::Pool;

/// The content type of the Prometheus text format.
const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";
/// Upper bounds of the request-duration buckets, in seconds: from the reads' fraction of a
/// millisecond to the payment call's timeout.
const DURATION_BUCKETS: [f64; 14] =
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 30.0];
/// How often histograms are folded into their buckets when nobody scrapes.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// The process's recorder, installed on first use.
pub fn recorder() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full("http_request_duration_seconds".into()), &DURATION_BUCKETS)
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            // Something else installed a recorder first; this handle then renders nothing, which
            // /metrics shows honestly rather than failing the service.
            tracing::warn!("a metrics recorder was installed already; /metrics will be empty");
        }
        let upkeep = handle.clone();
        std::thread::Builder::new()
            .name("metrics-upkeep".into())
            .spawn(move || loop {
                std::thread::sleep(UPKEEP_EVERY);
                upkeep.run_upkeep();
            })
            .ok();
        describe();
        handle
    })
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!("http_requests_total", "HTTP requests answered, by route template and status");
    describe_histogram!("http_request_duration_seconds", Unit::Seconds, "Time to answer a request, by route template");
    describe_counter!("outbox_delivery_attempts_total", "Outbox deliveries attempted, by kind and outcome");
    describe_gauge!("outbox_rows", "Outbox rows by state: waiting (to be delivered) and dead (refused by the peer)");
}

/// Rows the page reads from the database when it is scraped: a service's own gauges.
pub trait Collect: Send + Sync + 'static {
    fn collect(&self) -> BoxFuture<'_, anyhow::Result<()>>;
}

/// What `/metrics` needs: the service's name and what it collects at each scrape.
#[derive(Clone)]
pub struct MetricsSource {
    pub service: &'static str,
    pub collect: Arc<dyn Collect>,
}

/// `GET /metrics`: the service's gauges read fresh, then every series of the process.
pub async fn page(State(source): State<MetricsSource>) -> Response {
    if let Err(err) = source.collect.collect().await {
        // The counters and timings are still worth serving; the stale gauges say when they were set.
        tracing::warn!(error = ?err, "cannot read the gauges of /metrics now");
    }
    let handle = recorder();
    handle.run_upkeep();
    (StatusCode::OK, [(header::CONTENT_TYPE, TEXT_FORMAT)], handle.render()).into_response()
}

/// Middleware: counts each request and times it, by route template (`/api/v1/orders/{order_id}`,
/// never the path itself: one series per route, not per order) and status.
pub async fn track_requests(service: &'static str, request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", |path| path.as_str()).to_owned();
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::histogram!("http_request_duration_seconds", "service" => service, "method" => method.clone(), "route" => route.clone())
        .record(started.elapsed().as_secs_f64());
    metrics::counter!("http_requests_total", "service" => service, "method" => method, "route" => route, "status" => status)
        .increment(1);
    response
}

/// The outbox's rows waiting and dead, as gauges of `service`: for the services with an outbox.
pub async fn collect_outbox(service: &'static str, pool: &Pool) -> anyhow::Result<()> {
    let counts = crate::outbox::counts(pool).await?;
    metrics::gauge!("outbox_rows", "service" => service, "state" => "waiting").set(counts.waiting as f64);
    metrics::gauge!("outbox_rows", "service" => service, "state" => "dead").set(counts.dead as f64);
    Ok(())
}
