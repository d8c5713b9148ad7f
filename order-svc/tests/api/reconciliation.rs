//! An order's payment outcome reaches it whatever path it takes and whatever is lost on the
//! way, over real HTTP across the three services: a payment made directly at the Payment
//! Service (FR-018), a webhook that was lost and is healed by the gateway repeating itself, an
//! outcome the Order Service never heard (reconciled), and an order whose payment never
//! reached the Payment Service (paid again, once).

use platform::db::RowsAffected;
use platform::on_db;
use std::time::Duration;

use platform::api::notifications::TemplateName;
use platform::api::orders::OrderStatus;
use platform::api::payments::PaymentStatus;
use serde_json::json;

use crate::helpers::{example_order, spawn_platform_with, wait_until, TestPlatform, PATIENCE};

/// Marks the Payment Service's webhook rows about `payment_id` dead, as a refusal would.
async fn lose_webhooks(app: &TestPlatform, payment_id: i64) {
    on_db!(app.payment_pool(), |e| sqlx::query(
        "UPDATE outbox SET dead_at = '2026-01-01T00:00:00Z' WHERE idempotency_key LIKE $1"
    )
    .bind(format!("payment-{payment_id}-%"))
    .execute(e)
    .await
    .rows_affected())
    .unwrap();
}

/// An order of the example, left in `payment_processing` by a deferred capture, whose gateway
/// outcome (completed) arrives while the Order Service is down and whose webhook is then lost.
async fn order_whose_outcome_was_lost(app: &mut TestPlatform) -> (i64, i64) {
    let order = app.create_order_ok(&example_order()).await;
    assert_eq!(order.status, OrderStatus::PaymentProcessing);
    let payment = app.payment_of(order.id).await;
    app.stop_order_service().await;
    let event = json!({"transaction_id": payment.transaction_id, "status": "completed"});
    assert_eq!(app.gateway_event(&event).await.status(), 200);
    lose_webhooks(app, payment.id).await;
    app.start_order_service().await;
    (order.id, payment.id)
}

#[tokio::test]
async fn a_payment_made_directly_at_the_payment_service_reaches_its_order() {
    let mut app = spawn_platform_with(|configs| {
        // The order's own retry of its payment comes a minute later: the direct payment is first.
        configs.order.outbox.backoff.base = Duration::from_secs(60);
    })
    .await;
    app.stop_payment_service().await;
    let order = app.create_order_ok(&example_order()).await;
    assert_eq!(order.status, OrderStatus::PaymentProcessing);
    app.restart_payment_service().await;

    let direct = app
        .client
        .post(format!("{}/api/v1/payments", app.payment_address))
        .json(&json!({"order_id": order.id, "amount": 179600}))
        .send()
        .await
        .unwrap();
    assert_eq!(direct.status(), 201);
    app.wait_for_order_status(order.id, OrderStatus::Paid).await;
    let confirmation = format!("order-{}-email-ORDER_CONFIRMATION", order.id);
    app.wait_for_delivered(&confirmation).await;
    assert_eq!(app.notification_count(order.id, TemplateName::OrderConfirmation).await, 1);
}

#[tokio::test]
async fn a_lost_webhook_is_healed_when_the_gateway_repeats_the_outcome() {
    let mut app = spawn_platform_with(|configs| {
        configs.payment.gateway.capture = payment_svc::gateway::CaptureMode::Deferred;
        // No reconciliation in this test: the gateway's repeat is what heals.
        configs.order.reconcile_after = Duration::from_secs(600);
    })
    .await;
    let (order_id, payment_id) = order_whose_outcome_was_lost(&mut app).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.order(order_id).await.status, OrderStatus::PaymentProcessing, "the webhook was lost");

    let transaction = app.payment_of(order_id).await.transaction_id;
    let repeat = app.gateway_event(&json!({"transaction_id": transaction, "status": "completed"})).await;
    assert_eq!(repeat.status(), 200);
    app.wait_for_order_status(order_id, OrderStatus::Paid).await;
    let webhooks: i64 =
        on_db!(app.payment_pool(), |e| sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE idempotency_key LIKE $1")
            .bind(format!("payment-{payment_id}-%"))
            .fetch_one(e)
            .await)
        .unwrap();
    assert_eq!(webhooks, 1, "the same row, announced again");
}

#[tokio::test]
async fn an_outcome_the_order_service_never_heard_is_reconciled() {
    let mut app =
        spawn_platform_with(|configs| configs.payment.gateway.capture = payment_svc::gateway::CaptureMode::Deferred)
            .await;
    let (order_id, _) = order_whose_outcome_was_lost(&mut app).await;
    // The reconciler asks the Payment Service once the order has waited 2 s.
    app.wait_for_order_status(order_id, OrderStatus::Paid).await;
    let history = app.history_of(order_id).await;
    assert_eq!(history.iter().filter(|change| change.to_status == OrderStatus::Paid).count(), 1);
    app.wait_for_delivered(&format!("order-{order_id}-email-ORDER_CONFIRMATION")).await;
}

#[tokio::test]
async fn an_order_whose_payment_never_reached_the_payment_service_is_paid_once() {
    let mut app = spawn_platform_with(|configs| configs.order.outbox.backoff.base = Duration::from_secs(60)).await;
    app.stop_payment_service().await;
    let order = app.create_order_ok(&example_order()).await;
    // As if the process had died before its payment row was written: no retry is scheduled.
    on_db!(app.order_pool(), |e| sqlx::query("DELETE FROM outbox WHERE idempotency_key = $1")
        .bind(format!("order-{}-payment", order.id))
        .execute(e)
        .await
        .rows_affected())
    .unwrap();
    app.restart_payment_service().await;
    wait_until("the reconciler to pay the order", PATIENCE, || async {
        app.order(order.id).await.status == OrderStatus::Paid
    })
    .await;
    assert_eq!(app.payment_rows(order.id).await, 1, "charged once");
    assert_eq!(app.payment_of(order.id).await.status, PaymentStatus::Completed);
}
