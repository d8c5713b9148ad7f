//! Logs, the request id and the trace context.
//!
//! Every incoming request gets an `x-request-id` (the caller's, or a fresh UUID) and a place in
//! a W3C trace (`traceparent`: a span below the caller's, or a new trace). Both are in every log
//! line of the request's span (`request_id`, `trace_id`), the id is returned in the response,
//! and both are kept in a task-local so that an outgoing call to a peer service carries them on
//! without threading them through every function. Outbox rows store them, so a retry an hour
//! later still belongs to the request — and the trace — that caused it.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing_subscriber::EnvFilter;

use crate::api::REQUEST_ID_HEADER;
use crate::trace_context::{TraceContext, TRACEPARENT_HEADER};

/// Who caused the work a task is doing: a request, or the request an outbox row came from.
#[derive(Debug, Clone, Default)]
pub struct RequestContext {
    pub request_id: Option<String>,
    pub trace: Option<TraceContext>,
}

impl RequestContext {
    /// The context stored with an outbox row (`request_id`, `traceparent`), read back.
    pub fn stored(request_id: Option<String>, traceparent: Option<&str>) -> RequestContext {
        RequestContext { request_id, trace: traceparent.and_then(TraceContext::parse) }
    }

    /// The trace id to log, or empty.
    pub fn trace_id(&self) -> String {
        self.trace.map(|trace| trace.trace_id()).unwrap_or_default()
    }
}

tokio::task_local! {
    static CONTEXT: RequestContext;
}

/// Installs the global subscriber: `RUST_LOG` filters (default `info`), `LOG_FORMAT=json`
/// switches to one JSON object per line. Calling it twice is harmless (tests do).
pub fn init(default_filter: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let json = std::env::var("LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = if json { builder.json().try_init() } else { builder.try_init() };
}

/// The context of the request (or outbox delivery) being handled by this task, if any.
pub fn current() -> RequestContext {
    CONTEXT.try_with(Clone::clone).unwrap_or_default()
}

/// The request id of the request (or outbox delivery) being handled by this task, if any.
pub fn current_request_id() -> Option<String> {
    CONTEXT.try_with(|context| context.request_id.clone()).ok().flatten()
}

/// This task's span of its trace as a `traceparent` value, to store with the work it leaves
/// for later (an outbox row).
pub fn current_traceparent() -> Option<String> {
    CONTEXT.try_with(|context| context.trace.map(|trace| trace.to_string())).ok().flatten()
}

/// Runs `fut` within `context`.
pub async fn within<F: std::future::Future>(context: RequestContext, fut: F) -> F::Output {
    CONTEXT.scope(context, fut).await
}

/// Middleware: makes sure the request has an id and a span of a trace, scopes the handler with
/// them, and echoes the id back. The request's `traceparent` is rewritten to this service's own
/// span (a child of the caller's), which the request's log span then names.
pub async fn context_middleware(mut request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128)
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let trace = request
        .headers()
        .get(TRACEPARENT_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(TraceContext::parse)
        .map_or_else(TraceContext::new_root, |caller| caller.child());
    let header = HeaderValue::from_str(&id).unwrap_or_else(|_| HeaderValue::from_static("invalid"));
    request.headers_mut().insert(REQUEST_ID_HEADER, header.clone());
    if let Ok(value) = HeaderValue::from_str(&trace.to_string()) {
        request.headers_mut().insert(TRACEPARENT_HEADER, value);
    }
    let context = RequestContext { request_id: Some(id), trace: Some(trace) };
    let mut response = CONTEXT.scope(context, next.run(request)).await;
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
    let task = tokio::spawn(within(current(), work).instrument(tracing::Span::current()));
    task.await.map_err(|err| anyhow::anyhow!("a detached task failed: {err}"))
}
