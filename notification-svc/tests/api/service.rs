//! What every service offers besides its API: probes, the OpenAPI document and the docs,
//! JSON answers for unknown routes.

use serde_json::Value;

use crate::helpers::{assert_error, spawn_app};

#[tokio::test]
async fn health_and_readiness_answer_ok() {
    let app = spawn_app().await;
    assert_eq!(app.get("/health").await.status(), 200);
    assert_eq!(app.get("/ready").await.status(), 200);
}

#[tokio::test]
async fn the_openapi_document_describes_every_endpoint() {
    let app = spawn_app().await;
    let response = app.get("/openapi.json").await;
    assert_eq!(response.status(), 200);
    let document: Value = response.json().await.unwrap();
    for path in [
        "/api/v1/notifications/email",
        "/api/v1/notifications/sms",
        "/api/v1/notifications/batch",
        "/api/v1/notifications/stats",
        "/api/v1/notifications/",
        "/api/v1/notifications/{id}",
        "/api/v1/notifications/order/{order_id}",
        "/api/v1/notifications/templates",
    ] {
        assert!(document["paths"][path].is_object(), "{path} missing from the OpenAPI document");
    }
    for schema in ["NewNotificationBatch", "NewDigestEmail", "NotificationBatchOutcome", "BatchNotificationResult"] {
        assert!(document["components"]["schemas"][schema].is_object(), "schema {schema} missing");
    }
    assert_eq!(app.get("/docs/").await.status(), 200);
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_in_json() {
    let app = spawn_app().await;
    assert_error(app.get("/api/v1/nothing-here").await, 404, "Not Found").await;
    let response = app.client.delete(app.url("/api/v1/notifications/templates")).send().await.unwrap();
    assert_error(response, 405, "Method Not Allowed").await;
}
