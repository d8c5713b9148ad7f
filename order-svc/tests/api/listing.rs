//! Listing orders: pages by `skip`/`limit` (default 20, at most 100), newest first, the total
//! in `X-Total-Count`, and filters by status and customer e-mail.

use platform::api::orders::{Order, OrderStatus};

use crate::helpers::{detail_of, order_body, spawn_platform, TestPlatform};

const ALICE: &str = "alice@example.com";
const BOB: &str = "bob@example.com";

/// 25 orders, oldest first: 22 paid ones of Alice's and, at three places among them, Bob's,
/// whose ¥50 payments are refused so they stay pending. Returns (all ids, Bob's ids).
async fn seed(app: &TestPlatform) -> (Vec<i64>, Vec<i64>) {
    let (mut all, mut bobs) = (Vec::new(), Vec::new());
    for n in 0..25 {
        let body = if [4, 11, 19].contains(&n) {
            order_body(BOB, &[("付箋", 1, 50)])
        } else {
            order_body(ALICE, &[(&format!("本 {n}"), 1, 1_000)])
        };
        let order = app.create_order_ok(&body).await;
        if order.customer_email == BOB {
            bobs.push(order.id);
        }
        all.push(order.id);
    }
    (all, bobs)
}

/// Lists with `query`, expecting 200; returns the orders and the X-Total-Count.
async fn list(app: &TestPlatform, query: &str) -> (Vec<Order>, i64) {
    let response = app.list_orders(query).await;
    assert_eq!(response.status(), 200, "GET ?{query}");
    let total = response
        .headers()
        .get("x-total-count")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("GET ?{query}: no numeric X-Total-Count"));
    (response.json().await.expect("a list of orders"), total)
}

fn ids(orders: &[Order]) -> Vec<i64> {
    orders.iter().map(|o| o.id).collect()
}

fn newest_first(ids: &[i64]) -> Vec<i64> {
    ids.iter().rev().copied().collect()
}

#[tokio::test]
async fn listing_pages_newest_first_with_the_total_in_a_header() {
    let app = spawn_platform().await;
    let (all, _) = seed(&app).await;
    let expected = newest_first(&all);

    let (first_page, total) = list(&app, "").await;
    assert_eq!(total, 25);
    assert_eq!(ids(&first_page), expected[..20], "the default page is the 20 newest");
    assert!(first_page.iter().all(|o| o.items.len() == 1), "each order comes with its items");
    let newest = &first_page[0];
    assert_eq!(newest.items[0].product_name, "本 24");

    let (rest, total) = list(&app, "skip=20&limit=20").await;
    assert_eq!((ids(&rest), total), (expected[20..].to_vec(), 25));

    let (middle, _) = list(&app, "skip=5&limit=3").await;
    assert_eq!(ids(&middle), expected[5..8]);

    let (everything, _) = list(&app, "limit=100").await;
    assert_eq!(ids(&everything), expected);

    let (beyond, total) = list(&app, "skip=25").await;
    assert!(beyond.is_empty());
    assert_eq!(total, 25, "the total does not depend on the page");
}

#[tokio::test]
async fn listing_filters_by_status_and_customer_email() {
    let app = spawn_platform().await;
    let (_, bobs) = seed(&app).await;

    let (pending, total) = list(&app, "status=pending").await;
    assert_eq!((ids(&pending), total), (newest_first(&bobs), 3));
    assert!(pending.iter().all(|o| o.status == OrderStatus::Pending));

    let (paid, total) = list(&app, "status=paid&limit=100").await;
    assert_eq!((paid.len(), total), (22, 22));
    assert!(paid.iter().all(|o| o.status == OrderStatus::Paid && o.customer_email == ALICE));

    let (of_bob, total) = list(&app, &format!("customer_email={BOB}")).await;
    assert_eq!((ids(&of_bob), total), (newest_first(&bobs), 3));

    let (both, total) = list(&app, &format!("customer_email={ALICE}&status=paid&skip=1&limit=2")).await;
    assert_eq!((both.len(), total), (2, 22));

    let (none, total) = list(&app, &format!("customer_email={BOB}&status=paid")).await;
    assert!(none.is_empty());
    assert_eq!(total, 0);
}

#[tokio::test]
async fn listing_refuses_a_bad_page_or_filter() {
    let app = spawn_platform().await;
    app.paid_order().await;

    for query in
        ["limit=101", "limit=0", "limit=-1", "skip=-1", "limit=abc", "skip=1.5", "status=lost", "status=unknown"]
    {
        detail_of(app.list_orders(query).await, 422, &format!("GET ?{query}")).await;
    }
    let (orders, _) = list(&app, "limit=1&skip=0").await;
    assert_eq!(orders.len(), 1, "the limits themselves are fine");
}
