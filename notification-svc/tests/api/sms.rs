//! `POST /api/v1/notifications/sms`: the number is stored in E.164 and the message goes
//! to the SMS gateway simulator as a `.txt` file.

use std::time::Duration;

use platform::api::notifications::{Channel, Notification, NotificationStatus};
use serde_json::json;

use crate::helpers::{sms_request, spawn_app};

#[tokio::test]
async fn an_sms_is_accepted_with_the_number_in_e164_and_then_sent_as_a_txt_file() {
    let app = spawn_app().await;

    let response = app.post_sms(&sms_request(9)).await;
    assert_eq!(response.status(), 201);
    let accepted: Notification = response.json().await.unwrap();
    assert_eq!(accepted.status, NotificationStatus::Pending);
    assert_eq!(accepted.channel, Channel::Sms);
    assert_eq!(accepted.recipient, "+819012345678");
    assert_eq!(accepted.subject, None);
    assert!(accepted.body.contains("田中 太郎様"), "{}", accepted.body);
    assert!(accepted.body.contains("注文番号: #9"), "{}", accepted.body);
    assert!(accepted.body.contains("¥179,600"), "{}", accepted.body);

    let sent = app.wait_until_settled(accepted.id, Duration::from_secs(5)).await;
    assert_eq!(sent.status, NotificationStatus::Sent);
    assert!(sent.sent_at.is_some());

    let text = std::fs::read_to_string(app.sms_file(accepted.id)).expect("the .txt file exists");
    assert!(text.starts_with("To: +819012345678\n"), "{text}");
    assert!(text.contains(&accepted.body), "{text}");
    assert!(!app.mail_file(accepted.id).exists(), "an SMS is not an e-mail");
}

#[tokio::test]
async fn every_accepted_phone_format_is_stored_the_same_way() {
    let app = spawn_app().await;
    for number in ["090-1234-5678", "09012345678", "+819012345678", "+81 90 1234 5678"] {
        let mut request = sms_request(1);
        request["recipient"] = json!(number);
        let response = app.post_sms(&request).await;
        assert_eq!(response.status(), 201, "{number}");
        let accepted: Notification = response.json().await.unwrap();
        assert_eq!(accepted.recipient, "+819012345678", "{number}");
    }
}
