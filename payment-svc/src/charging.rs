//! How payment requests become payments: the one implementation behind both the single
//! `POST /api/v1/payments` (a call with one request) and `POST /api/v1/payments/batch`.
//!
//! 1. Every request's row is inserted as `pending` before the gateway is asked for anything, so
//!    the UNIQUE constraints (order, idempotency key) decide which request owns an order and
//!    only the owner is charged. A request that lost is a replay when its key holds the same
//!    order and amount — it is answered with that payment as it stands — and a 409 otherwise.
//! 2. The owners are charged concurrently, at most `CONCURRENT_CHARGES` at a time.
//! 3. The gateway's answers are recorded; the statement that records them also writes each
//!    payment's webhook to the Order Service (the outbox trigger). A charge left pending
//!    (deferred capture) stays as inserted until the gateway's webhook settles it
//!    (`routes::webhooks`), or the sweep finds out (`sweep`).
//!
//! Statements are per call, not per request — one INSERT, a key lookup only if a request lost,
//! one UPDATE per distinct answer — because every statement is a round trip (to the single
//! SQLite writer connection's thread, BENCHMARKS.md, or to the PostgreSQL server): a thousand
//! payments take as many as one.

use std::collections::{HashMap, HashSet};

use futures::stream::{self, StreamExt};
use platform::api::payments::Payment;
use platform::db::Pool;
use platform::extract::IdempotencyKey;
use platform::{ApiError, ApiResult};

use crate::db::payments::{self as db, NewPendingPayment, NewStatus, PaymentRow};
use crate::domain::{verdict_of, PaymentOutcome, PaymentRequest};
use crate::gateway::Gateway;

/// Charges in flight at once within one call. Bounded, because the gateway is an outside party
/// that should not be sent a whole batch at once; 256 keeps a batch of 1,000 at four gateway
/// latencies rather than a thousand (64 would make it sixteen: 0.8 s a batch at 50 ms).
pub const CONCURRENT_CHARGES: usize = 256;

/// What became of a request at the insert.
#[derive(Debug)]
enum Claim {
    /// Its row was inserted: it is charged.
    Owner(PaymentRow),
    /// Its key holds the row of the earlier request at this index of the same call, for the
    /// same order and amount: it is answered with that payment once charged, exactly as the
    /// same request sent again after that one would be.
    ReplayOf(usize),
    /// Answered already: refused, or a replay of a payment from an earlier call.
    Decided(PaymentOutcome),
}

/// Pays one request.
pub async fn pay_one(writer: Pool, gateway: Gateway, request: PaymentRequest) -> ApiResult<PaymentOutcome> {
    let mut outcomes = pay(writer, gateway, vec![Ok(request)]).await?;
    outcomes.pop().ok_or_else(|| anyhow::anyhow!("paying one request gave no outcome").into())
}

/// Pays `requests` and returns one outcome per request, in the same order. A request that is
/// already refused (`Err`, invalid) keeps its place and is answered with its refusal; one
/// request's refusal or decline never stops the others. `Err` only when the database fails.
///
/// `writer` is the pool writes go through (on SQLite the single writer): the key lookups must
/// see the rows just inserted.
#[tracing::instrument(skip_all, fields(requests = requests.len()))]
pub async fn pay(
    writer: Pool,
    gateway: Gateway,
    requests: Vec<Result<PaymentRequest, ApiError>>,
) -> ApiResult<Vec<PaymentOutcome>> {
    let claims = claim(&writer, &gateway, requests).await?;
    let answers = charge_owners(&gateway, &claims).await;
    let mut settled = record(&writer, &answers).await?;
    crate::metrics::count_outcomes("pending", claims.iter().filter(|claim| matches!(claim, Claim::Owner(_))).count());

    // The owners' payments as they now stand, by request index; a replay within the call is
    // answered with a copy of its owner's.
    let answered: HashSet<i64> = answers.iter().map(|answer| answer.payment_id).collect();
    let mut owned: HashMap<usize, Payment> = HashMap::new();
    for (index, claim) in claims.iter().enumerate() {
        if let Claim::Owner(pending) = claim {
            let row = match settled.remove(&pending.id) {
                Some(row) => row,
                None if answered.contains(&pending.id) => {
                    return Err(anyhow::anyhow!("payment {} vanished right after it was written", pending.id).into())
                }
                // Left pending by the gateway: the row as inserted is the row as it stands.
                None => pending.clone(),
            };
            owned.insert(index, row.into_api()?);
        }
    }
    claims
        .into_iter()
        .enumerate()
        .map(|(index, claim)| {
            let owner = match claim {
                Claim::Decided(outcome) => return Ok(outcome),
                Claim::Owner(_) => index,
                Claim::ReplayOf(owner) => owner,
            };
            let payment = owned
                .get(&owner)
                .cloned()
                .ok_or_else(|| anyhow::anyhow!("request {index} replays request {owner}, which inserted no payment"))?;
            Ok(PaymentOutcome::of(payment))
        })
        .collect()
}

