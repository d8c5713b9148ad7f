//! `/api/v1/orders`: thin handlers that read the request, call the lifecycle or the database,
//! and shape the answer.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use chrono::Utc;
use platform::api::orders::{
    NewOrder, Order, OrderItem, OrderStats, OrderStatus, PaymentWebhook, StatusChange, StatusUpdate,
};
use platform::api::{ErrorBody, TOTAL_COUNT_HEADER};
use platform::auth::{require, Authorized};
use platform::db::now_millis;
use platform::extract::{IdempotencyKey, Json, Path, Query};
use platform::openapi::Alias;
use platform::webhook::SignedWebhook;
use platform::whole_number::WholeNumber;
use platform::{ApiError, ApiResult};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use crate::db;
use crate::db::orders::OrderFilter;
use crate::domain::idempotency::fingerprint;
use crate::domain::status::{on_payment_event, PaymentEventAction, REASON_CANCELLED_BY_REQUEST};
use crate::domain::{StatusReason, ValidOrder};
use crate::lifecycle::{self, Created, Decision, RequestKey};

const DEFAULT_LIMIT: i64 = 20;
const MAX_LIMIT: i64 = 100;

/// The spellings `router` also answers under (the spec writes the collection both ways).
pub const ALIASES: &[Alias] = &[
    Alias { path: "/api/v1/orders", of: "/api/v1/orders/", method: "post" },
    Alias { path: "/api/v1/orders", of: "/api/v1/orders/", method: "get" },
];

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_order, list_orders))
        // The same two without the trailing slash of the documented path.
        .route("/api/v1/orders", post(create_order).get(list_orders))
        .routes(routes!(get_stats))
        .routes(routes!(get_order, cancel_order))
        .routes(routes!(get_history))
        .routes(routes!(update_status))
        .routes(routes!(payment_webhook))
}

/// Create an order and take its payment (002 §5).
///
/// The answer is 201 whatever the payment's outcome: `paid`, `pending` when the payment was
/// refused (the reason is in the history), or `payment_processing` while the outcome is not
/// known yet (deferred capture, or the Payment Service unreachable and retried).
///
/// With an `Idempotency-Key` (the caller's own: keys of different callers never meet), the
/// order is created once: the same key and body again is answered with the first answer,
/// verbatim; the key with another body is 422; while the first request is still running,
/// 409. Keys are kept 24 hours.
#[utoipa::path(
    post,
    path = "/api/v1/orders/",
    tag = "orders",
    security(("bearer" = ["manage_orders"])),
    params(("Idempotency-Key" = Option<String>, Header,
        description = "Makes a retry safe: the same key and body return the first answer (1 … 200 visible characters; kept 24 hours)")),
    request_body = NewOrder,
    responses(
        (status = 201, description = "Order created (or, for a repeated Idempotency-Key, the first answer)", body = Order),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The caller may not manage orders", body = ErrorBody),
        (status = 409, description = "A request with this Idempotency-Key is still running", body = ErrorBody),
        (status = 422, description = "Invalid order, or an Idempotency-Key used with another body", body = ErrorBody),
    )
)]
pub async fn create_order(
    State(state): State<AppState>,
    caller: Authorized<require::ManageOrders>,
    headers: HeaderMap,
    Json(body): Json<NewOrder>,
) -> ApiResult<Response> {
    let key = IdempotencyKey::from_headers(&headers)?;
    let request_hash = match &key {
        Some(_) => Some(fingerprint(&serde_json::to_vec(&body).map_err(anyhow::Error::from)?)),
        None => None,
    };
    let order = ValidOrder::parse(body).map_err(|err| ApiError::Unprocessable(err.to_string()))?;
    let caller = caller.principal.subject();
    // Detached so that a client hanging up mid-payment does not leave the order waiting for
    // the recovery path: the outcome is recorded now either way.
    let created = platform::telemetry::run_to_completion(async move {
        match (key, request_hash) {
            (Some(key), Some(hash)) => {
                let request = RequestKey { caller: &caller, key: key.as_str() };
                lifecycle::create_order_once(&state.core, order, request, &hash).await
            }
            _ => lifecycle::create_order(&state.core, order, None).await.map(Created::New),
        }
    })
    .await??;
    Ok(match created {
        Created::New(order) => (StatusCode::CREATED, Json(order)).into_response(),
        Created::Replayed { status, body } => (
            StatusCode::from_u16(status).unwrap_or(StatusCode::CREATED),
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response(),
    })
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Orders to skip (default 0).
    #[param(value_type = Option<i64>, minimum = 0)]
    skip: Option<WholeNumber>,
    /// Page size, 1 ..= 100 (default 20).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    limit: Option<WholeNumber>,
    /// Only orders in this status.
    status: Option<OrderStatus>,
    /// Only orders of this customer (the whole address, case-insensitive).
    customer_email: Option<String>,
    /// Only orders whose customer address contains this text (case-insensitive).
    q: Option<String>,
    /// Only the orders of this import.
    batch_id: Option<String>,
}

/// List orders, newest first. The total number of matching orders is in `X-Total-Count`.
#[utoipa::path(
    get,
    path = "/api/v1/orders/",
    tag = "orders",
    security(("bearer" = ["read"])),
    params(ListQuery),
    responses(
        (status = 200, description = "One page of orders", body = [Order],
         headers(("x-total-count" = i64, description = "Number of orders matching the filter"))),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 422, description = "Invalid query", body = ErrorBody),
    )
)]
pub async fn list_orders(
    State(state): State<AppState>,
    _caller: Authorized<require::Read>,
    Query(query): Query<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    let (skip, limit) = super::page(query.skip, query.limit, DEFAULT_LIMIT, MAX_LIMIT)?;
    let mut filter = OrderFilter::default();
    filter.status = query.status;
    filter.customer_email = query.customer_email.map(|e| e.trim().to_owned()).filter(|e| !e.is_empty());
    filter.batch_id = query.batch_id.map(|b| b.trim().to_owned()).filter(|b| !b.is_empty());
    if let Some(text) = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        filter = filter.email_containing(text);
    }

    let total = db::orders::count_orders(&state.core.db.read, &filter).await?;
    let rows = db::orders::list_orders(&state.core.db.read, &filter, skip, limit).await?;
    let ids: Vec<i64> = rows.iter().map(|row| row.id).collect();
    let mut items: HashMap<i64, Vec<OrderItem>> = HashMap::with_capacity(ids.len());
    for item in db::orders::fetch_items_of(&state.core.db.read, &ids).await? {
        items.entry(item.order_id).or_default().push(item.into());
    }
    let orders = rows
        .into_iter()
        .map(|row| {
            let order_items = items.remove(&row.id).unwrap_or_default();
            row.into_order(order_items)
        })
        .collect::<anyhow::Result<Vec<Order>>>()?;
    Ok(([(TOTAL_COUNT_HEADER, total.to_string())], Json(orders)))
}

