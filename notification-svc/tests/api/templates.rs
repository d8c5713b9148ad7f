//! `GET /api/v1/notifications/templates`: the catalogue, in step with what is rendered.

use platform::api::notifications::{Channel, Template};

use crate::helpers::{email_request, spawn_app};

#[tokio::test]
async fn the_three_templates_are_listed_for_both_channels() {
    let app = spawn_app().await;
    for path in ["/api/v1/notifications/templates", "/api/v1/notifications/templates/"] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 200);
        let templates: Vec<Template> = response.json().await.unwrap();
        assert_eq!(templates.len(), 6);
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
    }
}

#[tokio::test]
async fn listed_email_subjects_match_what_is_rendered() {
    let app = spawn_app().await;
    let templates: Vec<Template> = app.get("/api/v1/notifications/templates").await.json().await.unwrap();
    for template in templates.iter().filter(|t| t.channel == Channel::Email) {
        let mut request = email_request(314);
        request["template"] = serde_json::json!(template.name.as_str());
        let accepted = app.accept_email(&request).await;
        let expected = template.subject.as_deref().unwrap().replace("{{ order_id }}", "314");
        assert_eq!(accepted.subject.as_deref(), Some(expected.as_str()), "{:?}", template.name);
    }
}
