//! A client of the Order Service written the way the README asks integrators to write one:
//! every order under its own `Idempotency-Key`, sent again with the same key until it is
//! answered, whatever happens to the service in between.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use tokio::task::JoinHandle;

use crate::cluster::{Cluster, Service};
use crate::settled::Settled;

#[derive(Clone)]
pub struct Shopper {
    http: reqwest::Client,
    orders: String,
    token: String,
}

impl Cluster {
    /// A client with its own access token (five minutes: longer than any test).
    pub async fn shopper(&self) -> Shopper {
        let token = self.token().await.expect("an access token");
        Shopper { http: self.http.clone(), orders: self.url(Service::Order, "/api/v1/orders/"), token }
    }
}

/// How a shopper behaves: how often it cancels or ships an order it placed, and how long it
/// pauses between orders.
#[derive(Debug, Clone, Copy)]
pub struct Habits {
    pub cancel: f64,
    pub ship: f64,
    pub pause: Duration,
    /// How long a call may be retried before the test fails.
    pub patience: Duration,
}

/// What one shopper did: key → order id, and the orders it shipped and cancelled.
#[derive(Debug, Default)]
pub struct Receipts {
    pub orders: Vec<(String, i64)>,
    pub shipped: Vec<i64>,
    pub cancelled: Vec<i64>,
}

impl Receipts {
    /// Every shopper's receipts in one, once each has finished: no key was used twice, and no
    /// two keys were answered with the same order.
    pub async fn gather(shoppers: Vec<JoinHandle<Receipts>>) -> Receipts {
        let mut all = Receipts::default();
        let (mut keys, mut ids) = (HashSet::new(), HashSet::new());
        for shopper in shoppers {
            let receipts = shopper.await.expect("a shopper ran to the end");
            for (key, id) in receipts.orders {
                assert!(keys.insert(key.clone()), "key {key} used twice");
                assert!(ids.insert(id), "order {id} was the answer to two keys");
                all.orders.push((key, id));
            }
            all.shipped.extend(receipts.shipped);
            all.cancelled.extend(receipts.cancelled);
        }
        all
    }

    /// Every order the shoppers were answered with exists once the platform has settled, and
    /// those they shipped or cancelled stayed so.
    pub fn assert_kept_by(&self, settled: &Settled) {
        for (key, id) in &self.orders {
            assert!(settled.orders.contains_key(id), "order {id}, the answer to {key}, exists");
        }
        for id in &self.shipped {
            assert_eq!(settled.orders[id].0, "shipped", "order {id} was shipped");
        }
        for id in &self.cancelled {
            assert_eq!(settled.orders[id].0, "cancelled", "order {id} was cancelled");
        }
    }
}

/// Places orders of one to three random lines under keys `{name}-{n}` until `until`, cancelling
/// or shipping some as `habits` say; the same `seed` makes the same choices.
pub async fn shop(shopper: Shopper, name: String, seed: u64, until: Instant, habits: Habits) -> Receipts {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut receipts = Receipts::default();
    let mut n = 0;
    while Instant::now() < until {
        n += 1;
        let key = format!("{name}-{n}");
        let lines: Vec<(i64, i64)> =
            (0..rng.random_range(1..=3)).map(|_| (rng.random_range(1..=5), rng.random_range(1..=200) * 100)).collect();
        let order = shopper.place(&key, &order_body(&name, &lines), habits.patience).await;
        let id = order["id"].as_i64().expect("an order id");
        receipts.orders.push((key, id));
        let next: f64 = rng.random();
        if next < habits.cancel {
            if shopper.cancel(id, habits.patience).await {
                receipts.cancelled.push(id);
            }
        } else if next < habits.cancel + habits.ship
            && order["status"] == "paid"
            && shopper.ship(id, habits.patience).await
        {
            receipts.shipped.push(id);
        }
        if !habits.pause.is_zero() {
            tokio::time::sleep(habits.pause).await;
        }
    }
    receipts
}

