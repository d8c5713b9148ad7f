//! Creating and reading orders: the full creation flow across the three services (order,
//! payment, confirmation e-mail), the documented shape of the answer, and the HTTP front the
//! service shares with the others (request ids, probes, OpenAPI).

use platform::api::notifications::{Channel, NotificationStatus, TemplateName};
use platform::api::orders::{Order, OrderStatus};
use platform::api::payments::PaymentStatus;
use platform::Yen;
use serde_json::Value;

use crate::helpers::{example_order, order_body, spawn_platform};

#[tokio::test]
async fn creating_an_order_pays_it_and_sends_one_confirmation() {
    let app = spawn_platform().await;

    let response = app.create_order(&example_order()).await;
    assert_eq!(response.status(), 201);
    let text = response.text().await.expect("a body");
    let body: Value = serde_json::from_str(&text).expect("a JSON body");
    let created: Order = serde_json::from_str(&text).expect("an Order body");
    let id = created.id;

    // The documented shape of 002 §2.1, down to the number formats.
    assert_eq!(body["id"].as_i64(), Some(id));
    assert_eq!(body["customer_email"], "tanaka@example.co.jp");
    assert_eq!(body["customer_name"], "田中太郎");
    assert_eq!(body["status"], "paid");
    assert_eq!(body["total_amount"].to_string(), "179600.0");
    assert_eq!(body["currency"], "JPY");
    let items = body["items"].as_array().expect("an items array");
    assert_eq!(items.len(), 1);
    assert!(items[0]["id"].as_i64().is_some_and(|item_id| item_id > 0), "item id in {body}");
    assert_eq!(items[0]["product_name"], "ノートPC");
    assert_eq!(items[0]["quantity"].as_i64(), Some(2));
    assert_eq!(items[0]["unit_price"].to_string(), "89800.0");
    for field in ["created_at", "updated_at"] {
        let stamp = body[field].as_str().unwrap_or_else(|| panic!("{field} is a string in {body}"));
        chrono::DateTime::parse_from_rfc3339(stamp).unwrap_or_else(|err| panic!("{field} {stamp:?}: {err}"));
    }
    assert!(created.updated_at >= created.created_at);

    let fetched = app.order(id).await;
    assert_eq!(fetched.status, OrderStatus::Paid);
    assert_eq!(fetched.items, created.items);
    assert_eq!(fetched.total_amount, Yen::new(179_600));

    let payment = app.payment_of(id).await;
    assert_eq!(payment.status, PaymentStatus::Completed);
    assert_eq!(payment.amount, Yen::new(179_600), "the payment is for exactly the total");
    assert!(payment.refund.is_none());

    let sent = app.wait_for_notification(id, TemplateName::OrderConfirmation, NotificationStatus::Sent).await;
    assert_eq!(sent.recipient, "tanaka@example.co.jp");
    assert_eq!(sent.channel, Channel::Email);
    assert!(sent.body.contains("田中太郎"), "the e-mail names the customer: {}", sent.body);
    assert!(sent.body.contains("ノートPC"), "the e-mail lists the items: {}", sent.body);
    assert!(sent.body.contains("179,600"), "the e-mail shows the total: {}", sent.body);

    app.wait_until_outboxes_drained().await;
    let notifications = app.notifications_for(id).await;
    assert_eq!(notifications.len(), 1, "exactly one notification: {notifications:?}");

    let history = app.history_of(id).await;
    let steps: Vec<_> = history.iter().map(|c| (c.from_status, c.to_status)).collect();
    assert_eq!(
        steps,
        vec![
            (None, OrderStatus::Pending),
            (Some(OrderStatus::Pending), OrderStatus::PaymentProcessing),
            (Some(OrderStatus::PaymentProcessing), OrderStatus::Paid),
        ]
    );
    assert!(history.windows(2).all(|pair| pair[0].created_at <= pair[1].created_at), "oldest first");
    assert!(history.iter().all(|c| c.reason.as_deref().is_some_and(|r| !r.is_empty())), "{history:?}");
}

