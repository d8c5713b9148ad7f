//! The gateway's webhook: settling pending payments and telling the Order Service through
//! the outbox, with retries while it is unreachable.

use std::time::Duration;

use payment_svc::config::CaptureMode;
use serde_json::{json, Value};

use crate::helpers::{detail, eventually, spawn_app_with, spawn_order_stub, TestApp};

async fn deferred_app(order_service_url: Option<String>) -> TestApp {
    spawn_app_with(|config| {
        config.gateway.capture = CaptureMode::Deferred;
        if let Some(url) = order_service_url {
            config.order_service_url = url;
        }
    })
    .await
}

/// A pending payment: `(payment id, transaction id)`.
async fn pending_payment(app: &TestApp, order_id: i64) -> (i64, String) {
    let payment = app.create_payment(order_id, 5000).await;
    assert_eq!(payment["status"], "pending");
    (payment["id"].as_i64().unwrap(), payment["transaction_id"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn a_completed_webhook_completes_the_pending_payment_and_enqueues_the_order_webhook() {
    let app = deferred_app(None).await;
    let (id, txn) = pending_payment(&app, 21).await;

    let response = app.post_webhook(&txn, "completed").await;
    assert_eq!(response.status(), 200);
    let payment: Value = response.json().await.unwrap();
    assert_eq!(payment["id"], id);
    assert_eq!(payment["status"], "completed");

    let rows = app.outbox_rows().await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].kind, "order_webhook");
    assert_eq!(rows[0].idempotency_key, format!("payment-{id}-completed"));
    let payload: Value = serde_json::from_str(&rows[0].payload).unwrap();
    assert_eq!(payload["order_id"], 21);
    assert_eq!(payload["webhook"]["status"], "completed");
}

#[tokio::test]
async fn the_order_service_receives_the_webhook_once_with_its_idempotency_key() {
    let stub = spawn_order_stub().await;
    let app = deferred_app(Some(stub.url.clone())).await;
    let (id, txn) = pending_payment(&app, 22).await;

    assert_eq!(app.post_webhook(&txn, "completed").await.status(), 200);
    let delivered = eventually(Duration::from_secs(5), || async {
        app.outbox_rows().await.iter().all(|row| row.delivered_at.is_some())
    })
    .await;
    assert!(delivered, "outbox row not delivered: {:?}", app.outbox_rows().await);

    let received = stub.received();
    assert_eq!(received.len(), 1, "{received:?}");
    assert_eq!(received[0].order_id, 22);
    assert_eq!(received[0].idempotency_key.as_deref(), Some(format!("payment-{id}-completed").as_str()));
    assert_eq!(received[0].body, json!({"order_id": 22, "payment_id": id, "status": "completed", "reason": null}));
    assert_eq!(received[0].message_id, received[0].idempotency_key, "the message id is the idempotency key");
}

#[tokio::test]
async fn a_failed_webhook_fails_the_payment_with_the_gateways_reason() {
    let stub = spawn_order_stub().await;
    let app = deferred_app(Some(stub.url.clone())).await;
    let (id, txn) = pending_payment(&app, 23).await;

    let response =
        app.gateway_event(&json!({"transaction_id": txn, "status": "failed", "reason": "insufficient funds"})).await;
    assert_eq!(response.status(), 200);
    let payment: Value = response.json().await.unwrap();
    assert_eq!(payment["status"], "failed");
    assert_eq!(payment["failure_reason"], "insufficient funds");

    assert!(eventually(Duration::from_secs(5), || async { !stub.received().is_empty() }).await);
    let received = stub.received();
    assert_eq!(
        received[0].body,
        json!({"order_id": 23, "payment_id": id, "status": "failed", "reason": "insufficient funds"})
    );
}

#[tokio::test]
async fn an_unreachable_order_service_is_retried_and_nothing_is_lost() {
    // The default test app points at a closed port.
    let app = deferred_app(None).await;
    let (_, txn) = pending_payment(&app, 24).await;
    assert_eq!(app.post_webhook(&txn, "completed").await.status(), 200);

    let retried = eventually(Duration::from_secs(5), || async {
        app.outbox_rows().await.first().is_some_and(|row| row.attempts >= 3)
    })
    .await;
    let rows = app.outbox_rows().await;
    assert!(retried, "{rows:?}");
    assert_eq!(rows.len(), 1);
    assert!(rows[0].last_error.is_some(), "{rows:?}");
    assert!(rows[0].delivered_at.is_none() && rows[0].dead_at.is_none(), "{rows:?}");
}

#[tokio::test]
async fn repeating_a_webhook_is_a_no_op() {
    let app = deferred_app(None).await;
    let (id, txn) = pending_payment(&app, 25).await;
    let first: Value = app.post_webhook(&txn, "completed").await.json().await.unwrap();

    let again = app.post_webhook(&txn, "completed").await;
    assert_eq!(again.status(), 200);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["id"], id);
    assert_eq!(again["status"], "completed");
    assert_eq!(again["updated_at"], first["updated_at"]);
    assert_eq!(app.count("outbox").await, 1);
}