/// Figures for the dashboard's overview: orders per status, money taken, orders today.
#[utoipa::path(
    get,
    path = "/api/v1/orders/stats",
    tag = "orders",
    security(("bearer" = ["read"])),
    responses(
        (status = 200, description = "Order figures", body = OrderStats),
        (status = 401, description = "No valid token", body = ErrorBody),
    )
)]
pub async fn get_stats(
    State(state): State<AppState>,
    _caller: Authorized<require::Read>,
) -> ApiResult<Json<OrderStats>> {
    let today_starts_at = platform::japan_time::start_of_day(Utc::now());
    let stats = db::orders::stats(&state.core.db.read, today_starts_at).await?;
    Ok(Json(stats))
}

/// One order with its items.
#[utoipa::path(
    get,
    path = "/api/v1/orders/{order_id}",
    tag = "orders",
    security(("bearer" = ["read"])),
    params(("order_id" = i64, Path, description = "Order id")),
    responses(
        (status = 200, description = "The order", body = Order),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such order", body = ErrorBody),
    )
)]
pub async fn get_order(
    State(state): State<AppState>,
    _caller: Authorized<require::Read>,
    Path(WholeNumber(order_id)): Path<WholeNumber>,
) -> ApiResult<Json<Order>> {
    let order = lifecycle::load_order(&state.core.db.read, order_id).await?;
    order.map(Json).ok_or_else(|| ApiError::not_found("Order", order_id))
}

/// Every status the order went through, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/orders/{order_id}/history",
    tag = "orders",
    security(("bearer" = ["read"])),
    params(("order_id" = i64, Path, description = "Order id")),
    responses(
        (status = 200, description = "The status history", body = [StatusChange]),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such order", body = ErrorBody),
    )
)]
pub async fn get_history(
    State(state): State<AppState>,
    _caller: Authorized<require::Read>,
    Path(WholeNumber(order_id)): Path<WholeNumber>,
) -> ApiResult<Json<Vec<StatusChange>>> {
    let rows = db::history::fetch(&state.core.db.read, order_id).await?;
    // Every order is created with its history, so no rows means no order.
    if rows.is_empty() {
        return Err(ApiError::not_found("Order", order_id));
    }
    let changes = rows.into_iter().map(db::HistoryRow::into_change).collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Json(changes))
}

