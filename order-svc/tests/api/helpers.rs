//! The harness of the cross-service tests: the Order, Payment and Notification services
//! started in-process on ephemeral ports, each with a fresh database of the run's backend (a
//! SQLite file in one temporary folder, or a PostgreSQL database: `platform::testing`), pointed
//! at one another, with typed helpers over their HTTP APIs.
//!
//! A peer can be stopped and started again on the same port with the same database, which is
//! how the resilience tests take a service away and bring it back. Background work is awaited
//! by polling with a deadline, never by a fixed sleep.

use std::future::Future;
use std::time::{Duration, Instant};

use base64::Engine as _;

use platform::api::auth::{AccessGrant, CreatedApiKey, InvitedUser, Role, SessionGrant};
use platform::api::notifications::{Notification, NotificationStatus, TemplateName};
use platform::api::orders::{Order, OrderStatus, StatusChange};
use platform::api::payments::Payment;
use platform::auth::issuer::{Issuer, SigningKey};
use platform::db::Pool;
use platform::on_db;
use platform::outbox::OutboxSettings;
pub use platform::testing::client_with_token;
use platform::worker::Backoff;
use serde_json::{json, Value};
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The first administrator of every test platform.
pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const ADMIN_PASSWORD: &str = "the tests' admin password";

/// How long a test waits for background work before failing. Generous for a loaded machine;
/// a passing test waits only as long as the work takes.
pub const PATIENCE: Duration = Duration::from_secs(10);
const POLL_EVERY: Duration = Duration::from_millis(20);

/// The three services' configurations, as `spawn_platform_with` hands them to a test to
/// adjust before anything starts. Ports, databases and peer URLs are already filled in.
pub struct Configs {
    pub order: order_svc::config::Config,
    pub payment: payment_svc::config::Config,
    pub notification: notification_svc::config::Config,
}

/// One running service: its pool (for looking into its database) and how to stop it.
struct Running {
    pool: Pool,
    stop: CancellationToken,
    task: JoinHandle<anyhow::Result<()>>,
}

impl Running {
    async fn shut_down(self, name: &str) {
        self.stop.cancel();
        match tokio::time::timeout(PATIENCE, self.task).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(err))) => panic!("{name} stopped with an error: {err:?}"),
            Ok(Err(err)) => panic!("{name} task failed: {err}"),
            Err(_) => panic!("{name} did not stop within {PATIENCE:?} of being cancelled"),
        }
    }
}

/// The three `Application`s are different types with the same API, so one macro starts any.
macro_rules! start_service {
    ($krate:ident, $config:expr, $listener:expr) => {{
        let listener: TcpListener = $listener;
        let port = listener.local_addr().expect("bound listener has an address").port();
        let app = $krate::Application::build_with_listener($config, listener)
            .await
            .expect(concat!(stringify!($krate), " builds"));
        assert_eq!(app.port(), port, concat!(stringify!($krate), " reports the port it was given"));
        let pool = app.pool().clone();
        let stop = CancellationToken::new();
        let task = tokio::spawn(app.run_until_stopped(stop.clone()));
        Running { pool, stop, task }
    }};
}

pub struct TestPlatform {
    /// Calls as the first administrator.
    pub client: reqwest::Client,
    /// Calls without credentials.
    pub anonymous: reqwest::Client,
    /// The first administrator's access token, which `client` sends.
    pub admin_token: String,
    pub order_address: String,
    pub payment_address: String,
    pub notification_address: String,
    configs: Configs,
    order: Option<Running>,
    payment: Option<Running>,
    notification: Option<Running>,
    _dir: TempDir,
}

impl Drop for TestPlatform {
    fn drop(&mut self) {
        for running in [&self.order, &self.payment, &self.notification].into_iter().flatten() {
            running.stop.cancel();
        }
    }
}

/// All three services with the defaults of the tests: immediate capture, no declines.
pub async fn spawn_platform() -> TestPlatform {
    spawn_platform_with(|_| {}).await
}

