//! `POST /api/v1/payments/batch`: each item answered as its single `POST /api/v1/payments`
//! with the item's Idempotency-Key would be, one bad item never stopping the others.

use std::time::{Duration, Instant};

use payment_svc::config::CaptureMode;
use serde_json::{json, Value};

use crate::helpers::{detail, eventually, spawn_app, spawn_app_with, spawn_order_stub, TestApp};

const BATCH: &str = "/api/v1/payments/batch";

/// One well-formed item: order `order_id`, key `order-{order_id}-payment`.
fn item(order_id: i64, amount: i64) -> Value {
    json!({"idempotency_key": format!("order-{order_id}-payment"), "order_id": order_id, "amount": amount, "currency": "JPY"})
}

/// Posts a batch that must be answered 200 and returns its results.
async fn pay_batch(app: &TestApp, items: &[Value]) -> Vec<Value> {
    let response = app.post_json(BATCH, &json!({ "payments": items }), None).await;
    assert_eq!(response.status(), 200, "posting a batch of {}", items.len());
    let outcome: Value = response.json().await.expect("outcome JSON");
    let results = outcome["results"].as_array().expect("results").clone();
    assert_eq!(results.len(), items.len(), "one result per item");
    results
}

fn statuses(results: &[Value]) -> Vec<u64> {
    results.iter().map(|result| result["status"].as_u64().expect("status")).collect()
}

fn payment_ids(results: &[Value]) -> Vec<i64> {
    results.iter().map(|result| result["payment"]["id"].as_i64().expect("a payment id")).collect()
}

