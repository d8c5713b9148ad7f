//! The bad-input matrix of the Order Service (NFR-007): every malformed or invalid request
//! gets a 4xx with a JSON `{"detail": ...}` body, never a 5xx or a plain-text rejection, and
//! writes nothing.

use platform::api::orders::OrderStatus;
use serde_json::{json, Value};

use crate::helpers::{detail_of, spawn_platform, TestPlatform};

fn valid() -> Value {
    json!({
        "customer_email": "tanaka@example.co.jp",
        "customer_name": "田中太郎",
        "items": [{"product_name": "ノートPC", "quantity": 1, "unit_price": 1000}],
        "currency": "JPY"
    })
}

/// The valid order with `change` applied.
fn with(change: impl FnOnce(&mut Value)) -> String {
    let mut body = valid();
    change(&mut body);
    body.to_string()
}

fn remove(object: &mut Value, key: &str) {
    if let Some(fields) = object.as_object_mut() {
        fields.remove(key);
    }
}

struct Case {
    name: &'static str,
    body: String,
    content_type: Option<&'static str>,
    status: u16,
    /// Text the detail must contain ("" when any detail will do).
    detail_has: &'static str,
}

fn json_case(name: &'static str, body: String, status: u16, detail_has: &'static str) -> Case {
    Case { name, body, content_type: Some("application/json"), status, detail_has }
}

