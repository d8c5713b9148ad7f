//! `POST /api/v1/notifications/batch` (bulk imports): many notifications queued in one
//! request, each with its own idempotency key and its own result; the digest e-mail; the
//! queue's depth in the stats.

use std::time::{Duration, Instant};

use platform::api::notifications::{
    Channel, Notification, NotificationBatchOutcome, NotificationStatus, TemplateName, MAX_NOTIFICATIONS_PER_BATCH,
};
use serde_json::{json, Value};

use crate::helpers::{
    assert_error, batch_item, decode_body, digest_request, email_items, email_request, sms_request, spawn_app,
    spawn_app_with, TestApp,
};

fn ids_of(outcome: &NotificationBatchOutcome) -> Vec<i64> {
    outcome.results.iter().map(|r| r.notification_id.expect("a notification id")).collect()
}

fn statuses_of(outcome: &NotificationBatchOutcome) -> Vec<u16> {
    outcome.results.iter().map(|r| r.status).collect()
}

async fn list_ids(app: &TestApp, query: &str) -> Vec<i64> {
    let response = app.get(&format!("/api/v1/notifications/?limit=200&{query}")).await;
    assert_eq!(response.status(), 200);
    let listed: Vec<Notification> = response.json().await.unwrap();
    listed.iter().map(|n| n.id).collect()
}

#[tokio::test]
async fn a_batch_of_emails_is_queued_pending_then_sent_and_listed() {
    // One message a second: the last of three cannot be sent before two seconds have passed,
    // so it is seen PENDING, and the answer did not wait for the sender.
    let app = spawn_app_with(|config| config.rate_per_sec = 1).await;
    let items = email_items(1, 3);

    let started = Instant::now();
    let outcome = app.accept_batch(&items).await;
    let answered = started.elapsed();
    assert!(answered < Duration::from_secs(1), "the answer took {answered:?}: it waited for the sender");

    assert_eq!((outcome.queued, outcome.duplicates, outcome.rejected), (3, 0, 0));
    assert_eq!(statuses_of(&outcome), vec![202, 202, 202]);
    let keys: Vec<_> = outcome.results.iter().map(|r| r.idempotency_key.as_deref().unwrap_or_default()).collect();
    assert_eq!(keys, vec!["order-1-confirmation", "order-2-confirmation", "order-3-confirmation"]);
    assert!(outcome.results.iter().all(|r| r.detail.is_none()), "{outcome:?}");
    let ids = ids_of(&outcome);
    assert!(ids[0] < ids[1] && ids[1] < ids[2], "ids in request order: {ids:?}");

    let last = app.notification(ids[2]).await;
    assert_eq!(last.status, NotificationStatus::Pending);
    assert_eq!(last.order_id, 3);
    assert_eq!(last.channel, Channel::Email);
    assert_eq!(last.template, TemplateName::OrderConfirmation);
    assert!(last.subject.as_deref().unwrap().contains("#3"), "{:?}", last.subject);
    assert!(last.body.contains("¥179,600"), "{}", last.body);

    for (order_id, id) in (1..).zip(&ids) {
        let sent = app.wait_until_settled(*id, Duration::from_secs(10)).await;
        assert_eq!(sent.status, NotificationStatus::Sent);
        assert_eq!(sent.order_id, order_id);
        assert!(app.mail_file(*id).exists(), "notification {id} was not written out");
    }
    let mut sent = list_ids(&app, "status=SENT").await;
    sent.sort();
    assert_eq!(sent, ids);
}