/// All three services, after `customise` has adjusted their configurations.
pub async fn spawn_platform_with(customise: impl FnOnce(&mut Configs)) -> TestPlatform {
    if std::env::var_os("TEST_LOG").is_some() {
        platform::telemetry::init("info");
    }
    let dir = TempDir::new().expect("temporary folder");
    // Bound first, so that each configuration can name the others' addresses.
    let order_listener = bind(0).await;
    let payment_listener = bind(0).await;
    let notification_listener = bind(0).await;
    let port_of = |l: &TcpListener| l.local_addr().expect("bound listener has an address").port();
    let (order_port, payment_port, notification_port) =
        (port_of(&order_listener), port_of(&payment_listener), port_of(&notification_listener));
    let url_of = |port: u16| format!("http://127.0.0.1:{port}");
    let database = |name: &'static str| platform::testing::database_url(dir.path(), name);

    let mut order = order_svc::config::Config::from_env().expect("order config");
    order.host = "127.0.0.1".into();
    order.port = order_port;
    order.database_url = database("order").await;
    order.payment_service_url = url_of(payment_port);
    order.notification_service_url = url_of(notification_port);
    order.payment_timeout = Duration::from_secs(5);
    order.notification_timeout = Duration::from_secs(5);
    order.outbox = quick_outbox();
    order.reconcile_after = Duration::from_secs(2);
    order.first_admin.email = ADMIN_EMAIL.into();
    order.first_admin.password = Some(ADMIN_PASSWORD.into());
    // A webhook secret of this platform's own: tests run side by side, and a port one test's
    // service freed may be another's a moment later, so a stray webhook must fail its signature.
    let webhook_secret =
        format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 24]>()));
    order.webhook_secrets = vec![webhook_secret.clone()];
    let jwks = platform::auth::PublicKeys::Jwks(format!("{}{}", url_of(order_port), platform::api::auth::JWKS_PATH));

    let mut payment = payment_svc::config::Config::from_env().expect("payment config");
    payment.host = "127.0.0.1".into();
    payment.port = payment_port;
    payment.database_url = database("payment").await;
    payment.order_service_url = url_of(order_port);
    payment.order_webhook_timeout = Duration::from_secs(5);
    payment.gateway = payment_svc::gateway::GatewaySettings {
        latency: Duration::ZERO,
        decline_rate: 0.0,
        capture: payment_svc::gateway::CaptureMode::Immediate,
        timeout: Duration::from_secs(2),
        // The tests play the gateway's webhook themselves, unless one asks for its captures.
        capture_delay: Duration::from_secs(3600),
    };
    payment.gateway_database_url = Some(database("gateway").await);
    payment.outbox = quick_outbox();
    payment.public_keys = jwks.clone();
    payment.order_webhook_secrets = vec![webhook_secret];

    let mut notification = notification_svc::config::Config::from_env().expect("notification config");
    notification.host = "127.0.0.1".into();
    notification.port = notification_port;
    notification.database_url = database("notification").await;
    notification.rate_per_sec = 1000;
    notification.max_attempts = 5;
    notification.retry_backoff = quick_backoff();
    notification.mail_dir = dir.path().join("mail");
    notification.sms_dir = dir.path().join("sms");
    notification.smtp_url = None;
    notification.failure_rate = 0.0;
    notification.public_keys = jwks;

    let mut configs = Configs { order, payment, notification };
    customise(&mut configs);

    let payment = start_service!(payment_svc, configs.payment.clone(), payment_listener);
    let notification = start_service!(notification_svc, configs.notification.clone(), notification_listener);
    let order = start_service!(order_svc, configs.order.clone(), order_listener);

    let order_address = url_of(order_port);
    let admin_token = sign_in(&order_address, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    TestPlatform {
        client: client_with_token(Some(&admin_token)),
        anonymous: client_with_token(None),
        admin_token,
        order_address,
        payment_address: url_of(payment_port),
        notification_address: url_of(notification_port),
        configs,
        order: Some(order),
        payment: Some(payment),
        notification: Some(notification),
        _dir: dir,
    }
}

