//! Reading notifications back: by id, by order, and the filtered, paginated list.

use std::time::Duration;

use platform::api::notifications::{Channel, Notification, NotificationStats, NotificationStatus};

use crate::helpers::{email_request, sms_request, spawn_app, spawn_app_with};

#[tokio::test]
async fn a_notification_is_read_back_by_id() {
    let app = spawn_app().await;
    let accepted = app.accept_email(&email_request(1)).await;
    let read = app.notification(accepted.id).await;
    assert_eq!(read.id, accepted.id);
    assert_eq!(read.body, accepted.body);
    assert_eq!(read.subject, accepted.subject);
    assert_eq!(read.created_at, accepted.created_at);
}

#[tokio::test]
async fn notifications_of_an_order_are_listed_oldest_first() {
    let app = spawn_app().await;
    let first = app.accept_email(&email_request(77)).await;
    app.accept_email(&email_request(78)).await;
    let second: Notification = app.post_sms(&sms_request(77)).await.json().await.unwrap();

    let response = app.get("/api/v1/notifications/order/77").await;
    assert_eq!(response.status(), 200);
    let listed: Vec<Notification> = response.json().await.unwrap();
    assert_eq!(listed.iter().map(|n| n.id).collect::<Vec<_>>(), vec![first.id, second.id]);
    assert!(listed.iter().all(|n| n.order_id == 77));

    let none: Vec<Notification> = app.get("/api/v1/notifications/order/999").await.json().await.unwrap();
    assert!(none.is_empty());
}

#[tokio::test]
async fn the_list_filters_by_status_and_channel_pages_newest_first_and_reports_the_total() {
    let app = spawn_app_with(|config| config.max_attempts = 1).await;
    // The SMS gateway goes away: its folder becomes a file, so every SMS fails for real.
    std::fs::remove_dir_all(&app.config.sms_dir).unwrap();
    std::fs::write(&app.config.sms_dir, b"not a folder").unwrap();

    let mut emails = Vec::new();
    for order_id in 1..=3 {
        emails.push(app.accept_email(&email_request(order_id)).await.id);
    }
    let mut sms = Vec::new();
    for order_id in 4..=5 {
        let accepted: Notification = app.post_sms(&sms_request(order_id)).await.json().await.unwrap();
        sms.push(accepted.id);
    }
    for id in emails.iter().chain(&sms) {
        app.wait_until_settled(*id, Duration::from_secs(5)).await;
    }

    let (total, sent) = list(&app, "/api/v1/notifications/?status=SENT").await;
    assert_eq!(total, 3);
    assert_eq!(sent.iter().map(|n| n.id).collect::<Vec<_>>(), emails.iter().rev().copied().collect::<Vec<_>>());
    assert!(sent.iter().all(|n| n.status == NotificationStatus::Sent));

    let (total, failed) = list(&app, "/api/v1/notifications/?status=FAILED").await;
    assert_eq!(total, 2);
    assert!(failed.iter().all(|n| n.status == NotificationStatus::Failed && n.channel == Channel::Sms));
    assert!(failed.iter().all(|n| n.error.as_deref().is_some_and(|e| e.contains("SMS gateway"))), "{failed:?}");

    let (total, pending) = list(&app, "/api/v1/notifications?status=PENDING").await;
    assert_eq!((total, pending.len()), (0, 0));

    let (total, by_channel) = list(&app, "/api/v1/notifications/?channel=sms").await;
    assert_eq!(total, 2);
    assert_eq!(by_channel.iter().map(|n| n.id).collect::<Vec<_>>(), vec![sms[1], sms[0]]);

    let (total, page) = list(&app, "/api/v1/notifications?skip=1&limit=2").await;
    assert_eq!(total, 5, "the total ignores the paging");
    assert_eq!(page.iter().map(|n| n.id).collect::<Vec<_>>(), vec![sms[0], emails[2]]);

    let (total, everything) = list(&app, "/api/v1/notifications/").await;
    assert_eq!((total, everything.len()), (5, 5));

    let stats: NotificationStats = app.get("/api/v1/notifications/stats").await.json().await.unwrap();
    assert_eq!(stats, NotificationStats { pending: 0, sent: 3, failed: 2, rate_per_second: 1000 });
}

#[tokio::test]
async fn stats_show_the_queue_depth_while_notifications_wait() {
    let app = spawn_app_with(|config| config.max_attempts = 1_000).await;
    let empty: NotificationStats = app.get("/api/v1/notifications/stats").await.json().await.unwrap();
    assert_eq!(empty, NotificationStats { pending: 0, sent: 0, failed: 0, rate_per_second: 1000 });

    // The SMS gateway is broken, so the two SMS stay queued for retries; the e-mail goes out.
    std::fs::remove_dir_all(&app.config.sms_dir).unwrap();
    std::fs::write(&app.config.sms_dir, b"not a folder").unwrap();
    for order_id in 1..=2 {
        assert_eq!(app.post_sms(&sms_request(order_id)).await.status(), 201);
    }
    let email = app.accept_email(&email_request(3)).await;
    app.wait_until_settled(email.id, Duration::from_secs(5)).await;
    let stats: NotificationStats = app.get("/api/v1/notifications/stats").await.json().await.unwrap();
    assert_eq!(stats, NotificationStats { pending: 2, sent: 1, failed: 0, rate_per_second: 1000 });
}

async fn list(app: &crate::helpers::TestApp, path: &str) -> (i64, Vec<Notification>) {
    let response = app.get(path).await;
    assert_eq!(response.status(), 200, "{path}");
    let total = response
        .headers()
        .get("x-total-count")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("X-Total-Count header");
    (total, response.json().await.unwrap())
}
