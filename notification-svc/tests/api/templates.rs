//! `GET /api/v1/notifications/templates`: the catalogue, in step with what is rendered.

use platform::api::notifications::{Channel, Template, TemplateName};

use crate::helpers::{batch_item, digest_request, email_request, spawn_app};

#[tokio::test]
async fn the_three_templates_are_listed_for_both_channels_and_the_digest_for_email() {
    let app = spawn_app().await;
    for path in ["/api/v1/notifications/templates", "/api/v1/notifications/templates/"] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 200);
        let templates: Vec<Template> = response.json().await.unwrap();
        assert_eq!(templates.len(), 7);
        for name in ["ORDER_CONFIRMATION", "ORDER_SHIPPED", "ORDER_CANCELLED"] {
            for channel in [Channel::Email, Channel::Sms] {
                let template = templates
                    .iter()
                    .find(|t| t.name.as_str() == name && t.channel == channel)
                    .unwrap_or_else(|| panic!("{name}/{channel:?} missing"));
                assert!(!template.description.is_empty());
                assert_eq!(template.subject.is_some(), channel == Channel::Email);
            }
        }
        let digests: Vec<_> = templates.iter().filter(|t| t.name == TemplateName::OrderDigest).collect();
        assert_eq!(digests.len(), 1, "the digest is e-mail only: {digests:?}");
        assert_eq!(digests[0].channel, Channel::Email);
        assert!(digests[0].description.contains("一括取込"), "{:?}", digests[0].description);
        assert_eq!(templates.last().map(|t| t.name), Some(TemplateName::OrderDigest), "listed last");
    }
}

#[tokio::test]
async fn listed_email_subjects_match_what_is_rendered() {
    let app = spawn_app().await;
    let templates: Vec<Template> = app.get("/api/v1/notifications/templates").await.json().await.unwrap();
    let emails: Vec<_> = templates.iter().filter(|t| t.channel == Channel::Email).collect();
    assert_eq!(emails.len(), 4);
    for template in emails {
        let listed = template.subject.as_deref().unwrap();
        let (rendered, expected) = if template.name == TemplateName::OrderDigest {
            // The digest cannot be sent alone: it goes through the batch endpoint.
            let digest = digest_request(314, &["PO-1", "PO-2", "PO-3"]);
            let outcome = app.accept_batch(&[batch_item("digest-314", "digest", digest)]).await;
            let notification = app.notification(outcome.results[0].notification_id.unwrap()).await;
            (notification.subject, listed.replace("{{ order_count }}", "3"))
        } else {
            let mut request = email_request(314);
            request["template"] = serde_json::json!(template.name.as_str());
            (app.accept_email(&request).await.subject, listed.replace("{{ order_id }}", "314"))
        };
        assert!(!expected.contains("{{"), "a placeholder is left in {expected:?}");
        assert_eq!(rendered.as_deref(), Some(expected.as_str()), "{:?}", template.name);
    }
}