#[tokio::test]
async fn a_mixed_batch_answers_each_item_as_its_single_request_would() {
    let app = spawn_app().await;
    let items = [
        item(1, 1000),
        item(2, 99),
        item(3, 1_000_001),
        item(4, 2500),
        json!({"idempotency_key": "another-key-for-4", "order_id": 4, "amount": 2500}),
        json!({"idempotency_key": "   ", "order_id": 6, "amount": 1000}),
        json!({"idempotency_key": "order-0-payment", "order_id": 0, "amount": 1000}),
        json!({"idempotency_key": "order-8-payment", "order_id": 8, "amount": 1000, "currency": "USD"}),
        serde_json::from_str(r#"{"idempotency_key": "order-9-payment", "order_id": 9, "amount": 100.5}"#).unwrap(),
        item(10, 1_000_000),
    ];
    let results = pay_batch(&app, &items).await;

    assert_eq!(statuses(&results), [201, 400, 400, 201, 409, 422, 422, 422, 422, 201]);
    for (result, item) in results.iter().zip(&items) {
        assert_eq!(result["order_id"], item["order_id"], "{result}");
        assert_eq!(result["idempotency_key"], item["idempotency_key"], "{result}");
    }
    let detail_of = |index: usize| results[index]["detail"].as_str().unwrap_or_default().to_owned();
    assert!(detail_of(1).contains("¥100") && detail_of(2).contains("¥1,000,000"), "{}", detail_of(1));
    assert_eq!(detail_of(4), "a payment for order 4 already exists");
    assert!(detail_of(5).contains("Idempotency-Key"), "{}", detail_of(5));
    assert!(detail_of(6).contains("order_id"), "{}", detail_of(6));
    assert!(detail_of(7).contains("USD"), "{}", detail_of(7));
    assert!(detail_of(8).contains("fraction"), "{}", detail_of(8));
    for refused in [1, 2, 4, 5, 6, 7, 8] {
        assert!(results[refused]["payment"].is_null(), "{}", results[refused]);
    }

    // The charged ones are stored exactly as answered, and only they are.
    for (index, order_id) in [(0, 1), (3, 4), (9, 10)] {
        let payment = &results[index]["payment"];
        assert_eq!(payment["status"], "completed");
        assert!(results[index]["detail"].is_null());
        let stored: Value = app.get(&format!("/api/v1/payments/order/{order_id}")).await.json().await.unwrap();
        assert_eq!(&stored, payment, "order {order_id}");
    }
    assert_eq!(results[9]["payment"]["amount"].to_string(), "1000000.0");
    for order_id in [2, 3, 6, 8, 9] {
        assert_eq!(app.get(&format!("/api/v1/payments/order/{order_id}")).await.status(), 404, "order {order_id}");
    }
    assert_eq!(app.count("payments").await, 3);
}

#[tokio::test]
async fn replaying_a_batch_creates_nothing_new_and_returns_the_same_payments() {
    let app = spawn_app().await;
    let items = [item(1, 1000), item(2, 2000), item(3, 50), item(4, 4000)];
    let first = pay_batch(&app, &items).await;
    let again = pay_batch(&app, &items).await;

    assert_eq!(statuses(&first), [201, 201, 400, 201]);
    assert_eq!(first, again);
    assert_eq!(app.count("payments").await, 3);
}

#[tokio::test]
async fn a_batch_replays_a_payment_made_by_a_single_request_with_the_same_key() {
    let app = spawn_app().await;
    let single = app.post_payment_with_key(&json!({"order_id": 1, "amount": 1000}), "order-1-payment").await;
    assert_eq!(single.status(), 201);
    let single: Value = single.json().await.unwrap();

    let results = pay_batch(&app, &[item(1, 1000)]).await;
    assert_eq!(statuses(&results), [201]);
    assert_eq!(results[0]["payment"], single);
    assert_eq!(app.count("payments").await, 1);
}

#[tokio::test]
async fn reusing_a_key_for_another_amount_or_order_is_a_conflict_for_that_item_only() {
    let app = spawn_app().await;
    pay_batch(&app, &[json!({"idempotency_key": "k-1", "order_id": 3, "amount": 2500})]).await;

    let results = pay_batch(
        &app,
        &[
            json!({"idempotency_key": "k-1", "order_id": 3, "amount": 2600}),
            json!({"idempotency_key": "k-1", "order_id": 5, "amount": 2500}),
            item(4, 2500),
        ],
    )
    .await;
    assert_eq!(statuses(&results), [409, 409, 201]);
    for conflict in &results[..2] {
        assert!(conflict["detail"].as_str().unwrap().contains("Idempotency-Key"), "{conflict}");
        assert!(conflict["payment"].is_null());
    }
    assert_eq!(app.count("payments").await, 2);
    let stored: Value = app.get("/api/v1/payments/order/3").await.json().await.unwrap();
    assert_eq!(stored["amount"].to_string(), "2500.0");
}

#[tokio::test]
async fn an_item_repeated_in_a_batch_gets_the_one_payment_and_a_reused_key_a_conflict() {
    let app = spawn_app().await;
    let results = pay_batch(
        &app,
        &[item(1, 1000), item(1, 1000), json!({"idempotency_key": "order-1-payment", "order_id": 2, "amount": 1000})],
    )
    .await;
    assert_eq!(statuses(&results), [201, 201, 409]);
    assert_eq!(results[0]["payment"], results[1]["payment"]);
    assert_eq!(results[1]["payment"]["status"], "completed");
    assert_eq!(app.count("payments").await, 1);
}

#[tokio::test]
async fn a_declined_item_is_402_with_its_failed_payment_and_declines_again_when_replayed() {
    let app = spawn_app_with(|config| config.gateway.decline_rate = 1.0).await;
    let items = [item(1, 1000), item(2, 2000)];
    let results = pay_batch(&app, &items).await;

    assert_eq!(statuses(&results), [402, 402]);
    for (result, order_id) in results.iter().zip([1, 2]) {
        assert_eq!(result["detail"], "payment declined: card declined by issuer");
        assert_eq!(result["payment"]["status"], "failed");
        assert_eq!(result["payment"]["failure_reason"], "card declined by issuer");
        let stored: Value = app.get(&format!("/api/v1/payments/order/{order_id}")).await.json().await.unwrap();
        assert_eq!(stored, result["payment"]);
    }
    assert_eq!(pay_batch(&app, &items).await, results);
    assert_eq!(app.count("payments").await, 2);
}

#[tokio::test]
async fn under_deferred_capture_items_are_201_pending_until_the_gateways_webhook() {
    let order_service = spawn_order_stub().await;
    let app = spawn_app_with(|config| {
        config.gateway.capture = CaptureMode::Deferred;
        config.order_service_url = order_service.url.clone();
    })
    .await;
    let results = pay_batch(&app, &[item(1, 1000), item(2, 2000)]).await;

    assert_eq!(statuses(&results), [201, 201]);
    for result in &results {
        assert_eq!(result["payment"]["status"], "pending");
        assert!(result["detail"].is_null());
    }
    // As for a single payment: the Order Service hears of it when the gateway settles it.
    assert_eq!(app.outbox_rows().await.len(), 0);
    let transaction_id = results[0]["payment"]["transaction_id"].as_str().unwrap();
    assert_eq!(app.post_webhook(transaction_id, "completed").await.status(), 200);
    assert!(eventually(Duration::from_secs(5), || async { order_service.received().len() == 1 }).await);
    assert_eq!(order_service.received()[0].order_id, 1);
    let second: Value = app.get("/api/v1/payments/order/2").await.json().await.unwrap();
    assert_eq!(second["status"], "pending");
}

#[tokio::test]
async fn an_empty_batch_and_one_over_a_thousand_are_refused_whole_and_store_nothing() {
    let app = spawn_app().await;
    let too_many: Vec<Value> = (1..=1001).map(|order_id| item(order_id, 1000)).collect();
    for (count, items) in [(0, Vec::new()), (1001, too_many)] {
        let response = app.post_json(BATCH, &json!({ "payments": items }), None).await;
        assert_eq!(response.status(), 422, "{count} items");
        let detail = detail(response).await;
        assert!(detail.contains("1000") && detail.contains(&format!("got {count}")), "{detail}");
    }
    for malformed in [json!({"payments": 5}), json!({}), json!([item(1, 1000)])] {
        let response = app.post_json(BATCH, &malformed, None).await;
        assert_eq!(response.status(), 422, "{malformed}");
        assert!(!detail(response).await.is_empty());
    }
    assert_eq!(app.rows_written().await, 0);
}

#[tokio::test]
async fn a_thousand_payments_are_charged_in_one_batch() {
    let app = spawn_app().await;
    let items: Vec<Value> = (1..=1000).map(|order_id| item(order_id, 100 + order_id)).collect();
    let results = pay_batch(&app, &items).await;

    assert!(statuses(&results).iter().all(|&status| status == 201));
    let mut ids = payment_ids(&results);
    for (result, order_id) in results.iter().zip(1..) {
        assert_eq!(result["payment"]["order_id"], order_id);
        assert_eq!(result["payment"]["status"], "completed");
    }
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 1000);
    assert_eq!(app.count("payments").await, 1000);
}

