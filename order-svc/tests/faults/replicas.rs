//! Two replicas of every service on one PostgreSQL, behind HAProxy, sharing the work: shoppers
//! place, ship and cancel orders through the balancer while an import runs, and one replica of
//! each service is SIGKILLed mid-run — the order replica that runs the import among them —
//! then started again. Once everything settles, every invariant of `settled` holds, every key
//! made exactly one order, the import finished on the surviving replica, and the two
//! notification senders together never went above the rate limit (NFR-008: 10 per second);
//! each replica's `/metrics` is its own, and the balancer does not serve one in their place.
//!
//! Needs PostgreSQL (`TEST_POSTGRES_URL`) and HAProxy, whatever the run's backend: `make test`
//! provides both and runs this test once, in its SQLite pass.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use platform::on_db;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::cluster::{Cluster, Service};
use crate::import::{file, processed, upload};
use crate::settled::assert_settled;
use crate::shopper::{shop, Habits, Receipts};

const LOAD: Duration = Duration::from_secs(12);
const SHOPPERS: usize = 4;
const IMPORT_ORDERS: usize = 3_000;
const RATE_PER_SEC: f64 = 10.0;
const PATIENCE: Duration = Duration::from_secs(150);

/// Cancels one order in four and ships three in ten, in a steady trickle rather than a flood:
/// the e-mails it causes drain at 10 a second.
const HABITS: Habits = Habits { cancel: 0.25, ship: 0.3, pause: Duration::from_millis(100), patience: PATIENCE };