/// Signs in at the Order Service and returns the access token.
pub async fn sign_in(order_address: &str, email: &str, password: &str) -> String {
    let response = reqwest::Client::new()
        .post(format!("{order_address}/api/v1/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .expect("POST login");
    assert_eq!(response.status(), 200, "signing in as {email}: {}", response.text().await.unwrap_or_default());
    let grant: platform::api::auth::SessionGrant = response.json().await.expect("a SessionGrant");
    grant.access.access_token
}

fn quick_backoff() -> Backoff {
    Backoff { base: Duration::from_millis(25), max: Duration::from_millis(250) }
}

fn quick_outbox() -> OutboxSettings {
    OutboxSettings {
        batch_size: 64,
        lease: Duration::from_secs(30),
        backoff: quick_backoff(),
        idle_poll: Duration::from_millis(20),
    }
}

/// Binds 127.0.0.1:`port`. Rebinding the port of a service that just stopped may race with
/// the old socket's close, so it is retried briefly (tokio sets SO_REUSEADDR).
async fn bind(port: u16) -> TcpListener {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match TcpListener::bind(("127.0.0.1", port)).await {
            Ok(listener) => return listener,
            Err(err) if Instant::now() >= deadline => panic!("cannot bind 127.0.0.1:{port}: {err}"),
            Err(_) => tokio::time::sleep(POLL_EVERY).await,
        }
    }
}

/// Polls `probe` until it yields a value, failing the test after `timeout`.
pub async fn wait_for<T, F, Fut>(what: &str, timeout: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        if Instant::now() >= deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
}

/// Polls `check` until it holds, failing the test after `timeout`.
pub async fn wait_until<F, Fut>(what: &str, timeout: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    wait_for(what, timeout, || {
        let holds = check();
        async move { holds.await.then_some(()) }
    })
    .await
}

/// The example order of 002 §2.1: 2 × ¥89,800.
pub fn example_order() -> Value {
    json!({
        "customer_email": "tanaka@example.co.jp",
        "customer_name": "田中太郎",
        "items": [{"product_name": "ノートPC", "quantity": 2, "unit_price": 89800.0}],
        "currency": "JPY"
    })
}

/// An order for `email` with `(product, quantity, unit_price)` lines.
pub fn order_body(email: &str, items: &[(&str, i64, i64)]) -> Value {
    let items: Vec<Value> = items
        .iter()
        .map(|(product, quantity, price)| json!({"product_name": product, "quantity": quantity, "unit_price": price}))
        .collect();
    json!({"customer_email": email, "customer_name": "田中太郎", "items": items, "currency": "JPY"})
}

/// An order of one line totalling `yen`.
pub fn order_of_total(yen: i64) -> Value {
    order_body("tanaka@example.co.jp", &[("ギフトカード", 1, yen)])
}

/// What the order-svc outbox holds for one idempotency key.
#[derive(Debug, Clone)]
pub struct OutboxRow {
    pub kind: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub request_id: Option<String>,
    pub delivered: bool,
    pub dead: bool,
}

/// Rows written by the Order Service, for "nothing half-written" checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowCounts {
    pub orders: i64,
    pub items: i64,
    pub history: i64,
    pub outbox: i64,
}

impl TestPlatform {
    /// The settings the services were started with.
    pub fn configs(&self) -> &Configs {
        &self.configs
    }

    pub fn order_url(&self, path: &str) -> String {
        format!("{}{path}", self.order_address)
    }

    // ----- Order Service -----

    pub async fn create_order(&self, body: &Value) -> reqwest::Response {
        self.client.post(self.order_url("/api/v1/orders/")).json(body).send().await.expect("POST order")
    }

    /// Creates an order and returns it, failing unless the answer is 201.
    pub async fn create_order_ok(&self, body: &Value) -> Order {
        let response = self.create_order(body).await;
        assert_eq!(response.status(), 201, "creating {body}: {}", response.text().await.unwrap_or_default());
        response.json().await.expect("an Order body")
    }

    /// The example order, which the default platform answers `paid`.
    pub async fn paid_order(&self) -> Order {
        let order = self.create_order_ok(&example_order()).await;
        assert_eq!(order.status, OrderStatus::Paid, "the example order should be paid at once");
        order
    }

