//! `POST /api/v1/payments`, `GET /api/v1/payments/{id}`, `GET /api/v1/payments/order/{id}`.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::Router;
use platform::api::payments::{NewPayment, Payment, PaymentStatus};
use platform::api::ErrorBody;
use platform::extract::{Json, Path, Query};
use platform::{ApiError, ApiResult};

use super::AppState;
use crate::db::payments::{self as db, InsertOutcome, NewPendingPayment, PaymentRow};
use crate::domain::{OrderId, PaymentAmount};
use crate::gateway::ChargeOutcome;
use platform::extract::IdempotencyKey;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/payments", post(create_payment).get(list_payments))
        .route("/api/v1/payments/", post(create_payment).get(list_payments))
        .route("/api/v1/payments/{payment_id}", get(get_payment))
        .route("/api/v1/payments/order/{order_id}", get(get_payment_by_order))
}

/// Charges an order (FR-011 … FR-015).
///
/// The row is inserted as `pending` before the gateway is called, so the UNIQUE constraints
/// decide which of several concurrent requests owns the order; only that one charges.
#[utoipa::path(
    post,
    path = "/api/v1/payments",
    tag = "payments",
    request_body = NewPayment,
    params(("Idempotency-Key" = Option<String>, Header,
        description = "Makes a retry safe: the same key for the same order and amount returns the first payment (≤ 200 characters)")),
    responses(
        (status = 201, description = "Charged (status completed), or accepted by the gateway pending capture", body = Payment),
        (status = 400, description = "Amount outside 100 … 1,000,000 JPY", body = ErrorBody),
        (status = 402, description = "Declined by the gateway; the failed payment is kept", body = ErrorBody),
        (status = 409, description = "The order already has a payment, or the key was used for another payment", body = ErrorBody),
        (status = 422, description = "Malformed body, currency other than JPY, fractional yen", body = ErrorBody),
    )
)]
pub async fn create_payment(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(body): Json<NewPayment>,
) -> ApiResult<(StatusCode, Json<Payment>)> {
    let key = IdempotencyKey::from_headers(&headers)?;
    let order_id = OrderId::parse(body.order_id).map_err(ApiError::Unprocessable)?;
    let amount = PaymentAmount::parse(body.amount).map_err(ApiError::BadRequest)?;

    // No lookup of the key first: the INSERT's UNIQUE constraints arbitrate, and only a
    // duplicate needs to find out whether it is a replay.
    let transaction_id = state.gateway.open_transaction();
    let new = NewPendingPayment {
        order_id: order_id.get(),
        amount: amount.yen(),
        currency: body.currency,
        transaction_id: &transaction_id,
        idempotency_key: key.as_ref().map(|k| k.as_str()),
    };
    let pending = match db::insert_pending(&state.db.write, &new).await? {
        InsertOutcome::Inserted(row) => *row,
        InsertOutcome::Duplicate => {
            // An earlier or concurrent request with the same key holds the row: that is a replay.
            // Asked of the writer, which has just seen that row.
            if let Some(key) = &key {
                if let Some(existing) = db::find_by_idempotency_key(&state.db.write, key.as_str()).await? {
                    return replay(existing, order_id, amount);
                }
            }
            return Err(ApiError::Conflict(format!("a payment for order {} already exists", order_id.get())));
        }
    };

    // Charged on its own task: if the client hangs up mid-charge, the outcome is still
    // recorded rather than leaving the payment pending forever.
    let row = platform::telemetry::run_to_completion(charge_and_record(state.clone(), pending, amount)).await??;
    respond(row)
}

