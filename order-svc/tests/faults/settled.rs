//! What "nothing was lost and nothing applied twice" means, checked from the four databases
//! (the three services' and the gateway simulator's ledger) and the mail folder once the
//! platform has settled: every order out of `payment_processing`, every outbox and the
//! sender's queue empty, no payment left `pending`.

use std::collections::HashMap;
use std::time::Duration;

use platform::db::Pool;
use platform::on_db;

use crate::cluster::{wait_until, Cluster};

/// What the databases hold, read once the platform has settled.
pub struct Settled {
    /// Order id → (status, total).
    pub orders: HashMap<i64, (String, i64)>,
    /// The orders an import made without a confirmation of their own (`notify=digest|none`).
    pub unconfirmed_by_design: std::collections::HashSet<i64>,
    /// Order id → (status, amount, transaction id, payment id).
    pub payments: HashMap<i64, (String, i64, String, i64)>,
    /// Payment id → the amounts refunded.
    pub refunds: HashMap<i64, Vec<i64>>,
    /// (order id, template) → how many notifications.
    pub notices: HashMap<(i64, String), usize>,
    /// Transaction id → (outcome, amount), as the gateway recorded it.
    pub gateway: HashMap<String, (String, i64)>,
}

impl Settled {
    pub fn notices(&self, order_id: i64, template: &str) -> usize {
        self.notices.get(&(order_id, template.to_owned())).copied().unwrap_or(0)
    }

    pub fn orders_in(&self, status: &str) -> usize {
        self.orders.values().filter(|(s, _)| s == status).count()
    }
}

async fn count(pool: &Pool, sql: &str) -> i64 {
    on_db!(pool, |e| sqlx::query_scalar(sql).fetch_one(e).await).unwrap_or_else(|err| panic!("{sql}: {err}"))
}

/// Waits (with every service running) until nothing is left in flight, then checks every
/// invariant of money and messages and returns what it read.
pub async fn assert_settled(cluster: &Cluster, patience: Duration) -> Settled {
    let order = cluster.database("order").await;
    let payment = cluster.database("payment").await;
    let notification = cluster.database("notification").await;
    let gateway = cluster.database("payment-gateway").await;

    wait_until("settled", patience, || async {
        let in_flight = [
            (
                "orders in payment_processing",
                count(&order, "SELECT COUNT(*) FROM orders WHERE status = 'payment_processing'").await,
            ),
            ("payments pending", count(&payment, "SELECT COUNT(*) FROM payments WHERE status = 'pending'").await),
            ("Order Service outbox rows", platform::outbox::counts(&order).await.map_or(-1, |c| c.waiting)),
            ("Payment Service outbox rows", platform::outbox::counts(&payment).await.map_or(-1, |c| c.waiting)),
            (
                "notifications pending",
                count(&notification, "SELECT COUNT(*) FROM notifications WHERE status = 'PENDING'").await,
            ),
            (
                "imports running",
                count(&order, "SELECT COUNT(*) FROM imports WHERE status IN ('queued', 'validating', 'processing')")
                    .await,
            ),
        ];
        let left: Vec<String> =
            in_flight.iter().filter(|(_, n)| *n != 0).map(|(what, n)| format!("{n} {what}")).collect();
        if left.is_empty() {
            Ok(())
        } else {
            Err(left.join(", "))
        }
    })
    .await;

    // A dead outbox row is an effect a peer refused: lost, as far as the customer is concerned.
    for (name, pool) in [("Order", &order), ("Payment", &payment)] {
        let counts = platform::outbox::counts(pool).await.expect("outbox counts");
        let refused: Vec<(String, Option<String>)> = on_db!(pool, |e| sqlx::query_as(
            "SELECT idempotency_key, last_error FROM outbox WHERE dead_at IS NOT NULL LIMIT 5"
        )
        .fetch_all(e)
        .await)
        .expect("dead rows");
        assert_eq!(counts.dead, 0, "the {name} Service's outbox has refused deliveries: {refused:?}");
    }
    let failed: i64 = count(&notification, "SELECT COUNT(*) FROM notifications WHERE status <> 'SENT'").await;
    assert_eq!(failed, 0, "every notification is sent");

    let settled = read(&order, &payment, &notification, &gateway).await;
    check_money_and_messages(&settled);
    check_mail_folder(cluster, &notification).await;
    settled
}

