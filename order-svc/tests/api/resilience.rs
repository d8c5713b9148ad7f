//! A peer that is down does not lose or duplicate anything: the Order Service answers at
//! once, keeps the effect in its outbox and delivers it, exactly once, when the peer is back.

use std::time::{Duration, Instant};

use platform::api::notifications::{NotificationStatus, TemplateName};
use platform::api::orders::{Order, OrderStatus};
use platform::api::payments::PaymentStatus;

use crate::helpers::{example_order, spawn_platform, spawn_platform_with, wait_for, PATIENCE};

#[tokio::test]
async fn a_shipped_email_waits_in_the_outbox_while_the_notification_service_restarts() {
    let mut app = spawn_platform().await;
    let order = app.paid_order().await;
    app.wait_for_notification(order.id, TemplateName::OrderConfirmation, NotificationStatus::Sent).await;

    app.stop_notification_service().await;
    let started = Instant::now();
    let response = app.set_status(order.id, "shipped").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Order>().await.expect("an Order body").status, OrderStatus::Shipped);
    assert!(started.elapsed() < Duration::from_secs(2), "shipping does not wait for the e-mail");

    let key = format!("order-{}-email-ORDER_SHIPPED", order.id);
    let (platform, key_ref) = (&app, key.as_str());
    let waiting = wait_for("a failed delivery attempt", PATIENCE, || async move {
        let row = platform.outbox_row(key_ref).await?;
        (row.attempts >= 1 && row.last_error.is_some()).then_some(row)
    })
    .await;
    assert_eq!(waiting.kind, "notification");
    assert!(!waiting.delivered && !waiting.dead, "the e-mail is still owed: {waiting:?}");

    app.restart_notification_service().await;

    let email = app.wait_for_notification(order.id, TemplateName::OrderShipped, NotificationStatus::Sent).await;
    assert_eq!(email.recipient, order.customer_email);
    app.wait_for_delivered(&key).await;
    app.wait_until_outboxes_drained().await;
    assert_eq!(app.notification_count(order.id, TemplateName::OrderShipped).await, 1, "exactly once");
    assert_eq!(app.notification_count(order.id, TemplateName::OrderConfirmation).await, 1);
}

#[tokio::test]
async fn an_order_created_while_the_payment_service_is_down_is_paid_once_it_is_back() {
    let mut app = spawn_platform().await;
    app.stop_payment_service().await;

    let started = Instant::now();
    let order = app.create_order_ok(&example_order()).await;
    assert_eq!(order.status, OrderStatus::PaymentProcessing, "the outcome is not known yet");
    assert!(started.elapsed() < Duration::from_secs(3), "an unreachable peer fails fast");

    let key = format!("order-{}-payment", order.id);
    let (platform, key_ref) = (&app, key.as_str());
    let waiting = wait_for("a failed payment attempt", PATIENCE, || async move {
        let row = platform.outbox_row(key_ref).await?;
        (row.attempts >= 1 && row.last_error.is_some()).then_some(row)
    })
    .await;
    assert_eq!(waiting.kind, "payment");
    assert!(!waiting.delivered && !waiting.dead, "{waiting:?}");
    assert_eq!(app.order(order.id).await.status, OrderStatus::PaymentProcessing);

    app.restart_payment_service().await;

    app.wait_for_order_status(order.id, OrderStatus::Paid).await;
    let payment = app.payment_of(order.id).await;
    assert_eq!(payment.status, PaymentStatus::Completed);
    assert_eq!(payment.amount, order.total_amount);
    app.wait_for_notification(order.id, TemplateName::OrderConfirmation, NotificationStatus::Sent).await;

    app.wait_until_outboxes_drained().await;
    assert_eq!(app.payment_rows(order.id).await, 1, "one payment");
    let into_paid = app.history_of(order.id).await.iter().filter(|c| c.to_status == OrderStatus::Paid).count();
    assert_eq!(into_paid, 1);
    assert_eq!(app.notification_count(order.id, TemplateName::OrderConfirmation).await, 1);
}

#[tokio::test]
async fn an_order_whose_client_hangs_up_mid_payment_is_still_paid_at_once() {
    // The gateway takes 500 ms; the recovery path would only retry the payment after the
    // payment timeout + 10 s (40 s), far beyond the deadline below.
    let app = spawn_platform_with(|configs| {
        configs.order.payment_timeout = Duration::from_secs(30);
        configs.payment.gateway.latency = Duration::from_millis(500);
    })
    .await;

    // A client that gives up mid-payment.
    let impatient = reqwest::Client::builder().timeout(Duration::from_millis(100)).build().expect("impatient client");
    let result = impatient
        .post(app.order_url("/api/v1/orders/"))
        .bearer_auth(&app.admin_token)
        .json(&example_order())
        .send()
        .await;
    match result {
        Err(err) => assert!(err.is_timeout(), "the client should have timed out, got {err}"),
        Ok(response) => panic!("the client should have given up, got {}", response.status()),
    }

    // The order is still paid now, not when the recovery path fires.
    let platform = &app;
    let order = wait_for("the newest order to be paid", Duration::from_secs(5), || async move {
        let response = platform.list_orders("limit=1").await;
        assert_eq!(response.status(), 200, "GET orders");
        let orders: Vec<Order> = response.json().await.expect("an [Order] body");
        orders.into_iter().next().filter(|order| order.status == OrderStatus::Paid)
    })
    .await;
    assert_eq!(app.order(order.id).await.status, OrderStatus::Paid);

    let payment = app.payment_of(order.id).await;
    assert_eq!(payment.status, PaymentStatus::Completed);
    assert_eq!(payment.amount, order.total_amount);
    let email = app.wait_for_notification(order.id, TemplateName::OrderConfirmation, NotificationStatus::Sent).await;
    assert_eq!(email.recipient, order.customer_email);

    app.wait_until_outboxes_drained().await;
    assert_eq!(app.payment_rows(order.id).await, 1, "exactly one payment");
    assert!(app.outbox_row(&format!("order-{}-payment", order.id)).await.is_none(), "no payment retry is left");
    assert_eq!(app.notification_count(order.id, TemplateName::OrderConfirmation).await, 1);
    assert_eq!(app.row_counts().await.orders, 1, "one order");
}