    pub async fn get_order(&self, id: i64) -> reqwest::Response {
        self.client.get(self.order_url(&format!("/api/v1/orders/{id}"))).send().await.expect("GET order")
    }

    pub async fn order(&self, id: i64) -> Order {
        let response = self.get_order(id).await;
        assert_eq!(response.status(), 200, "GET order {id}");
        response.json().await.expect("an Order body")
    }

    /// `GET /api/v1/orders/?{query}`.
    pub async fn list_orders(&self, query: &str) -> reqwest::Response {
        self.client.get(self.order_url(&format!("/api/v1/orders/?{query}"))).send().await.expect("GET orders")
    }

    pub async fn put_status(&self, id: i64, body: &Value) -> reqwest::Response {
        self.client
            .put(self.order_url(&format!("/api/v1/orders/{id}/status")))
            .json(body)
            .send()
            .await
            .expect("PUT status")
    }

    pub async fn set_status(&self, id: i64, status: &str) -> reqwest::Response {
        self.put_status(id, &json!({"status": status})).await
    }

    pub async fn cancel(&self, id: i64) -> reqwest::Response {
        self.client.delete(self.order_url(&format!("/api/v1/orders/{id}"))).send().await.expect("DELETE order")
    }

    pub async fn history(&self, id: i64) -> reqwest::Response {
        self.client.get(self.order_url(&format!("/api/v1/orders/{id}/history"))).send().await.expect("GET history")
    }

    pub async fn history_of(&self, id: i64) -> Vec<StatusChange> {
        let response = self.history(id).await;
        assert_eq!(response.status(), 200, "GET history of order {id}");
        response.json().await.expect("a [StatusChange] body")
    }

    /// The Payment Service's webhook as it sends it: `order_id` filled in from the path, signed
    /// with the platform's webhook secret under a new message id.
    pub async fn order_webhook(&self, id: i64, body: &Value) -> reqwest::Response {
        let mut body = body.clone();
        if body.get("order_id").is_none() {
            body["order_id"] = json!(id);
        }
        let bytes = serde_json::to_vec(&body).expect("a JSON body");
        let message_id = format!("test-{}", uuid_like());
        self.signed_order_webhook(id, &bytes, &self.order_webhook_headers(&message_id, &bytes)).await
    }

    /// The Standard Webhooks headers the Payment Service would send with `bytes`.
    pub fn order_webhook_headers(&self, message_id: &str, bytes: &[u8]) -> Vec<(&'static str, String)> {
        let secrets = platform::webhook::WebhookSecrets::parse(&self.configs.order.webhook_secrets).expect("secrets");
        secrets.sign(message_id, bytes).expect("signed").to_vec()
    }

    /// `POST /api/v1/orders/{id}/webhook` with exactly these bytes and headers.
    pub async fn signed_order_webhook(&self, id: i64, bytes: &[u8], headers: &[(&str, String)]) -> reqwest::Response {
        let mut request = self
            .anonymous
            .post(self.order_url(&format!("/api/v1/orders/{id}/webhook")))
            .header("content-type", "application/json")
            .body(bytes.to_vec());
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        request.send().await.expect("POST order webhook")
    }

    pub async fn wait_for_order_status(&self, id: i64, status: OrderStatus) -> Order {
        wait_for(&format!("order {id} to become {status}"), PATIENCE, || async move {
            let order = self.order(id).await;
            (order.status == status).then_some(order)
        })
        .await
    }

    // ----- Identity -----

    /// The access token of a new API key with `role`, created by the administrator.
    pub async fn token_of_role(&self, role: Role) -> String {
        let created = self
            .client
            .post(self.order_url("/api/v1/auth/api-keys"))
            .json(&json!({"name": format!("{role} key"), "role": role}))
            .send()
            .await
            .expect("POST api-keys");
        assert_eq!(created.status(), 201, "creating a {role} key");
        let created: CreatedApiKey = created.json().await.expect("a CreatedApiKey");
        self.exchange_api_key(&created.key).await.json::<AccessGrant>().await.expect("an AccessGrant").access_token
    }

