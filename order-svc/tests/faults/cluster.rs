//! The three services as real processes — the binaries `cargo test` built — on free ports, with
//! their databases of the run's backend (SQLite files in one temporary folder, or PostgreSQL
//! databases: `platform::testing`), so that a test can kill one with SIGKILL at the moment it
//! chooses and start it again on the same port and data, as a crash and a restart would. Their
//! logs are kept in the temporary folder and printed when a test fails.
//!
//! `Cluster::start_replicated` runs two replicas of each service on one PostgreSQL instead,
//! behind HAProxy (`.ci/haproxy.cfg`, as `make run-replicas` does): every address a client or a
//! peer uses is the balancer's, and a test kills one replica at a time.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::time::{Duration, Instant};

use platform::db::Pool;
use serde_json::{json, Value};
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use tempfile::TempDir;

pub const ADMIN_EMAIL: &str = "admin@example.com";
const ADMIN_PASSWORD: &str = "the fault tests' admin password";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    Order,
    Payment,
    Notification,
}

impl Service {
    pub const ALL: [Service; 3] = [Service::Order, Service::Payment, Service::Notification];

    /// How its settings are named: `ORDER_…`, `PAYMENT_…`, `NOTIFICATION_…`.
    fn prefix(self) -> &'static str {
        match self {
            Service::Order => "ORDER",
            Service::Payment => "PAYMENT",
            Service::Notification => "NOTIFICATION",
        }
    }

    fn binary(self) -> &'static str {
        match self {
            Service::Order => "order-svc",
            Service::Payment => "payment-svc",
            Service::Notification => "notification-svc",
        }
    }
}

/// One process of a service: the service and which of its replicas (0 when there is one).
pub type Replica = (Service, usize);

pub struct Cluster {
    dir: TempDir,
    /// Each database's URL, by name (`order`, `payment`, `notification`, `payment-gateway`).
    databases: HashMap<&'static str, String>,
    /// Where each service is reached: its one process's port, or the balancer's.
    ports: HashMap<Service, u16>,
    /// Each process's own port.
    replica_ports: HashMap<Replica, u16>,
    env: Vec<(String, String)>,
    /// Settings of one service only, on top of `env`, from its next start on.
    overrides: HashMap<Service, Vec<(String, String)>>,
    running: HashMap<Replica, Child>,
    balancer: Option<Child>,
    pub http: reqwest::Client,
    api_key: String,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for child in self.running.values_mut().chain(self.balancer.as_mut()) {
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() {
            let mut replicas: Vec<Replica> = self.replica_ports.keys().copied().collect();
            replicas.sort_by_key(|(service, n)| (service.binary(), *n));
            for replica in replicas {
                let log = std::fs::read_to_string(self.log_path(replica)).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(40).collect();
                eprintln!("---- {} (last lines) ----", self.log_path(replica).display());
                for line in tail.into_iter().rev() {
                    eprintln!("{line}");
                }
            }
        }
    }
}

/// The folder of the binaries: the Order Service's, as cargo names it to its own tests; the
/// other two are built beside it by `cargo test --workspace` (or `cargo build --workspace`).
fn binary_of(service: Service) -> PathBuf {
    let order = PathBuf::from(env!("CARGO_BIN_EXE_order-svc"));
    let path = order.with_file_name(service.binary());
    assert!(path.exists(), "{} is missing: run `cargo build --workspace` (make test does)", path.display());
    path
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("an address").port()
}

impl Cluster {
    /// The three services, one process each on the run's backend, started, with `settings`
    /// (environment variables) on top of the tests' own: quick retries, a fast sender, short
    /// timeouts.
    pub async fn start(settings: &[(&str, &str)]) -> Cluster {
        let dir = TempDir::new().expect("a temporary folder");
        let mut databases = HashMap::new();
        for name in ["order", "payment", "notification", "payment-gateway"] {
            databases.insert(name, platform::testing::database_url(dir.path(), name).await);
        }
        Cluster::launch(dir, databases, 1, settings).await
    }

    /// Two replicas of each service on one PostgreSQL (the `TEST_POSTGRES_URL` server, whatever
    /// the run's backend), behind HAProxy, started, with `settings` on top of the tests' own.
    pub async fn start_replicated(settings: &[(&str, &str)]) -> Cluster {
        let dir = TempDir::new().expect("a temporary folder");
        let mut databases = HashMap::new();
        for name in ["order", "payment", "notification", "payment-gateway"] {
            databases.insert(name, platform::testing::postgres_database_url(name).await);
        }
        Cluster::launch(dir, databases, 2, settings).await
    }