/// Change the order's status along the state machine of 002 §4 (an illegal change is 409).
/// Shipping sends the shipped e-mail; cancelling a paid order refunds it.
#[utoipa::path(
    put,
    path = "/api/v1/orders/{order_id}/status",
    tag = "orders",
    security(("bearer" = ["manage_orders"])),
    params(("order_id" = i64, Path, description = "Order id")),
    request_body = StatusUpdate,
    responses(
        (status = 200, description = "The order in its new status", body = Order),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The caller may not manage orders", body = ErrorBody),
        (status = 404, description = "No such order", body = ErrorBody),
        (status = 409, description = "The state machine does not allow this change", body = ErrorBody),
        (status = 422, description = "Invalid request", body = ErrorBody),
    )
)]
pub async fn update_status(
    State(state): State<AppState>,
    _caller: Authorized<require::ManageOrders>,
    Path(WholeNumber(order_id)): Path<WholeNumber>,
    Json(update): Json<StatusUpdate>,
) -> ApiResult<Json<Order>> {
    let reason =
        StatusReason::parse(update.reason.as_deref()).map_err(ApiError::Unprocessable)?.map(StatusReason::into_inner);
    let to = update.status;
    let order =
        lifecycle::change_status(&state.core, order_id, |_| Ok(Decision::Move { to, reason: reason.clone() })).await?;
    Ok(Json(order))
}

/// Cancel the order: refund if it was paid, and tell the customer. Only a `pending` or
/// `paid` order can be cancelled (409 otherwise).
#[utoipa::path(
    delete,
    path = "/api/v1/orders/{order_id}",
    tag = "orders",
    security(("bearer" = ["manage_orders"])),
    params(("order_id" = i64, Path, description = "Order id")),
    responses(
        (status = 200, description = "The cancelled order", body = Order),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The caller may not manage orders", body = ErrorBody),
        (status = 404, description = "No such order", body = ErrorBody),
        (status = 409, description = "The order can no longer be cancelled", body = ErrorBody),
    )
)]
pub async fn cancel_order(
    State(state): State<AppState>,
    _caller: Authorized<require::ManageOrders>,
    Path(WholeNumber(order_id)): Path<WholeNumber>,
) -> ApiResult<Json<Order>> {
    let order = lifecycle::change_status(&state.core, order_id, |_| {
        Ok(Decision::Move { to: OrderStatus::Cancelled, reason: Some(REASON_CANCELLED_BY_REQUEST.to_owned()) })
    })
    .await?;
    Ok(Json(order))
}

/// The Payment Service reporting a payment's outcome, signed by the Standard Webhooks scheme
/// with the secret the two services share (`ORDER_WEBHOOK_SECRETS`). Unsigned, forged or stale
/// (more than five minutes old) is 401; the very same signed message a second time is a replay,
/// 400. A retry is signed anew, and a status the order already reflects is answered 200 without
/// change.
#[utoipa::path(
    post,
    path = "/api/v1/orders/{order_id}/webhook",
    tag = "orders",
    security(("webhook_signature" = [])),
    params(("order_id" = i64, Path, description = "Order id")),
    request_body = PaymentWebhook,
    responses(
        (status = 200, description = "The order after the event", body = Order),
        (status = 400, description = "A replay of a message received before", body = ErrorBody),
        (status = 401, description = "Unsigned, forged or stale", body = ErrorBody),
        (status = 404, description = "No such order", body = ErrorBody),
        (status = 409, description = "The event contradicts the order's status", body = ErrorBody),
        (status = 422, description = "Invalid request", body = ErrorBody),
    )
)]
pub async fn payment_webhook(
    State(state): State<AppState>,
    Path(WholeNumber(order_id)): Path<WholeNumber>,
    webhook: SignedWebhook<PaymentWebhook>,
) -> ApiResult<Json<Order>> {
    let event = webhook.body;
    if event.order_id != order_id {
        return Err(ApiError::Unprocessable(format!(
            "the webhook is about order {}, not order {order_id}",
            event.order_id
        )));
    }
    let now = now_millis();
    let first_time = db::webhook_receipts::record(&state.core.db.write, &webhook.delivery, &webhook.id, now).await?;
    if !first_time {
        tracing::warn!(order_id, message_id = %webhook.id, "replayed payment webhook refused");
        return Err(ApiError::BadRequest("replayed webhook: this signed message was received already".into()));
    }
    tracing::info!(order_id, payment_id = event.payment_id, status = event.status.as_str(), "payment webhook");
    let order = lifecycle::change_status(&state.core, order_id, |current| {
        match on_payment_event(current, event.status, event.reason.as_deref()) {
            Ok(PaymentEventAction::Transition { to, reason }) => Ok(Decision::Move { to, reason: Some(reason) }),
            Ok(PaymentEventAction::NoChange) => Ok(Decision::Keep),
            Err(conflict) => Err(ApiError::Conflict(conflict.to_string())),
        }
    })
    .await?;
    Ok(Json(order))
}
