//! Who may do what at the Payment Service, over real HTTP: every route guarded (table-driven
//! from its OpenAPI document), the role matrix for money, tokens it must refuse, and the
//! gateway's signed webhook refusing forged, stale, unsigned and replayed deliveries.

use std::time::Duration;

use platform::api::auth::{NOTIFICATION_SERVICE, PAYMENT_SERVICE};
use platform::auth::issuer::Grant;
use platform::auth::Claims;
use platform::testing::{callers_of_every_kind, check_route_table};
use serde_json::{json, Value};

use crate::helpers::{client_with_token, detail, spawn_app, spawn_app_with, token, TestApp};

#[tokio::test]
async fn every_route_refuses_no_token_and_a_caller_without_its_permission() {
    let app = spawn_app().await;
    let document: Value = app.anonymous.get(app.url("/openapi.json")).send().await.unwrap().json().await.unwrap();
    let callers = callers_of_every_kind(&app.issuer, PAYMENT_SERVICE);
    let checked = check_route_table(&app.address, &document, &[], &callers).await;
    assert!(checked >= 7, "only {checked} operations");
    assert_eq!(document["components"]["securitySchemes"]["gateway_signature"]["name"], "gateway-signature");
}

#[tokio::test]
async fn only_an_admin_or_the_order_service_takes_and_refunds_money() {
    let app = spawn_app().await;
    let as_role = |subject: &str, role: &str| client_with_token(Some(&token(&app.issuer, subject, role)));
    let pay = |client: reqwest::Client, order_id: i64| {
        let url = app.url("/api/v1/payments");
        async move { client.post(url).json(&json!({"order_id": order_id, "amount": 1000})).send().await.unwrap() }
    };
    let refused = pay(as_role("user:2", "viewer"), 1).await;
    assert_eq!(refused.status(), 403);
    assert!(detail(refused).await.contains("take_payments"));
    let refused = pay(as_role("key:3", "operator"), 1).await;
    assert_eq!(refused.status(), 403);
    assert_eq!(app.count("payments").await, 0, "nothing was charged");

    let service = as_role("service:order-svc", "service");
    let paid: Value = pay(service.clone(), 1).await.json().await.unwrap();
    assert_eq!(paid["status"], "completed");
    let admin_paid = pay(as_role("user:1", "admin"), 2).await;
    assert_eq!(admin_paid.status(), 201);

    let refund = |client: reqwest::Client| {
        let url = app.url("/api/v1/payments/refund");
        let body = json!({"payment_id": paid["id"]});
        async move { client.post(url).json(&body).send().await.unwrap() }
    };
    assert_eq!(refund(as_role("user:3", "operator")).await.status(), 403);
    assert_eq!(app.count("refunds").await, 0);
    assert_eq!(refund(service).await.status(), 201);

    // Reading is for everyone signed in, and for nobody else.
    let read = app.url("/api/v1/payments/order/1");
    assert_eq!(as_role("user:2", "viewer").get(&read).send().await.unwrap().status(), 200);
    assert_eq!(app.anonymous.get(&read).send().await.unwrap().status(), 401);
}

#[tokio::test]
async fn tokens_for_another_service_or_subject_are_refused() {
    let app = spawn_app().await;
    let mint = |subject: &str, role: &str, audience: &str, ttl: u64| {
        app.issuer
            .mint(&Grant {
                subject: subject.into(),
                role: role.into(),
                audience: vec![audience.into()],
                ttl: Duration::from_secs(ttl),
                scope: None,
            })
            .unwrap()
    };
    let url = app.url("/api/v1/payments/?order_id=1");
    let now = chrono::Utc::now().timestamp();
    let expired = app
        .issuer
        .sign(&Claims {
            iss: "order-svc".into(),
            sub: "user:1".into(),
            aud: vec![PAYMENT_SERVICE.into()],
            exp: now - 60,
            iat: now - 360,
            jti: "old".into(),
            role: "admin".into(),
            scope: None,
        })
        .unwrap();
    for (what, token) in [
        ("for the Notification Service", mint("user:1", "admin", NOTIFICATION_SERVICE, 60)),
        ("expired", expired),
        ("a person posing as a service", mint("user:1", "service", PAYMENT_SERVICE, 60)),
        ("a service with a role", mint("service:order-svc", "admin", PAYMENT_SERVICE, 60)),
    ] {
        let response = client_with_token(Some(&token)).get(&url).send().await.unwrap();
        assert_eq!(response.status(), 401, "{what}");
    }
}

