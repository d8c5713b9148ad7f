//! Logs and the request id.
//!
//! Every incoming request gets an `x-request-id` (the caller's, or a fresh UUID). It is in
//! every log line of the request's span, returned in the response, and kept in a task-local
//! so that an outgoing call to a peer service carries it on without threading it through
//! every function. Outbox rows store it, so a retry an hour later still carries the id of the
//! request that caused it.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing_subscriber::EnvFilter;

use crate::api::REQUEST_ID_HEADER;

tokio::task_local! {
    static REQUEST_ID: String;
}

/// Installs the global subscriber: `RUST_LOG` filters (default `info`), `LOG_FORMAT=json`
/// switches to one JSON object per line. Calling it twice is harmless (tests do).
pub fn init(default_filter: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let json = std::env::var("LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = if json { builder.json().try_init() } else { builder.try_init() };
}

/// The request id of the request (or outbox delivery) being handled by this task, if any.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// Runs `fut` with `request_id` as the current request id.
pub async fn with_request_id<F: std::future::Future>(request_id: Option<String>, fut: F) -> F::Output {
    match request_id {
        Some(id) => REQUEST_ID.scope(id, fut).await,
        None => fut.await,
    }
}

/// Middleware: makes sure the request has an id, scopes the handler with it, echoes it back.
pub async fn request_id_middleware(mut request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128)
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let header = HeaderValue::from_str(&id).unwrap_or_else(|_| HeaderValue::from_static("invalid"));
    request.headers_mut().insert(REQUEST_ID_HEADER, header.clone());
    let mut response = REQUEST_ID.scope(id, next.run(request)).await;
    response.headers_mut().insert(REQUEST_ID_HEADER, header);
    response
}

/// Runs `work` on a task of its own, with this request's id and span, and waits for it.
///
/// When a client hangs up, axum drops the handler's future wherever it is. For work that
/// must not stop halfway — a charge at the gateway, an order between its payment and the
/// recording of the outcome — that would leave the outcome to a recovery path minutes later;
/// on its own task it finishes regardless, and only the answer is lost.
pub async fn run_to_completion<F>(work: F) -> anyhow::Result<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    use tracing::Instrument;
    let task = tokio::spawn(with_request_id(current_request_id(), work).instrument(tracing::Span::current()));
    task.await.map_err(|err| anyhow::anyhow!("a detached task failed: {err}"))
}
