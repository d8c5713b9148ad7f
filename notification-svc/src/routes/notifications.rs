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
use platform::openapi::Alias;
use platform::whole_number::WholeNumber;
use platform::{ApiError, ApiResult};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use crate::db::notifications::{self as db, ListFilter};
use crate::domain::batch::{self, BatchItem, Intake, StoredKeys};
use crate::domain::AcceptedNotification;
use platform::extract::IdempotencyKey;

const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 200;
/// Largest body of a batch. A thousand e-mails (about 0.5 KiB each), or digests listing the
/// orders of a whole import, go past the 1 MiB every other request is held to.
const BATCH_BODY_LIMIT: usize = 8 * 1024 * 1024;

/// The spelling `router` also answers under, without the trailing slash.
pub const ALIASES: &[Alias] = &[Alias { path: "/api/v1/notifications", of: "/api/v1/notifications/", method: "get" }];

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
            crate::metrics::count("queued", 1);
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
/// customer's orders of one import, filed under the first order). An item may carry the
/// idempotency key its single request would; one without is queued each time it is sent. The
/// answer has one result per item, in request order: 202 queued now, 200 already queued under
/// that key (by an earlier request, or by an earlier item of this batch), 422 refused with the
/// reason — an invalid item, or one not of the documented shape; a refused item does not stop
/// the others. Like the single endpoints, it only stores: the sender sends later, at its rate
/// limit.
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
        (status = 422, description = "Malformed body, an item that is no JSON object, or not 1 to 1,000 items: nothing was stored", body = ErrorBody),
    )
)]
pub async fn create_batch(
    State(state): State<AppState>,
    _caller: Authorized<require::SendNotifications>,
    Json(request): Json<RawNotificationBatch>,
) -> ApiResult<(StatusCode, Json<NotificationBatchOutcome>)> {
    batch::check_size(request.notifications.len())?;
    let items: Vec<BatchItem> = request.notifications.into_iter().map(BatchItem::read).collect();
    let items = &items;
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
        crate::metrics::count("queued", stored.inserted.len());
    }
    Ok((StatusCode::ACCEPTED, Json(batch::outcome(items, &plan, &stored)?)))
}

/// `NewNotificationBatch` as read off the wire: each item stays raw until `BatchItem::read`
/// reads it on its own, so that an item of the wrong shape is refused in its result, as its
/// single request would be, instead of refusing the others.
#[derive(Debug, serde::Deserialize)]
pub struct RawNotificationBatch {
    notifications: Vec<serde_json::Map<String, serde_json::Value>>,
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
    Path(WholeNumber(id)): Path<WholeNumber>,
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
    Path(WholeNumber(order_id)): Path<WholeNumber>,
) -> ApiResult<Json<Vec<Notification>>> {
    let rows = db::list_by_order(&state.db.read, order_id).await?;
    Ok(Json(to_notifications(rows)?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    status: Option<NotificationStatus>,
    channel: Option<Channel>,
    /// Rows to skip (default 0).
    #[param(value_type = Option<i64>, minimum = 0)]
    skip: Option<WholeNumber>,
    /// Page size, 1..=200 (default 50).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 200)]
    limit: Option<WholeNumber>,
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
    let filter = ListFilter { status: params.status, channel: params.channel };
    let skip = params.skip.map_or(0, |n| n.0);
    if skip < 0 {
        return Err(ApiError::Unprocessable(format!("skip must not be negative (got {skip})")));
    }
    let limit = params.limit.map_or(DEFAULT_LIMIT, |n| n.0);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::Unprocessable(format!("limit must be between 1 and {MAX_LIMIT} (got {limit})")));
    }
    let total = db::count(&state.db.read, filter).await?;
    let rows = db::list(&state.db.read, filter, skip, limit).await?;
    Ok(([(TOTAL_COUNT_HEADER, total.to_string())], Json(to_notifications(rows)?)))
}

fn to_notifications(rows: Vec<db::NotificationRow>) -> ApiResult<Vec<Notification>> {
    Ok(rows.into_iter().map(Notification::try_from).collect::<anyhow::Result<Vec<_>>>()?)
}
