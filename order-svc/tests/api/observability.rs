//! What operators run the platform by: `/metrics` on each service in the Prometheus text
//! format, and the W3C trace context (`traceparent`) carried from the request that caused
//! something to every call and outbox row it leads to, in all three services.

use std::collections::HashSet;

use platform::api::notifications::{NotificationStatus, TemplateName};
use platform::api::orders::OrderStatus;
use platform::on_db;
use platform::trace_context::TraceContext;

use crate::helpers::{example_order, spawn_platform, TestPlatform};

/// The `/metrics` page of the service at `address`, checked to be the text format.
async fn metrics_of(app: &TestPlatform, address: &str) -> String {
    let response = app.anonymous.get(format!("{address}/metrics")).send().await.expect("GET /metrics");
    assert_eq!(response.status(), 200, "/metrics is public, like /health");
    let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
    response.text().await.expect("a page")
}

/// The value of the series whose line starts with `name{` and holds every one of `labels`.
fn value_of(page: &str, name: &str, labels: &[&str]) -> Option<f64> {
    page.lines()
        .filter(|line| line.starts_with(&format!("{name}{{")))
        .find(|line| labels.iter().all(|label| line.contains(label)))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
}

#[tokio::test]
async fn each_service_serves_its_metrics_by_route_template_with_its_queues_and_outcomes() {
    let app = spawn_platform().await;
    let order = app.create_order_ok(&example_order()).await;
    assert_eq!(order.status, OrderStatus::Paid);
    app.wait_for_notification(order.id, TemplateName::OrderConfirmation, NotificationStatus::Sent).await;
    let read = app.client.get(app.order_url(&format!("/api/v1/orders/{}", order.id))).send().await.unwrap();
    assert_eq!(read.status(), 200);
    app.wait_until_outboxes_drained().await;

    let orders = metrics_of(&app, &app.order_address).await;
    // By template, never by the order's own path: one series per route, not per order.
    let reads =
        [r#"service="order-svc""#, r#"route="/api/v1/orders/{order_id}""#, r#"method="GET""#, r#"status="200""#];
    assert!(value_of(&orders, "http_requests_total", &reads).is_some_and(|n| n >= 1.0), "{orders}");
    assert!(!orders.contains(&format!("/api/v1/orders/{}\"", order.id)), "a concrete path became a label");
    assert!(
        value_of(&orders, "http_request_duration_seconds_bucket", &[r#"route="/api/v1/orders/""#, r#"le="+Inf""#])
            .is_some_and(|n| n >= 1.0),
        "creation timed in the histogram"
    );
    assert_eq!(value_of(&orders, "outbox_rows", &[r#"service="order-svc""#, r#"state="waiting""#]), Some(0.0));
    assert_eq!(value_of(&orders, "outbox_rows", &[r#"service="order-svc""#, r#"state="dead""#]), Some(0.0));
    assert!(value_of(&orders, "order_status_changes_total", &[r#"to="paid""#]).is_some_and(|n| n >= 1.0));
    assert!(value_of(&orders, "import_orders_remaining", &[r#"service="order-svc""#]).is_some());

    let payments = metrics_of(&app, &app.payment_address).await;
    assert!(value_of(&payments, "payments_total", &[r#"status="completed""#]).is_some_and(|n| n >= 1.0));
    assert!(
        value_of(&payments, "outbox_delivery_attempts_total", &[r#"service="payment-svc""#, r#"outcome="delivered""#])
            .is_some_and(|n| n >= 1.0),
        "the webhook to the Order Service was delivered: {payments}"
    );
    assert_eq!(value_of(&payments, "payments_pending", &[r#"service="payment-svc""#]), Some(0.0));

    let notifications = metrics_of(&app, &app.notification_address).await;
    assert!(value_of(&notifications, "notifications_total", &[r#"outcome="sent""#]).is_some_and(|n| n >= 1.0));
    assert!(value_of(&notifications, "notifications", &[r#"status="SENT""#]).is_some_and(|n| n >= 1.0));
    assert_eq!(
        value_of(&notifications, "notification_send_rate_limit_per_second", &[r#"service="notification-svc""#]),
        Some(f64::from(app.configs().notification.rate_per_sec))
    );
}

#[tokio::test]
async fn one_request_is_one_trace_in_every_service_it_reaches() {
    let app = spawn_platform().await;
    let caller = TraceContext::parse("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01").unwrap();
    let response = app
        .client
        .post(app.order_url("/api/v1/orders/"))
        .header("traceparent", caller.to_string())
        .json(&example_order())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let order: platform::api::orders::Order = response.json().await.unwrap();
    app.wait_for_notification(order.id, TemplateName::OrderConfirmation, NotificationStatus::Sent).await;
    app.wait_until_outboxes_drained().await;

    // The Payment Service recorded the payment, and wrote its webhook, within the caller's trace;
    // the Order Service's confirmation row (delivered to the Notification Service) too.
    let payment: Option<String> =
        on_db!(app.payment_pool(), |e| sqlx::query_scalar("SELECT traceparent FROM payments WHERE order_id = $1")
            .bind(order.id)
            .fetch_one(e)
            .await)
        .unwrap();
    let webhook: Vec<Option<String>> = on_db!(app.payment_pool(), |e| sqlx::query_scalar(
        "SELECT traceparent FROM outbox WHERE idempotency_key LIKE 'payment-%'"
    )
    .fetch_all(e)
    .await)
    .unwrap();
    let confirmation: Vec<Option<String>> =
        on_db!(app.order_pool(), |e| sqlx::query_scalar("SELECT traceparent FROM outbox WHERE kind = 'notification'")
            .fetch_all(e)
            .await)
        .unwrap();
    let mut spans = HashSet::new();
    for stored in std::iter::once(payment).chain(webhook).chain(confirmation) {
        let stored = stored.expect("a traceparent is stored");
        let context = TraceContext::parse(&stored).expect("a valid traceparent");
        assert_eq!(context.trace_id(), caller.trace_id(), "{stored} belongs to the caller's trace");
        spans.insert(stored);
    }
    assert!(!spans.contains(&caller.to_string()), "each service continues with a span of its own");

    // Without a traceparent, a request starts a trace of its own.
    let plain = app.create_order_ok(&example_order()).await;
    let stored: Option<String> =
        on_db!(app.payment_pool(), |e| sqlx::query_scalar("SELECT traceparent FROM payments WHERE order_id = $1")
            .bind(plain.id)
            .fetch_one(e)
            .await)
        .unwrap();
    let fresh = TraceContext::parse(&stored.expect("a traceparent")).expect("valid");
    assert_ne!(fresh.trace_id(), caller.trace_id());
}
