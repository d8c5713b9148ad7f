//! Payments that fail at creation: outside the amount limits (FR-012/FR-013) or declined by
//! the issuer. The order is still created (201) but left `pending`, with the reason in its
//! history, no confirmation, and nothing to refund when it is cancelled.

use platform::api::notifications::{NotificationStatus, TemplateName};
use platform::api::orders::{Order, OrderStatus};

use crate::helpers::{order_of_total, spawn_platform, spawn_platform_with, TestPlatform};

/// Checks that `order` was answered pending because its payment failed, and returns the
/// reason recorded for it.
async fn assert_left_pending_by_failed_payment(app: &TestPlatform, order: &Order) -> String {
    assert_eq!(order.status, OrderStatus::Pending, "order {} of {}", order.id, order.total_amount);
    assert_eq!(app.order(order.id).await.status, OrderStatus::Pending);
    let last = app.history_of(order.id).await.pop().expect("a history");
    assert_eq!((last.from_status, last.to_status), (Some(OrderStatus::PaymentProcessing), OrderStatus::Pending));
    let reason = last.reason.unwrap_or_default();
    assert!(reason.starts_with("payment failed"), "the history says why: {reason:?}");
    reason
}

#[tokio::test]
async fn amounts_outside_100_to_1_000_000_yen_leave_the_order_pending() {
    let app = spawn_platform().await;
    let mut unpaid = Vec::new();

    for (total, paid) in [(50, false), (99, false), (100, true), (1_000_000, true), (1_000_001, false)] {
        let order = app.create_order_ok(&order_of_total(total)).await;
        if paid {
            assert_eq!(order.status, OrderStatus::Paid, "¥{total} is within the limits");
            assert_eq!(app.payment_of(order.id).await.amount.get(), total);
        } else {
            assert_left_pending_by_failed_payment(&app, &order).await;
            assert_eq!(app.payment_for(order.id).await.status(), 404, "¥{total}: no payment is recorded");
            unpaid.push(order.id);
        }
    }

    app.wait_until_outboxes_drained().await;
    for order_id in unpaid {
        let notifications = app.notifications_for(order_id).await;
        assert!(notifications.is_empty(), "no confirmation for unpaid order {order_id}: {notifications:?}");
    }
}

#[tokio::test]
async fn a_declined_payment_leaves_the_order_pending_with_the_reason() {
    let app = spawn_platform_with(|configs| configs.payment.gateway.decline_rate = 1.0).await;

    let order = app.create_order_ok(&order_of_total(5_000)).await;

    let reason = assert_left_pending_by_failed_payment(&app, &order).await;
    assert!(reason.contains("declined"), "the issuer's refusal is named: {reason:?}");
    app.wait_until_outboxes_drained().await;
    assert!(app.notifications_for(order.id).await.is_empty(), "no confirmation for a declined order");
}

#[tokio::test]
async fn cancelling_an_unpaid_order_sends_the_cancellation_and_refunds_nothing() {
    let app = spawn_platform_with(|configs| configs.payment.gateway.decline_rate = 1.0).await;
    let order = app.create_order_ok(&order_of_total(5_000)).await;
    assert_eq!(order.status, OrderStatus::Pending);

    let response = app.cancel(order.id).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Order>().await.expect("an Order body").status, OrderStatus::Cancelled);

    let email = app.wait_for_notification(order.id, TemplateName::OrderCancelled, NotificationStatus::Sent).await;
    assert_eq!(email.recipient, order.customer_email);
    assert!(app.outbox_row(&format!("order-{}-refund", order.id)).await.is_none(), "nothing to refund");
    app.wait_until_outboxes_drained().await;
    let templates: Vec<_> = app.notifications_for(order.id).await.iter().map(|n| n.template).collect();
    assert_eq!(templates, [TemplateName::OrderCancelled]);

    let last = app.history_of(order.id).await.pop().expect("a history");
    assert_eq!((last.from_status, last.to_status), (Some(OrderStatus::Pending), OrderStatus::Cancelled));
}