/// An order of `items` (quantity, unit price) lines for a customer of its own.
pub fn order_body(customer: &str, items: &[(i64, i64)]) -> Value {
    let items: Vec<Value> = items
        .iter()
        .enumerate()
        .map(|(n, (quantity, price))| json!({"product_name": format!("商品{n}"), "quantity": quantity, "unit_price": price}))
        .collect();
    json!({"customer_email": format!("{customer}@example.jp"), "customer_name": "障害 試験", "items": items, "currency": "JPY"})
}

impl Shopper {
    /// Places the order `body` under `key` and returns the order it was answered with.
    /// Connection failures, timeouts and 409 (the first request under the key may still be
    /// running) are retried with the same key; any other refusal fails the test.
    pub async fn place(&self, key: &str, body: &Value, patience: Duration) -> Value {
        let deadline = Instant::now() + patience;
        loop {
            let sent = self
                .http
                .post(&self.orders)
                .bearer_auth(&self.token)
                .header("Idempotency-Key", key)
                .json(body)
                .timeout(Duration::from_secs(10))
                .send()
                .await;
            let last = match sent {
                Ok(response) => {
                    let status = response.status().as_u16();
                    let text = response.text().await.unwrap_or_default();
                    match status {
                        200 | 201 => return serde_json::from_str(&text).expect("an Order body"),
                        409 | 502 | 503 | 504 => format!("{status}: {text}"),
                        _ => panic!("order {key} refused with {status}: {text}"),
                    }
                }
                Err(err) => err.to_string(),
            };
            assert!(Instant::now() < deadline, "order {key} still not placed after {patience:?}: {last}");
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    /// Marks paid order `id` shipped, asking until the service answers; true when it is shipped
    /// (by this call or an earlier attempt of it), false when the order is not paid.
    pub async fn ship(&self, id: i64, patience: Duration) -> bool {
        let url = format!("{}{id}/status", self.orders);
        let deadline = Instant::now() + patience;
        loop {
            let sent = self
                .http
                .put(&url)
                .bearer_auth(&self.token)
                .json(&json!({"status": "shipped"}))
                .timeout(Duration::from_secs(10))
                .send()
                .await;
            let last = match sent {
                Ok(response) if response.status() == 200 => return true,
                Ok(response) if response.status() == 409 => {
                    let text = response.text().await.unwrap_or_default();
                    return text.contains("from 'shipped'");
                }
                Ok(response) if response.status().is_server_error() => response.status().to_string(),
                Ok(response) => {
                    let status = response.status();
                    panic!("shipping {id} refused with {status}: {}", response.text().await.unwrap_or_default())
                }
                Err(err) => err.to_string(),
            };
            assert!(Instant::now() < deadline, "order {id} still not shipped after {patience:?}: {last}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Asks for order `id` to be cancelled until the service answers; true when this call
    /// (or an earlier attempt of it that died with the service) cancelled it. An order still
    /// waiting for its payment is asked again once the payment is decided.
    pub async fn cancel(&self, id: i64, patience: Duration) -> bool {
        let url = format!("{}{id}", self.orders);
        let deadline = Instant::now() + patience;
        loop {
            let sent = self.http.delete(&url).bearer_auth(&self.token).timeout(Duration::from_secs(10)).send().await;
            let last = match sent {
                Ok(response) if response.status() == 200 => return true,
                Ok(response) if response.status() == 409 => {
                    let text = response.text().await.unwrap_or_default();
                    if text.contains("from 'cancelled'") {
                        return true;
                    }
                    if !text.contains("from 'payment_processing'") {
                        return false;
                    }
                    text
                }
                Ok(response) if response.status().is_server_error() => response.status().to_string(),
                Ok(response) => {
                    let status = response.status();
                    panic!("cancelling {id} refused with {status}: {}", response.text().await.unwrap_or_default())
                }
                Err(err) => err.to_string(),
            };
            assert!(Instant::now() < deadline, "order {id} still not cancelled after {patience:?}: {last}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}
