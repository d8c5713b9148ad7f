//! Creating and reading payments: limits, one payment per order, idempotency, declines.

use platform::on_db;
use serde_json::{json, Value};

use crate::helpers::{detail, spawn_app, spawn_app_with};

#[tokio::test]
async fn amounts_just_outside_the_limits_are_refused_with_400() {
    let app = spawn_app().await;
    for (order_id, amount) in [(1, 99), (2, 1_000_001), (3, 0), (4, -500)] {
        let response = app.post_payment(&json!({"order_id": order_id, "amount": amount, "currency": "JPY"})).await;
        assert_eq!(response.status(), 400, "amount {amount}");
        let detail = detail(response).await;
        assert!(detail.contains("¥100") && detail.contains("¥1,000,000"), "{detail}");
    }
    assert_eq!(app.count("payments").await, 0);
}

#[tokio::test]
async fn amounts_at_the_limits_are_charged() {
    let app = spawn_app().await;
    for (order_id, amount) in [(1, 100), (2, 1_000_000)] {
        let payment = app.create_payment(order_id, amount).await;
        assert_eq!(payment["status"], "completed");
        assert_eq!(payment["amount"].to_string(), format!("{amount}.0"));
        assert_eq!(payment["currency"], "JPY");
        assert_eq!(payment["order_id"], order_id);
        assert!(payment["transaction_id"].as_str().unwrap().starts_with("txn_"));
        assert!(payment["refund"].is_null());
    }
    assert_eq!(app.count("payments").await, 2);
}