#[tokio::test]
async fn charges_run_concurrently_so_gateway_latency_is_not_paid_per_item() {
    let latency = Duration::from_millis(100);
    let app = spawn_app_with(|config| config.gateway.latency = latency).await;
    let items: Vec<Value> = (1..=500).map(|order_id| item(order_id, 1000)).collect();
    let started = Instant::now();
    let results = pay_batch(&app, &items).await;
    let elapsed = started.elapsed();

    assert!(statuses(&results).iter().all(|&status| status == 201));
    // One charge after another would take 500 × 100 ms = 50 s.
    assert!(elapsed >= latency && elapsed < 30 * latency, "{elapsed:?}");
}

#[tokio::test]
async fn the_openapi_document_lists_the_batch_endpoint_and_its_types() {
    let app = spawn_app().await;
    let doc: Value = app.get("/openapi.json").await.json().await.unwrap();
    assert!(doc["paths"][BATCH]["post"].is_object(), "{}", doc["paths"]);
    for schema in ["NewPaymentBatch", "BatchPayment", "PaymentBatchOutcome", "BatchPaymentResult"] {
        assert!(doc["components"]["schemas"][schema].is_object(), "{schema} missing");
    }
}

#[tokio::test]
async fn an_item_without_a_key_is_paid_and_held_to_one_payment_per_order() {
    let app = spawn_app().await;
    let unkeyed = |order_id: i64| json!({"order_id": order_id, "amount": 1500});
    let results = pay_batch(&app, &[unkeyed(41), item(42, 1500)]).await;
    assert_eq!(statuses(&results), vec![201, 201]);
    assert!(results[0]["idempotency_key"].is_null(), "{}", results[0]);
    assert_eq!(results[0]["payment"]["status"], "completed");
    // Sent again without a key it is not recognised as a retry: the order already has its
    // payment, which is what refuses it.
    let again = pay_batch(&app, &[unkeyed(41)]).await;
    assert_eq!(statuses(&again), vec![409]);
    assert_eq!(app.count("payments").await, 2);
}