/// Waits until import `id` processes orders, and returns the port of the Order Service replica
/// that runs it (its lease's owner names it: `host:port/start`).
async fn wait_for_runner(cluster: &Cluster, token: &str, id: &str) -> u16 {
    let order = cluster.database("order").await;
    let deadline = Instant::now() + PATIENCE;
    loop {
        let (done, status) = processed(cluster, token, id).await.unwrap_or_default();
        assert!(done < IMPORT_ORDERS as i64, "the import ended before its runner could be killed");
        if status == "processing" && done > 0 {
            let owner: Option<String> =
                on_db!(&order, |e| sqlx::query_scalar("SELECT lease_owner FROM imports WHERE id = $1")
                    .bind(id)
                    .fetch_one(e)
                    .await)
                .expect("the import's row");
            let port = owner.as_deref().and_then(|owner| owner.split('/').next()?.rsplit(':').next()?.parse().ok());
            return port.unwrap_or_else(|| panic!("a running import names its runner: {owner:?}"));
        }
        assert!(Instant::now() < deadline, "the import did not start processing: {status}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn two_replicas_of_every_service_share_the_work_and_lose_nothing_when_one_of_each_is_killed() {
    let seed = std::env::var("FAULTS_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(rand::random::<u64>);
    eprintln!("replicas seed: {seed} (FAULTS_SEED={seed} repeats this run's choices)");
    let mut rng = StdRng::seed_from_u64(seed);
    let mut cluster = Cluster::start_replicated(&[
        // Slow enough a gateway that the import is still running when its runner is killed.
        ("PAYMENT_GATEWAY_LATENCY_MS", "150"),
        ("PAYMENT_GATEWAY_DECLINE_RATE", "0.1"),
        ("NOTIFICATION_RATE_PER_SEC", "10"),
        // A killed replica's claims are taken over soon: its outbox rows, its import.
        ("OUTBOX_LEASE_SECS", "5"),
        ("IMPORT_LEASE_SECS", "3"),
    ])
    .await;
    let token = cluster.token().await.expect("a token");

    let started = Instant::now();
    let until = started + LOAD;
    let mut shoppers = Vec::new();
    for n in 0..SHOPPERS {
        let shopper = cluster.shopper().await;
        shoppers.push(tokio::spawn(shop(shopper, format!("replica-shopper{n}"), rng.random(), until, HABITS)));
    }
    let import = upload(&cluster, &token, &file(IMPORT_ORDERS, "REPLICA"), "none").await;

    // One replica of each, mid-run: first the Order Service's that runs the import, while it
    // runs it.
    let runner = wait_for_runner(&cluster, &token, &import).await;
    let order_victim = (0..2)
        .find(|&n| cluster.replica_port((Service::Order, n)) == runner)
        .expect("the import's runner is one of the order replicas");
    cluster.kill_replica((Service::Order, order_victim));
    let (done, _) = processed(&cluster, &token, &import).await.expect("the import's page, from the other replica");
    assert!(done < IMPORT_ORDERS as i64, "the import was still running when its runner died: {done} processed");
    eprintln!("{:.1?}: killed order replica {order_victim}, the import's runner, at {done} orders", started.elapsed());
    let mut victims = vec![(Service::Order, order_victim)];
    for service in [Service::Payment, Service::Notification] {
        victims.push((service, rng.random_range(0..2)));
    }
    for &victim in &victims[1..] {
        tokio::time::sleep(Duration::from_millis(rng.random_range(500..1_500))).await;
        cluster.kill_replica(victim);
    }
    // Long enough for the leases of the dead to lapse and be taken over by the living.
    tokio::time::sleep(Duration::from_secs(4)).await;
    for &victim in &victims {
        cluster.start_replica(victim).await;
    }
    eprintln!("{:.1?}: killed and restarted {victims:?}", started.elapsed());

    let receipts = Receipts::gather(shoppers).await;
    assert!(receipts.orders.len() >= 20, "the load placed orders: {}", receipts.orders.len());
    assert!(
        !receipts.shipped.is_empty() && !receipts.cancelled.is_empty(),
        "the load shipped ({:?}) and cancelled ({:?})",
        receipts.shipped,
        receipts.cancelled
    );

    let settled = assert_settled(&cluster, PATIENCE).await;
    assert_eq!(settled.orders.len(), receipts.orders.len() + IMPORT_ORDERS, "one order per key and per imported row");
    receipts.assert_kept_by(&settled);
    let (done, status) = processed(&cluster, &token, &import).await.expect("the import's page");
    assert_eq!(done, IMPORT_ORDERS as i64, "every row of the import processed once");
    assert!(status.starts_with("completed"), "the import ended {status}");

    assert_rate_kept(&cluster).await;
    assert_metrics_per_replica(&cluster).await;
    eprintln!(
        "{:.1?}: settled; {} orders ({} imported): {} paid, {} shipped, {} pending (declined), {} cancelled",
        started.elapsed(),
        settled.orders.len(),
        IMPORT_ORDERS,
        settled.orders_in("paid"),
        settled.orders_in("shipped"),
        settled.orders_in("pending"),
        settled.orders_in("cancelled"),
    );
}

/// The sends of both notification replicas, together, kept to 10 a second: every send's
/// `sent_at` is its release by the shared limiter, on the database's clock and checked against
/// the newest release row, so any two are at least `1 / rate` apart (a limit per replica would
/// show sends half that apart, or closer).
async fn assert_rate_kept(cluster: &Cluster) {
    let notification = cluster.database("notification").await;
    let sent: Vec<DateTime<Utc>> = on_db!(&notification, |e| sqlx::query_scalar(
        "SELECT sent_at FROM notifications WHERE sent_at IS NOT NULL ORDER BY sent_at"
    )
    .fetch_all(e)
    .await)
    .expect("the send times");
    assert!(sent.len() >= 50, "enough sends to measure a rate: {}", sent.len());
    let interval = chrono::Duration::microseconds((1e6 / RATE_PER_SEC) as i64);
    for (i, pair) in sent.windows(2).enumerate() {
        assert!(
            pair[1] - pair[0] >= interval,
            "sends #{i} at {} and #{} at {}: closer than {RATE_PER_SEC}/s allows",
            pair[0],
            i + 1,
            pair[1]
        );
    }
    let span = (sent[sent.len() - 1] - sent[0]).num_milliseconds() as f64 / 1e3;
    eprintln!("{} notifications sent in {span:.1} s: {:.2}/s", sent.len(), (sent.len() - 1) as f64 / span);
}

/// Each replica serves its own `/metrics`; the balancer refuses the path rather than answer
/// with whichever replica's figures come next.
async fn assert_metrics_per_replica(cluster: &Cluster) {
    for service in Service::ALL {
        let through_balancer = cluster.http.get(cluster.url(service, "/metrics")).send().await.expect("the balancer");
        assert_eq!(through_balancer.status(), 404, "{service:?}'s /metrics through the balancer");
        let body: serde_json::Value = through_balancer.json().await.expect("a JSON error");
        assert!(body["detail"].as_str().is_some_and(|d| d.contains("per replica")), "{body}");
        for n in 0..2 {
            let port = cluster.replica_port((service, n));
            let own = cluster.http.get(format!("http://127.0.0.1:{port}/metrics")).send().await.expect("a replica");
            assert_eq!(own.status(), 200, "{service:?} replica {n}'s own /metrics");
            let text = own.text().await.expect("the metrics page");
            assert!(text.contains("http_requests_total"), "replica {n} of {service:?} counts its requests");
        }
    }
}

#[tokio::test]
async fn replicas_that_start_together_on_a_fresh_database_migrate_it_once_and_share_one_signing_key() {
    let url = platform::testing::postgres_database_url("order").await;
    let start = || {
        let url = url.clone();
        async move {
            let mut config = order_svc::config::Config::from_env().expect("a configuration");
            config.host = "127.0.0.1".into();
            config.port = 0;
            config.database_url = url;
            config.first_admin.password = Some("the replicas' first password".into());
            order_svc::Application::build(config).await
        }
    };
    let (first, second) = tokio::join!(start(), start());
    let (first, second) = (first.expect("one replica starts"), second.expect("the other starts too"));
    let order = first.pool().clone();
    let migrations: i64 =
        on_db!(&order, |e| sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations").fetch_one(e).await)
            .expect("the migrations' record");
    assert_eq!(migrations, order_svc::MIGRATIONS.postgres.iter().count() as i64, "each migration applied once");
    let (keys, admins): (i64, i64) = on_db!(&order, |e| sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM signing_keys WHERE retired_at IS NULL), (SELECT COUNT(*) FROM users)"
    )
    .fetch_one(e)
    .await)
    .expect("the keys and users");
    assert_eq!((keys, admins), (1, 1), "one active signing key and one first administrator between them");
    drop((first, second));
}
