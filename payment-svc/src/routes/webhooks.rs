//! `POST /api/v1/payments/webhook`: the payment gateway reporting the final outcome of a
//! transaction it had left pending, passed on to the Order Service through the outbox.

use axum::extract::State;
use axum::routing::post;
use axum::Router;
use platform::api::payments::{GatewayEvent, Payment};
use platform::api::ErrorBody;
use platform::extract::Json;
use platform::{ApiError, ApiResult};

use super::AppState;
use crate::db::payments as db;
use crate::domain::{settle, Note, Settlement, Verdict};
use crate::outbox::enqueue_order_webhook;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/payments/webhook", post(gateway_webhook))
}

/// Settles a pending payment and tells the Order Service (FR-018).
///
/// The status change and the outbox row are one transaction: the Order Service hears of
/// every change, once, even if it is down right now.
#[utoipa::path(
    post,
    path = "/api/v1/payments/webhook",
    tag = "payments",
    request_body = GatewayEvent,
    responses(
        (status = 200, description = "Settled, or the same outcome repeated (no-op)", body = Payment),
        (status = 404, description = "Unknown transaction", body = ErrorBody),
        (status = 409, description = "Contradicts the payment's settled status", body = ErrorBody),
        (status = 422, description = "Malformed body, or a status other than completed / failed", body = ErrorBody),
    )
)]
pub async fn gateway_webhook(
    State(state): State<AppState>,
    Json(event): Json<GatewayEvent>,
) -> ApiResult<Json<Payment>> {
    let verdict = Verdict::parse(event.status).map_err(ApiError::Unprocessable)?;
    let reason = Note::parse_optional(event.reason).map_err(ApiError::Unprocessable)?;
    let failure_reason = match verdict {
        Verdict::Completed => None,
        Verdict::Failed => {
            Some(reason.as_ref().map(Note::as_str).unwrap_or("declined by the payment gateway").to_owned())
        }
    };
    let status = verdict.status();

    let mut tx = state.db.write.begin().await?;
    let settled =
        db::settle_pending_transaction(&mut tx, &event.transaction_id, status, failure_reason.as_deref()).await?;
    let payment_id = match settled {
        Some((payment_id, order_id)) => {
            enqueue_order_webhook(&mut tx, order_id, payment_id, status, failure_reason).await?;
            tx.commit().await?;
            state.outbox.wake();
            tracing::info!(payment_id, order_id, status = status.as_str(), "payment settled by the gateway");
            payment_id
        }
        None => {
            let row = db::find_by_transaction(&mut tx, &event.transaction_id)
                .await?
                .ok_or_else(|| ApiError::not_found("transaction", &event.transaction_id))?;
            tx.rollback().await?;
            match settle(row.status()?, verdict) {
                Settlement::AlreadySettled => return Ok(Json(row.into_api()?)),
                Settlement::Conflict(why) => return Err(ApiError::Conflict(format!("payment {}: {why}", row.id))),
                // Pending yet the guarded update missed it: cannot happen inside one write
                // transaction, but a retry is the honest answer if it ever does.
                Settlement::Apply => {
                    return Err(ApiError::Conflict(format!("payment {} changed meanwhile; try again", row.id)))
                }
            }
        }
    };
    let row = db::find_by_id(&state.db.write, payment_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("payment {payment_id} vanished right after it was settled"))?;
    Ok(Json(row.into_api()?))
}
