//! Webhooks between the services, signed by the Standard Webhooks scheme: `webhook-id`,
//! `webhook-timestamp` and `webhook-signature` (HMAC-SHA256 of `"{id}.{timestamp}.{body}"`
//! with a shared `whsec_…` secret), through the `standardwebhooks` crate.
//!
//! The sender signs with every configured secret and the receiver accepts any of its own, so
//! a secret is rotated by adding the new one on both sides, then removing the old one.
//! `SignedWebhook<T>` checks the signature on the raw bytes before anything parses them.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRef, FromRequest, Request};
use axum::http::HeaderMap;
use standardwebhooks::{Webhook, WebhookError, HEADER_WEBHOOK_ID, HEADER_WEBHOOK_SIGNATURE, HEADER_WEBHOOK_TIMESTAMP};

use crate::error::ApiError;

/// The secret of the Payment Service's webhooks to the Order Service when
/// `ORDER_WEBHOOK_SECRETS` is unset: development only (`APP_ENV=production` refuses it), so that
/// `make run` works with nothing configured.
pub const DEVELOPMENT_ORDER_WEBHOOK_SECRET: &str = "whsec_ZGV2ZWxvcG1lbnQtb25seS1vcmRlci13ZWJob29rLXNlY3JldA==";

/// The shared secrets of one webhook route, newest first.
#[derive(Clone)]
pub struct WebhookSecrets {
    keys: Arc<Vec<Webhook>>,
}

impl std::fmt::Debug for WebhookSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WebhookSecrets({} secrets)", self.keys.len())
    }
}

impl WebhookSecrets {
    /// Secrets in the `whsec_<base64>` form; at least one, each of 24 bytes or more.
    pub fn parse(secrets: &[String]) -> anyhow::Result<WebhookSecrets> {
        anyhow::ensure!(!secrets.is_empty(), "at least one webhook secret is needed");
        let mut keys = Vec::with_capacity(secrets.len());
        for secret in secrets {
            let raw = secret.trim();
            anyhow::ensure!(raw.starts_with("whsec_"), "a webhook secret starts with whsec_");
            use base64::Engine;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(&raw["whsec_".len()..])
                .map_err(|err| anyhow::anyhow!("a webhook secret is whsec_ and base64: {err}"))?;
            anyhow::ensure!(bytes.len() >= 24, "a webhook secret needs at least 24 random bytes");
            keys.push(Webhook::from_bytes(bytes)?);
        }
        Ok(WebhookSecrets { keys: Arc::new(keys) })
    }

    /// The three headers for sending `body` as message `id`, signed now with every secret.
    pub fn sign(&self, id: &str, body: &[u8]) -> anyhow::Result<[(&'static str, String); 3]> {
        let timestamp = chrono::Utc::now().timestamp();
        let signatures = self
            .keys
            .iter()
            .map(|key| key.sign(id, timestamp, body))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|err| anyhow::anyhow!("cannot sign the webhook: {err}"))?;
        Ok([
            (HEADER_WEBHOOK_ID, id.to_owned()),
            (HEADER_WEBHOOK_TIMESTAMP, timestamp.to_string()),
            (HEADER_WEBHOOK_SIGNATURE, signatures.join(" ")),
        ])
    }

    /// Checks `body` against the headers: present, within five minutes of now, and signed by
    /// one of the secrets.
    pub fn verify(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), ApiError> {
        let mut last = WebhookError::InvalidSignature;
        for key in self.keys.iter() {
            match key.verify(body, headers) {
                Ok(()) => return Ok(()),
                Err(err) => last = err,
            }
        }
        Err(ApiError::Unauthorized(match last {
            WebhookError::MissingHeader(_) => {
                "unsigned webhook: webhook-id, webhook-timestamp and webhook-signature are required".to_owned()
            }
            WebhookError::TimestampTooOldError | WebhookError::FutureTimestampError => {
                "stale webhook: its timestamp is more than five minutes from now".to_owned()
            }
            WebhookError::InvalidTimestamp | WebhookError::InvalidHeader(_) => "malformed webhook headers".to_owned(),
            _ => "the webhook signature does not verify".to_owned(),
        }))
    }
}