/// Charges the freshly inserted `pending` payment and returns it as it now stands.
async fn charge_and_record(state: AppState, pending: PaymentRow, amount: PaymentAmount) -> ApiResult<PaymentRow> {
    let id = pending.id;
    let (status, reason) = match state.gateway.charge(&pending.transaction_id, amount.yen().get()).await {
        ChargeOutcome::Captured => (PaymentStatus::Completed, None),
        ChargeOutcome::Declined { reason } => {
            tracing::info!(payment_id = id, %reason, "charge declined");
            (PaymentStatus::Failed, Some(reason))
        }
        // The gateway settles it later through the webhook; until then it is the row as inserted.
        ChargeOutcome::Pending => return Ok(pending),
    };
    if let Some(settled) = db::settle_by_id(&state.db.write, id, status, reason.as_deref()).await? {
        return Ok(settled);
    }
    // A webhook settled it first and its word stands: read that back from the writer, which
    // has seen it.
    let row = db::find_by_id(&state.db.write, id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("payment {id} vanished right after it was written"))?;
    Ok(row)
}

/// The answer to a request whose key was seen before: the same payment if it is the same
/// request, a conflict if the key is being reused for a different one.
fn replay(existing: PaymentRow, order_id: OrderId, amount: PaymentAmount) -> ApiResult<(StatusCode, Json<Payment>)> {
    if existing.order_id != order_id.get() || existing.amount != amount.yen().get() {
        return Err(ApiError::Conflict(format!(
            "this Idempotency-Key was already used for payment {} (order {}, amount {})",
            existing.id, existing.order_id, existing.amount
        )));
    }
    respond(existing)
}

/// A declined payment answers 402 (it stays retrievable by GET); any other is a 201.
fn respond(row: PaymentRow) -> ApiResult<(StatusCode, Json<Payment>)> {
    let payment = row.into_api()?;
    if payment.status == PaymentStatus::Failed {
        let reason = payment.failure_reason.as_deref().unwrap_or("declined by the payment gateway");
        return Err(ApiError::Status(StatusCode::PAYMENT_REQUIRED, format!("payment declined: {reason}")));
    }
    Ok((StatusCode::CREATED, Json(payment)))
}

/// A payment with its refund, if any (FR-017).
#[utoipa::path(
    get,
    path = "/api/v1/payments/{payment_id}",
    tag = "payments",
    params(("payment_id" = i64, Path, description = "Payment id")),
    responses(
        (status = 200, body = Payment),
        (status = 404, body = ErrorBody),
        (status = 422, description = "The id is not an integer", body = ErrorBody),
    )
)]
pub async fn get_payment(State(state): State<AppState>, Path(payment_id): Path<i64>) -> ApiResult<Json<Payment>> {
    let row =
        db::find_by_id(&state.db.read, payment_id).await?.ok_or_else(|| ApiError::not_found("payment", payment_id))?;
    Ok(Json(row.into_api()?))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// The order whose payments to list (required).
    order_id: i64,
}

/// The payments of an order, as a list: empty when it has none, so that "no payment yet" is
/// an ordinary answer (200) rather than an error (the dashboard polls it).
#[utoipa::path(
    get,
    path = "/api/v1/payments/",
    tag = "payments",
    params(ListQuery),
    responses(
        (status = 200, description = "The order's payment with its refund, or nothing", body = [Payment]),
        (status = 422, description = "order_id missing or not an integer", body = ErrorBody),
    )
)]
pub async fn list_payments(
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
) -> ApiResult<Json<Vec<Payment>>> {
    let payments = match db::find_by_order(&state.db.read, query.order_id).await? {
        Some(row) => vec![row.into_api()?],
        None => Vec::new(),
    };
    Ok(Json(payments))
}

/// The payment of an order (FR-017); the Order Service uses it before refunding.
#[utoipa::path(
    get,
    path = "/api/v1/payments/order/{order_id}",
    tag = "payments",
    params(("order_id" = i64, Path, description = "Order id")),
    responses(
        (status = 200, body = Payment),
        (status = 404, body = ErrorBody),
        (status = 422, description = "The id is not an integer", body = ErrorBody),
    )
)]
pub async fn get_payment_by_order(
    State(state): State<AppState>,
    Path(order_id): Path<i64>,
) -> ApiResult<Json<Payment>> {
    let row = db::find_by_order(&state.db.read, order_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no payment for order {order_id}")))?;
    Ok(Json(row.into_api()?))
}
