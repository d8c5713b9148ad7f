//! `POST /api/v1/notifications/email`: accepted at once, then sent as an `.eml` file.

use std::time::Duration;

use platform::api::notifications::{Channel, NotificationStatus, TemplateName};

use crate::helpers::{decode_body, email_request, spawn_app};

#[tokio::test]
async fn an_email_is_accepted_pending_and_then_sent_as_an_eml_file() {
    let app = spawn_app().await;

    let accepted = app.accept_email(&email_request(42)).await;
    assert_eq!(accepted.status, NotificationStatus::Pending);
    assert_eq!(accepted.order_id, 42);
    assert_eq!(accepted.channel, Channel::Email);
    assert_eq!(accepted.template, TemplateName::OrderConfirmation);
    assert_eq!(accepted.recipient, "tanaka@example.co.jp");
    assert_eq!(accepted.sent_at, None);
    let subject = accepted.subject.clone().expect("an e-mail has a subject");
    assert!(subject.contains("#42"), "{subject}");
    assert!(accepted.body.contains("田中 太郎 様"), "{}", accepted.body);
    assert!(accepted.body.contains("¥179,600"), "{}", accepted.body);

    let sent = app.wait_until_settled(accepted.id, Duration::from_secs(5)).await;
    assert_eq!(sent.status, NotificationStatus::Sent);
    assert_eq!(sent.attempts, 1);
    assert_eq!(sent.error, None);
    assert!(sent.sent_at.expect("sent_at") >= sent.created_at);
    assert_eq!(sent.body, accepted.body, "the stored body is what was sent");

    let eml = std::fs::read_to_string(app.mail_file(accepted.id)).expect("the .eml file exists");
    let (headers, encoded_body) = eml.split_once("\r\n\r\n").expect("headers and body");
    for header in ["From: ", "To: tanaka@example.co.jp", "Subject: ", "Date: ", "Message-ID: <notification-"] {
        assert!(headers.contains(header), "missing {header:?} in\n{headers}");
    }
    assert!(headers.contains("Content-Type: text/plain; charset=utf-8"), "{headers}");
    assert!(headers.contains("noreply@example.co.jp"), "{headers}");
    // Text bodies travel with CRLF line ends (RFC 5322); otherwise it is the stored body.
    let sent_body = decode_body(headers, encoded_body).replace("\r\n", "\n");
    assert_eq!(sent_body, accepted.body, "the e-mail carries the stored body");
}

#[tokio::test]
async fn a_repeat_with_the_same_idempotency_key_returns_the_first_notification_and_creates_nothing() {
    let app = spawn_app().await;

    let first = app.post_email_with_key(&email_request(7), "order-7-confirmation").await;
    assert_eq!(first.status(), 201);
    let first: platform::api::notifications::Notification = first.json().await.unwrap();
    let repeat = app.post_email_with_key(&email_request(7), "order-7-confirmation").await;
    assert_eq!(repeat.status(), 201);
    let repeat: platform::api::notifications::Notification = repeat.json().await.unwrap();

    assert_eq!(repeat.id, first.id);
    assert_eq!(app.row_count().await, 1);

    let sent = app.wait_until_settled(first.id, Duration::from_secs(5)).await;
    assert_eq!(sent.status, NotificationStatus::Sent);
    // A repeat after sending still finds the original, now SENT, and sends nothing more.
    let late_repeat: platform::api::notifications::Notification =
        app.post_email_with_key(&email_request(7), "order-7-confirmation").await.json().await.unwrap();
    assert_eq!(late_repeat.id, first.id);
    assert_eq!(late_repeat.status, NotificationStatus::Sent);
    assert_eq!(app.row_count().await, 1);
    let files = std::fs::read_dir(&app.config.mail_dir).unwrap().count();
    assert_eq!(files, 1, "exactly one message was sent");

    let other = app.post_email_with_key(&email_request(7), "order-7-shipped").await;
    assert_eq!(other.status(), 201);
    assert_eq!(app.row_count().await, 2, "a different key is a different notification");
}

#[tokio::test]
async fn each_template_renders_its_own_email() {
    let app = spawn_app().await;
    for (template, word) in
        [("ORDER_CONFIRMATION", "ご注文確認"), ("ORDER_SHIPPED", "発送"), ("ORDER_CANCELLED", "キャンセル")]
    {
        let mut request = email_request(5);
        request["template"] = serde_json::json!(template);
        let accepted = app.accept_email(&request).await;
        assert_eq!(accepted.template.as_str(), template);
        assert!(accepted.subject.as_deref().unwrap().contains(word), "{:?}", accepted.subject);
        assert!(accepted.body.contains("注文番号: #5"), "{}", accepted.body);
    }
}