/// A webhook whose signature verified, with its message id, what names this one delivery of it
/// (for recognising a replay), and its JSON body.
#[derive(Debug, Clone)]
pub struct SignedWebhook<T> {
    pub id: String,
    /// `{webhook-id}.{webhook-timestamp}`: both are signed, so a replay cannot change them, and
    /// the sender signs each attempt at a timestamp of its own. Not the signature header's text,
    /// which a replay may pad with other `v1,…` entries (one matching entry is enough to verify).
    pub delivery: String,
    pub body: T,
}

impl<S, T> FromRequest<S> for SignedWebhook<T>
where
    S: Send + Sync,
    WebhookSecrets: FromRef<S>,
    T: serde::de::DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let secrets = WebhookSecrets::from_ref(state);
        let headers = request.headers().clone();
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let (id, timestamp) = (header(HEADER_WEBHOOK_ID), header(HEADER_WEBHOOK_TIMESTAMP));
        let bytes =
            Bytes::from_request(request, state).await.map_err(|err| ApiError::Status(err.status(), err.body_text()))?;
        secrets.verify(&headers, &bytes)?;
        let (Some(id), Some(timestamp)) = (id, timestamp) else {
            return Err(ApiError::Unauthorized("unsigned webhook".into()));
        };
        let body = crate::extract::json_object(&headers, &bytes)?;
        Ok(SignedWebhook { delivery: format!("{id}.{timestamp}"), id, body })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const NEXT: &str = "whsec_2zfN0kPo5XBxJ9RhUdU2C6KtW1g8yYb3";

    fn headers_of(signed: [(&'static str, String); 3]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in signed {
            headers.insert(name, value.parse().unwrap());
        }
        headers
    }

    #[test]
    fn a_signed_body_verifies_and_a_changed_one_does_not() {
        let secrets = WebhookSecrets::parse(&[SECRET.into()]).unwrap();
        let headers = headers_of(secrets.sign("payment-1-completed", br#"{"a":1}"#).unwrap());
        assert!(secrets.verify(&headers, br#"{"a":1}"#).is_ok());
        assert!(secrets.verify(&headers, br#"{"a":2}"#).is_err());
        let other = WebhookSecrets::parse(&[NEXT.into()]).unwrap();
        assert!(other.verify(&headers, br#"{"a":1}"#).is_err());
    }

    #[test]
    fn during_a_rotation_either_side_may_have_either_secret() {
        let sender = WebhookSecrets::parse(&[NEXT.into(), SECRET.into()]).unwrap();
        let headers = headers_of(sender.sign("m", b"{}").unwrap());
        for receiver in [&[SECRET][..], &[NEXT][..], &[NEXT, SECRET][..]] {
            let receiver = WebhookSecrets::parse(&receiver.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
            assert!(receiver.verify(&headers, b"{}").is_ok());
        }
    }

    #[test]
    fn stale_and_unsigned_webhooks_are_refused_with_their_reason() {
        let secrets = WebhookSecrets::parse(&[SECRET.into()]).unwrap();
        let mut headers = headers_of(secrets.sign("m", b"{}").unwrap());
        let stale = (chrono::Utc::now().timestamp() - 301).to_string();
        headers.insert(HEADER_WEBHOOK_TIMESTAMP, stale.parse().unwrap());
        assert!(secrets.verify(&headers, b"{}").unwrap_err().to_string().starts_with("stale webhook"));
        assert!(secrets.verify(&HeaderMap::new(), b"{}").unwrap_err().to_string().starts_with("unsigned webhook"));
    }

    #[test]
    fn weak_or_malformed_secrets_are_refused() {
        assert!(WebhookSecrets::parse(&[]).is_err());
        assert!(WebhookSecrets::parse(&["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into()]).is_err());
        assert!(WebhookSecrets::parse(&["whsec_c2hvcnQ=".into()]).is_err());
        assert!(WebhookSecrets::parse(&["whsec_!!".into()]).is_err());
    }
}
