//! Accepting (one at a time, or in batches for bulk imports), reading and listing
//! notifications.

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use platform::api::notifications::{
    Channel, NewEmail, NewNotificationBatch, NewSms, Notification, NotificationBatchOutcome, NotificationStats,
    NotificationStatus,
};
use platform::api::{ErrorBody, TOTAL_COUNT_HEADER};
use platform::auth::{require, Authorized};
use platform::extract::{Json, Path, Query};
use platform::{ApiError, ApiResult};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use crate::db::notifications::{self as db, ListFilter};
use crate::domain::batch::{self, Intake, StoredKeys};
use crate::domain::AcceptedNotification;
use platform::extract::IdempotencyKey;

const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 200;
/// Largest body of a batch. A thousand e-mails (about 0.5 KiB each), or digests listing the
/// orders of a whole import, go past the 1 MiB every other request is held to.
const BATCH_BODY_LIMIT: usize = 8 * 1024 * 1024;

pub fn router() -> OpenApiRouter<AppState> {
    let batches = OpenApiRouter::new().routes(routes!(create_batch)).layer(DefaultBodyLimit::max(BATCH_BODY_LIMIT));
    OpenApiRouter::new()
        .routes(routes!(list))
        .route("/api/v1/notifications", get(list))
        .routes(routes!(create_email))
        .routes(routes!(create_sms))
        .merge(batches)
        .routes(routes!(stats))
        .routes(routes!(list_by_order))
        .routes(routes!(get_one))
}

/// Accepts an e-mail: validated, rendered and stored PENDING; sent later by the sender.
#[utoipa::path(
    post,
    path = "/api/v1/notifications/email",
    tag = "notifications",
    security(("bearer" = ["send_notifications"])),
    request_body = NewEmail,
    params(("Idempotency-Key" = Option<String>, Header,
        description = "Up to 200 characters; a repeat returns the notification the first request created")),
    responses(
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The caller may not send notifications", body = ErrorBody),
        (status = 201, description = "Accepted (or already accepted under this Idempotency-Key)", body = Notification),
        (status = 415, description = "Not a JSON body", body = ErrorBody),
        (status = 422, description = "Invalid field", body = ErrorBody),
    )
)]
pub async fn create_email(
    State(state): State<AppState>,
    _caller: Authorized<require::SendNotifications>,
    headers: HeaderMap,
    Json(request): Json<NewEmail>,
) -> ApiResult<(StatusCode, Json<Notification>)> {
    let key = IdempotencyKey::from_headers(&headers)?;
    let accepted = AcceptedNotification::email(&request)?;
    accept(&state, accepted, key).await
}

/// Accepts an SMS: the recipient is stored in E.164; sent later by the sender.
#[utoipa::path(
    post,
    path = "/api/v1/notifications/sms",
    tag = "notifications",
    security(("bearer" = ["send_notifications"])),
    request_body = NewSms,
    params(("Idempotency-Key" = Option<String>, Header,
        description = "Up to 200 characters; a repeat returns the notification the first request created")),
    responses(
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The caller may not send notifications", body = ErrorBody),
        (status = 201, description = "Accepted (or already accepted under this Idempotency-Key)", body = Notification),
        (status = 415, description = "Not a JSON body", body = ErrorBody),
        (status = 422, description = "Invalid field", body = ErrorBody),
    )
)]
pub async fn create_sms(
    State(state): State<AppState>,
    _caller: Authorized<require::SendNotifications>,
    headers: HeaderMap,
    Json(request): Json<NewSms>,
) -> ApiResult<(StatusCode, Json<Notification>)> {
    let key = IdempotencyKey::from_headers(&headers)?;
    let accepted = AcceptedNotification::sms(&request)?;
    accept(&state, accepted, key).await
}

