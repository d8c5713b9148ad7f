//! What every service exposes besides its API: liveness, readiness and the OpenAPI docs.

use serde_json::Value;

use crate::helpers::spawn_app;

#[tokio::test]
async fn health_and_ready_answer_ok() {
    let app = spawn_app().await;
    assert_eq!(app.get("/health").await.status(), 200);
    let ready = app.get("/ready").await;
    assert_eq!(ready.status(), 200);
    assert_eq!(ready.json::<Value>().await.unwrap()["status"], "ready");
}

#[tokio::test]
async fn the_openapi_document_lists_every_endpoint() {
    let app = spawn_app().await;
    let doc: Value = app.get("/openapi.json").await.json().await.unwrap();
    let paths = doc["paths"].as_object().expect("paths");
    for path in [
        "/api/v1/payments",
        "/api/v1/payments/{payment_id}",
        "/api/v1/payments/order/{order_id}",
        "/api/v1/payments/refund",
        "/api/v1/payments/webhook",
    ] {
        assert!(paths.contains_key(path), "{path} missing from {:?}", paths.keys().collect::<Vec<_>>());
    }
    assert_eq!(app.get("/docs/").await.status(), 200);
}
