//! Calling a peer service: one way to build the HTTP client, pass the request id and the trace
//! on, and classify what came back. Each service's `clients/` build their typed clients on this.

use std::time::Duration;

use serde::de::DeserializeOwned;

use crate::api::{ErrorBody, IDEMPOTENCY_KEY_HEADER, REQUEST_ID_HEADER};
use crate::outbox::DeliveryError;
use crate::trace_context::{TraceContext, TRACEPARENT_HEADER};

/// A client for one peer, with the documented timeout for calls to it.
pub fn http_client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(2).min(timeout))
        .tcp_nodelay(true)
        .pool_idle_timeout(Duration::from_secs(30))
        .build()
        .expect("a reqwest client with these settings always builds")
}

/// What went wrong calling a peer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PeerError {
    /// No usable answer: connection refused, timeout, or a 5xx. The call may or may not have
    /// taken effect, so it must be retried with the same idempotency key.
    #[error("{0}")]
    Unavailable(String),
    /// The peer answered with a 4xx: it will not do this.
    #[error("{detail} ({status})")]
    Refused { status: u16, detail: String },
}

impl From<PeerError> for DeliveryError {
    fn from(err: PeerError) -> Self {
        match err {
            // 408 and 429 are the peer asking us to come back later.
            PeerError::Refused { status: 408 | 429, detail } => DeliveryError::Retry(detail),
            PeerError::Refused { .. } => DeliveryError::Permanent(err.to_string()),
            PeerError::Unavailable(reason) => DeliveryError::Retry(reason),
        }
    }
}

/// Sends a request built for a peer, with the current request id, a `traceparent` naming a span
/// of the current trace, and the given idempotency key, and reads the JSON answer.
pub async fn send<T: DeserializeOwned>(
    request: reqwest::RequestBuilder,
    idempotency_key: Option<&str>,
) -> Result<T, PeerError> {
    let mut request = request;
    let context = crate::telemetry::current();
    if let Some(id) = context.request_id {
        request = request.header(REQUEST_ID_HEADER, id);
    }
    // A call made outside any request (a background round) starts a trace of its own.
    let span = context.trace.map_or_else(TraceContext::new_root, |trace| trace.child());
    request = request.header(TRACEPARENT_HEADER, span.to_string());
    if let Some(key) = idempotency_key {
        request = request.header(IDEMPOTENCY_KEY_HEADER, key);
    }
    let response = request.send().await.map_err(|err| PeerError::Unavailable(describe(&err)))?;
    let status = response.status();
    if status.is_success() {
        return response
            .json::<T>()
            .await
            .map_err(|err| PeerError::Unavailable(format!("unreadable answer: {}", describe(&err))));
    }
    let detail = match response.json::<ErrorBody>().await {
        Ok(body) => body.detail,
        Err(_) => status.canonical_reason().unwrap_or("error").to_owned(),
    };
    if status.is_client_error() {
        Err(PeerError::Refused { status: status.as_u16(), detail })
    } else {
        Err(PeerError::Unavailable(format!("{detail} ({status})")))
    }
}

fn describe(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    let mut cause: Option<&dyn std::error::Error> = std::error::Error::source(err);
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    text
}
