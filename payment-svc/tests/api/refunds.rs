//! Refunds: only completed payments, once, the whole amount.

use platform::on_db;
use serde_json::{json, Value};

use crate::helpers::{detail, spawn_app, spawn_app_with};

#[tokio::test]
async fn refunding_a_completed_payment_refunds_the_whole_amount() {
    let app = spawn_app().await;
    let payment = app.create_payment(1, 12_345).await;
    let id = payment["id"].as_i64().unwrap();

    let response = app.post_refund(&json!({"payment_id": id, "reason": "お客様都合"}), None).await;
    assert_eq!(response.status(), 201);
    let refund: Value = response.json().await.unwrap();
    assert_eq!(refund["payment_id"], id);
    assert_eq!(refund["amount"].to_string(), "12345.0");
    assert_eq!(refund["reason"], "お客様都合");

    let stored: Value = app.get_payment(id).await.json().await.unwrap();
    assert_eq!(stored["status"], "refunded");
    assert_eq!(stored["refund"], refund);
    assert_ne!(stored["updated_at"], payment["updated_at"]);
}

#[tokio::test]
async fn refunding_twice_is_a_conflict() {
    let app = spawn_app().await;
    let id = app.create_payment(1, 1000).await["id"].as_i64().unwrap();
    assert_eq!(app.post_refund(&json!({"payment_id": id}), None).await.status(), 201);
    let again = app.post_refund(&json!({"payment_id": id}), None).await;
    assert_eq!(again.status(), 409);
    assert_eq!(detail(again).await, format!("payment {id} is already refunded"));
    assert_eq!(app.count("refunds").await, 1);
}

#[tokio::test]
async fn refunding_again_with_the_same_key_returns_the_same_refund() {
    let app = spawn_app().await;
    let id = app.create_payment(1, 1000).await["id"].as_i64().unwrap();
    let first: Value = app.post_refund(&json!({"payment_id": id}), Some("refund-order-1")).await.json().await.unwrap();
    let second = app.post_refund(&json!({"payment_id": id}), Some("refund-order-1")).await;
    assert_eq!(second.status(), 201);
    assert_eq!(second.json::<Value>().await.unwrap(), first);
    assert_eq!(app.count("refunds").await, 1);

    let other_key = app.post_refund(&json!({"payment_id": id}), Some("another-key")).await;
    assert_eq!(other_key.status(), 409);
}

#[tokio::test]
async fn concurrent_refunds_of_one_payment_refund_it_once() {
    let app = spawn_app().await;
    let id = app.create_payment(1, 1000).await["id"].as_i64().unwrap();
    let attempts = (0..8).map(|_| {
        let app = &app;
        async move { app.post_refund(&json!({"payment_id": id}), None).await.status().as_u16() }
    });
    let statuses = futures::future::join_all(attempts).await;
    assert_eq!(statuses.iter().filter(|&&s| s == 201).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|&&s| s == 409).count(), 7, "{statuses:?}");
    assert_eq!(app.count("refunds").await, 1);
}

#[tokio::test]
async fn a_failed_payment_cannot_be_refunded() {
    let app = spawn_app_with(|config| config.gateway.decline_rate = 1.0).await;
    assert_eq!(app.post_payment(&json!({"order_id": 1, "amount": 1000})).await.status(), 402);
    let id: i64 = on_db!(&app.pool, |e| sqlx::query_scalar("SELECT id FROM payments").fetch_one(e).await).unwrap();

    let response = app.post_refund(&json!({"payment_id": id}), None).await;
    assert_eq!(response.status(), 409);
    assert!(detail(response).await.contains("failed"));
    assert_eq!(app.count("refunds").await, 0);
    let status: String =
        on_db!(&app.pool, |e| sqlx::query_scalar("SELECT status FROM payments").fetch_one(e).await).unwrap();
    assert_eq!(status, "failed");
}

#[tokio::test]
async fn a_pending_payment_cannot_be_refunded() {
    let app = spawn_app_with(|config| config.gateway.capture = payment_svc::config::CaptureMode::Deferred).await;
    let id = app.create_payment(1, 1000).await["id"].as_i64().unwrap();
    let response = app.post_refund(&json!({"payment_id": id}), None).await;
    assert_eq!(response.status(), 409);
    assert!(detail(response).await.contains("pending"));
    assert_eq!(app.count("refunds").await, 0);
}

#[tokio::test]
async fn refunding_an_unknown_payment_is_404() {
    let app = spawn_app().await;
    let response = app.post_refund(&json!({"payment_id": 404}), None).await;
    assert_eq!(response.status(), 404);
    assert_eq!(detail(response).await, "payment 404 not found");
    assert_eq!(app.count("refunds").await, 0);
}

#[tokio::test]
async fn an_overlong_refund_reason_is_unprocessable_and_refunds_nothing() {
    let app = spawn_app().await;
    let id = app.create_payment(1, 1000).await["id"].as_i64().unwrap();
    let response = app.post_refund(&json!({"payment_id": id, "reason": "x".repeat(501)}), None).await;
    assert_eq!(response.status(), 422);
    assert!(detail(response).await.contains("500"));
    assert_eq!(app.count("refunds").await, 0);
    let stored: Value = app.get_payment(id).await.json().await.unwrap();
    assert_eq!(stored["status"], "completed");
}