async fn read(order: &Pool, payment: &Pool, notification: &Pool, gateway: &Pool) -> Settled {
    let orders: Vec<(i64, String, i64)> =
        on_db!(order, |e| sqlx::query_as("SELECT id, status, total_amount FROM orders").fetch_all(e).await)
            .expect("orders");
    let unconfirmed_by_design: Vec<i64> = on_db!(order, |e| sqlx::query_scalar(
        "SELECT o.id FROM orders o JOIN imports i ON i.id = o.batch_id WHERE i.notify <> 'per_order'"
    )
    .fetch_all(e)
    .await)
    .expect("imported orders");
    let payments: Vec<(i64, String, i64, String, i64)> =
        on_db!(payment, |e| sqlx::query_as("SELECT order_id, status, amount, transaction_id, id FROM payments")
            .fetch_all(e)
            .await)
        .expect("payments");
    let refunds: Vec<(i64, i64)> =
        on_db!(payment, |e| sqlx::query_as("SELECT payment_id, amount FROM refunds").fetch_all(e).await)
            .expect("refunds");
    let notices: Vec<(i64, String, i64)> = on_db!(notification, |e| sqlx::query_as(
        "SELECT order_id, template, COUNT(*) FROM notifications GROUP BY order_id, template"
    )
    .fetch_all(e)
    .await)
    .expect("notifications");
    let ledger: Vec<(String, String, i64)> =
        on_db!(gateway, |e| sqlx::query_as("SELECT transaction_id, outcome, amount FROM transactions")
            .fetch_all(e)
            .await)
        .expect("the gateway's ledger");

    let mut refunded: HashMap<i64, Vec<i64>> = HashMap::new();
    for (payment_id, amount) in refunds {
        refunded.entry(payment_id).or_default().push(amount);
    }
    Settled {
        orders: orders.into_iter().map(|(id, status, total)| (id, (status, total))).collect(),
        unconfirmed_by_design: unconfirmed_by_design.into_iter().collect(),
        payments: payments
            .into_iter()
            .map(|(order_id, status, amount, transaction, id)| (order_id, (status, amount, transaction, id)))
            .collect(),
        refunds: refunded,
        notices: notices.into_iter().map(|(order_id, template, n)| ((order_id, template), n as usize)).collect(),
        gateway: ledger.into_iter().map(|(transaction, outcome, amount)| (transaction, (outcome, amount))).collect(),
    }
}

/// Every order's payment, refund and messages agree with its status, and the gateway took
/// money exactly for the payments that say it did.
fn check_money_and_messages(settled: &Settled) {
    for (order_id, (status, total)) in &settled.orders {
        let payment = settled.payments.get(order_id);
        let payment_status = payment.map(|(status, ..)| status.as_str());
        let refunds = payment.and_then(|(.., id)| settled.refunds.get(id)).map_or(&[][..], Vec::as_slice);
        let confirmations = settled.notices(*order_id, "ORDER_CONFIRMATION");
        // Paid, an order is confirmed once — unless its import was told to send no such e-mail.
        let confirmed_when_paid = usize::from(!settled.unconfirmed_by_design.contains(order_id));
        let cancellations = settled.notices(*order_id, "ORDER_CANCELLED");
        let context = format!("order {order_id} ({status}), payment {payment:?}, refunds {refunds:?}");
        if let Some((_, amount, ..)) = payment {
            assert_eq!(amount, total, "{context}: charged what the order costs");
        }
        match status.as_str() {
            "paid" | "shipped" | "delivered" => {
                assert_eq!(payment_status, Some("completed"), "{context}");
                assert!(refunds.is_empty(), "{context}: not refunded");
                assert_eq!(confirmations, confirmed_when_paid, "{context}: confirmed once");
                assert_eq!(cancellations, 0, "{context}");
            }
            "pending" => {
                assert!(matches!(payment_status, None | Some("failed")), "{context}: not charged");
                assert_eq!(confirmations, 0, "{context}");
            }
            "cancelled" => {
                assert_eq!(cancellations, 1, "{context}: told once");
                match payment_status {
                    // It was paid, then cancelled: refunded once, in full.
                    Some("refunded") => {
                        assert_eq!(refunds, [*total], "{context}: refunded once, in full");
                        assert_eq!(confirmations, confirmed_when_paid, "{context}: it was confirmed when paid");
                    }
                    None | Some("failed") => {
                        assert!(refunds.is_empty(), "{context}");
                        assert_eq!(confirmations, 0, "{context}");
                    }
                    Some(other) => panic!("{context}: a cancelled order's payment is {other}"),
                }
            }
            other => panic!("{context}: still {other}"),
        }
        for ((order, template), n) in &settled.notices {
            assert!(*n <= 1, "order {order}: {n} × {template}");
        }
    }
    for (order_id, (status, amount, transaction, _)) in &settled.payments {
        assert!(settled.orders.contains_key(order_id), "payment for an order that does not exist: {order_id}");
        let recorded = settled.gateway.get(transaction);
        let captured = matches!(recorded, Some((outcome, _)) if outcome == "captured");
        match status.as_str() {
            "completed" | "refunded" => assert!(captured, "order {order_id}: {status}, the gateway has {recorded:?}"),
            _ => assert!(!captured, "order {order_id}: money taken for a {status} payment"),
        }
        if let Some((_, charged)) = recorded {
            assert_eq!(charged, amount, "order {order_id}: the gateway charged another amount");
        }
    }
    let transactions: std::collections::HashSet<&String> =
        settled.payments.values().map(|(_, _, transaction, _)| transaction).collect();
    for transaction in settled.gateway.keys() {
        assert!(transactions.contains(transaction), "the gateway charged {transaction}, which no payment knows");
    }
}

/// One `.eml` file per e-mail sent (a resend after a crash overwrites its own file).
async fn check_mail_folder(cluster: &Cluster, notification: &Pool) {
    let emails: i64 = count(notification, "SELECT COUNT(*) FROM notifications WHERE channel = 'email'").await;
    let files = std::fs::read_dir(cluster.dir().join("mail"))
        .expect("the mail folder")
        .filter_map(Result::ok)
        .filter(|entry| entry.path().extension().is_some_and(|ext| ext == "eml"))
        .count();
    assert_eq!(files as i64, emails, "one message in the mail folder per e-mail notification");
}