#[tokio::test]
async fn a_whole_amount_written_with_a_zero_fraction_is_accepted() {
    let app = spawn_app().await;
    let response = app.post_payment(&serde_json::from_str(r#"{"order_id": 1, "amount": 89800.0}"#).unwrap()).await;
    assert_eq!(response.status(), 201);
    let payment: Value = response.json().await.unwrap();
    assert_eq!(payment["amount"].to_string(), "89800.0");
}

#[tokio::test]
async fn a_fraction_of_a_yen_is_unprocessable() {
    let app = spawn_app().await;
    let response = app.post_payment(&serde_json::from_str(r#"{"order_id": 1, "amount": 100.5}"#).unwrap()).await;
    assert_eq!(response.status(), 422);
    assert!(detail(response).await.contains("fraction"));
    assert_eq!(app.count("payments").await, 0);
}

#[tokio::test]
async fn a_currency_other_than_jpy_is_unprocessable() {
    let app = spawn_app().await;
    let response = app.post_payment(&json!({"order_id": 1, "amount": 1000, "currency": "USD"})).await;
    assert_eq!(response.status(), 422);
    assert!(detail(response).await.contains("USD"));
    assert_eq!(app.count("payments").await, 0);
}

#[tokio::test]
async fn a_non_positive_order_id_is_unprocessable() {
    let app = spawn_app().await;
    for order_id in [0, -1] {
        let response = app.post_payment(&json!({"order_id": order_id, "amount": 1000})).await;
        assert_eq!(response.status(), 422, "order_id {order_id}");
        assert!(detail(response).await.contains("order_id"));
    }
    assert_eq!(app.count("payments").await, 0);
}

#[tokio::test]
async fn a_second_payment_for_the_same_order_is_a_conflict_and_creates_nothing() {
    let app = spawn_app().await;
    app.create_payment(7, 5000).await;
    let response = app.post_payment(&json!({"order_id": 7, "amount": 5000})).await;
    assert_eq!(response.status(), 409);
    assert_eq!(detail(response).await, "a payment for order 7 already exists");
    assert_eq!(app.count("payments").await, 1);
}

#[tokio::test]
async fn replaying_with_the_same_idempotency_key_returns_the_same_payment() {
    let app = spawn_app().await;
    let body = json!({"order_id": 3, "amount": 2500});
    let first = app.post_payment_with_key(&body, "order-3-payment").await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let second = app.post_payment_with_key(&body, "order-3-payment").await;
    assert_eq!(second.status(), 201);
    let second: Value = second.json().await.unwrap();
    assert_eq!(first, second);
    assert_eq!(app.count("payments").await, 1);
}

#[tokio::test]
async fn reusing_an_idempotency_key_for_a_different_payment_is_a_conflict() {
    let app = spawn_app().await;
    let first = app.post_payment_with_key(&json!({"order_id": 3, "amount": 2500}), "key-1").await;
    assert_eq!(first.status(), 201);
    for other in [json!({"order_id": 4, "amount": 2500}), json!({"order_id": 3, "amount": 2600})] {
        let response = app.post_payment_with_key(&other, "key-1").await;
        assert_eq!(response.status(), 409, "{other}");
        assert!(detail(response).await.contains("Idempotency-Key"));
    }
    assert_eq!(app.count("payments").await, 1);
}

#[tokio::test]
async fn an_overlong_idempotency_key_is_unprocessable() {
    let app = spawn_app().await;
    let response = app.post_payment_with_key(&json!({"order_id": 1, "amount": 1000}), &"k".repeat(201)).await;
    assert_eq!(response.status(), 422);
    assert!(detail(response).await.contains("200"));
    assert_eq!(app.count("payments").await, 0);
}

#[tokio::test]
async fn of_ten_concurrent_payments_for_one_order_exactly_one_is_charged() {
    let app = spawn_app_with(|config| config.gateway.latency = std::time::Duration::from_millis(20)).await;
    let attempts = (0..10).map(|i| {
        let app = &app;
        async move {
            app.post_payment_with_key(
                &json!({"order_id": 42, "amount": 3000}),
                &format!("attempt-{i}"),
            )
            .await
        }
    });
    let statuses: Vec<u16> =
        futures::future::join_all(attempts).await.into_iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(statuses.iter().filter(|&&s| s == 201).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|&&s| s == 409).count(), 9, "{statuses:?}");
    assert_eq!(app.count("payments").await, 1);
    let status: String =
        on_db!(&app.pool, |e| sqlx::query_scalar("SELECT status FROM payments").fetch_one(e).await).unwrap();
    assert_eq!(status, "completed");
}

#[tokio::test]
async fn concurrent_retries_with_one_key_all_get_the_one_payment() {
    let app = spawn_app().await;
    let attempts = (0..5).map(|_| {
        let app = &app;
        async move { app.post_payment_with_key(&json!({"order_id": 9, "amount": 3000}), "same-key").await }
    });
    let responses = futures::future::join_all(attempts).await;
    let mut ids = Vec::new();
    for response in responses {
        assert_eq!(response.status(), 201);
        let payment: Value = response.json().await.unwrap();
        ids.push(payment["id"].as_i64().unwrap());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(app.count("payments").await, 1);
}

#[tokio::test]
async fn a_payment_is_found_by_id_and_by_order() {
    let app = spawn_app().await;
    let created = app.create_payment(11, 1200).await;
    let id = created["id"].as_i64().unwrap();

    let by_id = app.get_payment(id).await;
    assert_eq!(by_id.status(), 200);
    assert_eq!(by_id.json::<Value>().await.unwrap(), created);

    let by_order = app.get("/api/v1/payments/order/11").await;
    assert_eq!(by_order.status(), 200);
    assert_eq!(by_order.json::<Value>().await.unwrap(), created);

    let listed = app.get("/api/v1/payments/?order_id=11").await;
    assert_eq!(listed.status(), 200);
    assert_eq!(listed.json::<Value>().await.unwrap(), json!([created]));
}

#[tokio::test]
async fn the_list_of_an_order_without_payment_is_empty_and_needs_an_order_id() {
    let app = spawn_app().await;
    let listed = app.get("/api/v1/payments?order_id=999").await;
    assert_eq!(listed.status(), 200);
    assert_eq!(listed.json::<Value>().await.unwrap(), json!([]));
    for query in ["", "?order_id=", "?order_id=abc", "?order_id=1.5"] {
        let response = app.get(&format!("/api/v1/payments/{query}")).await;
        assert_eq!(response.status(), 422, "GET ?{query}");
        assert!(!detail(response).await.is_empty());
    }
}

#[tokio::test]
async fn unknown_payments_and_orders_are_404() {
    let app = spawn_app().await;
    let response = app.get_payment(999).await;
    assert_eq!(response.status(), 404);
    assert_eq!(detail(response).await, "payment 999 not found");
    let response = app.get("/api/v1/payments/order/999").await;
    assert_eq!(response.status(), 404);
    assert!(detail(response).await.contains("999"));
}

#[tokio::test]
async fn a_declined_charge_is_402_and_kept_as_failed() {
    let app = spawn_app_with(|config| config.gateway.decline_rate = 1.0).await;
    let response = app.post_payment(&json!({"order_id": 5, "amount": 1000})).await;
    assert_eq!(response.status(), 402);
    assert_eq!(detail(response).await, "payment declined: card declined by issuer");

    let stored: Value = app.get("/api/v1/payments/order/5").await.json().await.unwrap();
    assert_eq!(stored["status"], "failed");
    assert_eq!(stored["failure_reason"], "card declined by issuer");
    assert_eq!(app.count("payments").await, 1);
}

#[tokio::test]
async fn replaying_a_declined_payment_declines_again_without_charging() {
    let app = spawn_app_with(|config| config.gateway.decline_rate = 1.0).await;
    let body = json!({"order_id": 5, "amount": 1000});
    assert_eq!(app.post_payment_with_key(&body, "k").await.status(), 402);
    let again = app.post_payment_with_key(&body, "k").await;
    assert_eq!(again.status(), 402);
    assert!(detail(again).await.contains("card declined by issuer"));
    assert_eq!(app.count("payments").await, 1);
}

#[tokio::test]
async fn deferred_capture_leaves_the_payment_pending() {
    let app = spawn_app_with(|config| config.gateway.capture = payment_svc::config::CaptureMode::Deferred).await;
    let payment = app.create_payment(8, 4000).await;
    assert_eq!(payment["status"], "pending");
    let stored: Value = app.get_payment(payment["id"].as_i64().unwrap()).await.json().await.unwrap();
    assert_eq!(stored["status"], "pending");
}

#[tokio::test]
async fn the_collection_route_answers_with_a_trailing_slash_too() {
    let app = spawn_app().await;
    let response = app.post_json("/api/v1/payments/", &json!({"order_id": 1, "amount": 100}), None).await;
    assert_eq!(response.status(), 201);
    assert_eq!(app.count("payments").await, 1);
}
