//! SIGKILLs of all three services at random moments, while shoppers place orders (some
//! declined by the gateway), ship some and cancel some: once the load stops and the platform
//! settles, every invariant of `settled` holds and every key the shoppers used made exactly
//! one order. The seed is printed, so a failing run can be repeated with `FAULTS_SEED`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use crate::cluster::{Cluster, Service};
use crate::settled::assert_settled;
use crate::shopper::{shop, Habits, Receipts};

const LOAD: Duration = Duration::from_secs(20);
const SHOPPERS: usize = 8;
const PATIENCE: Duration = Duration::from_secs(90);

/// Cancels one order in four and ships one in five, without a pause.
const HABITS: Habits = Habits { cancel: 0.25, ship: 0.2, pause: Duration::ZERO, patience: PATIENCE };

#[tokio::test]
async fn random_sigkills_of_every_service_under_load_lose_nothing_and_apply_nothing_twice() {
    let seed = std::env::var("FAULTS_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(rand::random::<u64>);
    eprintln!("chaos seed: {seed} (FAULTS_SEED={seed} repeats this run's choices)");
    let mut rng = StdRng::seed_from_u64(seed);
    // A little gateway latency widens the window between a charge and its answer; one charge
    // in ten is declined, so failed payments and pending orders are part of the mix.
    let mut cluster =
        Cluster::start(&[("PAYMENT_GATEWAY_LATENCY_MS", "40"), ("PAYMENT_GATEWAY_DECLINE_RATE", "0.1")]).await;

    let started = Instant::now();
    let until = started + LOAD;
    let mut shoppers = Vec::new();
    for n in 0..SHOPPERS {
        let shopper = cluster.shopper().await;
        shoppers.push(tokio::spawn(shop(shopper, format!("shopper{n}"), rng.random(), until, HABITS)));
    }

    // Every service is killed in each round, in a random order, at random moments.
    let mut kills: HashMap<Service, usize> = HashMap::new();
    while Instant::now() < until {
        let mut round = Service::ALL;
        round.shuffle(&mut rng);
        for service in round {
            tokio::time::sleep(Duration::from_millis(rng.random_range(500..1_500))).await;
            cluster.kill(service);
            *kills.entry(service).or_default() += 1;
            tokio::time::sleep(Duration::from_millis(rng.random_range(100..700))).await;
            cluster.start_service(service).await;
        }
    }
    eprintln!("{:.1?}: kills {kills:?}", started.elapsed());

    let receipts = Receipts::gather(shoppers).await;
    assert!(receipts.orders.len() >= SHOPPERS, "the load placed orders: {}", receipts.orders.len());
    eprintln!("{:.1?}: every shopper answered", started.elapsed());

    let settled = assert_settled(&cluster, PATIENCE).await;
    assert_eq!(settled.orders.len(), receipts.orders.len(), "one order per key, none created twice");
    receipts.assert_kept_by(&settled);
    eprintln!(
        "{:.1?}: settled; {} orders: {} paid, {} shipped, {} pending (declined), {} cancelled ({} of them refunded)",
        started.elapsed(),
        settled.orders.len(),
        settled.orders_in("paid"),
        settled.orders_in("shipped"),
        settled.orders_in("pending"),
        settled.orders_in("cancelled"),
        settled.payments.values().filter(|(status, ..)| status == "refunded").count(),
    );
}