#[tokio::test]
async fn replaying_a_batch_answers_200_with_the_same_ids_and_stores_nothing_new() {
    let app = spawn_app().await;
    let single: Notification =
        app.post_email_with_key(&email_request(9), "order-9-confirmation").await.json().await.expect("notification");
    let items = email_items(1, 4);
    let first = app.accept_batch(&items).await;
    assert_eq!(first.queued, 4);
    for id in ids_of(&first) {
        app.wait_until_settled(id, Duration::from_secs(5)).await;
    }

    let replay = app.accept_batch(&items).await;
    assert_eq!((replay.queued, replay.duplicates, replay.rejected), (0, 4, 0));
    assert_eq!(statuses_of(&replay), vec![200; 4]);
    assert_eq!(ids_of(&replay), ids_of(&first));
    assert!(replay.results.iter().all(|r| r.detail.as_deref().is_some_and(|d| d.contains("already queued"))));

    // A key stored by the single endpoint is the same notification in a batch; a new key in
    // the same batch is queued.
    let mixed = app.accept_batch(&email_items(9, 2)).await;
    assert_eq!(statuses_of(&mixed), vec![200, 202]);
    assert_eq!(mixed.results[0].notification_id, Some(single.id));

    assert_eq!(app.row_count().await, 6);
    app.wait_until_settled(mixed.results[1].notification_id.unwrap(), Duration::from_secs(5)).await;
    app.wait_until_settled(single.id, Duration::from_secs(5)).await;
    let files = std::fs::read_dir(&app.config.mail_dir).unwrap().count();
    assert_eq!(files, 6, "each notification was sent once");
}

#[tokio::test]
async fn an_invalid_item_is_refused_alone_and_the_others_are_queued() {
    let app = spawn_app().await;
    let mut bad_recipient = email_request(2);
    bad_recipient["recipient"] = json!("tanaka@localhost");
    let mut digest_as_email = email_request(3);
    digest_as_email["template"] = json!("ORDER_DIGEST");
    let mut empty_digest = digest_request(40, &["PO-1"]);
    empty_digest["orders"] = json!([]);
    let mut digest_without_items = digest_request(50, &["PO-1", "PO-2"]);
    digest_without_items["orders"][1]["items"] = json!([]);
    let items = vec![
        batch_item("order-1-confirmation", "email", email_request(1)),
        batch_item("order-2-confirmation", "email", bad_recipient),
        batch_item(&"k".repeat(201), "email", email_request(4)),
        batch_item("  ", "email", email_request(5)),
        batch_item("order-3-digest", "email", digest_as_email),
        batch_item("digest-empty", "digest", empty_digest),
        batch_item("digest-no-items", "digest", digest_without_items),
        batch_item("digest-ok", "digest", digest_request(60, &["PO-1"])),
        batch_item("order-1-confirmation", "email", email_request(1)),
        // A kind of message the batch does not take (an SMS goes through its own endpoint).
        batch_item("sms-1", "sms", sms_request(1)),
    ];

    let outcome = app.accept_batch(&items).await;
    assert_eq!(statuses_of(&outcome), vec![202, 422, 422, 422, 422, 422, 422, 202, 200, 422]);
    assert_eq!((outcome.queued, outcome.duplicates, outcome.rejected), (2, 1, 7));
    let detail = |i: usize| outcome.results[i].detail.clone().unwrap_or_default();
    assert!(detail(1).contains("recipient"), "{}", detail(1));
    assert!(detail(2).contains("Idempotency-Key"), "{}", detail(2));
    assert!(detail(3).contains("Idempotency-Key"), "{}", detail(3));
    assert!(detail(4).contains("ORDER_DIGEST"), "{}", detail(4));
    assert!(detail(5).contains("orders"), "{}", detail(5));
    assert!(detail(6).contains("orders[1].items"), "{}", detail(6));
    assert!(detail(9).contains("unknown variant"), "{}", detail(9));
    assert_eq!(outcome.results[9].idempotency_key.as_deref(), Some("sms-1"));
    assert!(outcome.results[1..7].iter().chain([&outcome.results[9]]).all(|r| r.notification_id.is_none()));
    assert_eq!(outcome.results[8].notification_id, outcome.results[0].notification_id, "same key, same notification");
    assert_eq!(outcome.results[2].idempotency_key, Some("k".repeat(201)), "the key is echoed as sent");

    assert_eq!(app.row_count().await, 2);
    let digest = app.notification(outcome.results[7].notification_id.unwrap()).await;
    assert_eq!((digest.template, digest.order_id), (TemplateName::OrderDigest, 60));
}

