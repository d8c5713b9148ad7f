//! Identity over real HTTP: every route guarded (table-driven from the router's own OpenAPI
//! document), the viewer / operator / admin matrix, refused tokens of every kind, API keys,
//! sessions and invitations, sign-in throttling and timing, key rotation seen by the peers,
//! import event tickets, and the signed payment webhook.

use platform::on_db;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use platform::api::auth::{AccessGrant, Identity, Role, SessionGrant, User, ORDER_SERVICE, PAYMENT_SERVICE};
use platform::api::orders::{Order, OrderStatus};
use platform::auth::issuer::Grant;
use platform::auth::{Claims, Principal};
use platform::testing::{check_route_table, Caller};
use serde_json::{json, Value};

use crate::helpers::{client_with_token, detail_of, example_order, spawn_platform, spawn_platform_with, ADMIN_EMAIL};

/// The operations anyone may call: how a caller gets credentials, and the public keys.
const PUBLIC: [&str; 6] = [
    "/api/v1/auth/login",
    "/api/v1/auth/refresh",
    "/api/v1/auth/logout",
    "/api/v1/auth/token",
    "/api/v1/auth/invitations/accept",
    "/.well-known/jwks.json",
];

const PASSWORD: &str = "a long enough password";

#[tokio::test]
async fn every_route_refuses_no_token_and_a_role_without_its_permission() {
    let app = spawn_platform().await;
    let document: Value = app.anonymous.get(app.order_url("/openapi.json")).send().await.unwrap().json().await.unwrap();
    let mut callers = Vec::new();
    for (id, role) in [(1, Role::Viewer), (2, Role::Operator), (3, Role::Admin)] {
        let token = app.token_of_role(role).await;
        callers.push(Caller { principal: Some(Principal::ApiKey { id, role }), token });
    }
    let (_, session) = app.person("operator@example.com", Role::Operator, PASSWORD).await;
    callers.push(Caller {
        principal: Some(Principal::User { id: 2, role: Role::Operator }),
        token: session.access.access_token.clone(),
    });
    // A signature made up by hand is not a token.
    let mut tampered = session.access.access_token.clone();
    tampered.replace_range(tampered.len() - 6.., "AAAAAA");
    callers.push(Caller { principal: None, token: tampered });

    let checked = check_route_table(&app.order_address, &document, &PUBLIC, &callers).await;
    assert!(checked >= 25, "only {checked} operations in the document");
    // What lets /docs authorise: the schemes the operations name.
    let schemes = &document["components"]["securitySchemes"];
    assert_eq!(
        (schemes["bearer"]["scheme"].as_str(), schemes["bearer"]["bearerFormat"].as_str()),
        (Some("bearer"), Some("JWT"))
    );
    assert_eq!(schemes["webhook_signature"]["in"], "header");
}

#[tokio::test]
async fn a_viewer_reads_an_operator_runs_orders_and_only_an_admin_manages_people() {
    let app = spawn_platform().await;
    let order = app.paid_order().await;
    let viewer = client_with_token(Some(&app.token_of_role(Role::Viewer).await));
    let operator = client_with_token(Some(&app.token_of_role(Role::Operator).await));
    let url = |path: &str| app.order_url(path);

    assert_eq!(viewer.get(url(&format!("/api/v1/orders/{}", order.id))).send().await.unwrap().status(), 200);
    assert_eq!(viewer.get(url("/api/v1/orders/stats")).send().await.unwrap().status(), 200);
    let refused = viewer.post(url("/api/v1/orders/")).json(&example_order()).send().await.unwrap();
    let detail = detail_of(refused, 403, "a viewer creating an order").await;
    assert!(detail.contains("viewer") && detail.contains("manage_orders"), "{detail}");
    let ship = json!({"status": "shipped"});
    let refused = viewer.put(url(&format!("/api/v1/orders/{}/status", order.id))).json(&ship).send().await.unwrap();
    detail_of(refused, 403, "a viewer shipping").await;
    let refused = viewer.delete(url(&format!("/api/v1/orders/{}", order.id))).send().await.unwrap();
    detail_of(refused, 403, "a viewer cancelling").await;
    assert_eq!(app.order(order.id).await.status, OrderStatus::Paid, "the refusals changed nothing");

    let created = operator.post(url("/api/v1/orders/")).json(&example_order()).send().await.unwrap();
    assert_eq!(created.status(), 201);
    let created: Order = created.json().await.unwrap();
    let shipped = operator.put(url(&format!("/api/v1/orders/{}/status", created.id))).json(&ship).send().await.unwrap();
    assert_eq!(shipped.status(), 200);
    let refused = operator.get(url("/api/v1/auth/users")).send().await.unwrap();
    detail_of(refused, 403, "an operator listing users").await;
    let refused = operator.post(url("/api/v1/auth/api-keys")).json(&json!({"name": "x", "role": "admin"})).send().await;
    detail_of(refused.unwrap(), 403, "an operator creating a key").await;

    let users: Vec<User> = app.client.get(url("/api/v1/auth/users")).send().await.unwrap().json().await.unwrap();
    assert_eq!(users.iter().map(|u| u.email.as_str()).collect::<Vec<_>>(), vec![ADMIN_EMAIL]);
}

