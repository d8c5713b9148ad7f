//! `POST /api/v1/payments/refund`: full refunds of completed payments (FR-016).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use platform::api::payments::{NewRefund, Refund};
use platform::api::ErrorBody;
use platform::auth::{require, Authorized};
use platform::extract::Json;
use platform::{ApiError, ApiResult};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use crate::db::{self, is_unique_violation};
use crate::domain::{refundable, Note};
use platform::extract::IdempotencyKey;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_refund))
}

/// Refunds the whole amount of a completed payment.
///
/// The status change and the refund row are one transaction, and the transaction starts
/// with the guarded `UPDATE`, so of two concurrent refunds exactly one finds the payment
/// still completed.
#[utoipa::path(
    post,
    path = "/api/v1/payments/refund",
    tag = "payments",
    security(("bearer" = ["refund"])),
    request_body = NewRefund,
    params(("Idempotency-Key" = Option<String>, Header,
        description = "The same key for the same payment returns the existing refund (≤ 200 characters)")),
    responses(
        (status = 201, body = Refund),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The caller may not refund", body = ErrorBody),
        (status = 404, description = "No such payment", body = ErrorBody),
        (status = 409, description = "Already refunded, or not completed", body = ErrorBody),
        (status = 422, description = "Malformed body, reason over 500 characters", body = ErrorBody),
    )
)]
pub async fn create_refund(
    State(state): State<AppState>,
    _caller: Authorized<require::Refund>,
    headers: HeaderMap,
    Json(body): Json<NewRefund>,
) -> ApiResult<(StatusCode, Json<Refund>)> {
    let key = IdempotencyKey::from_headers(&headers)?;
    let reason = Note::parse_optional(body.reason).map_err(ApiError::Unprocessable)?;
    let payment_id = body.payment_id;

    let mut tx = state.db.write.begin().await?;
    if let Some(amount) = db::payments::mark_refunded(&mut tx, payment_id).await? {
        let inserted = db::refunds::insert(
            &mut tx,
            payment_id,
            amount,
            reason.as_ref().map(Note::as_str),
            key.as_ref().map(|k| k.as_str()),
        )
        .await;
        match inserted {
            Ok(_) => {
                tx.commit().await?;
                state.outbox.wake();
                crate::metrics::count_outcomes("refunded", 1);
            }
            // Unreachable while the status guard holds; kept a 409 rather than a 500.
            Err(err) if is_unique_violation(&err) => {
                return Err(ApiError::Conflict(format!("payment {payment_id} is already refunded")))
            }
            Err(err) => return Err(err.into()),
        }
        let refund = db::payments::find_by_id(&state.db.write, payment_id)
            .await?
            .and_then(|row| row.refund())
            .ok_or_else(|| anyhow::anyhow!("refund of payment {payment_id} vanished right after it was written"))?;
        return Ok((StatusCode::CREATED, Json(refund)));
    }
    tx.rollback().await?;

    // Nothing was refunded: say why, from the writer, which has seen what stopped it.
    let row = db::payments::find_by_id(&state.db.write, payment_id)
        .await?
        .ok_or_else(|| ApiError::not_found("payment", payment_id))?;
    if let Some(refund) = row.refund() {
        let same_request = key.as_ref().is_some_and(|k| row.refund_idempotency_key.as_deref() == Some(k.as_str()));
        if same_request {
            return Ok((StatusCode::CREATED, Json(refund)));
        }
        return Err(ApiError::Conflict(format!("payment {payment_id} is already refunded")));
    }
    refundable(row.status()?)
        .map_err(|why| ApiError::Conflict(format!("payment {payment_id} cannot be refunded: {why}")))?;
    // Completed now, but it was still pending when the update ran: the gateway settled it
    // in between. Asking again will work.
    Err(ApiError::Conflict(format!("payment {payment_id} changed while refunding; try again")))
}