/// Inserts a pending row for every valid request and sorts out the requests that lost their
/// order or key to another row.
async fn claim(
    writer: &Pool,
    gateway: &Gateway,
    requests: Vec<Result<PaymentRequest, ApiError>>,
) -> ApiResult<Vec<Claim>> {
    // The gateway's reference is opened before anything is written, so it is stored with the
    // row and each inserted row can be told apart by it (RETURNING keeps no order).
    let requests: Vec<Result<(PaymentRequest, String), ApiError>> =
        requests.into_iter().map(|request| request.map(|request| (request, gateway.open_transaction()))).collect();
    let valid = || requests.iter().filter_map(|request| request.as_ref().ok());

    let new: Vec<NewPendingPayment<'_>> = valid()
        .map(|(request, transaction_id)| NewPendingPayment {
            order_id: request.order_id.get(),
            amount: request.amount.yen(),
            currency: request.currency,
            transaction_id,
            idempotency_key: request.key.as_ref().map(IdempotencyKey::as_str),
        })
        .collect();
    let mut inserted: HashMap<String, PaymentRow> =
        db::insert_pending(writer, &new).await?.into_iter().map(|row| (row.transaction_id.clone(), row)).collect();

    // No lookup of the keys before the insert: only a request that lost needs to find out
    // whether it is a replay. Asked of the writer, which has just seen the rows that won.
    let lost_keys: Vec<&str> = valid()
        .filter(|(_, transaction_id)| !inserted.contains_key(transaction_id))
        .filter_map(|(request, _)| request.key.as_ref().map(IdempotencyKey::as_str))
        .collect();
    let holders: HashMap<String, PaymentRow> = if lost_keys.is_empty() {
        HashMap::new()
    } else {
        db::find_by_idempotency_keys(writer, &lost_keys)
            .await?
            .into_iter()
            .filter_map(|row| Some((row.idempotency_key.clone()?, row)))
            .collect()
    };
    let index_of_transaction: HashMap<String, usize> = requests
        .iter()
        .enumerate()
        .filter_map(|(index, request)| Some((request.as_ref().ok()?.1.clone(), index)))
        .collect();

    let mut claims = Vec::with_capacity(requests.len());
    for request in requests {
        let (request, transaction_id) = match request {
            Ok(valid) => valid,
            Err(refusal) => {
                claims.push(Claim::Decided(PaymentOutcome::Refused(refusal)));
                continue;
            }
        };
        if let Some(row) = inserted.remove(&transaction_id) {
            claims.push(Claim::Owner(row));
            continue;
        }
        let holder = request.key.as_ref().and_then(|key| holders.get(key.as_str()));
        let claim = match holder {
            // It lost on its order, not on a key: another payment owns the order.
            None => Claim::Decided(PaymentOutcome::Refused(request.duplicate())),
            Some(holder) => match request.is_replayed_by(&holder.clone().into_api()?) {
                Err(conflict) => Claim::Decided(PaymentOutcome::Refused(conflict)),
                Ok(()) => match index_of_transaction.get(&holder.transaction_id) {
                    Some(&owner) => Claim::ReplayOf(owner),
                    None => Claim::Decided(PaymentOutcome::of(holder.clone().into_api()?)),
                },
            },
        };
        claims.push(claim);
    }
    Ok(claims)
}

/// Charges every owner, `CONCURRENT_CHARGES` at a time, and returns the answers to record: all
/// but those the gateway left pending.
async fn charge_owners(gateway: &Gateway, claims: &[Claim]) -> Vec<NewStatus> {
    // Owned, not borrowed from `claims`: with closures taking borrowed arguments, the compiler
    // cannot prove the spawned task that runs this `Send` (rust-lang/rust#102211).
    let owners: Vec<(i64, String, i64)> = claims
        .iter()
        .filter_map(|claim| match claim {
            Claim::Owner(row) => Some((row.id, row.transaction_id.clone(), row.amount)),
            _ => None,
        })
        .collect();
    let charged: Vec<_> = stream::iter(owners)
        .map(|(payment_id, transaction_id, amount)| async move {
            (payment_id, gateway.charge(&transaction_id, amount).await)
        })
        .buffer_unordered(CONCURRENT_CHARGES)
        .collect()
        .await;
    charged
        .into_iter()
        .filter_map(|(payment_id, charge)| {
            // No answer: the payment stays pending, and the sweep asks about it again.
            let charge =
                charge.inspect_err(|err| tracing::warn!(payment_id, error = %err, "charge unanswered")).ok()?;
            let (verdict, failure_reason) = verdict_of(charge)?;
            if let Some(reason) = &failure_reason {
                tracing::info!(payment_id, %reason, "charge declined");
            }
            Some(NewStatus { payment_id, status: verdict.status(), failure_reason })
        })
        .collect()
}

/// Records the gateway's answers and returns every answered payment as it now stands, by id.
async fn record(writer: &Pool, answers: &[NewStatus]) -> ApiResult<HashMap<i64, PaymentRow>> {
    let mut settled: HashMap<i64, PaymentRow> =
        db::settle_pending(writer, answers).await?.into_iter().map(|row| (row.id, row)).collect();
    crate::metrics::count_settled(settled.values());
    // A webhook settled these first and its word stands: read them back from the writer, which
    // has seen it.
    let overtaken: Vec<i64> =
        answers.iter().map(|answer| answer.payment_id).filter(|id| !settled.contains_key(id)).collect();
    if !overtaken.is_empty() {
        settled.extend(db::find_by_ids(writer, &overtaken).await?.into_iter().map(|row| (row.id, row)));
    }
    Ok(settled)
}