    /// `POST /api/v1/auth/token` with `key`.
    pub async fn exchange_api_key(&self, key: &str) -> reqwest::Response {
        self.anonymous
            .post(self.order_url("/api/v1/auth/token"))
            .json(&json!({"api_key": key}))
            .send()
            .await
            .expect("POST token")
    }

    /// A person invited by the administrator with `role`, who then set `password` through the
    /// invitation and signed in: their id and their session.
    pub async fn person(&self, email: &str, role: Role, password: &str) -> (i64, SessionGrant) {
        let invited = self
            .client
            .post(self.order_url("/api/v1/auth/users"))
            .json(&json!({"email": email, "display_name": "山田 花子", "role": role}))
            .send()
            .await
            .expect("POST users");
        assert_eq!(invited.status(), 201, "inviting {email}");
        let invited: InvitedUser = invited.json().await.expect("an InvitedUser");
        let accepted = self
            .anonymous
            .post(self.order_url("/api/v1/auth/invitations/accept"))
            .json(&json!({"token": invited.invitation.token, "password": password}))
            .send()
            .await
            .expect("POST accept");
        assert_eq!(accepted.status(), 204, "accepting the invitation of {email}");
        let session = self.login(email, password, None).await;
        assert_eq!(session.status(), 200, "signing in as {email}");
        (invited.user.id, session.json().await.expect("a SessionGrant"))
    }

    /// `POST /api/v1/auth/login`, from `address` (sent as `X-Forwarded-For`, which the service
    /// believes from 127.0.0.1, its default trusted proxy) when given.
    pub async fn login(&self, email: &str, password: &str, address: Option<&str>) -> reqwest::Response {
        let mut request = self
            .anonymous
            .post(self.order_url("/api/v1/auth/login"))
            .json(&json!({"email": email, "password": password}));
        if let Some(address) = address {
            request = request.header("x-forwarded-for", address);
        }
        request.send().await.expect("POST login")
    }

    /// An issuer with the Order Service's own active key, read from its database: for the tokens
    /// no sign-in hands out (expired, for other audiences, with odd claims).
    pub async fn order_service_issuer(&self) -> Issuer {
        let der: Vec<u8> = on_db!(self.order_pool(), |e| sqlx::query_scalar(
            "SELECT private_key FROM signing_keys WHERE retired_at IS NULL"
        )
        .fetch_one(e)
        .await)
        .expect("the active signing key");
        Issuer::new(&SigningKey::from_pkcs8_der(&der).expect("a stored key")).expect("an issuer")
    }

    // ----- Payment Service -----

    /// `GET /api/v1/payments/order/{order_id}` on the Payment Service.
    pub async fn payment_for(&self, order_id: i64) -> reqwest::Response {
        self.client
            .get(format!("{}/api/v1/payments/order/{order_id}", self.payment_address))
            .send()
            .await
            .expect("GET payment by order")
    }

    /// The order's payment, once the Payment Service has one.
    pub async fn wait_for_payment(&self, order_id: i64) -> Payment {
        wait_for(&format!("the payment of order {order_id}"), PATIENCE, || async move {
            let response = self.payment_for(order_id).await;
            (response.status() == 200).then_some(())?;
            response.json::<Payment>().await.ok()
        })
        .await
    }

    pub async fn payment_of(&self, order_id: i64) -> Payment {
        let response = self.payment_for(order_id).await;
        assert_eq!(response.status(), 200, "GET payment of order {order_id}");
        response.json().await.expect("a Payment body")
    }