async fn deferred_payment(app: &TestApp) -> String {
    let created = app.post_payment(&json!({"order_id": 7, "amount": 5000})).await;
    let payment: Value = created.json().await.unwrap();
    assert_eq!(payment["status"], "pending");
    payment["transaction_id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn forged_stale_unsigned_and_replayed_gateway_webhooks_are_refused_and_change_nothing() {
    let app = spawn_app_with(|config| config.gateway.capture = payment_svc::gateway::CaptureMode::Deferred).await;
    let transaction = deferred_payment(&app).await;
    let body = serde_json::to_vec(&json!({"transaction_id": transaction, "status": "completed"})).unwrap();
    let now = chrono::Utc::now().timestamp();
    let sign = |secrets: &[String], at: i64| payment_svc::domain::gateway_signature::header_value(secrets, at, &body);

    let forged = sign(&["a secret the gateway never had".into()], now);
    assert!(detail(app.signed_gateway_event(&body, Some(&forged)).await).await.contains("does not verify"));
    assert!(detail(app.signed_gateway_event(&body, None).await).await.starts_with("unsigned"));
    let stale = sign(&app.gateway_secrets, now - 301);
    assert!(detail(app.signed_gateway_event(&body, Some(&stale)).await).await.starts_with("stale"));
    // Bearer credentials are not the gateway's signature.
    let admin = app
        .client
        .post(app.url("/api/v1/payments/webhook"))
        .json(&json!({"transaction_id": transaction, "status": "completed"}));
    assert_eq!(admin.send().await.unwrap().status(), 401);
    assert_eq!(app.count("outbox").await, 0, "nothing reached the Order Service");

    let genuine = sign(&app.gateway_secrets, now);
    assert_eq!(app.signed_gateway_event(&body, Some(&genuine)).await.status(), 200);
    let replay = app.signed_gateway_event(&body, Some(&genuine)).await;
    assert_eq!(replay.status(), 400);
    assert!(detail(replay).await.contains("replayed"));
    assert_eq!(app.count("outbox").await, 1, "the Order Service hears of it once");
    assert_eq!(app.count("gateway_events").await, 1, "the replay is not recorded as an event");

    // A rotation: the gateway signs with both secrets, the service knows only one of them.
    let rotating = app
        .signed_gateway_event(&body, Some(&sign(&["the next secret".into(), app.gateway_secrets[0].clone()], now - 1)))
        .await;
    assert_eq!(rotating.status(), 200);
}

#[tokio::test]
async fn the_webhook_to_the_order_service_is_signed() {
    let stub = crate::helpers::spawn_order_stub().await;
    let app = spawn_app_with(|config| {
        config.gateway.capture = payment_svc::gateway::CaptureMode::Deferred;
        config.order_service_url = stub.url.clone();
    })
    .await;
    let transaction = deferred_payment(&app).await;
    assert_eq!(app.post_webhook(&transaction, "completed").await.status(), 200);
    // The stub answers 401 to anything not signed with the shared secret; the row is delivered.
    assert!(
        crate::helpers::eventually(Duration::from_secs(5), || async {
            app.outbox_rows().await.first().is_some_and(|row| row.delivered_at.is_some())
        })
        .await,
        "{:?}",
        app.outbox_rows().await
    );
    assert_eq!(stub.received().len(), 1);
}
