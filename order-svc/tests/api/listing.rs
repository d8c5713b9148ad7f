//! Listing orders: pages by `skip`/`limit` (default 20, at most 100), newest first, the total
//! in `X-Total-Count`, filters by status and customer e-mail, search within the e-mail, and the
//! overview figures of `/api/v1/orders/stats`.

use platform::api::orders::{Order, OrderStats, OrderStatus};
use platform::Yen;

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

#[tokio::test]
async fn search_finds_orders_by_part_of_the_email_ignoring_case() {
    let app = spawn_platform().await;
    let (all, bobs) = seed(&app).await;
    let odd = app.create_order_ok(&order_body("100%_real@example.jp", &[("本", 1, 1_000)])).await;

    let (found, total) = list(&app, "q=BOB").await;
    assert_eq!((ids(&found), total), (newest_first(&bobs), 3));

    let (found, total) = list(&app, "q=example.com&limit=100").await;
    assert_eq!((ids(&found), total), (newest_first(&all), 25), "every seeded address contains it");

    let (found, total) = list(&app, "q=bob&status=paid").await;
    assert_eq!((found.len(), total), (0, 0), "search combines with the status filter");

    // `%` and `_` are matched literally, not as wildcards.
    let (found, total) = list(&app, "q=%25").await;
    assert_eq!((ids(&found), total), (vec![odd.id], 1), "`%` is not an any-text wildcard");
    let (found, total) = list(&app, "q=a_i").await;
    assert_eq!((found.len(), total), (0, 0), "`_` is not a one-character wildcard");

    let (found, total) = list(&app, "q=%20%20").await;
    assert_eq!(total, 26, "a blank search is no search");
    assert_eq!(found.len(), 20);
}

#[tokio::test]
async fn stats_count_orders_per_status_and_the_money_taken() {
    let app = spawn_platform().await;
    let response = app.client.get(app.order_url("/api/v1/orders/stats")).send().await.expect("stats");
    assert_eq!(response.status(), 200);
    let empty: OrderStats = response.json().await.expect("stats body");
    assert_eq!((empty.total_orders, empty.orders_today, empty.paid_revenue), (0, 0, Yen::ZERO));
    assert_eq!(empty.by_status.len(), OrderStatus::ALL.len(), "every status is listed, even at 0");

    seed(&app).await; // 22 paid orders of ¥1,000 and 3 pending ones
    let shipped = app.create_order_ok(&order_body(ALICE, &[("椅子", 2, 4_500)])).await;
    assert_eq!(app.set_status(shipped.id, "shipped").await.status(), 200);
    let cancelled = app.create_order_ok(&order_body(ALICE, &[("机", 1, 30_000)])).await;
    assert_eq!(app.cancel(cancelled.id).await.status(), 200);

    let stats: OrderStats =
        app.client.get(app.order_url("/api/v1/orders/stats")).send().await.unwrap().json().await.unwrap();
    let count = |status: OrderStatus| stats.by_status.iter().find(|s| s.status == status).map(|s| s.count);
    assert_eq!(count(OrderStatus::Paid), Some(22));
    assert_eq!(count(OrderStatus::Pending), Some(3));
    assert_eq!(count(OrderStatus::Shipped), Some(1));
    assert_eq!(count(OrderStatus::Cancelled), Some(1));
    assert_eq!(count(OrderStatus::Delivered), Some(0));
    assert_eq!(stats.total_orders, 27);
    assert_eq!(stats.orders_today, 27, "all were created just now");
    // Paid and shipped orders count; pending (never paid) and cancelled (refunded) ones do not.
    assert_eq!(stats.paid_revenue, Yen::new(22 * 1_000 + 9_000));
    assert!(stats.today_starts_at <= chrono::Utc::now());
}
