//! Starting the service in-process on a free port with a fresh database and folders, and a
//! typed client for the tests.

use std::path::PathBuf;
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use notification_svc::{Application, Config};
use platform::api::auth::NOTIFICATION_SERVICE;
use platform::api::notifications::{Notification, NotificationBatchOutcome, NotificationStats, NotificationStatus};
use platform::auth::issuer::{throwaway_issuer, Issuer};
use platform::auth::PublicKeys;
use platform::db::Pool;
use platform::on_db;
pub use platform::testing::client_with_token;
use platform::worker::Backoff;
use serde_json::{json, Value};
use tempfile::TempDir;
use tokio_util::sync::CancellationToken;

static TRACING: LazyLock<()> = LazyLock::new(|| {
    if std::env::var_os("TEST_LOG").is_some() {
        platform::telemetry::init("debug");
    }
});

pub struct TestApp {
    pub address: String,
    /// Calls as an administrator.
    pub client: reqwest::Client,
    /// Calls without credentials.
    pub anonymous: reqwest::Client,
    /// Mints tokens as the Order Service would; the service verifies them with its public key.
    pub issuer: Issuer,
    pub pool: Pool,
    pub config: Config,
    pub stop: CancellationToken,
    _dir: TempDir,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// The service with test settings: a fast sender, quick retries, no simulated failures.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Like `spawn_app`, with `configure` applied last.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Config)) -> TestApp {
    LazyLock::force(&TRACING);
    let dir = TempDir::new().expect("temporary directory");
    let mut config = Config::from_env().expect("configuration");
    config.host = "127.0.0.1".into();
    config.port = 0;
    config.database_url = platform::testing::database_url(dir.path(), "notification").await;
    config.mail_dir = dir.path().join("mail");
    config.sms_dir = dir.path().join("sms");
    config.rate_per_sec = 1000;
    config.max_attempts = 5;
    config.retry_backoff = Backoff { base: Duration::from_millis(10), max: Duration::from_millis(50) };
    config.smtp_url = None;
    config.failure_rate = 0.0;
    let (issuer, keys) = throwaway_issuer();
    config.public_keys = PublicKeys::Fixed(keys);
    configure(&mut config);

    let app = Application::build(config.clone()).await.expect("application builds");
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
        pool,
        config,
        stop,
        _dir: dir,
    }
}

/// A token for `subject` with `role`, meant for the Notification Service, valid for an hour.
pub fn token(issuer: &Issuer, subject: &str, role: &str) -> String {
    platform::testing::token(issuer, subject, role, NOTIFICATION_SERVICE)
}

/// A valid e-mail request about `order_id`.
pub fn email_request(order_id: i64) -> Value {
    json!({
        "order_id": order_id,
        "recipient": "tanaka@example.co.jp",
        "template": "ORDER_CONFIRMATION",
        "order": {
            "customer_name": "田中 太郎",
            "items": [
                {"product_name": "ワイヤレスイヤホン", "quantity": 2, "unit_price": 89800.0},
                {"product_name": "充電ケーブル", "quantity": 1, "unit_price": 0}
            ],
            "total_amount": 179600.0,
            "currency": "JPY"
        }
    })
}

/// A valid SMS request about `order_id`.
pub fn sms_request(order_id: i64) -> Value {
    let mut request = email_request(order_id);
    request["recipient"] = json!("090-1234-5678");
    request["template"] = json!("ORDER_SHIPPED");
    request
}

/// A valid digest of `refs.len()` orders numbered from `first_order_id`, one per reference:
/// order `i` has `i + 1` mouse pads at ¥1,000 and a cable at ¥0, so it costs ¥1,000 × (i + 1).
pub fn digest_request(first_order_id: i64, refs: &[&str]) -> Value {
    let orders: Vec<Value> = refs
        .iter()
        .enumerate()
        .map(|(i, order_ref)| {
            let quantity = i as i64 + 1;
            json!({
                "order_id": first_order_id + i as i64,
                "order_ref": order_ref,
                "items": [
                    {"product_name": "マウスパッド", "quantity": quantity, "unit_price": 1000.0},
                    {"product_name": "充電ケーブル", "quantity": 1, "unit_price": 0}
                ],
                "total_amount": 1000 * quantity
            })
        })
        .collect();
    json!({
        "recipient": "sato@example.co.jp",
        "customer_name": "佐藤 花子",
        "batch_id": "imp-20261122-01",
        "orders": orders,
        "currency": "JPY"
    })
}

