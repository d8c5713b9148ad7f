//! Who may do what at the Notification Service, over real HTTP: every route guarded
//! (table-driven from its OpenAPI document), and who may send.

use platform::api::auth::NOTIFICATION_SERVICE;
use platform::on_db;
use platform::testing::{callers_of_every_kind, check_route_table};
use serde_json::Value;

use crate::helpers::{client_with_token, email_request, spawn_app, token};

#[tokio::test]
async fn every_route_refuses_no_token_and_a_caller_without_its_permission() {
    let app = spawn_app().await;
    let callers = callers_of_every_kind(&app.issuer, NOTIFICATION_SERVICE);
    let document: Value =
        app.anonymous.get(format!("{}/openapi.json", app.address)).send().await.unwrap().json().await.unwrap();
    let checked = check_route_table(&app.address, &document, &[], &callers).await;
    assert!(checked >= 8, "only {checked} operations");
}

#[tokio::test]
async fn a_viewer_reads_notifications_but_only_operators_and_the_order_service_send_them() {
    let app = spawn_app().await;
    let url = format!("{}/api/v1/notifications/email", app.address);
    let as_role = |subject: &str, role: &str| client_with_token(Some(&token(&app.issuer, subject, role)));

    let refused = as_role("user:2", "viewer").post(&url).json(&email_request(1)).send().await.unwrap();
    assert_eq!(refused.status(), 403);
    let stored: i64 =
        on_db!(&app.pool, |e| sqlx::query_scalar("SELECT COUNT(*) FROM notifications").fetch_one(e).await).unwrap();
    assert_eq!(stored, 0, "a refused request stores nothing");

    for (subject, role) in [("user:3", "operator"), ("service:order-svc", "service")] {
        let accepted = as_role(subject, role).post(&url).json(&email_request(2)).send().await.unwrap();
        assert_eq!(accepted.status(), 201, "{role}");
    }
    let listed = as_role("user:2", "viewer").get(format!("{}/api/v1/notifications/order/2", app.address)).send().await;
    assert_eq!(listed.unwrap().json::<Vec<Value>>().await.unwrap().len(), 2);
}
