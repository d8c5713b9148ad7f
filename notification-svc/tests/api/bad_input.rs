//! The bad-input matrix: every malformed request gets a 4xx with a JSON `detail`, and
//! nothing is written.

use serde_json::{json, Value};

use crate::helpers::{assert_error, email_request, sms_request, spawn_app, TestApp};

/// Posts `body` as an e-mail request and expects a 422 naming `needle`, with no row written.
async fn email_is_refused(app: &TestApp, body: Value, needle: &str) {
    assert_error(app.post_email(&body).await, 422, needle).await;
    assert_eq!(app.row_count().await, 0, "a refused request wrote a row: {body}");
}

#[tokio::test]
async fn invalid_email_fields_are_422_naming_the_field() {
    let app = spawn_app().await;
    let cases: Vec<(&str, Value, &str)> = vec![
        ("recipient", json!("not-an-email"), "recipient"),
        ("recipient", json!("tanaka@localhost"), "recipient"),
        ("recipient", json!(""), "recipient"),
        ("recipient", json!(format!("{}@example.com", "a".repeat(250))), "recipient"),
        ("recipient", json!(12345), "invalid request body"),
        ("order_id", json!(0), "order_id"),
        ("order_id", json!(-3), "order_id"),
        ("order_id", json!("7"), "invalid request body"),
        ("template", json!("ORDER_LOST"), "unknown variant"),
    ];
    for (field, value, needle) in cases {
        let mut body = email_request(1);
        body[field] = value;
        email_is_refused(&app, body, needle).await;
    }
}

#[tokio::test]
async fn invalid_order_details_are_422_naming_the_field() {
    let app = spawn_app().await;
    let cases: Vec<(&str, Value, &str)> = vec![
        ("/order/items", json!([]), "order.items"),
        ("/order/items/0/quantity", json!(0), "order.items[0].quantity"),
        ("/order/items/0/quantity", json!(-1), "order.items[0].quantity"),
        ("/order/items/1/unit_price", json!(-100), "order.items[1].unit_price"),
        ("/order/items/1/unit_price", json!(10.5), "fraction"),
        ("/order/items/0/product_name", json!(""), "order.items[0].product_name"),
        ("/order/items/0/product_name", json!("x".repeat(201)), "order.items[0].product_name"),
        ("/order/customer_name", json!("   "), "customer_name"),
        ("/order/customer_name", json!("名".repeat(201)), "customer_name"),
        ("/order/total_amount", json!(-1), "total_amount"),
        ("/order/currency", json!("USD"), "USD"),
    ];
    for (pointer, value, needle) in cases {
        let mut body = email_request(1);
        *body.pointer_mut(pointer).unwrap_or_else(|| panic!("{pointer}")) = value;
        email_is_refused(&app, body, needle).await;
    }

    let mut too_many = email_request(1);
    let item = too_many["order"]["items"][0].clone();
    too_many["order"]["items"] = Value::Array(vec![item; 1001]);
    email_is_refused(&app, too_many, "order.items").await;

    let mut missing = email_request(1);
    missing["order"].as_object_mut().unwrap().remove("customer_name");
    email_is_refused(&app, missing, "customer_name").await;
}

#[tokio::test]
async fn invalid_phone_numbers_are_422() {
    let app = spawn_app().await;
    for number in ["03-1234-5678", "090-1234-567", "tanaka@example.co.jp", "+81312345678", ""] {
        let mut body = sms_request(1);
        body["recipient"] = json!(number);
        assert_error(app.post_sms(&body).await, 422, "recipient").await;
    }
    assert_eq!(app.row_count().await, 0);
}

#[tokio::test]
async fn malformed_json_is_422_and_a_missing_content_type_is_415() {
    let app = spawn_app().await;
    let malformed = app
        .client
        .post(app.url("/api/v1/notifications/email"))
        .header("content-type", "application/json")
        .body("{\"order_id\": 1,")
        .send()
        .await
        .unwrap();
    assert_error(malformed, 422, "malformed JSON").await;

    let untyped =
        app.client.post(app.url("/api/v1/notifications/sms")).body(sms_request(1).to_string()).send().await.unwrap();
    assert_error(untyped, 415, "Content-Type").await;
    assert_eq!(app.row_count().await, 0);
}

#[tokio::test]
async fn an_overlong_idempotency_key_is_422() {
    let app = spawn_app().await;
    assert_error(app.post_email_with_key(&email_request(1), &"k".repeat(201)).await, 422, "Idempotency-Key").await;
    assert_eq!(app.row_count().await, 0);
}

#[tokio::test]
async fn unknown_and_malformed_ids_are_404_and_422() {
    let app = spawn_app().await;
    assert_error(app.get("/api/v1/notifications/12345").await, 404, "12345").await;
    assert_error(app.get("/api/v1/notifications/abc").await, 422, "invalid path").await;
    assert_error(app.get("/api/v1/notifications/order/abc").await, 422, "invalid path").await;
}

#[tokio::test]
async fn unknown_list_filters_and_out_of_range_paging_are_422() {
    let app = spawn_app().await;
    for (query, needle) in [
        ("status=DELIVERED", "status"),
        ("channel=fax", "channel"),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("skip=-1", "skip"),
        ("skip=abc", "invalid query string"),
    ] {
        assert_error(app.get(&format!("/api/v1/notifications/?{query}")).await, 422, needle).await;
    }
}
