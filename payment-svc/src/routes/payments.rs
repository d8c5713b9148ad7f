//! `POST /api/v1/payments`, `POST /api/v1/payments/batch`, `GET /api/v1/payments/{id}`,
//! `GET /api/v1/payments/order/{id}`, `GET /api/v1/payments/?order_id=`. Both POSTs only read
//! and answer: paying is `charging`, the same for one payment or a batch.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use platform::api::payments::{
    BatchPayment, BatchPaymentResult, NewPayment, NewPaymentBatch, Payment, PaymentBatchOutcome,
};
use platform::api::ErrorBody;
use platform::auth::{require, Authorized};
use platform::extract::{IdempotencyKey, Json, Path, Query};
use platform::openapi::Alias;
use platform::whole_number::WholeNumber;
use platform::{ApiError, ApiResult};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use crate::charging;
use crate::db::{gateway_events, payments as db};
use crate::domain::{check_batch_size, PaymentRequest};

/// The spellings `router` also answers under: each operation on the collection under the
/// other spelling of its path.
pub const ALIASES: &[Alias] = &[
    Alias { path: "/api/v1/payments/", of: "/api/v1/payments", method: "post" },
    Alias { path: "/api/v1/payments", of: "/api/v1/payments/", method: "get" },
];

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_payment))
        .routes(routes!(list_payments))
        // Each also under the other spelling of the collection's path.
        .route("/api/v1/payments/", post(create_payment))
        .route("/api/v1/payments", axum::routing::get(list_payments))
        .routes(routes!(create_payment_batch))
        .routes(routes!(get_payment))
        .routes(routes!(get_payment_by_order))
}

/// The payment as one read shows it: with the gateway's events.
async fn with_events(state: &AppState, row: db::PaymentRow) -> ApiResult<Payment> {
    let id = row.id;
    let mut payment = row.into_api()?;
    payment.gateway_events = gateway_events::of_payment(&state.db.read, id).await?;
    Ok(payment)
}

/// Charges an order (FR-011 … FR-015).
///
/// The row is inserted as `pending` before the gateway is called, so the UNIQUE constraints
/// decide which of several concurrent requests owns the order; only that one charges.
#[utoipa::path(
    post,
    path = "/api/v1/payments",
    tag = "payments",
    security(("bearer" = ["take_payments"])),
    request_body = NewPayment,
    params(("Idempotency-Key" = Option<String>, Header,
        description = "Makes a retry safe: the same key for the same order and amount returns the first payment (≤ 200 characters)")),
    responses(
        (status = 201, description = "Charged (status completed), or accepted by the gateway pending capture", body = Payment),
        (status = 400, description = "Amount outside 100 … 1,000,000 JPY", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 402, description = "Declined by the gateway; the failed payment is kept", body = ErrorBody),
        (status = 403, description = "The caller may not take payments", body = ErrorBody),
        (status = 409, description = "The order already has a payment, or the key was used for another payment", body = ErrorBody),
        (status = 422, description = "Malformed body, currency other than JPY, fractional yen", body = ErrorBody),
    )
)]
pub async fn create_payment(
    State(state): State<AppState>,
    _caller: Authorized<require::TakePayments>,
    headers: HeaderMap,
    Json(body): Json<NewPayment>,
) -> ApiResult<(StatusCode, Json<Payment>)> {
    let key = IdempotencyKey::from_headers(&headers)?;
    let request = PaymentRequest::parse(key, body.order_id, body.amount, body.currency)?;
    // Paid on its own task: if the client hangs up mid-charge, the outcome is still recorded
    // rather than leaving the payment pending forever.
    let outcome =
        platform::telemetry::run_to_completion(charging::pay_one(state.db.write.clone(), state.gateway, request))
            .await??;
    // A charge's outcome is announced to the Order Service (FR-018).
    state.outbox.wake();
    Ok((StatusCode::CREATED, Json(outcome.into_result()?)))
}

/// Charges up to 1,000 orders in one request (the Order Service's bulk import).
///
/// Each item is validated and processed exactly as a single `POST /api/v1/payments` carrying
/// `Idempotency-Key: <item.idempotency_key>` would be — the same code does both — and its
/// `status` is the status that call would have answered:
/// - 201: charged (`completed`), or accepted `pending` under deferred capture (settled later by
///   the gateway's webhook, which then tells the Order Service); also a replay of the same key
///   for the same order and amount, answered with the same payment;
/// - 402: declined by the gateway; the `failed` payment is included and kept;
/// - 400: amount outside 100 … 1,000,000 JPY;
/// - 409: the order already has a payment, the key was used for another order or amount, or
///   the same order came earlier in this batch under another key;
/// - 422: an invalid item (idempotency key, order id, currency, fraction of a yen, shape).
///
/// One bad item never stops the others, and results come back one per item, in request
/// order. An item repeated in the batch (same key, order and amount) gets the earlier one's
/// payment, so replaying a whole batch charges nothing new and returns the same payments.
/// Fewer than 1 or more than 1,000 items, or an item that is not a JSON object, refuse the
/// whole batch (422) and store nothing. So an item is documented as "a `BatchPayment`, or any
/// other object", which it is answered for in its result.
#[utoipa::path(
    post,
    path = "/api/v1/payments/batch",
    tag = "payments",
    security(("bearer" = ["take_payments"])),
    request_body = NewPaymentBatch,
    responses(
        (status = 200, description = "One result per item, in request order; each carries the status, payment and detail the single POST /api/v1/payments with that item's Idempotency-Key would have answered (201, 402, 400, 409, 422)", body = PaymentBatchOutcome),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The caller may not take payments", body = ErrorBody),
        (status = 415, description = "The body is not JSON", body = ErrorBody),
        (status = 422, description = "Malformed body, or not 1 … 1,000 payments; nothing was stored", body = ErrorBody),
    )
)]
pub async fn create_payment_batch(
    State(state): State<AppState>,
    _caller: Authorized<require::TakePayments>,
    Json(body): Json<RawPaymentBatch>,
) -> ApiResult<Json<PaymentBatchOutcome>> {
    check_batch_size(body.payments.len())?;
    let (items, requests): (Vec<ItemId>, Vec<_>) = body.payments.into_iter().map(read_item).unzip();
    let outcomes =
        platform::telemetry::run_to_completion(charging::pay(state.db.write.clone(), state.gateway, requests))
            .await??;
    state.outbox.wake();
    let results = items
        .into_iter()
        .zip(outcomes)
        .map(|(item, outcome)| {
            let (status, payment, detail) = outcome.into_parts();
            BatchPaymentResult {
                order_id: item.order_id,
                idempotency_key: item.idempotency_key,
                status: status.as_u16(),
                payment,
                detail,
            }
        })
        .collect();
    Ok(Json(PaymentBatchOutcome { results }))
}

