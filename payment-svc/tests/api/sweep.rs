//! The sweep, over real HTTP and the real databases: a payment left `pending` by a process that
//! died between storing it and recording the gateway's answer is settled by what the gateway
//! has on record — or charged now if the charge never reached the gateway — and the Order
//! Service is told; a deferred capture waits for its webhook.

use std::time::Duration;

use chrono::Utc;
use payment_svc::gateway::{CaptureMode, ChargeOutcome, Gateway, GatewaySettings};
use platform::db::EpochMillis;
use platform::on_db;
use serde_json::Value;

use crate::helpers::{eventually, spawn_app_with, spawn_order_stub, TestApp};

/// A pending payment as `charging` writes it before it asks the gateway: the state a process
/// killed mid-charge leaves.
async fn pending_row(app: &TestApp, order_id: i64, transaction_id: &str) {
    let long_ago = Utc::now() - chrono::Duration::seconds(60);
    on_db!(&app.pool, |e| sqlx::query(
        "INSERT INTO payments (order_id, amount, currency, status, transaction_id, created_at, updated_at)
         VALUES ($1, 5000, 'JPY', 'pending', $2, $3, $3)",
    )
    .bind(order_id)
    .bind(transaction_id)
    .bind(long_ago)
    .execute(e)
    .await
    .map(drop))
    .unwrap();
}

/// The gateway simulator on the app's own ledger, as another process of it would be.
async fn the_gateway(app: &TestApp, capture: CaptureMode, decline_rate: f64) -> Gateway {
    let settings = GatewaySettings { capture, decline_rate, ..GatewaySettings::default() };
    Gateway::open(settings, &app.gateway_ledger_url).await.unwrap()
}

async fn status_of(app: &TestApp, order_id: i64) -> Value {
    app.get(&format!("/api/v1/payments/order/{order_id}")).await.json().await.unwrap()
}

#[tokio::test]
async fn a_payment_left_pending_is_settled_as_the_gateway_recorded_it_and_the_order_is_told() {
    let stub = spawn_order_stub().await;
    let app = spawn_app_with(|config| config.order_service_url = stub.url.clone()).await;
    // The gateway declined it before the process died; the sweep must not charge it anew.
    the_gateway(&app, CaptureMode::Immediate, 1.0).await.charge("txn_declined_before", 5000).await.unwrap();
    pending_row(&app, 61, "txn_declined_before").await;
    // And one the gateway never saw: charged now, once.
    pending_row(&app, 62, "txn_never_charged").await;

    let settled = eventually(Duration::from_secs(8), || async {
        status_of(&app, 61).await["status"] == "failed" && status_of(&app, 62).await["status"] == "completed"
    })
    .await;
    assert!(settled, "61: {}, 62: {}", status_of(&app, 61).await, status_of(&app, 62).await);
    assert_eq!(
        the_gateway(&app, CaptureMode::Immediate, 0.0).await.charge("txn_never_charged", 5000).await.unwrap(),
        ChargeOutcome::Captured
    );

    assert!(eventually(Duration::from_secs(5), || async { stub.received().len() == 2 }).await);
    let mut told: Vec<(i64, String)> = stub
        .received()
        .iter()
        .map(|webhook| (webhook.order_id, webhook.body["status"].as_str().unwrap().to_owned()))
        .collect();
    told.sort();
    assert_eq!(told, vec![(61, "failed".to_owned()), (62, "completed".to_owned())]);
}

#[tokio::test]
async fn a_deferred_capture_stays_pending_until_its_webhook() {
    let app = spawn_app_with(|config| config.gateway.capture = CaptureMode::Deferred).await;
    the_gateway(&app, CaptureMode::Deferred, 0.0).await.charge("txn_authorised", 5000).await.unwrap();
    pending_row(&app, 63, "txn_authorised").await;
    let asked = eventually(Duration::from_secs(8), || async {
        let checked: Option<EpochMillis> =
            on_db!(&app.pool, |e| sqlx::query_scalar("SELECT checked_at FROM payments WHERE order_id = 63")
                .fetch_one(e)
                .await)
            .unwrap();
        checked.is_some()
    })
    .await;
    assert!(asked, "the sweep asked about it");
    assert_eq!(status_of(&app, 63).await["status"], "pending");
    assert_eq!(app.post_webhook("txn_authorised", "completed").await.status(), 200);
    assert_eq!(status_of(&app, 63).await["status"], "completed");
}