/// Stores the notification, or finds the one an earlier request with the same key stored.
async fn accept(
    state: &AppState,
    accepted: AcceptedNotification,
    key: Option<IdempotencyKey>,
) -> ApiResult<(StatusCode, Json<Notification>)> {
    let row = match db::insert(&state.db.write, &accepted, key.as_ref(), chrono::Utc::now()).await? {
        Some(row) => {
            state.sender_wake.notify_one();
            row
        }
        None => {
            // The insert only does nothing when the key is taken, and rows are never
            // deleted, so the row is there. Read through the writer, which sees every
            // committed write.
            let key = key.ok_or_else(|| anyhow::anyhow!("insert without an idempotency key stored nothing"))?;
            db::find_by_idempotency_key(&state.db.write, &key)
                .await?
                .ok_or_else(|| anyhow::anyhow!("idempotency key {:?} conflicts but has no row", key.as_str()))?
        }
    };
    Ok((StatusCode::CREATED, Json(row.try_into()?)))
}

/// Queues up to 1,000 notifications at once (bulk imports): e-mails, each exactly the body of
/// `POST /api/v1/notifications/email`, and digests (`ORDER_DIGEST`: one e-mail listing a
/// customer's orders of one import, filed under the first order). Every item carries its own
/// idempotency key. The answer has one result per item, in request order: 202 queued now, 200
/// already queued under that key (by an earlier request, or by an earlier item of this batch),
/// 422 refused with the reason; a refused item does not stop the others. Like the single
/// endpoints, it only stores: the sender sends later, at its rate limit.
#[utoipa::path(
    post,
    path = "/api/v1/notifications/batch",
    tag = "notifications",
    security(("bearer" = ["send_notifications"])),
    request_body = NewNotificationBatch,
    responses(
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The caller may not send notifications", body = ErrorBody),
        (status = 202, description = "Every item was looked at: see each result", body = NotificationBatchOutcome),
        (status = 413, description = "Body over 8 MiB", body = ErrorBody),
        (status = 415, description = "Not a JSON body", body = ErrorBody),
        (status = 422, description = "Malformed body, or not 1 to 1,000 items: nothing was stored", body = ErrorBody),
    )
)]
pub async fn create_batch(
    State(state): State<AppState>,
    _caller: Authorized<require::SendNotifications>,
    Json(request): Json<NewNotificationBatch>,
) -> ApiResult<(StatusCode, Json<NotificationBatchOutcome>)> {
    let items = &request.notifications;
    batch::check_size(items)?;
    // Validate and render everything first, so that the writer is held only for the inserts.
    let plan = batch::plan(items)?;
    let rows: Vec<_> = plan
        .iter()
        .filter_map(|intake| match intake {
            Intake::Store { key, notification } => Some((key, notification)),
            Intake::SameKeyAs(_) | Intake::Refused(_) => None,
        })
        .collect();
    let stored = if rows.is_empty() {
        StoredKeys::default()
    } else {
        db::insert_many(&state.db.write, &rows, chrono::Utc::now()).await?
    };
    if !stored.inserted.is_empty() {
        state.sender_wake.notify_one();
    }
    Ok((StatusCode::ACCEPTED, Json(batch::outcome(items, &plan, &stored)?)))
}

/// The delivery queue at a glance: `pending` is the queue's depth (notifications waiting to
/// be sent, or to be retried), `sent` and `failed` how many ended each way, and
/// `rate_per_second` the rate the sender drains the queue at (NFR-008), so that
/// `pending / rate_per_second` estimates the seconds until the queue is empty.
#[utoipa::path(
    get,
    path = "/api/v1/notifications/stats",
    tag = "notifications",
    security(("bearer" = ["read"])),
    responses(
        (status = 200, body = NotificationStats),
        (status = 401, description = "No valid token", body = ErrorBody),
    )
)]
pub async fn stats(
    State(state): State<AppState>,
    _caller: Authorized<require::Read>,
) -> ApiResult<Json<NotificationStats>> {
    let counts = db::count_by_status(&state.db.read).await?;
    Ok(Json(NotificationStats {
        pending: counts.pending,
        sent: counts.sent,
        failed: counts.failed,
        rate_per_second: state.rate_per_sec,
    }))
}