#[tokio::test]
async fn a_digest_lists_every_order_and_the_grand_total_and_is_filed_under_the_first_order() {
    let app = spawn_app().await;
    let items = vec![batch_item("imp-1-sato", "digest", digest_request(501, &["PO-A1", "PO-A2", "PO-A3"]))];
    let outcome = app.accept_batch(&items).await;
    assert_eq!(statuses_of(&outcome), vec![202]);
    let id = outcome.results[0].notification_id.unwrap();

    let digest = app.notification(id).await;
    assert_eq!(digest.template, TemplateName::OrderDigest);
    assert_eq!(digest.channel, Channel::Email);
    assert_eq!(digest.order_id, 501, "filed under the first order");
    assert_eq!(digest.recipient, "sato@example.co.jp");
    assert_eq!(digest.subject.as_deref(), Some("【ご注文確認】3件のご注文を承りました"));
    let body = &digest.body;
    for expected in [
        "佐藤 花子 様",
        "imp-20261122-01",
        "■ ご注文 PO-A1（注文番号: #501）",
        "■ ご注文 PO-A2（注文番号: #502）",
        "■ ご注文 PO-A3（注文番号: #503）",
        "・マウスパッド × 3（単価 ¥1,000）",
        "ご注文金額: ¥1,000",
        "ご注文金額: ¥2,000",
        "ご注文金額: ¥3,000",
        "合計金額（3件）: ¥6,000",
    ] {
        assert!(body.contains(expected), "{expected:?} missing from:\n{body}");
    }

    let by_first: Vec<Notification> = app.get("/api/v1/notifications/order/501").await.json().await.unwrap();
    assert_eq!(by_first.iter().map(|n| n.id).collect::<Vec<_>>(), vec![id]);
    let by_second: Vec<Notification> = app.get("/api/v1/notifications/order/502").await.json().await.unwrap();
    assert!(by_second.is_empty());

    let sent = app.wait_until_settled(id, Duration::from_secs(5)).await;
    assert_eq!(sent.status, NotificationStatus::Sent);
    let eml = std::fs::read_to_string(app.mail_file(id)).expect("the .eml file exists");
    let (headers, encoded_body) = eml.split_once("\r\n\r\n").expect("headers and body");
    assert!(headers.contains("To: sato@example.co.jp"), "{headers}");
    assert_eq!(decode_body(headers, encoded_body).replace("\r\n", "\n"), digest.body);
}

#[tokio::test]
async fn order_digest_through_the_single_endpoints_is_422() {
    let app = spawn_app().await;
    let mut email = email_request(1);
    email["template"] = json!("ORDER_DIGEST");
    assert_error(app.post_email(&email).await, 422, "ORDER_DIGEST").await;
    let mut sms = sms_request(1);
    sms["template"] = json!("ORDER_DIGEST");
    assert_error(app.post_sms(&sms).await, 422, "e-mail only").await;
    assert_eq!(app.row_count().await, 0);
}

#[tokio::test]
async fn an_empty_or_oversized_or_malformed_batch_is_422_and_stores_nothing() {
    let app = spawn_app().await;
    assert_error(app.post_batch(&[]).await, 422, "1 to 1000 items (got 0)").await;
    let too_many = email_items(1, MAX_NOTIFICATIONS_PER_BATCH as i64 + 1);
    assert_error(app.post_batch(&too_many).await, 422, "1 to 1000 items (got 1001)").await;

    let no_list = app.client.post(app.url("/api/v1/notifications/batch")).json(&json!({})).send().await.unwrap();
    assert_error(no_list, 422, "notifications").await;

    assert_eq!(app.row_count().await, 0);
}