/// `NewPaymentBatch` as read off the wire: each item stays raw JSON until `read_item` reads it
/// into a `BatchPayment` on its own, so that an item of the wrong shape (a currency other than
/// JPY, a fraction of a yen, a missing field) is that item's 422, as it would be its single
/// request's, instead of refusing the other 999.
#[derive(Debug, serde::Deserialize)]
pub struct RawPaymentBatch {
    payments: Vec<serde_json::Map<String, serde_json::Value>>,
}

/// What a result echoes of its item, read even from an item that is otherwise unreadable.
struct ItemId {
    order_id: i64,
    idempotency_key: Option<String>,
}

/// Reads one item of a batch into the request its single call would make, refusing it in that
/// call's order: its shape (the body's extractor), then the key, then the fields.
fn read_item(raw: serde_json::Map<String, serde_json::Value>) -> (ItemId, Result<PaymentRequest, ApiError>) {
    let id = ItemId {
        order_id: raw.get("order_id").and_then(serde_json::Value::as_i64).unwrap_or_default(),
        idempotency_key: raw.get("idempotency_key").and_then(serde_json::Value::as_str).map(str::to_owned),
    };
    let request = serde_json::from_value::<BatchPayment>(serde_json::Value::Object(raw))
        .map_err(|err| ApiError::Unprocessable(format!("invalid payment: {err}")))
        .and_then(|item| {
            let key = item.idempotency_key.as_deref().map(IdempotencyKey::parse).transpose()?;
            PaymentRequest::parse(key, item.order_id, item.amount, item.currency)
        });
    (id, request)
}

/// A payment with its refund, if any (FR-017).
#[utoipa::path(
    get,
    path = "/api/v1/payments/{payment_id}",
    tag = "payments",
    security(("bearer" = ["read"])),
    params(("payment_id" = i64, Path, description = "Payment id")),
    responses(
        (status = 200, body = Payment),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, description = "The id is not an integer", body = ErrorBody),
    )
)]
pub async fn get_payment(
    State(state): State<AppState>,
    _caller: Authorized<require::Read>,
    Path(WholeNumber(payment_id)): Path<WholeNumber>,
) -> ApiResult<Json<Payment>> {
    let row =
        db::find_by_id(&state.db.read, payment_id).await?.ok_or_else(|| ApiError::not_found("payment", payment_id))?;
    Ok(Json(with_events(&state, row).await?))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// The order whose payments to list (required).
    #[param(value_type = i64)]
    order_id: WholeNumber,
}

/// The payments of an order, as a list: empty when it has none, so that "no payment yet" is
/// an ordinary answer (200) rather than an error (the dashboard polls it).
#[utoipa::path(
    get,
    path = "/api/v1/payments/",
    tag = "payments",
    security(("bearer" = ["read"])),
    params(ListQuery),
    responses(
        (status = 200, description = "The order's payment with its refund, or nothing", body = [Payment]),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 422, description = "order_id missing or not an integer", body = ErrorBody),
    )
)]
pub async fn list_payments(
    State(state): State<AppState>,
    _caller: Authorized<require::Read>,
    Query(query): Query<ListQuery>,
) -> ApiResult<Json<Vec<Payment>>> {
    let payments = match db::find_by_order(&state.db.read, query.order_id.0).await? {
        Some(row) => vec![with_events(&state, row).await?],
        None => Vec::new(),
    };
    Ok(Json(payments))
}

/// The payment of an order (FR-017); the Order Service uses it before refunding.
#[utoipa::path(
    get,
    path = "/api/v1/payments/order/{order_id}",
    tag = "payments",
    security(("bearer" = ["read"])),
    params(("order_id" = i64, Path, description = "Order id")),
    responses(
        (status = 200, body = Payment),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, description = "The id is not an integer", body = ErrorBody),
    )
)]
pub async fn get_payment_by_order(
    State(state): State<AppState>,
    _caller: Authorized<require::Read>,
    Path(WholeNumber(order_id)): Path<WholeNumber>,
) -> ApiResult<Json<Payment>> {
    let row = db::find_by_order(&state.db.read, order_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no payment for order {order_id}")))?;
    Ok(Json(with_events(&state, row).await?))
}
