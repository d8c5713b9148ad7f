//! `POST /api/v1/payments/webhook`: the payment gateway reporting the final outcome of a
//! transaction it had left pending, passed on to the Order Service through the outbox.
//!
//! The gateway signs each delivery (`domain::gateway_signature`); the signature is checked on
//! the raw bytes before the body is read. Every event the gateway sends about a payment is
//! recorded on it: applied, repeated, or ignored when it contradicts the recorded outcome —
//! acknowledged all the same, so the gateway stops retrying.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use chrono::Utc;
use platform::api::payments::{GatewayEvent, GatewayEventOutcome, Payment};
use platform::api::ErrorBody;
use platform::db::{now_millis, EpochMillis};
use platform::extract::json_object;
use platform::{ApiError, ApiResult};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use crate::db::{gateway_events, payments as db};
use crate::domain::{gateway_signature, settle, Note, Settlement, Verdict};

/// How long a gateway signature is remembered: past its tolerance, with a margin for clocks.
const RECEIPT_MS: i64 = 2 * gateway_signature::TOLERANCE_SECS * 1000;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(gateway_webhook))
}

/// Settles a pending payment and tells the Order Service (FR-018).
///
/// Signed by the gateway: `Gateway-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
/// "{t}.{raw body}">` with a secret of `PAYMENT_GATEWAY_WEBHOOK_SECRETS` (several `v1` during a
/// rotation). Unsigned, forged or more than five minutes old is 401; the same signed delivery a
/// second time is a replay, 400. The status change and the webhook to the Order Service are one
/// transaction: the Order Service hears of every change, once, even if it is down right now.
#[utoipa::path(
    post,
    path = "/api/v1/payments/webhook",
    tag = "payments",
    security(("gateway_signature" = [])),
    request_body = GatewayEvent,
    responses(
        (status = 200, description = "Settled; or the outcome repeated, or contradicting the recorded one: acknowledged and recorded on the payment, which is unchanged", body = Payment),
        (status = 400, description = "A replay of a delivery received before", body = ErrorBody),
        (status = 401, description = "Unsigned, forged or stale", body = ErrorBody),
        (status = 404, description = "Unknown transaction", body = ErrorBody),
        (status = 422, description = "Malformed body, or a status other than completed / failed", body = ErrorBody),
    )
)]
pub async fn gateway_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<axum::Json<Payment>> {
    let header = headers.get(gateway_signature::HEADER).and_then(|value| value.to_str().ok());
    let signature = gateway_signature::verify(&state.gateway_secrets, header, &body, Utc::now().timestamp())
        .map_err(|problem| ApiError::Unauthorized(problem.to_string()))?;
    let event: GatewayEvent = json_object(&headers, &body)?;
    let verdict = Verdict::parse(event.status).map_err(ApiError::Unprocessable)?;
    let reason = Note::parse_optional(event.reason).map_err(ApiError::Unprocessable)?;
    let failure_reason = match verdict {
        Verdict::Completed => None,
        Verdict::Failed => {
            Some(reason.as_ref().map(Note::as_str).unwrap_or("declined by the payment gateway").to_owned())
        }
    };
    let status = verdict.status();
    let reason = reason.as_ref().map(Note::as_str);

    let now = now_millis();
    let mut tx = state.db.write.begin().await?;
    if !gateway_events::record_receipt(&mut tx, &signature, EpochMillis(now), EpochMillis(now - RECEIPT_MS)).await? {
        tracing::warn!(transaction_id = %event.transaction_id, "replayed gateway webhook refused");
        return Err(ApiError::BadRequest("replayed webhook: this signed delivery was received already".into()));
    }
    let settled =
        db::settle_pending_transaction(&mut tx, &event.transaction_id, status, failure_reason.as_deref()).await?;
    let payment_id = match settled {
        Some((payment_id, order_id)) => {
            // The settling UPDATE wrote the webhook to the Order Service (the outbox trigger).
            gateway_events::record(&mut tx, payment_id, status, reason, GatewayEventOutcome::Applied, None).await?;
            tx.commit().await?;
            state.outbox.wake();
            crate::metrics::count_outcomes(status.as_str(), 1);
            tracing::info!(payment_id, order_id, status = status.as_str(), "payment settled by the gateway");
            payment_id
        }
        None => {
            let row = db::find_by_transaction(&mut tx, &event.transaction_id)
                .await?
                .ok_or_else(|| ApiError::not_found("transaction", &event.transaction_id))?;
            let (outcome, detail) = match settle(row.status()?, verdict) {
                Settlement::AlreadySettled => {
                    // The gateway repeats itself when it did not hear our answer; the Order
                    // Service may not have heard of the outcome either: it is told again.
                    db::announce_again(&mut tx, row.id, row.status()?).await?;
                    (GatewayEventOutcome::Repeated, None)
                }
                Settlement::Conflict(why) => (GatewayEventOutcome::Ignored, Some(why)),
                // Pending yet the guarded update missed it: cannot happen inside one write
                // transaction, but a retry is the honest answer if it ever does.
                Settlement::Apply => {
                    return Err(ApiError::Conflict(format!("payment {} changed meanwhile; try again", row.id)))
                }
            };
            if let Some(why) = &detail {
                tracing::warn!(payment_id = row.id, %why, "gateway event contradicts the payment; recorded as ignored");
            }
            gateway_events::record(&mut tx, row.id, status, reason, outcome, detail.as_deref()).await?;
            tx.commit().await?;
            state.outbox.wake();
            row.id
        }
    };
    let row = db::find_by_id(&state.db.write, payment_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("payment {payment_id} vanished right after the gateway's event"))?;
    let mut payment = row.into_api()?;
    payment.gateway_events = gateway_events::of_payment(&state.db.write, payment_id).await?;
    Ok(axum::Json(payment))
}
