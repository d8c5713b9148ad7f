//! `spawn_app()`: the service on an ephemeral port with a fresh database, and a typed client
//! for it. Also a stand-in Order Service that records the webhooks it receives.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::Path;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::Router;
use payment_svc::config::{CaptureMode, Config, GatewaySettings};
use payment_svc::domain::gateway_signature::header_value;
use payment_svc::Application;
use platform::api::auth::PAYMENT_SERVICE;
use platform::auth::issuer::{throwaway_issuer, Issuer};
use platform::auth::PublicKeys;
use platform::db::Pool;
use platform::on_db;
use platform::outbox::OutboxSettings;
pub use platform::testing::client_with_token;
use platform::webhook::WebhookSecrets;
use platform::worker::Backoff;
use serde_json::{json, Value};
use tempfile::TempDir;
use tokio_util::sync::CancellationToken;

pub struct TestApp {
    pub address: String,
    /// Calls as an administrator (who may do everything).
    pub client: reqwest::Client,
    /// Calls without credentials.
    pub anonymous: reqwest::Client,
    /// Mints tokens as the Order Service would; the service verifies them with its public key.
    pub issuer: Issuer,
    /// What the gateway signs its webhooks with.
    pub gateway_secrets: Vec<String>,
    /// Where the gateway simulator keeps its ledger.
    pub gateway_ledger_url: String,
    /// The bodies signed so far, with their seconds.
    signed: Mutex<Vec<(Vec<u8>, i64)>>,
    pub pool: Pool,
    pub _dir: TempDir,
    pub stop: CancellationToken,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts the service with test settings, after `configure` has adjusted them.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Config)) -> TestApp {
    if std::env::var_os("TEST_LOG").is_some() {
        platform::telemetry::init("debug");
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config::from_env().expect("config");
    config.host = "127.0.0.1".into();
    config.port = 0;
    config.database_url = platform::testing::database_url(dir.path(), "payment").await;
    config.order_service_url = closed_port_url().await;
    config.gateway = GatewaySettings {
        latency: Duration::ZERO,
        decline_rate: 0.0,
        capture: CaptureMode::Immediate,
        timeout: Duration::from_secs(2),
        // The tests play the gateway's webhook themselves, unless one asks for its captures.
        capture_delay: Duration::from_secs(3600),
    };
    config.gateway_database_url = Some(platform::testing::database_url(dir.path(), "gateway").await);
    let (issuer, keys) = throwaway_issuer();
    config.public_keys = PublicKeys::Fixed(keys);
    config.outbox = OutboxSettings {
        backoff: Backoff { base: Duration::from_millis(20), max: Duration::from_millis(200) },
        idle_poll: Duration::from_millis(20),
        ..OutboxSettings::default()
    };
    configure(&mut config);
    let gateway_secrets = config.gateway_webhook_secrets.clone();
    let gateway_ledger_url = config.gateway_ledger_url();

    let app = Application::build(config).await.expect("application builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let pool = app.pool().clone();
    let stop = CancellationToken::new();
    tokio::spawn(app.run_until_stopped(stop.clone()));
    let admin = token(&issuer, "user:1", "admin");
    TestApp {
        address,
        client: client_with_token(Some(&admin)),
        anonymous: client_with_token(None),
        issuer,
        gateway_secrets,
        gateway_ledger_url,
        signed: Default::default(),
        pool,
        _dir: dir,
        stop,
    }
}

/// A token for `subject` with `role`, meant for the Payment Service, valid for an hour.
pub fn token(issuer: &Issuer, subject: &str, role: &str) -> String {
    platform::testing::token(issuer, subject, role, PAYMENT_SERVICE)
}

/// A URL where nothing listens: the port was free a moment ago and is closed again.
pub async fn closed_port_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// One webhook call received by the stand-in Order Service.
#[derive(Debug, Clone)]
pub struct ReceivedWebhook {
    pub order_id: i64,
    pub idempotency_key: Option<String>,
    /// The Standard Webhooks message id.
    pub message_id: Option<String>,
    pub body: Value,
}

/// A stand-in Order Service that checks each payment webhook's signature as the real one does
/// (with the development secret the Payment Service signs with by default): a signed one is
/// recorded and answered 200, anything else 401.
pub struct OrderStub {
    pub url: String,
    pub received: Arc<Mutex<Vec<ReceivedWebhook>>>,
}

impl OrderStub {
    pub fn received(&self) -> Vec<ReceivedWebhook> {
        self.received.lock().expect("lock").clone()
    }
}

pub async fn spawn_order_stub() -> OrderStub {
    let received: Arc<Mutex<Vec<ReceivedWebhook>>> = Arc::default();
    let log = received.clone();
    let secrets = WebhookSecrets::parse(&[platform::webhook::DEVELOPMENT_ORDER_WEBHOOK_SECRET.to_owned()])
        .expect("the development secret parses");
    let router = Router::new().route(
        "/api/v1/orders/{order_id}/webhook",
        post(move |Path(order_id): Path<i64>, headers: HeaderMap, bytes: axum::body::Bytes| {
            let log = log.clone();
            let secrets = secrets.clone();
            async move {
                if secrets.verify(&headers, &bytes).is_err() {
                    return (axum::http::StatusCode::UNAUTHORIZED, axum::Json(json!({"detail": "unsigned"})));
                }
                let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
                let body: Value = serde_json::from_slice(&bytes).expect("a JSON webhook");
                log.lock().expect("lock").push(ReceivedWebhook {
                    order_id,
                    idempotency_key: header("idempotency-key"),
                    message_id: header("webhook-id"),
                    body,
                });
                (axum::http::StatusCode::OK, axum::Json(json!({"id": order_id, "status": "paid"})))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, router).await });
    OrderStub { url, received }
}

/// Polls `check` until it holds or `timeout` passes; returns whether it held.
pub async fn eventually<F, Fut>(timeout: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// One row of the outbox, as the tests look at it.
#[derive(Debug, sqlx::FromRow)]
pub struct OutboxRow {
    pub kind: String,
    pub payload: String,
    pub idempotency_key: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub delivered_at: Option<chrono::DateTime<chrono::Utc>>,
    pub dead_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn post_json(&self, path: &str, body: &Value, key: Option<&str>) -> reqwest::Response {
        let mut request = self.client.post(self.url(path)).json(body);
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        request.send().await.expect("request sent")
    }

    pub async fn post_payment(&self, body: &Value) -> reqwest::Response {
        self.post_json("/api/v1/payments", body, None).await
    }

    pub async fn post_payment_with_key(&self, body: &Value, key: &str) -> reqwest::Response {
        self.post_json("/api/v1/payments", body, Some(key)).await
    }

    /// Creates a payment that must succeed (201) and returns its JSON.
    pub async fn create_payment(&self, order_id: i64, amount: i64) -> Value {
        let response = self.post_payment(&json!({"order_id": order_id, "amount": amount, "currency": "JPY"})).await;
        assert_eq!(response.status(), 201, "creating the payment of order {order_id}");
        response.json().await.expect("payment JSON")
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("request sent")
    }

    pub async fn get_payment(&self, id: i64) -> reqwest::Response {
        self.get(&format!("/api/v1/payments/{id}")).await
    }

    pub async fn post_refund(&self, body: &Value, key: Option<&str>) -> reqwest::Response {
        self.post_json("/api/v1/payments/refund", body, key).await
    }

    pub async fn post_webhook(&self, transaction_id: &str, status: &str) -> reqwest::Response {
        self.gateway_event(&json!({"transaction_id": transaction_id, "status": status})).await
    }

    /// The gateway's webhook with `body`, signed with the gateway's secret now, or at the latest
    /// earlier second at which this body was not signed yet: a repeated body is a new delivery,
    /// not a replay of the same signature.
    pub async fn gateway_event(&self, body: &Value) -> reqwest::Response {
        let bytes = serde_json::to_vec(body).expect("JSON");
        let mut second = chrono::Utc::now().timestamp();
        {
            let mut signed = self.signed.lock().expect("lock");
            while signed.iter().any(|(earlier, at)| *earlier == bytes && *at == second) {
                second -= 1;
            }
            signed.push((bytes.clone(), second));
        }
        let signature = header_value(&self.gateway_secrets, second, &bytes);
        self.signed_gateway_event(&bytes, Some(&signature)).await
    }

    /// POSTs `body` as it is, with `content_type` if given: as the administrator, or, to the
    /// gateway's webhook, signed as the gateway signs (so that what is judged is the body).
    pub async fn post_raw(&self, path: &str, body: &str, content_type: Option<&str>) -> reqwest::Response {
        let mut request = if path == "/api/v1/payments/webhook" {
            let signature = header_value(&self.gateway_secrets, chrono::Utc::now().timestamp(), body.as_bytes());
            self.anonymous.post(self.url(path)).header(payment_svc::domain::gateway_signature::HEADER, signature)
        } else {
            self.client.post(self.url(path))
        };
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        request.body(body.to_owned()).send().await.expect("request sent")
    }

    /// The gateway's webhook with exactly these bytes and this `Gateway-Signature`.
    pub async fn signed_gateway_event(&self, bytes: &[u8], signature: Option<&str>) -> reqwest::Response {
        let mut request = self
            .anonymous
            .post(self.url("/api/v1/payments/webhook"))
            .header("content-type", "application/json")
            .body(bytes.to_vec());
        if let Some(signature) = signature {
            request = request.header(payment_svc::domain::gateway_signature::HEADER, signature);
        }
        request.send().await.expect("request sent")
    }

    pub async fn count(&self, table: &str) -> i64 {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        on_db!(&self.pool, |e| sqlx::query_scalar(&sql).fetch_one(e).await).expect("count")
    }

    /// Rows of payments, refunds and outbox together: "nothing was written" in one number.
    pub async fn rows_written(&self) -> i64 {
        self.count("payments").await + self.count("refunds").await + self.count("outbox").await
    }

    pub async fn outbox_rows(&self) -> Vec<OutboxRow> {
        on_db!(&self.pool, |e| sqlx::query_as(
            "SELECT kind, payload, idempotency_key, attempts, last_error, delivered_at, dead_at FROM outbox ORDER BY id",
        )
        .fetch_all(e)
        .await)
        .expect("outbox rows")
    }
}

/// The `detail` of an error answer, which every 4xx must carry as JSON.
pub async fn detail(response: reqwest::Response) -> String {
    let body: Value = response.json().await.expect("a JSON error body");
    body["detail"].as_str().expect("a string detail").to_owned()
}