#[tokio::test]
async fn expired_tampered_foreign_and_wrongly_signed_tokens_are_refused() {
    let app = spawn_platform().await;
    let issuer = app.order_service_issuer().await;
    let good = app.token_of_role(Role::Admin).await;
    let orders = app.order_url("/api/v1/orders/");
    let status_with = |token: String| {
        let orders = orders.clone();
        async move { client_with_token(Some(&token)).get(orders).send().await.unwrap() }
    };
    assert_eq!(status_with(good.clone()).await.status(), 200);

    let grant = |audience: &str, ttl: u64| Grant {
        subject: "user:1".into(),
        role: "admin".into(),
        audience: vec![audience.into()],
        ttl: Duration::from_secs(ttl),
        scope: None,
    };
    let fresh: Claims = decode_claims(&issuer.mint(&grant(ORDER_SERVICE, 300)).unwrap());
    let expired = issuer.sign(&Claims { exp: fresh.iat - 60, ..fresh.clone() }).unwrap();
    let elsewhere = issuer.mint(&grant(PAYMENT_SERVICE, 300)).unwrap();
    let root = issuer.sign(&Claims { role: "root".into(), ..fresh.clone() }).unwrap();
    let other_issuer = issuer.sign(&Claims { iss: "someone-else".into(), ..fresh.clone() }).unwrap();

    // The claims changed under the original signature.
    let (header, _, signature) = split(&good);
    let promoted =
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&Claims { sub: "user:99".into(), ..fresh.clone() }).unwrap());
    let tampered = format!("{header}.{promoted}.{signature}");

    // No signature at all, or an HMAC keyed with the public key (the classic confusion).
    let kid = json!(issuer.active_kid());
    let none_header = URL_SAFE_NO_PAD.encode(json!({"alg": "none", "typ": "JWT", "kid": kid}).to_string());
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&fresh).unwrap());
    let unsigned = format!("{none_header}.{payload}.");
    let jwks: Value =
        app.anonymous.get(app.order_url("/.well-known/jwks.json")).send().await.unwrap().json().await.unwrap();
    let public_key = URL_SAFE_NO_PAD.decode(jwks["keys"][0]["x"].as_str().unwrap()).unwrap();
    let mut hs_header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    hs_header.kid = Some(issuer.active_kid());
    let hmac = jsonwebtoken::encode(&hs_header, &fresh, &jsonwebtoken::EncodingKey::from_secret(&public_key).unwrap())
        .unwrap();

    for (what, token) in [
        ("expired", expired),
        ("for the Payment Service", elsewhere),
        ("with an unknown role", root),
        ("from another issuer", other_issuer),
        ("tampered", tampered),
        ("alg none", unsigned),
        ("HS256 with the public key", hmac),
        ("not a token", "garbage".to_owned()),
    ] {
        let response = status_with(token).await;
        assert_eq!(response.headers().get("www-authenticate").map(|v| v.to_str().unwrap()), Some("Bearer"), "{what}");
        detail_of(response, 401, what).await;
    }
    let basic = app.anonymous.get(&orders).header("authorization", "Basic YWRtaW46YWRtaW4=").send().await.unwrap();
    detail_of(basic, 401, "basic credentials").await;
    // Only the header counts: a cookie named like a token opens nothing.
    let cookie = app.anonymous.get(&orders).header("cookie", format!("access_token={good}")).send().await.unwrap();
    detail_of(cookie, 401, "a token in a cookie").await;
}

fn split(token: &str) -> (&str, &str, &str) {
    let mut parts = token.split('.');
    (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap())
}

fn decode_claims(token: &str) -> Claims {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(split(token).1).unwrap()).unwrap()
}

