//! The bad-input matrix: every malformed request is a 4xx with a JSON `detail`, and nothing
//! is written.

use serde_json::Value;

use crate::helpers::{spawn_app, TestApp};

async fn assert_refused(app: &TestApp, response: reqwest::Response, status: u16, what: &str) {
    assert_eq!(response.status(), status, "{what}");
    let body: Value = response.json().await.unwrap_or_else(|_| panic!("{what}: the error body is not JSON"));
    assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{what}: {body}");
    assert_eq!(app.rows_written().await, 0, "{what}: something was written");
}

const POST_PATHS: [&str; 3] = ["/api/v1/payments", "/api/v1/payments/refund", "/api/v1/payments/webhook"];

#[tokio::test]
async fn malformed_json_is_unprocessable() {
    let app = spawn_app().await;
    for path in POST_PATHS {
        let response = app.post_raw(path, r#"{"order_id": 1, "amount": "#, Some("application/json")).await;
        assert_refused(&app, response, 422, path).await;
    }
}

#[tokio::test]
async fn a_body_without_json_content_type_is_unsupported() {
    let app = spawn_app().await;
    for path in POST_PATHS {
        let response = app.post_raw(path, r#"{"order_id": 1, "amount": 1000}"#, None).await;
        assert_refused(&app, response, 415, path).await;
    }
}

#[tokio::test]
async fn wrong_types_are_unprocessable() {
    let app = spawn_app().await;
    let cases = [
        ("/api/v1/payments", r#"{"order_id": "one", "amount": 1000}"#),
        ("/api/v1/payments", r#"{"order_id": 1, "amount": "1000"}"#),
        ("/api/v1/payments", r#"{"order_id": 1.5, "amount": 1000}"#),
        ("/api/v1/payments", r#"{"order_id": 1, "amount": 1000, "currency": 392}"#),
        ("/api/v1/payments/refund", r#"{"payment_id": "1"}"#),
        ("/api/v1/payments/refund", r#"{"payment_id": 1, "reason": 5}"#),
        ("/api/v1/payments/webhook", r#"{"transaction_id": 5, "status": "completed"}"#),
        ("/api/v1/payments/webhook", r#"{"transaction_id": "txn_1", "status": "done"}"#),
    ];
    for (path, body) in cases {
        let response = app.post_raw(path, body, Some("application/json")).await;
        assert_refused(&app, response, 422, &format!("{path} {body}")).await;
    }
}

#[tokio::test]
async fn missing_fields_are_unprocessable() {
    let app = spawn_app().await;
    let cases = [
        ("/api/v1/payments", r#"{"amount": 1000}"#),
        ("/api/v1/payments", r#"{"order_id": 1}"#),
        ("/api/v1/payments", r#"{}"#),
        ("/api/v1/payments/refund", r#"{"reason": "why"}"#),
        ("/api/v1/payments/webhook", r#"{"status": "completed"}"#),
        ("/api/v1/payments/webhook", r#"{"transaction_id": "txn_1"}"#),
    ];
    for (path, body) in cases {
        let response = app.post_raw(path, body, Some("application/json")).await;
        assert_refused(&app, response, 422, &format!("{path} {body}")).await;
    }
}

#[tokio::test]
async fn an_unknown_path_is_a_json_404() {
    let app = spawn_app().await;
    let response = app.get("/api/v1/nothing-here").await;
    assert_refused(&app, response, 404, "GET unknown path").await;
    let response = app.get("/api/v1/payments/order/1/extra").await;
    assert_refused(&app, response, 404, "GET too deep").await;
}

#[tokio::test]
async fn a_non_integer_path_id_is_unprocessable() {
    let app = spawn_app().await;
    for path in ["/api/v1/payments/abc", "/api/v1/payments/1.5", "/api/v1/payments/order/abc"] {
        let response = app.get(path).await;
        assert_refused(&app, response, 422, path).await;
    }
}

#[tokio::test]
async fn a_wrong_method_is_a_json_405() {
    let app = spawn_app().await;
    let response = app.client.delete(app.url("/api/v1/payments/1")).send().await.unwrap();
    assert_refused(&app, response, 405, "DELETE payment").await;
}

#[tokio::test]
async fn an_oversized_body_is_refused() {
    let app = spawn_app().await;
    let reason = "x".repeat(2 * 1024 * 1024);
    let body = serde_json::json!({"payment_id": 1, "reason": reason});
    let response = app.post_refund(&body, None).await;
    assert_refused(&app, response, 413, "2 MiB body").await;
}
