//! `Idempotency-Key` on order creation, over real HTTP: a retry is answered with the first
//! answer and creates nothing; another body under the key is 422; a retry while the first is
//! still running is 409; keys belong to their caller; and a first request that died is
//! finished by its retry, with the order it made or a new one if it made none.

use platform::db::{now_millis, EpochMillis, RowsAffected};
use platform::on_db;
use std::time::Duration;

use platform::api::auth::Role;
use platform::api::orders::Order;
use serde_json::Value;

use crate::helpers::{
    client_with_token, detail_of, example_order, order_of_total, spawn_platform, spawn_platform_with,
};

async fn create_with_key(client: &reqwest::Client, url: &str, key: &str, body: &Value) -> reqwest::Response {
    client.post(url).header("idempotency-key", key).json(body).send().await.expect("POST order")
}

#[tokio::test]
async fn the_same_key_and_body_get_the_first_answer_and_create_nothing_more() {
    let app = spawn_platform().await;
    let url = app.order_url("/api/v1/orders/");
    let first = create_with_key(&app.client, &url, "checkout-1", &example_order()).await;
    assert_eq!(first.status(), 201);
    let first_body = first.text().await.unwrap();
    let order: Order = serde_json::from_str(&first_body).unwrap();

    // The order has moved on since; the replay is still the first answer, to the byte.
    assert_eq!(app.set_status(order.id, "shipped").await.status(), 200);
    let again = create_with_key(&app.client, &url, "checkout-1", &example_order()).await;
    assert_eq!(again.status(), 201);
    assert_eq!(again.text().await.unwrap(), first_body);

    let counts = app.row_counts().await;
    assert_eq!(counts.orders, 1, "one order");
    assert_eq!(app.payment_rows(order.id).await, 1, "charged once");

    let other_body = create_with_key(&app.client, &url, "checkout-1", &order_of_total(500)).await;
    let detail = detail_of(other_body, 422, "the key with another body").await;
    assert!(detail.contains("another request body"), "{detail}");
    assert_eq!(app.row_counts().await, counts, "nothing was written");

    let fresh = create_with_key(&app.client, &url, "checkout-2", &example_order()).await;
    assert_eq!(fresh.status(), 201, "another key is another order");
    assert_eq!(app.row_counts().await.orders, 2);
}

#[tokio::test]
async fn a_retry_while_the_first_request_runs_is_a_conflict() {
    let app = spawn_platform_with(|configs| configs.payment.gateway.latency = Duration::from_millis(1_500)).await;
    let url = app.order_url("/api/v1/orders/");
    let first = {
        let (client, url) = (app.client.clone(), url.clone());
        tokio::spawn(async move { create_with_key(&client, &url, "slow-1", &example_order()).await })
    };
    tokio::time::sleep(Duration::from_millis(400)).await;
    let during = create_with_key(&app.client, &url, "slow-1", &example_order()).await;
    assert!(detail_of(during, 409, "a retry during the first").await.contains("still being processed"));
    let first = first.await.unwrap();
    assert_eq!(first.status(), 201);
    let first_body = first.text().await.unwrap();
    let after = create_with_key(&app.client, &url, "slow-1", &example_order()).await;
    assert_eq!(after.text().await.unwrap(), first_body);
    assert_eq!(app.row_counts().await.orders, 1);
}

#[tokio::test]
async fn keys_belong_to_their_caller() {
    let app = spawn_platform().await;
    let url = app.order_url("/api/v1/orders/");
    let one = client_with_token(Some(&app.token_of_role(Role::Operator).await));
    let other = client_with_token(Some(&app.token_of_role(Role::Operator).await));
    let a: Order = create_with_key(&one, &url, "same-key", &example_order()).await.json().await.unwrap();
    let b: Order = create_with_key(&other, &url, "same-key", &example_order()).await.json().await.unwrap();
    assert_ne!(a.id, b.id, "two callers, two orders");
    let a_again: Order = create_with_key(&one, &url, "same-key", &example_order()).await.json().await.unwrap();
    assert_eq!(a_again.id, a.id);
}

#[tokio::test]
async fn a_first_request_that_died_is_finished_by_its_retry() {
    let app = spawn_platform().await;
    let url = app.order_url("/api/v1/orders/");
    let body = example_order();
    let created: Order = create_with_key(&app.client, &url, "crashed-after", &body).await.json().await.unwrap();
    // As a process killed after creating the order would leave it: no answer kept, and long ago.
    let hour_ago = EpochMillis(now_millis() - 3_600_000);
    on_db!(app.order_pool(), |e| sqlx::query(
        "UPDATE order_requests SET response_status = NULL, response_body = NULL, created_at = $1
         WHERE idempotency_key = 'crashed-after'",
    )
    .bind(hour_ago)
    .execute(e)
    .await
    .rows_affected())
    .unwrap();
    let retried = create_with_key(&app.client, &url, "crashed-after", &body).await;
    assert_eq!(retried.status(), 201);
    assert_eq!(retried.json::<Order>().await.unwrap().id, created.id, "the order it made, not another");

    // Killed before it created anything: the retry makes the order.
    let hash: String = on_db!(app.order_pool(), |e| sqlx::query_scalar(
        "SELECT request_hash FROM order_requests WHERE idempotency_key = 'crashed-after'"
    )
    .fetch_one(e)
    .await)
    .unwrap();
    on_db!(app.order_pool(), |e| sqlx::query(
        "INSERT INTO order_requests (caller, idempotency_key, request_hash, created_at)
         SELECT caller, 'crashed-before', $1, created_at FROM order_requests WHERE idempotency_key = 'crashed-after'",
    )
    .bind(&hash)
    .execute(e)
    .await
    .rows_affected())
    .unwrap();
    let before = app.row_counts().await.orders;
    let retried = create_with_key(&app.client, &url, "crashed-before", &body).await;
    assert_eq!(retried.status(), 201);
    assert_eq!(app.row_counts().await.orders, before + 1);
}