fn creation_cases() -> Vec<Case> {
    let item =
        |quantity: Value, price: Value| json!({"product_name": "ノートPC", "quantity": quantity, "unit_price": price});
    vec![
        json_case("malformed JSON", r#"{"customer_email": "a@example.com", "items": ["#.into(), 422, ""),
        json_case("empty body", String::new(), 422, ""),
        json_case("a JSON array", "[]".into(), 422, ""),
        Case {
            name: "no content type",
            body: valid().to_string(),
            content_type: None,
            status: 415,
            detail_has: "Content-Type",
        },
        Case {
            name: "text/plain content type",
            body: valid().to_string(),
            content_type: Some("text/plain"),
            status: 415,
            detail_has: "",
        },
        json_case("quantity as a string", with(|b| b["items"][0]["quantity"] = json!("two")), 422, ""),
        json_case("customer_name as a number", with(|b| b["customer_name"] = json!(123)), 422, ""),
        json_case("items as an object", with(|b| b["items"] = json!({"product_name": "x"})), 422, ""),
        json_case("unit_price as a string", with(|b| b["items"][0]["unit_price"] = json!("1000")), 422, ""),
        json_case("missing customer_email", with(|b| remove(b, "customer_email")), 422, "customer_email"),
        json_case("missing items", with(|b| remove(b, "items")), 422, "items"),
        json_case("missing quantity", with(|b| remove(&mut b["items"][0], "quantity")), 422, "quantity"),
        json_case("empty items", with(|b| b["items"] = json!([])), 422, "items"),
        json_case("101 items", with(|b| b["items"] = Value::Array(vec![item(json!(1), json!(1)); 101])), 422, "items"),
        json_case("quantity 0", with(|b| b["items"][0]["quantity"] = json!(0)), 422, "items[0].quantity"),
        json_case("quantity -1", with(|b| b["items"][0]["quantity"] = json!(-1)), 422, "items[0].quantity"),
        json_case(
            "quantity 0 on the second line",
            with(|b| b["items"] = json!([item(json!(1), json!(100)), item(json!(0), json!(100))])),
            422,
            "items[1].quantity must be at least 1",
        ),
        json_case("quantity 10,001", with(|b| b["items"][0]["quantity"] = json!(10_001)), 422, "quantity"),
        json_case("fractional quantity", with(|b| b["items"][0]["quantity"] = json!(1.5)), 422, ""),
        json_case("negative price", with(|b| b["items"][0]["unit_price"] = json!(-1)), 422, "unit_price"),
        json_case("fractional yen", with(|b| b["items"][0]["unit_price"] = json!(100.5)), 422, "yen"),
        json_case(
            "a total that overflows",
            with(|b| b["items"][0] = item(json!(10_000), json!(1_000_000_000_000_000i64))),
            422,
            "",
        ),
        json_case("invalid email", with(|b| b["customer_email"] = json!("not-an-email")), 422, "customer_email"),
        json_case("email without a domain", with(|b| b["customer_email"] = json!("tanaka@")), 422, "customer_email"),
        json_case(
            "email over 254 characters",
            with(|b| b["customer_email"] = json!(format!("{}@example.com", "a".repeat(250)))),
            422,
            "customer_email",
        ),
        json_case("blank customer_name", with(|b| b["customer_name"] = json!("   ")), 422, "customer_name"),
        json_case(
            "customer_name of 201 characters",
            with(|b| b["customer_name"] = json!("名".repeat(201))),
            422,
            "customer_name",
        ),
        json_case("blank product_name", with(|b| b["items"][0]["product_name"] = json!("")), 422, "product_name"),
        json_case(
            "product_name of 201 characters",
            with(|b| b["items"][0]["product_name"] = json!("x".repeat(201))),
            422,
            "product_name",
        ),
        json_case("USD", with(|b| b["currency"] = json!("USD")), 422, "USD"),
        json_case("currency as a number", with(|b| b["currency"] = json!(392)), 422, ""),
        json_case("body over 1 MiB", with(|b| b["customer_name"] = json!("x".repeat(1_100_000))), 413, ""),
    ]
}

async fn send(app: &TestPlatform, method: reqwest::Method, path: &str, case: &Case) -> reqwest::Response {
    let mut request = app.client.request(method, app.order_url(path)).body(case.body.clone());
    if let Some(content_type) = case.content_type {
        request = request.header("content-type", content_type);
    }
    request.send().await.expect("request sent")
}

#[tokio::test]
async fn invalid_new_orders_are_refused_with_a_detail_and_write_nothing() {
    let app = spawn_platform().await;
    let before = app.row_counts().await;

    for case in creation_cases() {
        let response = send(&app, reqwest::Method::POST, "/api/v1/orders/", &case).await;
        let detail = detail_of(response, case.status, case.name).await;
        assert!(
            detail.contains(case.detail_has),
            "{}: detail {detail:?} should mention {:?}",
            case.name,
            case.detail_has
        );
    }

    assert_eq!(app.row_counts().await, before, "nothing was written");
    let boundary = with(|b| {
        b["customer_name"] = json!("名".repeat(200));
        b["items"][0]["quantity"] = json!(10_000);
        b["items"][0]["unit_price"] = json!(0);
    });
    let response = app
        .client
        .post(app.order_url("/api/v1/orders/"))
        .header("content-type", "application/json")
        .body(boundary)
        .send()
        .await
        .expect("POST order");
    assert_eq!(response.status(), 201, "the limits themselves are accepted");
}

#[tokio::test]
async fn unknown_orders_are_not_found_and_non_numeric_ids_are_unprocessable() {
    let app = spawn_platform().await;
    app.paid_order().await;
    let before = app.row_counts().await;
    let shipped = json!({"status": "shipped"});

    for (id, expected) in [("999999", 404), ("abc", 422), ("1.5", 422)] {
        let what = |verb: &str| format!("{verb} order {id}");
        let get = app.client.get(app.order_url(&format!("/api/v1/orders/{id}"))).send().await.expect("GET");
        let detail = detail_of(get, expected, &what("GET")).await;
        if expected == 404 {
            assert!(detail.contains(id), "the detail names the order: {detail}");
        }
        let put = app
            .client
            .put(app.order_url(&format!("/api/v1/orders/{id}/status")))
            .json(&shipped)
            .send()
            .await
            .expect("PUT");
        detail_of(put, expected, &what("PUT status of")).await;
        let delete = app.client.delete(app.order_url(&format!("/api/v1/orders/{id}"))).send().await.expect("DELETE");
        detail_of(delete, expected, &what("DELETE")).await;
        let history =
            app.client.get(app.order_url(&format!("/api/v1/orders/{id}/history"))).send().await.expect("GET history");
        detail_of(history, expected, &what("GET history of")).await;
    }

    assert_eq!(app.row_counts().await, before, "nothing was written");
}

#[tokio::test]
async fn invalid_status_updates_are_refused_and_change_nothing() {
    let app = spawn_platform().await;
    let order = app.paid_order().await;
    let before = app.row_counts().await;
    let path = format!("/api/v1/orders/{}/status", order.id);

    let cases = vec![
        json_case("unknown status", json!({"status": "lost"}).to_string(), 422, ""),
        json_case("upper-case status", json!({"status": "SHIPPED"}).to_string(), 422, ""),
        json_case("missing status", json!({"reason": "why"}).to_string(), 422, "status"),
        json_case("status as a number", json!({"status": 3}).to_string(), 422, ""),
        json_case("malformed JSON", "{\"status\": ".into(), 422, ""),
        json_case(
            "reason over 500 characters",
            json!({"status": "shipped", "reason": "x".repeat(501)}).to_string(),
            422,
            "reason",
        ),
        Case {
            name: "no content type",
            body: json!({"status": "shipped"}).to_string(),
            content_type: None,
            status: 415,
            detail_has: "",
        },
    ];
    for case in cases {
        let response = send(&app, reqwest::Method::PUT, &path, &case).await;
        let detail = detail_of(response, case.status, case.name).await;
        assert!(detail.contains(case.detail_has), "{}: {detail:?} should mention {:?}", case.name, case.detail_has);
    }

    assert_eq!(app.order(order.id).await.status, OrderStatus::Paid);
    assert_eq!(app.row_counts().await, before, "nothing was written");
}

#[tokio::test]
async fn invalid_webhooks_are_refused_and_change_nothing() {
    let app = spawn_platform().await;
    let order = app.paid_order().await;
    let before = app.row_counts().await;
    let path = format!("/api/v1/orders/{}/webhook", order.id);

    let id = order.id;
    let cases = vec![
        ("unknown payment status", json!({"order_id": id, "payment_id": 1, "status": "lost"}).to_string(), 422),
        ("missing payment_id", json!({"order_id": id, "status": "completed"}).to_string(), 422),
        ("another order's webhook", json!({"order_id": id + 1, "payment_id": 1, "status": "failed"}).to_string(), 422),
        ("malformed JSON", "{".into(), 422),
        ("an array", "[]".into(), 422),
    ];
    // Correctly signed, so it is the body that is refused.
    for (i, (name, body, status)) in cases.into_iter().enumerate() {
        let headers = app.order_webhook_headers(&format!("bad-{i}"), body.as_bytes());
        detail_of(app.signed_order_webhook(id, body.as_bytes(), &headers).await, status, name).await;
    }
    // The admin's bearer token is no signature.
    let failed = json!({"order_id": id, "payment_id": 1, "status": "failed"});
    let response = app.client.post(app.order_url(&path)).json(&failed).send().await.expect("POST");
    detail_of(response, 401, "a webhook with a bearer token instead of a signature").await;

    assert_eq!(app.order(order.id).await.status, OrderStatus::Paid);
    assert_eq!(app.row_counts().await, before, "nothing was written");
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_in_json() {
    let app = spawn_platform().await;

    let missing = app.client.get(app.order_url("/api/v1/nothing-here")).send().await.expect("GET");
    detail_of(missing, 404, "unknown route").await;
    let patch = app.client.patch(app.order_url("/api/v1/orders/1")).send().await.expect("PATCH");
    detail_of(patch, 405, "PATCH an order").await;
}