#[tokio::test]
async fn a_batch_may_be_larger_than_the_body_limit_of_a_single_request() {
    let app = spawn_app().await;
    // About 1.7 MiB, while a single request is held to 1 MiB: three lines with long (but
    // valid, 180-character) product names per e-mail.
    let line = json!({"product_name": "ワイヤレスイヤホン".repeat(20), "quantity": 1, "unit_price": 1000.0});
    let items: Vec<Value> = email_items(1, 1000)
        .into_iter()
        .map(|mut item| {
            item["message"]["email"]["order"]["items"] = json!([line, line, line]);
            item
        })
        .collect();
    assert!(json!({ "notifications": items }).to_string().len() > 1024 * 1024);
    let outcome = app.accept_batch(&items).await;
    assert_eq!(outcome.queued, 1000);
    assert_eq!(app.row_count().await, 1000);
    // The 8 MiB bound is not exercised here: the service answers 413 before reading such a
    // body, and closing a connection with unread data can reset it before the client reads
    // the answer, which would make the test flaky.
}

#[tokio::test]
async fn stats_show_the_queue_rising_with_a_batch_and_the_send_rate() {
    let app = spawn_app_with(|config| config.rate_per_sec = 2).await;
    let before = app.stats().await;
    assert_eq!((before.pending, before.sent, before.failed, before.rate_per_second), (0, 0, 0, 2));

    let outcome = app.accept_batch(&email_items(1, 40)).await;
    assert_eq!(outcome.queued, 40);
    let after = app.stats().await;
    assert_eq!(after.rate_per_second, 2);
    assert_eq!(after.pending + after.sent, 40);
    assert_eq!(after.failed, 0);
    // Two messages a second (a burst of two first): the queue drains slowly.
    assert!(after.pending >= 35, "the queue should be nearly full: {after:?}");

    tokio::time::sleep(Duration::from_millis(1100)).await;
    let later = app.stats().await;
    assert!(later.pending < after.pending, "the sender drains the queue: {after:?} then {later:?}");
    assert!(later.pending >= 30, "no faster than the rate: {later:?}");
}

#[tokio::test]
async fn a_thousand_emails_are_queued_at_once_whatever_the_send_rate() {
    let app = spawn_app_with(|config| config.rate_per_sec = 10).await;
    let body = serde_json::to_vec(&json!({ "notifications": email_items(1, 1000) })).unwrap();
    let post = || async {
        let response = app
            .client
            .post(app.url("/api/v1/notifications/batch"))
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 202);
        response.json::<NotificationBatchOutcome>().await.expect("batch outcome")
    };

    // At 10 a second, sending them takes 100 s: the answer comes without waiting for that.
    let outcome = post().await;
    let replay = post().await;
    assert_eq!(outcome.queued, 1000);
    assert_eq!(replay.duplicates, 1000);
    assert_eq!(ids_of(&replay), ids_of(&outcome));
    let stats = app.stats().await;
    assert!(stats.pending >= 950, "{stats:?}");
    assert_eq!(app.row_count().await, 1000);
}

#[tokio::test]
async fn an_item_without_a_key_is_queued_every_time_it_is_sent() {
    let app = spawn_app().await;
    let mut unkeyed = batch_item("unused", "email", email_request(51));
    unkeyed.as_object_mut().unwrap().remove("idempotency_key");
    for round in 1..=2 {
        let outcome = app.accept_batch(&[unkeyed.clone()]).await;
        assert_eq!(statuses_of(&outcome), vec![202], "round {round}");
        assert_eq!(outcome.results[0].idempotency_key, None);
    }
    let stored: Vec<Notification> = app.get("/api/v1/notifications/order/51").await.json().await.unwrap();
    assert_eq!(stored.len(), 2, "no key, no de-duplication");
}