#[tokio::test]
async fn the_total_is_the_sum_of_quantity_times_unit_price() {
    let app = spawn_platform().await;
    let body = order_body("sato@example.com", &[("マウス", 3, 1_200), ("キーボード", 1, 5_000), ("ステッカー", 10, 0)]);

    let order = app.create_order_ok(&body).await;

    assert_eq!(order.total_amount, Yen::new(8_600));
    assert_eq!(order.items.len(), 3);
    let names: Vec<_> = order.items.iter().map(|i| i.product_name.as_str()).collect();
    assert_eq!(names, ["マウス", "キーボード", "ステッカー"], "items keep their order");
    assert_eq!(app.payment_of(order.id).await.amount, Yen::new(8_600));
}

#[tokio::test]
async fn names_are_stored_trimmed() {
    let app = spawn_platform().await;
    let mut body = order_body("suzuki@example.com", &[("  ノートPC  ", 1, 1_000)]);
    body["customer_name"] = "  鈴木花子 ".into();

    let order = app.create_order_ok(&body).await;

    assert_eq!(order.customer_name, "鈴木花子");
    assert_eq!(order.items[0].product_name, "ノートPC");
}

#[tokio::test]
async fn the_orders_collection_answers_with_and_without_a_trailing_slash() {
    let app = spawn_platform().await;

    let created = app
        .client
        .post(app.order_url("/api/v1/orders"))
        .json(&example_order())
        .send()
        .await
        .expect("POST without slash");
    assert_eq!(created.status(), 201);

    for path in ["/api/v1/orders", "/api/v1/orders/"] {
        let response = app.client.get(app.order_url(path)).send().await.expect("GET list");
        assert_eq!(response.status(), 200, "GET {path}");
        let orders: Vec<Order> = response.json().await.expect("a list of orders");
        assert_eq!(orders.len(), 1, "GET {path}");
    }
}

#[tokio::test]
async fn a_request_id_is_echoed_back_and_kept_with_the_effects_it_causes() {
    let app = spawn_platform().await;

    let health =
        app.client.get(app.order_url("/health")).header("x-request-id", "probe-42").send().await.expect("GET /health");
    assert_eq!(health.headers().get("x-request-id").and_then(|v| v.to_str().ok()), Some("probe-42"));

    let response = app
        .client
        .post(app.order_url("/api/v1/orders/"))
        .header("x-request-id", "req-order-7")
        .json(&example_order())
        .send()
        .await
        .expect("POST order");
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers().get("x-request-id").and_then(|v| v.to_str().ok()), Some("req-order-7"));
    let order: Order = response.json().await.expect("an Order body");

    // The confirmation is sent later by the outbox worker, still under the caller's id.
    let row = app
        .outbox_row(&format!("order-{}-email-ORDER_CONFIRMATION", order.id))
        .await
        .expect("a confirmation in the outbox");
    assert_eq!(row.request_id.as_deref(), Some("req-order-7"));

    let anonymous = app.client.get(app.order_url("/health")).send().await.expect("GET /health");
    let generated = anonymous.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(!generated.is_empty(), "a request without an id is given one");
}

#[tokio::test]
async fn the_service_exposes_health_readiness_and_its_openapi_document() {
    let app = spawn_platform().await;

    for path in ["/health", "/ready"] {
        let response = app.client.get(app.order_url(path)).send().await.expect("probe");
        assert_eq!(response.status(), 200, "GET {path}");
    }
    let openapi: Value = app
        .client
        .get(app.order_url("/openapi.json"))
        .send()
        .await
        .expect("GET /openapi.json")
        .json()
        .await
        .expect("a JSON document");
    let paths = openapi["paths"].as_object().expect("an OpenAPI paths object");
    let documented: Vec<&String> = paths.keys().collect();
    for suffix in ["/status", "/history", "/webhook"] {
        assert!(
            documented.iter().any(|p| p.starts_with("/api/v1/orders/") && p.ends_with(suffix)),
            "an order path ending in {suffix} is documented: {documented:?}"
        );
    }
    let docs = app.client.get(app.order_url("/docs/")).send().await.expect("GET /docs/");
    assert_eq!(docs.status(), 200, "the Swagger UI is served");
}