    /// The payment gateway reporting an outcome to the Payment Service, signed as the gateway
    /// signs each delivery: a repeated event is a new delivery, signed at another second than
    /// the earlier ones of the same body (the very same signature would be a replay).
    pub async fn gateway_event(&self, body: &Value) -> reqwest::Response {
        let bytes = serde_json::to_vec(body).expect("a JSON body");
        let timestamp = unused_second(&bytes);
        let signature = payment_svc::domain::gateway_signature::header_value(
            &self.configs.payment.gateway_webhook_secrets,
            timestamp,
            &bytes,
        );
        self.anonymous
            .post(format!("{}/api/v1/payments/webhook", self.payment_address))
            .header("content-type", "application/json")
            .header(payment_svc::domain::gateway_signature::HEADER, signature)
            .body(bytes)
            .send()
            .await
            .expect("POST gateway event")
    }

    /// Payment rows the Payment Service holds for an order (its API can only show one).
    pub async fn payment_rows(&self, order_id: i64) -> i64 {
        on_db!(self.payment_pool(), |e| sqlx::query_scalar("SELECT COUNT(*) FROM payments WHERE order_id = $1")
            .bind(order_id)
            .fetch_one(e)
            .await)
        .expect("payments are readable")
    }

    // ----- Notification Service -----

    pub async fn notifications_for(&self, order_id: i64) -> Vec<Notification> {
        let response = self
            .client
            .get(format!("{}/api/v1/notifications/order/{order_id}", self.notification_address))
            .send()
            .await
            .expect("GET notifications by order");
        assert_eq!(response.status(), 200, "GET notifications of order {order_id}");
        response.json().await.expect("a [Notification] body")
    }

    pub async fn wait_for_notification(
        &self,
        order_id: i64,
        template: TemplateName,
        status: NotificationStatus,
    ) -> Notification {
        let what = format!("a {} notification of order {order_id} in status {}", template.as_str(), status.as_str());
        wait_for(&what, PATIENCE, || async move {
            self.notifications_for(order_id).await.into_iter().find(|n| n.template == template && n.status == status)
        })
        .await
    }

    /// How many notifications of `template` the order has.
    pub async fn notification_count(&self, order_id: i64, template: TemplateName) -> usize {
        self.notifications_for(order_id).await.iter().filter(|n| n.template == template).count()
    }

    // ----- Databases -----

    pub fn order_pool(&self) -> &Pool {
        &self.order.as_ref().expect("the order service is running").pool
    }

    pub fn payment_pool(&self) -> &Pool {
        &self.payment.as_ref().expect("the payment service is running").pool
    }

    pub fn notification_pool(&self) -> &Pool {
        &self.notification.as_ref().expect("the notification service is running").pool
    }

