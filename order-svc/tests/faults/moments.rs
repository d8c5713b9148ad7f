//! Each service SIGKILLed at the one moment where a crash used to lose something: the Payment
//! Service between the gateway's charge and recording its answer, the Order Service while its
//! order waits for that answer, the Notification Service with its queue half sent.

use std::time::Duration;

use platform::on_db;
use serde_json::Value;

use crate::cluster::{wait_until, Cluster, Service};
use crate::settled::assert_settled;
use crate::shopper::order_body;

const PATIENCE: Duration = Duration::from_secs(60);

/// Waits until the gateway has recorded a charge and the Payment Service still holds its
/// payment as `pending`: the charge is made, its answer not yet recorded.
async fn wait_for_a_charge_in_flight(cluster: &Cluster) {
    let payment = cluster.database("payment").await;
    let gateway = cluster.database("payment-gateway").await;
    wait_until("a charge in flight", PATIENCE, || async {
        let charged: i64 =
            on_db!(&gateway, |e| sqlx::query_scalar("SELECT COUNT(*) FROM transactions").fetch_one(e).await)
                .map_err(|e| e.to_string())?;
        let pending: i64 =
            on_db!(&payment, |e| sqlx::query_scalar("SELECT COUNT(*) FROM payments WHERE status = 'pending'")
                .fetch_one(e)
                .await)
            .map_err(|e| e.to_string())?;
        if charged == 1 && pending == 1 {
            Ok(())
        } else {
            Err(format!("{charged} charged, {pending} pending"))
        }
    })
    .await;
}

#[tokio::test]
async fn a_payment_service_killed_between_the_charge_and_its_answer_settles_the_order_charged_once() {
    // The gateway takes 1.5 s to answer, after it has recorded the charge.
    let mut cluster = Cluster::start(&[("PAYMENT_GATEWAY_LATENCY_MS", "1500")]).await;
    let shopper = cluster.shopper().await;
    let body = order_body("kill-payment", &[(2, 1_500), (1, 980)]);
    let placing = tokio::spawn(async move { shopper.place("kill-payment-1", &body, PATIENCE).await });

    wait_for_a_charge_in_flight(&cluster).await;
    cluster.kill(Service::Payment);
    // Restarted without the latency, so that nothing but the sweep is slow.
    cluster.configure(Service::Payment, "PAYMENT_GATEWAY_LATENCY_MS", "0");
    cluster.start_service(Service::Payment).await;

    let order: Value = placing.await.expect("the client ran");
    let id = order["id"].as_i64().expect("an order id");
    let settled = assert_settled(&cluster, PATIENCE).await;
    assert_eq!(settled.orders[&id], ("paid".to_owned(), 3_980), "the sweep settled it");
    assert_eq!(settled.gateway.len(), 1, "asking again did not charge again");
    assert_eq!(settled.notices(id, "ORDER_CONFIRMATION"), 1);
}

#[tokio::test]
async fn an_order_service_killed_while_its_order_waits_for_the_payment_answers_the_retry_with_that_order() {
    let mut cluster = Cluster::start(&[("PAYMENT_GATEWAY_LATENCY_MS", "1500")]).await;
    let shopper = cluster.shopper().await;
    let body = order_body("kill-order", &[(1, 12_000)]);
    // The first request dies with the service (the client sees its connection dropped) and
    // the client sends it again under the same key, until it is answered.
    let placing = tokio::spawn(async move { shopper.place("kill-order-1", &body, PATIENCE).await });

    wait_for_a_charge_in_flight(&cluster).await;
    cluster.kill(Service::Order);
    tokio::time::sleep(Duration::from_millis(300)).await;
    cluster.start_service(Service::Order).await;

    // The client kept sending the same key: once the first request can no longer be running,
    // the retry is answered with the order it made, not a second one.
    let order: Value = placing.await.expect("the client ran");
    let id = order["id"].as_i64().expect("an order id");
    let settled = assert_settled(&cluster, PATIENCE).await;
    assert_eq!(settled.orders.len(), 1, "one order for one key: {:?}", settled.orders);
    assert_eq!(settled.orders[&id].0, "paid");
    assert_eq!(settled.gateway.len(), 1, "charged once");
    assert_eq!(settled.notices(id, "ORDER_CONFIRMATION"), 1);
}

#[tokio::test]
async fn a_notification_service_killed_with_its_queue_half_sent_sends_every_message_once() {
    // Four messages a second: a dozen take three seconds to send.
    let mut cluster = Cluster::start(&[("NOTIFICATION_RATE_PER_SEC", "4")]).await;
    let shopper = cluster.shopper().await;
    let mut ids = Vec::new();
    for n in 0..12 {
        let order = shopper
            .place(&format!("kill-notification-{n}"), &order_body(&format!("n{n}"), &[(1, 500)]), PATIENCE)
            .await;
        ids.push(order["id"].as_i64().expect("an order id"));
    }
    let notification = cluster.database("notification").await;
    wait_until("some sent, some waiting", PATIENCE, || async {
        let (sent, pending): (i64, i64) = on_db!(&notification, |e| sqlx::query_as(
            "SELECT COUNT(*) FILTER (WHERE status = 'SENT'), COUNT(*) FILTER (WHERE status = 'PENDING') FROM notifications",
        )
        .fetch_one(e)
        .await)
        .map_err(|e| e.to_string())?;
        if sent >= 2 && pending >= 2 {
            Ok(())
        } else {
            Err(format!("{sent} sent, {pending} pending"))
        }
    })
    .await;
    cluster.kill(Service::Notification);
    tokio::time::sleep(Duration::from_millis(500)).await;
    cluster.start_service(Service::Notification).await;

    let settled = assert_settled(&cluster, PATIENCE).await;
    for id in ids {
        assert_eq!(settled.orders[&id].0, "paid");
        assert_eq!(settled.notices(id, "ORDER_CONFIRMATION"), 1, "order {id}");
    }
}

#[tokio::test]
async fn deferred_captures_due_while_the_payment_service_is_killed_settle_every_order_once() {
    // The gateway captures each charge 1.5 s after authorising it and reports it by its webhook.
    let mut cluster =
        Cluster::start(&[("PAYMENT_GATEWAY_CAPTURE", "deferred"), ("PAYMENT_GATEWAY_CAPTURE_DELAY_MS", "1500")]).await;
    let shopper = cluster.shopper().await;
    let mut ids = Vec::new();
    for n in 0..12 {
        let order = shopper.place(&format!("deferred-{n}"), &order_body(&format!("d{n}"), &[(1, 700)]), PATIENCE).await;
        assert_eq!(order["status"], "payment_processing", "a deferred capture leaves the order waiting");
        ids.push(order["id"].as_i64().expect("an order id"));
    }
    // Killed as the captures fall due: some reported, some captured and not yet reported, some
    // not yet captured.
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    cluster.kill(Service::Payment);
    tokio::time::sleep(Duration::from_millis(800)).await;
    cluster.start_service(Service::Payment).await;

    let settled = assert_settled(&cluster, PATIENCE).await;
    for id in ids {
        assert_eq!(settled.orders[&id].0, "paid", "order {id}");
        assert_eq!(settled.notices(id, "ORDER_CONFIRMATION"), 1, "order {id}");
    }
}
