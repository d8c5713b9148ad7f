//! The order status machine of 002 §4 through `PUT /api/v1/orders/{id}/status`: shipping and
//! delivery with their e-mails, every legal and illegal transition, and transitions racing.

use platform::api::notifications::{NotificationStatus, TemplateName};
use platform::api::orders::{Order, OrderStatus};
use serde_json::json;

use crate::helpers::{detail_of, example_order, spawn_platform, spawn_platform_with, TestPlatform};

/// The legal transitions of 002 §4; every other pair, X → X included, is refused.
const LEGAL: [(OrderStatus, OrderStatus); 7] = [
    (OrderStatus::Pending, OrderStatus::PaymentProcessing),
    (OrderStatus::PaymentProcessing, OrderStatus::Paid),
    (OrderStatus::PaymentProcessing, OrderStatus::Pending),
    (OrderStatus::Paid, OrderStatus::Shipped),
    (OrderStatus::Shipped, OrderStatus::Delivered),
    (OrderStatus::Pending, OrderStatus::Cancelled),
    (OrderStatus::Paid, OrderStatus::Cancelled),
];

#[tokio::test]
async fn shipping_sends_the_shipped_email_and_delivery_is_final() {
    let app = spawn_platform().await;
    let order = app.paid_order().await;

    let shipped = app.put_status(order.id, &json!({"status": "shipped", "reason": "ヤマト運輸に引き渡し"})).await;
    assert_eq!(shipped.status(), 200);
    let shipped: Order = shipped.json().await.expect("an Order body");
    assert_eq!(shipped.status, OrderStatus::Shipped);
    assert!(shipped.updated_at >= order.updated_at);

    let email = app.wait_for_notification(order.id, TemplateName::OrderShipped, NotificationStatus::Sent).await;
    assert_eq!(email.recipient, order.customer_email);

    let delivered = app.set_status(order.id, "delivered").await;
    assert_eq!(delivered.status(), 200);
    assert_eq!(app.order(order.id).await.status, OrderStatus::Delivered);

    for next in ["shipped", "cancelled", "paid", "pending", "delivered"] {
        let refused = app.set_status(order.id, next).await;
        let detail = detail_of(refused, 409, &format!("delivered → {next}")).await;
        assert!(detail.contains("'delivered'") && detail.contains(&format!("'{next}'")), "{detail}");
    }
    let refused = app.set_status(order.id, "shipped").await;
    assert_eq!(
        detail_of(refused, 409, "delivered → shipped").await,
        "cannot change order status from 'delivered' to 'shipped'"
    );
    detail_of(app.cancel(order.id).await, 409, "DELETE a delivered order").await;
    assert_eq!(app.order(order.id).await.status, OrderStatus::Delivered);

    let history = app.history_of(order.id).await;
    let last_two: Vec<_> = history.iter().rev().take(2).map(|c| (c.from_status, c.to_status)).collect();
    assert_eq!(
        last_two,
        vec![(Some(OrderStatus::Shipped), OrderStatus::Delivered), (Some(OrderStatus::Paid), OrderStatus::Shipped)]
    );
    assert_eq!(history[history.len() - 2].reason.as_deref(), Some("ヤマト運輸に引き渡し"), "the reason is kept");

    app.wait_until_outboxes_drained().await;
    let templates: Vec<_> = app.notifications_for(order.id).await.iter().map(|n| n.template).collect();
    assert_eq!(templates.len(), 2, "confirmation and shipped, nothing for delivery: {templates:?}");
    assert!(templates.contains(&TemplateName::OrderConfirmation) && templates.contains(&TemplateName::OrderShipped));
}

/// Brings a fresh order into `state` through legal PUTs only. The platform captures payments
/// later (deferred), so every order starts in `payment_processing`.
async fn order_in(app: &TestPlatform, state: OrderStatus) -> i64 {
    let order = app.create_order_ok(&example_order()).await;
    assert_eq!(order.status, OrderStatus::PaymentProcessing);
    let steps: &[&str] = match state {
        OrderStatus::PaymentProcessing => &[],
        OrderStatus::Pending => &["pending"],
        OrderStatus::Paid => &["paid"],
        OrderStatus::Shipped => &["paid", "shipped"],
        OrderStatus::Delivered => &["paid", "shipped", "delivered"],
        OrderStatus::Cancelled => &["pending", "cancelled"],
    };
    for step in steps {
        let response = app.set_status(order.id, step).await;
        assert_eq!(response.status(), 200, "driving order {} to {step} on the way to {state}", order.id);
    }
    order.id
}

#[tokio::test]
async fn every_legal_transition_applies_and_every_illegal_one_is_a_conflict_naming_both_states() {
    let app = spawn_platform_with(|configs| {
        configs.payment.gateway.capture = payment_svc::gateway::CaptureMode::Deferred;
    })
    .await;

    for from in OrderStatus::ALL {
        for to in OrderStatus::ALL {
            let id = order_in(&app, from).await;
            let response = app.set_status(id, to.as_str()).await;
            let case = format!("{from} → {to}");
            if LEGAL.contains(&(from, to)) {
                assert_eq!(response.status(), 200, "{case} is legal");
                let order: Order = response.json().await.expect("an Order body");
                assert_eq!(order.status, to, "{case}");
                let last = app.history_of(id).await.pop().expect("a history");
                assert_eq!((last.from_status, last.to_status), (Some(from), to), "{case} is in the history");
            } else {
                let detail = detail_of(response, 409, &case).await;
                assert_eq!(detail, format!("cannot change order status from '{from}' to '{to}'"), "{case}");
                assert_eq!(app.order(id).await.status, from, "{case} leaves the order as it was");
            }
        }
    }
}

#[tokio::test]
async fn concurrent_transitions_from_the_same_state_cannot_both_apply() {
    let app = spawn_platform().await;

    for _ in 0..5 {
        let order = app.paid_order().await;
        let (ship, cancel) = tokio::join!(app.set_status(order.id, "shipped"), app.set_status(order.id, "cancelled"));
        let mut statuses = [ship.status().as_u16(), cancel.status().as_u16()];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 409], "exactly one of two racing transitions wins");

        let winner = if ship.status() == 200 { OrderStatus::Shipped } else { OrderStatus::Cancelled };
        assert_eq!(app.order(order.id).await.status, winner);
        let from_paid =
            app.history_of(order.id).await.iter().filter(|c| c.from_status == Some(OrderStatus::Paid)).count();
        assert_eq!(from_paid, 1, "one transition out of paid is recorded");
    }
}

#[tokio::test]
async fn a_reason_over_500_characters_is_refused_and_changes_nothing() {
    let app = spawn_platform().await;
    let order = app.paid_order().await;
    let before = app.history_of(order.id).await.len();

    let response = app.put_status(order.id, &json!({"status": "shipped", "reason": "あ".repeat(501)})).await;
    let detail = detail_of(response, 422, "501-character reason").await;
    assert!(detail.contains("reason"), "{detail}");

    assert_eq!(app.order(order.id).await.status, OrderStatus::Paid);
    assert_eq!(app.history_of(order.id).await.len(), before);
    let ok = app.put_status(order.id, &json!({"status": "shipped", "reason": "あ".repeat(500)})).await;
    assert_eq!(ok.status(), 200, "500 characters are allowed");
}