#[utoipa::path(
    get,
    path = "/api/v1/notifications/{id}",
    tag = "notifications",
    security(("bearer" = ["read"])),
    params(("id" = i64, Path, description = "Notification id")),
    responses(
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 200, body = Notification),
        (status = 404, body = ErrorBody),
        (status = 422, description = "The id is not an integer", body = ErrorBody),
    )
)]
pub async fn get_one(
    State(state): State<AppState>,
    _caller: Authorized<require::Read>,
    Path(id): Path<i64>,
) -> ApiResult<Json<Notification>> {
    let row = db::find(&state.db.read, id).await?.ok_or_else(|| ApiError::not_found("notification", id))?;
    Ok(Json(row.try_into()?))
}

/// Every notification about one order, oldest first (an empty list when there is none).
#[utoipa::path(
    get,
    path = "/api/v1/notifications/order/{order_id}",
    tag = "notifications",
    security(("bearer" = ["read"])),
    params(("order_id" = i64, Path, description = "Order id")),
    responses(
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 200, body = [Notification]),
        (status = 422, description = "The order id is not an integer", body = ErrorBody),
    )
)]
pub async fn list_by_order(
    State(state): State<AppState>,
    _caller: Authorized<require::Read>,
    Path(order_id): Path<i64>,
) -> ApiResult<Json<Vec<Notification>>> {
    let rows = db::list_by_order(&state.db.read, order_id).await?;
    Ok(Json(to_notifications(rows)?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// PENDING, SENT or FAILED.
    status: Option<String>,
    /// email or sms.
    channel: Option<String>,
    /// Rows to skip (default 0).
    skip: Option<i64>,
    /// Page size, 1..=200 (default 50).
    limit: Option<i64>,
}

/// Notifications, newest first, optionally filtered; the total is in `X-Total-Count`.
#[utoipa::path(
    get,
    path = "/api/v1/notifications/",
    tag = "notifications",
    security(("bearer" = ["read"])),
    params(ListParams),
    responses(
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 200, body = [Notification],
            headers(("x-total-count" = i64, description = "Notifications matching the filters"))),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    _caller: Authorized<require::Read>,
    Query(params): Query<ListParams>,
) -> ApiResult<impl IntoResponse> {
    let filter = ListFilter {
        status: parse_filter(params.status.as_deref(), "status", "PENDING, SENT or FAILED", |s| {
            NotificationStatus::parse(&s.to_ascii_uppercase())
        })?,
        channel: parse_filter(params.channel.as_deref(), "channel", "email or sms", |s| {
            Channel::parse(&s.to_ascii_lowercase())
        })?,
    };
    let skip = params.skip.unwrap_or(0);
    if skip < 0 {
        return Err(ApiError::Unprocessable(format!("skip must not be negative (got {skip})")));
    }
    let limit = params.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::Unprocessable(format!("limit must be between 1 and {MAX_LIMIT} (got {limit})")));
    }
    let total = db::count(&state.db.read, filter).await?;
    let rows = db::list(&state.db.read, filter, skip, limit).await?;
    Ok(([(TOTAL_COUNT_HEADER, total.to_string())], Json(to_notifications(rows)?)))
}

/// An empty value means "no filter", as a dashboard form with nothing chosen sends it.
fn parse_filter<T>(
    text: Option<&str>,
    field: &str,
    allowed: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> ApiResult<Option<T>> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(text) => parse(text)
            .map(Some)
            .ok_or_else(|| ApiError::Unprocessable(format!("{field} must be {allowed} (got '{text}')"))),
    }
}

fn to_notifications(rows: Vec<db::NotificationRow>) -> ApiResult<Vec<Notification>> {
    Ok(rows.into_iter().map(Notification::try_from).collect::<anyhow::Result<Vec<_>>>()?)
}
