//! Cancelling orders: a paid order is refunded exactly once and the customer told; an order
//! past the point of cancelling is refused.

use platform::api::notifications::{NotificationStatus, TemplateName};
use platform::api::orders::{Order, OrderStatus};
use platform::api::payments::PaymentStatus;

use crate::helpers::{detail_of, spawn_platform, wait_for, TestPlatform, PATIENCE};

/// Waits until the Payment Service shows the order's payment refunded, and returns it.
async fn refunded_payment(app: &TestPlatform, order_id: i64) -> platform::api::payments::Payment {
    wait_for(&format!("the payment of order {order_id} to be refunded"), PATIENCE, || async move {
        let payment = app.payment_of(order_id).await;
        (payment.status == PaymentStatus::Refunded).then_some(payment)
    })
    .await
}

#[tokio::test]
async fn cancelling_a_paid_order_refunds_it_once_and_sends_the_cancellation() {
    let app = spawn_platform().await;
    let order = app.paid_order().await;

    let response = app.cancel(order.id).await;
    assert_eq!(response.status(), 200);
    let cancelled: Order = response.json().await.expect("an Order body");
    assert_eq!(cancelled.status, OrderStatus::Cancelled);

    let payment = refunded_payment(&app, order.id).await;
    let refund = payment.refund.expect("the refunded payment shows its refund");
    assert_eq!(refund.payment_id, payment.id);
    assert_eq!(refund.amount, order.total_amount, "the whole amount is refunded");

    let email = app.wait_for_notification(order.id, TemplateName::OrderCancelled, NotificationStatus::Sent).await;
    assert_eq!(email.recipient, order.customer_email);

    let again = app.cancel(order.id).await;
    let detail = detail_of(again, 409, "cancelling twice").await;
    assert!(detail.contains("'cancelled'"), "{detail}");

    let refund_row = app.wait_for_delivered(&format!("order-{}-refund", order.id)).await;
    assert_eq!(refund_row.kind, "refund");
    app.wait_until_outboxes_drained().await;
    assert_eq!(app.payment_of(order.id).await.refund.map(|r| r.id), Some(refund.id), "still the one refund");
    assert_eq!(app.notification_count(order.id, TemplateName::OrderCancelled).await, 1);

    let last = app.history_of(order.id).await.pop().expect("a history");
    assert_eq!((last.from_status, last.to_status), (Some(OrderStatus::Paid), OrderStatus::Cancelled));
    assert_eq!(last.reason.as_deref(), Some("cancelled by request"));
}

#[tokio::test]
async fn putting_a_paid_order_to_cancelled_refunds_it_too() {
    let app = spawn_platform().await;
    let order = app.paid_order().await;

    let response = app.set_status(order.id, "cancelled").await;
    assert_eq!(response.status(), 200);

    let payment = refunded_payment(&app, order.id).await;
    assert_eq!(payment.refund.map(|r| r.amount), Some(order.total_amount));
    app.wait_for_notification(order.id, TemplateName::OrderCancelled, NotificationStatus::Sent).await;
}

#[tokio::test]
async fn a_shipped_order_cannot_be_cancelled_and_is_not_refunded() {
    let app = spawn_platform().await;
    let order = app.paid_order().await;
    assert_eq!(app.set_status(order.id, "shipped").await.status(), 200);

    let detail = detail_of(app.cancel(order.id).await, 409, "DELETE a shipped order").await;
    assert!(detail.contains("'shipped'") && detail.contains("'cancelled'"), "{detail}");

    assert_eq!(app.order(order.id).await.status, OrderStatus::Shipped);
    assert!(app.outbox_row(&format!("order-{}-refund", order.id)).await.is_none(), "no refund is queued");
    app.wait_until_outboxes_drained().await;
    assert_eq!(app.payment_of(order.id).await.status, PaymentStatus::Completed);
    assert_eq!(app.notification_count(order.id, TemplateName::OrderCancelled).await, 0);
}