#[tokio::test]
async fn a_conflicting_webhook_is_acknowledged_recorded_as_ignored_and_changes_nothing() {
    let app = deferred_app(None).await;
    let (id, txn) = pending_payment(&app, 26).await;
    assert_eq!(app.post_webhook(&txn, "completed").await.status(), 200);

    // Acknowledged, so that the gateway stops retrying it; the completed payment stands.
    let response = app.post_webhook(&txn, "failed").await;
    assert_eq!(response.status(), 200);
    let answered: Value = response.json().await.unwrap();
    assert_eq!(answered["status"], "completed");
    let stored: Value = app.get_payment(id).await.json().await.unwrap();
    assert_eq!(stored["status"], "completed");
    let events = stored["gateway_events"].as_array().expect("the payment lists its gateway events").clone();
    let outcomes: Vec<(&str, &str)> =
        events.iter().map(|e| (e["status"].as_str().unwrap(), e["outcome"].as_str().unwrap())).collect();
    assert_eq!(outcomes, vec![("completed", "applied"), ("failed", "ignored")]);
    assert!(events[1]["detail"].as_str().unwrap().contains("completed"), "{events:?}");
    assert_eq!(app.count("outbox").await, 1, "the Order Service hears of the completion only");
}

#[tokio::test]
async fn a_webhook_for_an_unknown_transaction_is_404() {
    let app = deferred_app(None).await;
    let response = app.post_webhook("txn_nope", "completed").await;
    assert_eq!(response.status(), 404);
    assert!(detail(response).await.contains("txn_nope"));
    assert_eq!(app.count("outbox").await, 0);
}

#[tokio::test]
async fn a_webhook_status_that_is_not_an_outcome_is_unprocessable() {
    let app = deferred_app(None).await;
    let (id, txn) = pending_payment(&app, 27).await;
    for status in ["pending", "refunded", "paid"] {
        let response = app.post_webhook(&txn, status).await;
        assert_eq!(response.status(), 422, "{status}");
        detail(response).await;
    }
    let stored: Value = app.get_payment(id).await.json().await.unwrap();
    assert_eq!(stored["status"], "pending");
    assert_eq!(app.count("outbox").await, 0);
}

#[tokio::test]
async fn a_refunded_payment_stays_refunded_when_completion_is_repeated() {
    let app = deferred_app(None).await;
    let (id, txn) = pending_payment(&app, 28).await;
    assert_eq!(app.post_webhook(&txn, "completed").await.status(), 200);
    assert_eq!(app.post_refund(&json!({"payment_id": id}), None).await.status(), 201);

    let response = app.post_webhook(&txn, "completed").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap()["status"], "refunded");
    let late_failure = app.post_webhook(&txn, "failed").await;
    assert_eq!(late_failure.status(), 200);
    assert_eq!(late_failure.json::<Value>().await.unwrap()["status"], "refunded");
}

#[tokio::test]
async fn the_gateway_captures_a_deferred_charge_by_itself_and_reports_it_through_its_signed_webhook() {
    let stub = spawn_order_stub().await;
    let app = spawn_app_with(|config| {
        config.gateway.capture = CaptureMode::Deferred;
        config.gateway.capture_delay = Duration::from_millis(300);
        config.order_service_url = stub.url.clone();
    })
    .await;
    let (id, _) = pending_payment(&app, 31).await;

    // Nobody plays the gateway here: the simulator captures the charge and reports it.
    let completed = eventually(Duration::from_secs(10), || async {
        let payment: Value = app.get(&format!("/api/v1/payments/{id}")).await.json().await.unwrap();
        payment["status"] == "completed"
    })
    .await;
    assert!(completed, "the deferred charge was captured and reported");
    let payment: Value = app.get(&format!("/api/v1/payments/{id}")).await.json().await.unwrap();
    let events = payment["gateway_events"].as_array().expect("the gateway's events").clone();
    assert_eq!(events.len(), 1, "reported once: {events:?}");
    assert_eq!((events[0]["status"].as_str(), events[0]["outcome"].as_str()), (Some("completed"), Some("applied")));
    // And the Order Service is told, as for any change of status.
    assert!(eventually(Duration::from_secs(5), || async { stub.received().len() == 1 }).await);
    assert_eq!(stub.received()[0].body["status"], "completed");
}