/// An item of a batch: `kind` is `email` (a body of the e-mail endpoint) or `digest`.
pub fn batch_item(key: &str, kind: &str, message: Value) -> Value {
    json!({"idempotency_key": key, "message": {kind: message}})
}

/// `count` valid e-mail items about orders `first..`, keyed `order-{id}-confirmation`.
pub fn email_items(first: i64, count: i64) -> Vec<Value> {
    (first..first + count)
        .map(|order_id| batch_item(&format!("order-{order_id}-confirmation"), "email", email_request(order_id)))
        .collect()
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn post_email(&self, body: &Value) -> reqwest::Response {
        self.client.post(self.url("/api/v1/notifications/email")).json(body).send().await.expect("request")
    }

    pub async fn post_email_with_key(&self, body: &Value, key: &str) -> reqwest::Response {
        self.client
            .post(self.url("/api/v1/notifications/email"))
            .header("Idempotency-Key", key)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn post_sms(&self, body: &Value) -> reqwest::Response {
        self.client.post(self.url("/api/v1/notifications/sms")).json(body).send().await.expect("request")
    }

    pub async fn post_batch(&self, items: &[Value]) -> reqwest::Response {
        self.client
            .post(self.url("/api/v1/notifications/batch"))
            .json(&json!({ "notifications": items }))
            .send()
            .await
            .expect("request")
    }

    /// Posts a batch that must be answered 202 and returns the outcome.
    pub async fn accept_batch(&self, items: &[Value]) -> NotificationBatchOutcome {
        let response = self.post_batch(items).await;
        assert_eq!(response.status(), 202);
        let outcome: NotificationBatchOutcome = response.json().await.expect("batch outcome");
        assert_eq!(outcome.results.len(), items.len(), "one result per item");
        outcome
    }

    pub async fn stats(&self) -> NotificationStats {
        let response = self.get("/api/v1/notifications/stats").await;
        assert_eq!(response.status(), 200);
        response.json().await.expect("stats")
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("request")
    }

    /// Posts a valid e-mail and returns what the service accepted.
    pub async fn accept_email(&self, body: &Value) -> Notification {
        let response = self.post_email(body).await;
        assert_eq!(response.status(), 201);
        response.json().await.expect("notification")
    }

    pub async fn notification(&self, id: i64) -> Notification {
        let response = self.get(&format!("/api/v1/notifications/{id}")).await;
        assert_eq!(response.status(), 200);
        response.json().await.expect("notification")
    }

    /// Polls until the notification leaves PENDING, for at most `limit`.
    pub async fn wait_until_settled(&self, id: i64, limit: Duration) -> Notification {
        let deadline = Instant::now() + limit;
        loop {
            let notification = self.notification(id).await;
            if notification.status != NotificationStatus::Pending {
                return notification;
            }
            assert!(Instant::now() < deadline, "notification {id} still PENDING after {limit:?}: {notification:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub async fn row_count(&self) -> i64 {
        on_db!(&self.pool, |e| sqlx::query_scalar("SELECT COUNT(*) FROM notifications").fetch_one(e).await)
            .expect("count")
    }

    pub fn mail_file(&self, id: i64) -> PathBuf {
        self.config.mail_dir.join(format!("{id}.eml"))
    }

    pub fn sms_file(&self, id: i64) -> PathBuf {
        self.config.sms_dir.join(format!("{id}.txt"))
    }
}

/// Asserts an error answer: the status and a JSON `detail` containing `needle`.
pub async fn assert_error(response: reqwest::Response, status: u16, needle: &str) {
    assert_eq!(response.status(), status, "unexpected status");
    let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    assert!(content_type.starts_with("application/json"), "content type {content_type:?}");
    let body: Value = response.json().await.expect("JSON error body");
    let detail = body["detail"].as_str().unwrap_or_else(|| panic!("no detail in {body}"));
    assert!(detail.contains(needle), "detail {detail:?} should mention {needle:?}");
}

/// Undoes the Content-Transfer-Encoding lettre chose for the body.
pub fn decode_body(headers: &str, body: &str) -> String {
    if headers.contains("Content-Transfer-Encoding: base64") {
        String::from_utf8(base64_decode(body)).expect("UTF-8 body")
    } else if headers.contains("Content-Transfer-Encoding: quoted-printable") {
        panic!("quoted-printable bodies are not expected for Japanese text:\n{headers}")
    } else {
        body.to_owned()
    }
}

pub fn base64_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for byte in text.bytes().filter(|b| !b.is_ascii_whitespace() && *b != b'=') {
        let value = ALPHABET.iter().position(|c| *c == byte).expect("base64 character") as u32;
        buffer = (buffer << 6) | value;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    out
}