    pub async fn row_counts(&self) -> RowCounts {
        let count = |table: &'static str| async move {
            let sql = format!("SELECT COUNT(*) FROM {table}");
            on_db!(self.order_pool(), |e| sqlx::query_scalar::<_, i64>(&sql).fetch_one(e).await)
                .unwrap_or_else(|err| panic!("counting {table}: {err}"))
        };
        RowCounts {
            orders: count("orders").await,
            items: count("order_items").await,
            history: count("order_status_history").await,
            outbox: count("outbox").await,
        }
    }

    /// The order-svc outbox row with this idempotency key, if there is one.
    pub async fn outbox_row(&self, key: &str) -> Option<OutboxRow> {
        type Columns = (String, i64, Option<String>, Option<String>, bool, bool);
        let row: Option<Columns> = on_db!(self.order_pool(), |e| sqlx::query_as(
            "SELECT kind, attempts, last_error, request_id, delivered_at IS NOT NULL, dead_at IS NOT NULL
             FROM outbox WHERE idempotency_key = $1",
        )
        .bind(key)
        .fetch_optional(e)
        .await)
        .expect("the outbox is readable");
        row.map(|(kind, attempts, last_error, request_id, delivered, dead)| OutboxRow {
            kind,
            attempts,
            last_error,
            request_id,
            delivered,
            dead,
        })
    }

    pub async fn wait_for_delivered(&self, key: &str) -> OutboxRow {
        wait_for(&format!("outbox row {key} to be delivered"), PATIENCE, || async move {
            let row = self.outbox_row(key).await?;
            assert!(!row.dead, "outbox row {key} was refused: {:?}", row.last_error);
            row.delivered.then_some(row)
        })
        .await
    }

    /// Waits until neither the Order Service's outbox nor the Payment Service's (if running)
    /// has anything left to deliver, so "exactly once" can be checked after the fact.
    pub async fn wait_until_outboxes_drained(&self) {
        wait_until("the outboxes to drain", PATIENCE, || async move {
            let mut pools = vec![self.order_pool()];
            if let Some(payment) = &self.payment {
                pools.push(&payment.pool);
            }
            for pool in pools {
                let counts = platform::outbox::counts(pool).await.expect("outbox counts");
                if counts.waiting > 0 {
                    return false;
                }
            }
            true
        })
        .await
    }

    // ----- Taking peers away and bringing them back -----

    pub async fn stop_notification_service(&mut self) {
        let running = self.notification.take().expect("the notification service is running");
        running.shut_down("notification-svc").await;
    }

    /// Starts the Notification Service again on the same port, database and folders.
    pub async fn restart_notification_service(&mut self) {
        assert!(self.notification.is_none(), "the notification service is already running");
        let config = self.configs.notification.clone();
        let listener = bind(config.port).await;
        self.notification = Some(start_service!(notification_svc, config, listener));
    }

    /// Stops the Order Service (its background work stops at a commit boundary) and starts it
    /// again on the same port and database, as a process restart would.
    pub async fn restart_order_service(&mut self) {
        let running = self.order.take().expect("the order service is running");
        running.shut_down("order-svc").await;
        let config = self.configs.order.clone();
        let listener = bind(config.port).await;
        self.order = Some(start_service!(order_svc, config, listener));
    }

    pub async fn stop_order_service(&mut self) {
        let running = self.order.take().expect("the order service is running");
        running.shut_down("order-svc").await;
    }

    /// Starts the Order Service again on the same port and database.
    pub async fn start_order_service(&mut self) {
        assert!(self.order.is_none(), "the order service is already running");
        let config = self.configs.order.clone();
        let listener = bind(config.port).await;
        self.order = Some(start_service!(order_svc, config, listener));
    }

    pub async fn stop_payment_service(&mut self) {
        let running = self.payment.take().expect("the payment service is running");
        running.shut_down("payment-svc").await;
    }

    /// The Payment Service's configuration, to change before `restart_payment_service`.
    pub fn payment_config(&mut self) -> &mut payment_svc::config::Config {
        &mut self.configs.payment
    }

    /// Starts the Payment Service again on the same port and database.
    pub async fn restart_payment_service(&mut self) {
        assert!(self.payment.is_none(), "the payment service is already running");
        let config = self.configs.payment.clone();
        let listener = bind(config.port).await;
        self.payment = Some(start_service!(payment_svc, config, listener));
    }
}

/// Now, or the latest second before it at which `body` was not signed yet.
fn unused_second(body: &[u8]) -> i64 {
    static SIGNED: std::sync::Mutex<Vec<(Vec<u8>, i64)>> = std::sync::Mutex::new(Vec::new());
    let mut signed = SIGNED.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut second = chrono::Utc::now().timestamp();
    while signed.iter().any(|(earlier, at)| earlier == body && *at == second) {
        second -= 1;
    }
    signed.push((body.to_vec(), second));
    second
}

/// A fresh unique text, for message ids.
pub fn uuid_like() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    format!("{}-{}", std::process::id(), NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
}

/// Reads a 4xx answer: checks the status and that the body is `{"detail": "<text>"}`, and
/// returns the detail.
pub async fn detail_of(response: reqwest::Response, expected: u16, what: &str) -> String {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = response.text().await.unwrap_or_default();
    assert_eq!(status, expected, "{what}: expected {expected}, got {status} with {text}");
    assert!(content_type.starts_with("application/json"), "{what}: content type {content_type:?}, body {text}");
    let body: Value =
        serde_json::from_str(&text).unwrap_or_else(|err| panic!("{what}: body {text:?} is not JSON: {err}"));
    let detail = body["detail"].as_str().unwrap_or_else(|| panic!("{what}: no string detail in {text}"));
    assert!(!detail.is_empty(), "{what}: empty detail");
    detail.to_owned()
}
