//! Payments settled later: with deferred capture the order waits in `payment_processing`
//! until the gateway reports to the Payment Service, whose outbox calls the Order Service's
//! webhook. Webhooks are retried, so an outcome the order already reflects is a no-op.

use platform::api::notifications::{NotificationStatus, TemplateName};
use platform::api::orders::{Order, OrderStatus};
use platform::api::payments::PaymentStatus;
use serde_json::json;

use crate::helpers::{detail_of, example_order, order_of_total, spawn_platform, spawn_platform_with, TestPlatform};

async fn spawn_deferred_platform() -> TestPlatform {
    spawn_platform_with(|configs| {
        configs.payment.gateway.capture = payment_svc::gateway::CaptureMode::Deferred;
    })
    .await
}

#[tokio::test]
async fn a_deferred_payment_is_finished_by_the_gateway_webhook_exactly_once() {
    let app = spawn_deferred_platform().await;

    let order = app.create_order_ok(&example_order()).await;
    assert_eq!(order.status, OrderStatus::PaymentProcessing, "the capture is not confirmed yet");
    let payment = app.payment_of(order.id).await;
    assert_eq!(payment.status, PaymentStatus::Pending);
    assert!(!payment.transaction_id.is_empty());
    let confirmation_key = format!("order-{}-email-ORDER_CONFIRMATION", order.id);
    assert!(app.outbox_row(&confirmation_key).await.is_none(), "no confirmation before the payment completes");

    let event = json!({"transaction_id": payment.transaction_id, "status": "completed"});
    assert_eq!(app.gateway_event(&event).await.status(), 200);

    app.wait_for_order_status(order.id, OrderStatus::Paid).await;
    let email = app.wait_for_notification(order.id, TemplateName::OrderConfirmation, NotificationStatus::Sent).await;
    assert_eq!(email.recipient, order.customer_email);
    assert_eq!(app.payment_of(order.id).await.status, PaymentStatus::Completed);

    // The gateway repeats itself; nothing more happens.
    assert_eq!(app.gateway_event(&event).await.status(), 200, "a repeated gateway event is accepted");
    app.wait_until_outboxes_drained().await;
    assert_eq!(app.order(order.id).await.status, OrderStatus::Paid);
    let into_paid = app.history_of(order.id).await.iter().filter(|c| c.to_status == OrderStatus::Paid).count();
    assert_eq!(into_paid, 1, "the order became paid once");
    assert_eq!(app.notification_count(order.id, TemplateName::OrderConfirmation).await, 1);
}

#[tokio::test]
async fn a_failed_gateway_outcome_puts_the_order_back_to_pending() {
    let app = spawn_deferred_platform().await;
    let order = app.create_order_ok(&example_order()).await;
    let payment = app.payment_of(order.id).await;

    let event = json!({"transaction_id": payment.transaction_id, "status": "failed", "reason": "insufficient funds"});
    assert_eq!(app.gateway_event(&event).await.status(), 200);

    app.wait_for_order_status(order.id, OrderStatus::Pending).await;
    let last = app.history_of(order.id).await.pop().expect("a history");
    assert_eq!((last.from_status, last.to_status), (Some(OrderStatus::PaymentProcessing), OrderStatus::Pending));
    let reason = last.reason.unwrap_or_default();
    assert!(reason.starts_with("payment failed"), "{reason:?}");
    assert_eq!(app.payment_of(order.id).await.status, PaymentStatus::Failed);
    app.wait_until_outboxes_drained().await;
    assert!(app.notifications_for(order.id).await.is_empty(), "no confirmation for a failed payment");
}

#[tokio::test]
async fn a_webhook_the_order_already_reflects_is_a_no_op_and_a_contradiction_is_a_conflict() {
    let app = spawn_platform().await;
    let paid = app.paid_order().await;
    let payment_id = app.payment_of(paid.id).await.id;
    let history_before = app.history_of(paid.id).await.len();

    for status in ["completed", "refunded"] {
        let response = app.order_webhook(paid.id, &json!({"payment_id": payment_id, "status": status})).await;
        assert_eq!(response.status(), 200, "{status} on a paid order");
        assert_eq!(response.json::<Order>().await.expect("an Order body").status, OrderStatus::Paid);
    }
    assert_eq!(app.history_of(paid.id).await.len(), history_before, "no-ops leave no history");

    let failed = json!({"payment_id": payment_id, "status": "failed", "reason": "late decline"});
    detail_of(app.order_webhook(paid.id, &failed).await, 409, "failed on a paid order").await;
    assert_eq!(app.order(paid.id).await.status, OrderStatus::Paid);

    // An order whose payment was refused at creation already reflects a failure.
    let unpaid = app.create_order_ok(&order_of_total(50)).await;
    assert_eq!(unpaid.status, OrderStatus::Pending);
    let response = app.order_webhook(unpaid.id, &json!({"payment_id": 1, "status": "failed"})).await;
    assert_eq!(response.status(), 200, "failed on a pending order is a no-op");
    detail_of(
        app.order_webhook(unpaid.id, &json!({"payment_id": 1, "status": "completed"})).await,
        409,
        "completed on a pending order",
    )
    .await;
    assert_eq!(app.order(unpaid.id).await.status, OrderStatus::Pending);

    assert_eq!(app.cancel(paid.id).await.status(), 200);
    let response = app.order_webhook(paid.id, &json!({"payment_id": payment_id, "status": "completed"})).await;
    assert_eq!(response.status(), 200, "completed on a cancelled order is a no-op");
    assert_eq!(app.order(paid.id).await.status, OrderStatus::Cancelled);

    detail_of(
        app.order_webhook(999_999, &json!({"payment_id": 1, "status": "completed"})).await,
        404,
        "webhook for an unknown order",
    )
    .await;
}
