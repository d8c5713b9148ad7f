//! `NotificationClient`: asking the Notification Service to send an order e-mail.

use std::time::Duration;

use platform::api::auth::NOTIFICATION_SERVICE;
use platform::api::notifications::{NewEmail, NewNotificationBatch, NotificationBatchOutcome};
use platform::peer::{http_client, send, PeerError};
use serde::de::IgnoredAny;

use crate::identity::ServiceTokens;

#[derive(Clone, Debug)]
pub struct NotificationClient {
    http: reqwest::Client,
    tokens: ServiceTokens,
    email_url: String,
    batch_url: String,
}

impl NotificationClient {
    pub fn new(base_url: &str, timeout: Duration, tokens: ServiceTokens) -> NotificationClient {
        let base_url = base_url.trim_end_matches('/');
        NotificationClient {
            http: http_client(timeout),
            tokens,
            email_url: format!("{base_url}/api/v1/notifications/email"),
            batch_url: format!("{base_url}/api/v1/notifications/batch"),
        }
    }

    /// `POST /api/v1/notifications/email`. Accepted means stored (the Notification Service
    /// sends at its own rate); the key makes a retried request a no-op there.
    #[tracing::instrument(skip_all, fields(order_id = email.order_id, template = email.template.as_str()))]
    pub async fn send_email(&self, email: &NewEmail, idempotency_key: &str) -> Result<(), PeerError> {
        // The answer's body is not needed; reading it as anything keeps a harmless change of
        // the Notification shape from turning an accepted e-mail into an endless retry.
        send::<IgnoredAny>(self.authorised(self.http.post(&self.email_url))?.json(email), Some(idempotency_key))
            .await?;
        Ok(())
    }

    /// `POST /api/v1/notifications/batch`: up to 1,000 e-mails queued in one call; each
    /// item's own key makes a repeated batch queue nothing twice.
    #[tracing::instrument(skip_all, fields(notifications = batch.notifications.len()))]
    pub async fn send_batch(&self, batch: &NewNotificationBatch) -> Result<NotificationBatchOutcome, PeerError> {
        send(self.authorised(self.http.post(&self.batch_url))?.json(batch), None).await
    }

    /// The request with this service's own token for the Notification Service.
    fn authorised(&self, request: reqwest::RequestBuilder) -> Result<reqwest::RequestBuilder, PeerError> {
        let token =
            self.tokens.for_peer(NOTIFICATION_SERVICE).map_err(|err| PeerError::Unavailable(err.to_string()))?;
        Ok(request.bearer_auth(token))
    }
}