    async fn launch(
        dir: TempDir,
        databases: HashMap<&'static str, String>,
        replicas: usize,
        settings: &[(&str, &str)],
    ) -> Cluster {
        let ports: HashMap<Service, u16> = Service::ALL.into_iter().map(|s| (s, free_port())).collect();
        let replica_ports: HashMap<Replica, u16> = Service::ALL
            .into_iter()
            .flat_map(|service| (0..replicas).map(move |n| (service, n)))
            .map(|replica| (replica, if replicas == 1 { ports[&replica.0] } else { free_port() }))
            .collect();
        let url = |service: Service| format!("http://127.0.0.1:{}", ports[&service]);
        let db = |name: &str| databases[name].clone();
        let mut env: Vec<(String, String)> = [
            ("ORDER_SERVICE_URL", url(Service::Order)),
            ("PAYMENT_SERVICE_URL", url(Service::Payment)),
            ("NOTIFICATION_SERVICE_URL", url(Service::Notification)),
            ("ORDER_DATABASE_URL", db("order")),
            ("PAYMENT_DATABASE_URL", db("payment")),
            ("NOTIFICATION_DATABASE_URL", db("notification")),
            ("PAYMENT_GATEWAY_DATABASE_URL", db("payment-gateway")),
            // A killed process's import is taken over once its lease lapses (PostgreSQL; on
            // SQLite the next start takes it at once).
            ("IMPORT_LEASE_SECS", "3".into()),
            ("NOTIFICATION_MAIL_DIR", format!("{}/mail", dir.path().display())),
            ("NOTIFICATION_SMS_DIR", format!("{}/sms", dir.path().display())),
            ("ADMIN_EMAIL", ADMIN_EMAIL.into()),
            ("ADMIN_PASSWORD", ADMIN_PASSWORD.into()),
            ("OUTBOX_RETRY_BASE_MS", "50".into()),
            ("NOTIFICATION_RATE_PER_SEC", "1000".into()),
            ("NOTIFICATION_RETRY_BASE_MS", "50".into()),
            // An interrupted send is retried after its lease: this plus about five seconds.
            ("NOTIFICATION_SEND_TIMEOUT_SECS", "2".into()),
            ("PAYMENT_TIMEOUT_SECS", "3".into()),
            ("PAYMENT_GATEWAY_TIMEOUT_SECS", "2".into()),
            ("ORDER_RECONCILE_AFTER_SECS", "4".into()),
            ("RUST_LOG", "warn".into()),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect();
        for (name, value) in settings {
            env.retain(|(existing, _)| existing != name);
            env.push(((*name).to_owned(), (*value).to_owned()));
        }
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .timeout(Duration::from_secs(30))
            .build()
            .expect("a client");
        let mut cluster = Cluster {
            dir,
            databases,
            ports,
            replica_ports,
            env,
            overrides: HashMap::new(),
            running: HashMap::new(),
            balancer: None,
            http,
            api_key: String::new(),
        };
        if replicas > 1 {
            cluster.start_balancer().await;
        }
        // The Payment and Notification Services fetch the Order Service's keys when they meet
        // a token: the Order Service first.
        for service in [Service::Order, Service::Payment, Service::Notification] {
            for n in 0..replicas {
                cluster.start_replica((service, n)).await;
            }
        }
        cluster.api_key = cluster.create_api_key().await;
        cluster
    }

    /// HAProxy with `.ci/haproxy.cfg`, on the services' ports, in front of the replicas.
    async fn start_balancer(&mut self) {
        let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.ci/haproxy.cfg");
        let mut addresses: Vec<(String, String)> = Service::ALL
            .into_iter()
            .map(|service| (format!("{}_PORT", service.prefix()), self.ports[&service].to_string()))
            .collect();
        for (&(service, n), port) in &self.replica_ports {
            addresses.push((format!("{}_{}", service.prefix(), n + 1), format!("127.0.0.1:{port}")));
        }
        let log = std::fs::File::create(self.dir.path().join("haproxy.log")).expect("a log");
        let child = Command::new("haproxy")
            .arg("-f")
            .arg(&config)
            .arg("-db")
            .envs(addresses)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("a log"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start haproxy (make test installs it): {err}"));
        self.balancer = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.ports[&Service::Order])).is_err() {
            assert!(Instant::now() < deadline, "haproxy did not listen");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn log_path(&self, (service, n): Replica) -> PathBuf {
        self.dir.path().join(format!("{}-{n}.log", service.binary()))
    }

    pub fn url(&self, service: Service, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.ports[&service])
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Starts `service` (its one process) and waits until it answers.
    pub async fn start_service(&mut self, service: Service) {
        self.start_replica((service, 0)).await;
    }

    /// Starts one process of a service and waits until it answers.
    pub async fn start_replica(&mut self, replica: Replica) {
        let (service, _) = replica;
        assert!(!self.running.contains_key(&replica), "{replica:?} runs already");
        let log = std::fs::OpenOptions::new().create(true).append(true).open(self.log_path(replica)).expect("a log");
        let port = self.replica_ports[&replica].to_string();
        let child = Command::new(binary_of(service))
            .envs(self.env.iter().map(|(name, value)| (name.as_str(), value.as_str())))
            .envs(
                self.overrides.get(&service).into_iter().flatten().map(|(name, value)| (name.as_str(), value.as_str())),
            )
            .env(format!("{}_SERVICE_PORT", service.prefix()), port)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("a log"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {}: {err}", service.binary()));
        self.running.insert(replica, child);
        let health = format!("http://127.0.0.1:{}/health", self.replica_ports[&replica]);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(response) = self.http.get(&health).timeout(Duration::from_secs(1)).send().await {
                if response.status().is_success() {
                    return;
                }
            }
            assert!(Instant::now() < deadline, "{} did not come up", service.binary());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Gives `service` the setting `name=value` from its next start on.
    pub fn configure(&mut self, service: Service, name: &str, value: &str) {
        let settings = self.overrides.entry(service).or_default();
        settings.retain(|(existing, _)| existing != name);
        settings.push((name.to_owned(), value.to_owned()));
    }

    /// Kills `service` (its one process) with SIGKILL — no shutdown, no last write — and waits
    /// until it is gone.
    pub fn kill(&mut self, service: Service) {
        self.kill_replica((service, 0));
    }

    /// Kills one process of a service with SIGKILL and waits until it is gone.
    pub fn kill_replica(&mut self, replica: Replica) {
        let mut child = self.running.remove(&replica).unwrap_or_else(|| panic!("{replica:?} is not running"));
        child.kill().expect("SIGKILL");
        child.wait().expect("the process ends");
    }

    /// The port of one process of a service.
    pub fn replica_port(&self, replica: Replica) -> u16 {
        self.replica_ports[&replica]
    }

    async fn create_api_key(&self) -> String {
        let login: Value = self
            .http
            .post(self.url(Service::Order, "/api/v1/auth/login"))
            .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
            .send()
            .await
            .expect("login")
            .json()
            .await
            .expect("a session");
        let token = login["access_token"].as_str().expect("a token");
        let created: Value = self
            .http
            .post(self.url(Service::Order, "/api/v1/auth/api-keys"))
            .bearer_auth(token)
            .json(&json!({"name": "fault tests", "role": "admin"}))
            .send()
            .await
            .expect("an API key")
            .json()
            .await
            .expect("a created key");
        created["key"].as_str().expect("the key").to_owned()
    }

    /// A fresh access token (five minutes), or `None` while the Order Service cannot give one.
    pub async fn token(&self) -> Option<String> {
        let answer = self
            .http
            .post(self.url(Service::Order, "/api/v1/auth/token"))
            .json(&json!({"api_key": self.api_key}))
            .timeout(Duration::from_secs(3))
            .send()
            .await
            .ok()?;
        let grant: Value = answer.json().await.ok()?;
        grant["access_token"].as_str().map(str::to_owned)
    }

    /// A view of one service's database (`order`, `payment`, `notification`, or the gateway's
    /// `payment-gateway`), for checking what it holds: read-only on SQLite.
    pub async fn database(&self, name: &str) -> Pool {
        let url = &self.databases[name];
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url).expect("a SQLite URL").read_only(true);
            Pool::Sqlite(SqlitePoolOptions::new().max_connections(2).connect_with(options).await.expect("it opens"))
        } else {
            Pool::Postgres(PgPoolOptions::new().max_connections(2).connect(url).await.expect("it opens"))
        }
    }
}

/// Polls `check` until it holds, failing with `what` (and the check's last word) after `limit`.
pub async fn wait_until<F, Fut>(what: &str, limit: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let deadline = Instant::now() + limit;
    loop {
        let last = match check().await {
            Ok(()) => return,
            Err(last) => last,
        };
        assert!(Instant::now() < deadline, "after {limit:?}, still not {what}: {last}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