#[tokio::test]
async fn an_api_key_is_shown_once_exchanged_for_tokens_and_refused_once_revoked() {
    let app = spawn_platform().await;
    let created = app
        .client
        .post(app.order_url("/api/v1/auth/api-keys"))
        .json(&json!({"name": "warehouse sync", "role": "operator"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    let key = created["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("sk_"), "{key}");
    let id = created["api_key"]["id"].as_i64().unwrap();

    let grant: AccessGrant = app.exchange_api_key(&key).await.json().await.unwrap();
    assert_eq!(grant.token_type, "Bearer");
    assert_eq!(grant.expires_in, 300);
    assert_eq!((grant.identity.role, grant.identity.name.as_str()), (Role::Operator, "warehouse sync"));
    let me: Identity = client_with_token(Some(&grant.access_token))
        .get(app.order_url("/api/v1/auth/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me.subject, format!("key:{id}"));

    // Listed without the key itself.
    let listed = app.client.get(app.order_url("/api/v1/auth/api-keys")).send().await.unwrap().text().await.unwrap();
    assert!(listed.contains("warehouse sync") && !listed.contains(&key[3..]), "{listed}");
    let stored: Vec<String> =
        on_db!(app.order_pool(), |e| sqlx::query_scalar("SELECT key_hash FROM api_keys").fetch_all(e).await).unwrap();
    assert!(stored.iter().all(|hash| !hash.contains(&key[3..])), "the key is stored hashed");

    let revoked = app.client.delete(app.order_url(&format!("/api/v1/auth/api-keys/{id}"))).send().await.unwrap();
    assert_eq!(revoked.status(), 200);
    assert!(revoked.json::<Value>().await.unwrap()["revoked_at"].is_string());
    detail_of(app.exchange_api_key(&key).await, 401, "a revoked key").await;
    detail_of(app.exchange_api_key("sk_made_up").await, 401, "an unknown key").await;
}

#[tokio::test]
async fn a_session_refreshes_with_the_current_role_and_ends_at_sign_out_or_when_disabled() {
    let app = spawn_platform().await;
    let (id, session) = app.person("hanako@example.com", Role::Viewer, PASSWORD).await;
    assert_eq!(session.access.identity.role, Role::Viewer);
    let refresh = |token: String| {
        let client = app.anonymous.clone();
        let url = app.order_url("/api/v1/auth/refresh");
        async move { client.post(url).json(&json!({"refresh_token": token})).send().await.unwrap() }
    };

    let promote = json!({"role": "operator"});
    let changed = app.client.patch(app.order_url(&format!("/api/v1/auth/users/{id}"))).json(&promote).send().await;
    assert_eq!(changed.unwrap().status(), 200);
    let renewed: AccessGrant = refresh(session.refresh_token.clone()).await.json().await.unwrap();
    assert_eq!(renewed.identity.role, Role::Operator, "a refresh carries the role as it is now");

    let signed_out = app
        .anonymous
        .post(app.order_url("/api/v1/auth/logout"))
        .json(&json!({"refresh_token": session.refresh_token}))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_out.status(), 204);
    detail_of(refresh(session.refresh_token.clone()).await, 401, "a refresh after sign-out").await;

    // Disabling ends every session and closes the door.
    let again: SessionGrant = app.login("hanako@example.com", PASSWORD, None).await.json().await.unwrap();
    let disable = json!({"disabled": true});
    let disabled = app.client.patch(app.order_url(&format!("/api/v1/auth/users/{id}"))).json(&disable).send().await;
    assert_eq!(disabled.unwrap().json::<User>().await.unwrap().status, platform::api::auth::UserStatus::Disabled);
    detail_of(refresh(again.refresh_token).await, 401, "a refresh of a disabled account").await;
    detail_of(app.login("hanako@example.com", PASSWORD, None).await, 401, "a disabled account signing in").await;
}

#[tokio::test]
async fn an_invitation_sets_a_password_once_and_the_last_admin_stays() {
    let app = spawn_platform().await;
    let invited: Value = app
        .client
        .post(app.order_url("/api/v1/auth/users"))
        .json(&json!({"email": "taro@example.com", "display_name": "田中 太郎", "role": "admin"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(invited["user"]["status"], "invited");
    let token = invited["invitation"]["token"].as_str().unwrap().to_owned();
    detail_of(app.login("taro@example.com", "", None).await, 401, "an invited account before its password").await;

    let accept = |password: &str| {
        let body = json!({"token": token, "password": password});
        let request = app.anonymous.post(app.order_url("/api/v1/auth/invitations/accept")).json(&body);
        async move { request.send().await.unwrap() }
    };
    detail_of(accept("short").await, 422, "a short password").await;
    assert_eq!(accept(PASSWORD).await.status(), 204);
    detail_of(accept("another long password").await, 404, "an invitation used twice").await;
    assert_eq!(app.login("TARO@example.com", PASSWORD, None).await.status(), 200, "addresses compare without case");

    let duplicate = app
        .client
        .post(app.order_url("/api/v1/auth/users"))
        .json(&json!({"email": "Taro@Example.com", "display_name": "x", "role": "viewer"}))
        .send()
        .await
        .unwrap();
    detail_of(duplicate, 409, "the same address invited twice").await;

    // The first administrator demotes the new one, then cannot demote or disable themself: the
    // platform keeps one administrator who can sign in.
    let users: Vec<User> =
        app.client.get(app.order_url("/api/v1/auth/users")).send().await.unwrap().json().await.unwrap();
    let (first, taro) = (users[0].id, users[1].id);
    let demote = json!({"role": "viewer"});
    let done = app.client.patch(app.order_url(&format!("/api/v1/auth/users/{taro}"))).json(&demote).send().await;
    assert_eq!(done.unwrap().status(), 200);
    let last = app.client.patch(app.order_url(&format!("/api/v1/auth/users/{first}"))).json(&demote).send().await;
    assert!(detail_of(last.unwrap(), 409, "demoting the last admin").await.contains("last administrator"));
    let itself = app
        .client
        .patch(app.order_url(&format!("/api/v1/auth/users/{first}")))
        .json(&json!({"disabled": true}))
        .send()
        .await;
    detail_of(itself.unwrap(), 409, "disabling oneself").await;
}

#[tokio::test]
async fn failed_sign_ins_close_the_door_per_account_and_per_address() {
    let app = spawn_platform_with(|configs| {
        configs.order.identity.account_throttle.max_failures = 3;
        configs.order.identity.address_throttle.max_failures = 5;
    })
    .await;
    app.person("victim@example.com", Role::Viewer, PASSWORD).await;

    for _ in 0..3 {
        detail_of(app.login("victim@example.com", "wrong", Some("198.51.100.1")).await, 401, "a wrong password").await;
    }
    // Locked: even the right password, from anywhere, waits for the window to end.
    let locked = app.login("victim@example.com", PASSWORD, Some("198.51.100.2")).await;
    let retry_after: u64 = locked.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry_after), "{retry_after}");
    assert!(detail_of(locked, 429, "a locked account").await.contains("this account"));

    // One address trying many accounts, existing or not, is stopped at its own limit.
    for email in ["a@example.com", "b@example.com"] {
        detail_of(app.login(email, "guess", Some("198.51.100.1")).await, 401, "a guess").await;
    }
    let blocked = app.login("c@example.com", "guess", Some("198.51.100.1")).await;
    assert!(detail_of(blocked, 429, "an address past its limit").await.contains("your address"));
    // Another address is not affected; an account that does not exist is answered alike.
    detail_of(app.login("c@example.com", "guess", Some("198.51.100.3")).await, 401, "another address").await;
    assert_eq!(app.login(ADMIN_EMAIL, crate::helpers::ADMIN_PASSWORD, Some("198.51.100.3")).await.status(), 200);
}

#[tokio::test]
async fn guesses_sent_all_at_once_cannot_slip_past_the_limit() {
    let app = spawn_platform_with(|configs| {
        configs.order.identity.account_throttle.max_failures = 3;
        configs.order.identity.address_throttle.max_failures = 100;
    })
    .await;
    app.person("target@example.com", Role::Viewer, PASSWORD).await;
    let guesses = (0..12).map(|n| {
        let app = &app;
        async move { app.login("target@example.com", &format!("guess {n}"), Some("198.51.100.7")).await.status() }
    });
    let answers = futures::future::join_all(guesses).await;
    let checked = answers.iter().filter(|status| status.as_u16() == 401).count();
    let refused = answers.iter().filter(|status| status.as_u16() == 429).count();
    // Each attempt is counted before its password is checked: only the first three are.
    assert_eq!((checked, refused), (3, 9), "{answers:?}");
    // A successful sign-in gives its count back: an address that signs in often is not locked.
    let busy = spawn_platform_with(|configs| configs.order.identity.address_throttle.max_failures = 2).await;
    for _ in 0..5 {
        assert_eq!(busy.login(ADMIN_EMAIL, crate::helpers::ADMIN_PASSWORD, Some("198.51.100.8")).await.status(), 200);
    }
}

#[tokio::test]
async fn a_sign_in_takes_as_long_whether_or_not_the_account_exists() {
    let app = spawn_platform_with(|configs| {
        configs.order.identity.account_throttle.max_failures = 100;
        configs.order.identity.address_throttle.max_failures = 100;
    })
    .await;
    let timed = |email: &'static str| {
        let app = &app;
        async move {
            let started = Instant::now();
            for _ in 0..5 {
                detail_of(app.login(email, "not the password", None).await, 401, email).await;
            }
            started.elapsed()
        }
    };
    // Warm both paths once, then measure.
    timed(ADMIN_EMAIL).await;
    timed("nobody@example.com").await;
    let existing = timed(ADMIN_EMAIL).await;
    let unknown = timed("nobody@example.com").await;
    let ratio = existing.as_secs_f64() / unknown.as_secs_f64();
    // Without the decoy hash an unknown account would answer many times faster.
    assert!((0.5..2.0).contains(&ratio), "existing {existing:?} vs unknown {unknown:?}");
}

#[tokio::test]
async fn a_rotated_key_signs_new_tokens_while_the_old_ones_stay_valid_at_every_service() {
    let app = spawn_platform().await;
    let before = app.token_of_role(Role::Admin).await;
    let rotated = app.client.post(app.order_url("/api/v1/auth/signing-keys")).send().await.unwrap();
    assert_eq!(rotated.status(), 201);
    let kid = rotated.json::<Value>().await.unwrap()["kid"].as_str().unwrap().to_owned();
    let after = app.token_of_role(Role::Admin).await;
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(split(&after).0).unwrap()).unwrap();
    assert_eq!(header["kid"], kid);
    let jwks: Value =
        app.anonymous.get(app.order_url("/.well-known/jwks.json")).send().await.unwrap().json().await.unwrap();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 2, "both keys are published: {jwks}");

    for token in [before, after] {
        let client = client_with_token(Some(&token));
        assert_eq!(client.get(app.order_url("/api/v1/orders/")).send().await.unwrap().status(), 200);
        // The Payment Service fetches the new key the first time a token names it.
        let payments = format!("{}/api/v1/payments/?order_id=1", app.payment_address);
        assert_eq!(client.get(payments).send().await.unwrap().status(), 200);
    }
}

#[tokio::test]
async fn an_import_stream_opens_with_its_own_ticket_only() {
    let app = spawn_platform().await;
    let upload = |name: &'static str| {
        let csv = format!(
            "order_ref,customer_email,customer_name,product_name,quantity,unit_price\n{name},a@example.jp,山田,ペン,1,500\n"
        );
        let request =
            app.client.post(app.order_url("/api/v1/orders/imports")).header("content-type", "text/csv").body(csv);
        async move { request.send().await.unwrap().json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned() }
    };
    let (first, second) = (upload("T-1").await, upload("T-2").await);
    let viewer = client_with_token(Some(&app.token_of_role(Role::Viewer).await));
    let ticket: Value = viewer
        .post(app.order_url(&format!("/api/v1/orders/imports/{first}/events/ticket")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ticket["expires_in"], 60);
    let ticket = ticket["ticket"].as_str().unwrap().to_owned();
    let events = |id: &str, query: String| {
        app.anonymous.get(app.order_url(&format!("/api/v1/orders/imports/{id}/events{query}")))
    };

    let opened = events(&first, format!("?ticket={ticket}")).send().await.unwrap();
    assert_eq!(opened.status(), 200);
    assert!(opened.text().await.unwrap().contains("event: progress"));
    detail_of(events(&second, format!("?ticket={ticket}")).send().await.unwrap(), 401, "another import's ticket").await;
    detail_of(events(&first, String::new()).send().await.unwrap(), 401, "no ticket, no token").await;
    // A ticket is no access token.
    let as_bearer = client_with_token(Some(&ticket)).get(app.order_url("/api/v1/orders/")).send().await.unwrap();
    detail_of(as_bearer, 401, "a ticket used as a bearer token").await;
}

#[tokio::test]
async fn forged_stale_unsigned_and_replayed_payment_webhooks_are_refused_and_change_nothing() {
    let app = spawn_platform_with(|configs| {
        configs.payment.gateway.capture = payment_svc::gateway::CaptureMode::Deferred;
    })
    .await;
    let order = app.create_order_ok(&example_order()).await;
    let payment_id = app.payment_of(order.id).await.id;
    let body =
        serde_json::to_vec(&json!({"order_id": order.id, "payment_id": payment_id, "status": "completed"})).unwrap();
    let history = app.history_of(order.id).await.len();

    let forged = app
        .signed_order_webhook(
            order.id,
            &body,
            &[
                ("webhook-id", "forged-1".into()),
                ("webhook-timestamp", chrono::Utc::now().timestamp().to_string()),
                ("webhook-signature", "v1,bm90IGEgc2lnbmF0dXJl".into()),
            ],
        )
        .await;
    detail_of(forged, 401, "a forged signature").await;
    detail_of(app.signed_order_webhook(order.id, &body, &[]).await, 401, "an unsigned webhook").await;
    let mut stale = app.order_webhook_headers("stale-1", &body);
    let old = (chrono::Utc::now().timestamp() - 600).to_string();
    stale[1].1 = old;
    detail_of(app.signed_order_webhook(order.id, &body, &stale).await, 401, "a re-dated webhook").await;
    assert_eq!(app.order(order.id).await.status, OrderStatus::PaymentProcessing);
    assert_eq!(app.history_of(order.id).await.len(), history, "nothing changed");

    // The genuine message, then the very same bytes and headers again, and again with the
    // signature header padded (one matching entry is enough to verify): both replays.
    let genuine = app.order_webhook_headers("payment-test-completed", &body);
    assert_eq!(app.signed_order_webhook(order.id, &body, &genuine).await.status(), 200);
    detail_of(app.signed_order_webhook(order.id, &body, &genuine).await, 400, "a replay").await;
    let mut padded = genuine.clone();
    padded[2].1 = format!("{} v1,cGFkZGluZw==", padded[2].1);
    detail_of(app.signed_order_webhook(order.id, &body, &padded).await, 400, "a replay with a padded signature").await;
    assert_eq!(app.order(order.id).await.status, OrderStatus::Paid);
    let into_paid = app.history_of(order.id).await.iter().filter(|c| c.to_status == OrderStatus::Paid).count();
    assert_eq!(into_paid, 1);
}

#[tokio::test]
async fn an_outside_caller_cannot_pose_as_a_peer() {
    let app = spawn_platform().await;
    let order = app.paid_order().await;
    // An administrator's token is not the Payment Service's signature.
    let webhook = json!({"order_id": order.id, "payment_id": 1, "status": "failed"});
    let response =
        app.client.post(app.order_url(&format!("/api/v1/orders/{}/webhook", order.id))).json(&webhook).send().await;
    detail_of(response.unwrap(), 401, "a webhook with a user token").await;
    // Nor can the Order Service's own token for the Payment Service be used against itself.
    let issuer = app.order_service_issuer().await;
    let service = issuer
        .mint(&Grant {
            subject: "service:order-svc".into(),
            role: "service".into(),
            audience: vec![PAYMENT_SERVICE.into()],
            ttl: Duration::from_secs(60),
            scope: None,
        })
        .unwrap();
    let response = client_with_token(Some(&service)).get(app.order_url("/api/v1/orders/")).send().await.unwrap();
    detail_of(response, 401, "a peer's token at the issuer").await;
    // And a person's token cannot refund at the Payment Service beyond their role.
    let viewer = client_with_token(Some(&app.token_of_role(Role::Viewer).await));
    let refund = viewer
        .post(format!("{}/api/v1/payments/refund", app.payment_address))
        .json(&json!({"payment_id": app.payment_of(order.id).await.id}))
        .send()
        .await
        .unwrap();
    detail_of(refund, 403, "a viewer refunding").await;
    assert_eq!(app.order(order.id).await.status, OrderStatus::Paid);
}

#[tokio::test]
async fn production_mode_never_starts_with_a_default_password_or_secret() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = order_svc::config::Config::from_env().unwrap();
    config.port = 0;
    config.database_url = format!("sqlite://{}/order.db", dir.path().display());
    config.environment = platform::config::Environment::Production;
    config.first_admin.environment = platform::config::Environment::Production;
    config.first_admin.password = None;
    let refused = order_svc::Application::build(config.clone()).await.err().expect("no administrator password");
    assert!(format!("{refused:#}").contains("ADMIN_PASSWORD"), "{refused:#}");

    config.first_admin.password = Some("short".into());
    let refused = order_svc::Application::build(config).await.err().expect("a weak administrator password");
    assert!(format!("{refused:#}").contains("at least 12"), "{refused:#}");
}
