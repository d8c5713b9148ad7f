//! What happens to an order across the database and the peers: creating it and taking its
//! payment (002 §5), and every later status change with its history row and its effects on
//! the other services.
//!
//! Each change is one write transaction: a guarded `UPDATE … WHERE status = <from>` (so of
//! two concurrent changes exactly one applies), its history row, and the outbox rows of its
//! effects. The peers are called only after the commit, by the outbox worker — except the
//! payment of a new order, which 002 §5 makes synchronous.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use platform::api::imports::NotifyMode;
use platform::api::notifications::{
    BatchMessage, BatchNotification, NewEmail, NewNotificationBatch, OrderLine, OrderSummary, TemplateName,
};
use platform::api::orders::{Order, OrderItem, OrderStatus};
use platform::api::payments::{NewPayment, Payment, PaymentStatus};
use platform::db::{Pool, Transaction};
use platform::outbox::Outbox;
use platform::peer::PeerError;
use platform::{ApiError, ApiResult};
use serde::{Deserialize, Serialize};

use crate::context::Context;
use crate::db;
use crate::db::history::Entry;
use crate::db::outbox::{KIND_NOTIFICATION, KIND_NOTIFICATION_BATCH, KIND_PAYMENT, KIND_REFUND};
use crate::domain::idempotency::{self, Repeat};
use crate::domain::import::{batches, MAX_BATCH_BYTES, MAX_BATCH_ITEMS};
use crate::domain::keys::{email_key, payment_key, refund_key};
use crate::domain::status::{self, payment_failed_reason, Effect, REASON_PAYMENT_COMPLETED};
use crate::domain::ValidOrder;

/// How many times a change is re-read and re-decided after losing a race to another one.
const MAX_RACES: usize = 3;

/// Payload of a `refund` outbox row.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefundOrder {
    pub order_id: i64,
    pub reason: Option<String>,
}

/// The order with its items, or `None` if there is no such order.
pub async fn load_order(pool: &Pool, order_id: i64) -> ApiResult<Option<Order>> {
    let Some(row) = db::orders::fetch_order(pool, order_id).await? else {
        return Ok(None);
    };
    let items = db::orders::fetch_items(pool, order_id).await?;
    Ok(Some(row.into_order(items.into_iter().map(OrderItem::from).collect())?))
}

/// Creates the order and takes its payment. Two write transactions around one call:
/// the order as `payment_processing` (with a payment row that becomes due only if this
/// request never finishes), then the outcome.
#[tracing::instrument(skip_all, fields(order_id))]
pub async fn create_order(ctx: &Context, order: ValidOrder, request: Option<RequestKey<'_>>) -> ApiResult<Order> {
    let now = Utc::now();
    let mut tx = ctx.db.write.begin().await?;
    let order_id = db::orders::insert_order(&mut tx, &order, OrderStatus::PaymentProcessing, now).await?;
    tracing::Span::current().record("order_id", order_id);
    if let Some(request) = request {
        // With the order, so that a retry after a crash finds it instead of making another.
        db::order_requests::attach_order(&mut tx, request.caller, request.key, order_id).await?;
    }
    let items = db::orders::insert_items(&mut tx, order_id, &order.items).await?;
    let items: Vec<OrderItem> = items.into_iter().map(OrderItem::from).collect();
    db::history::insert_creation(&mut tx, order_id, now).await?;
    let payment = NewPayment { order_id, amount: order.total_amount, currency: order.currency };
    let key = payment_key(order_id);
    let due_at = platform::db::now_millis() + millis(ctx.settings.payment_call_lease);
    Outbox::enqueue_at(&mut tx, KIND_PAYMENT, &payment, &key, due_at).await?;
    tx.commit().await?;

    let created = Order {
        id: order_id,
        customer_email: order.customer_email.into_inner(),
        customer_name: order.customer_name.into_inner(),
        status: OrderStatus::PaymentProcessing,
        total_amount: order.total_amount,
        currency: order.currency,
        items,
        batch_id: None,
        order_ref: None,
        created_at: now,
        updated_at: now,
    };
    let result = ctx.payments.create_payment(&payment, &key).await;
    match settle_payment(ctx, created, result, Some(&key)).await? {
        Settlement::Settled(order) => Ok(order),
        Settlement::Unresolved { order, reason } => {
            // The outcome is unknown; the payment row retries it with the same key soon.
            tracing::warn!(order_id, %reason, "payment service unavailable; payment will be retried");
            let due_at = platform::db::now_millis() + millis(ctx.settings.payment_retry_delay);
            db::outbox::reschedule(&ctx.db.write, &key, due_at).await?;
            ctx.outbox.wake();
            Ok(order)
        }
    }
}

/// A creation's `Idempotency-Key`, which is its caller's own: two callers may use the same.
#[derive(Debug, Clone, Copy)]
pub struct RequestKey<'a> {
    /// The subject of the caller's token.
    pub caller: &'a str,
    pub key: &'a str,
}

/// The answer to a creation with an `Idempotency-Key`.
#[derive(Debug)]
pub enum Created {
    New(Order),
    /// A retry: the first answer (or, after a crash, the order as it is now), verbatim.
    Replayed {
        status: u16,
        body: String,
    },
}

/// Creates the order at most once per caller and key: the same key and body again is
/// answered as the first time; with another body, 422; while the first may still be running
/// (within the payment's lease), 409. `request_hash` fingerprints the body.
pub async fn create_order_once(
    ctx: &Context,
    order: ValidOrder,
    request: RequestKey<'_>,
    request_hash: &str,
) -> ApiResult<Created> {
    let RequestKey { caller, key } = request;
    let now = platform::db::now_millis();
    if !db::order_requests::claim(&ctx.db.write, caller, key, request_hash, now).await? {
        // From the writer, which has seen the claim that won (on SQLite the readers may be a
        // commit behind).
        let earlier = db::order_requests::find(&ctx.db.write, caller, key, now)
            .await?
            .ok_or_else(|| ApiError::Conflict("the Idempotency-Key is being released; try again".into()))?;
        match idempotency::judge(&earlier, request_hash, millis(ctx.settings.payment_call_lease)) {
            Repeat::Replay { status, body } => return Ok(Created::Replayed { status, body }),
            Repeat::OtherBody => {
                return Err(ApiError::Unprocessable(
                    "this Idempotency-Key was used with another request body; use a new key for a new order".into(),
                ))
            }
            Repeat::InProgress => {
                return Err(ApiError::Conflict(
                    "a request with this Idempotency-Key is still being processed; retry shortly".into(),
                ))
            }
            Repeat::OrderOf(order_id) => {
                // Created a lease ago at least: every reader has seen it.
                let order =
                    load_order(&ctx.db.read, order_id).await?.ok_or_else(|| ApiError::not_found("Order", order_id))?;
                let body = serde_json::to_string(&order).map_err(anyhow::Error::from)?;
                db::order_requests::answer(&ctx.db.write, caller, key, 201, &body).await?;
                return Ok(Created::Replayed { status: 201, body });
            }
            Repeat::TakeOver => {
                if !db::order_requests::reclaim(&ctx.db.write, caller, key, earlier.claimed_at_ms, now).await? {
                    return Err(ApiError::Conflict(
                        "another retry took this Idempotency-Key over; retry shortly".into(),
                    ));
                }
            }
        }
    }
    match create_order(ctx, order, Some(request)).await {
        Ok(order) => {
            let body = serde_json::to_string(&order).map_err(anyhow::Error::from)?;
            db::order_requests::answer(&ctx.db.write, caller, key, 201, &body).await?;
            Ok(Created::New(order))
        }
        Err(err) => {
            // Nothing was created if no order was attached: a retry starts afresh.
            db::order_requests::release(&ctx.db.write, caller, key).await?;
            Err(err)
        }
    }
}

/// What became of an order after a payment attempt.
#[derive(Debug)]
pub enum Settlement {
    /// The outcome is applied (or was already): here is the order now.
    Settled(Order),
    /// No usable answer from the Payment Service; the attempt must be repeated.
    Unresolved { order: Order, reason: String },
}

/// Applies the answer of `POST /api/v1/payments` to an order in `payment_processing`:
/// completed → paid (+ confirmation), refused or failed → pending with the reason, pending →
/// unchanged (the webhook will finish it). `resolve_key` names the payment outbox row to
/// delete in the same transaction, when the caller is the request that wrote it.
pub async fn settle_payment(
    ctx: &Context,
    order: Order,
    result: Result<Payment, PeerError>,
    resolve_key: Option<&str>,
) -> ApiResult<Settlement> {
    let (to, reason) = match result {
        Ok(payment) => match payment.status {
            PaymentStatus::Completed => (OrderStatus::Paid, REASON_PAYMENT_COMPLETED.to_owned()),
            PaymentStatus::Failed => {
                let detail = payment.failure_reason.as_deref().unwrap_or("declined");
                (OrderStatus::Pending, payment_failed_reason(detail))
            }
            PaymentStatus::Pending | PaymentStatus::Refunded => {
                if payment.status == PaymentStatus::Refunded {
                    tracing::warn!(order_id = order.id, "payment answered as already refunded; order left as it is");
                }
                if let Some(key) = resolve_key {
                    db::outbox::delete_undelivered(&ctx.db.write, key).await?;
                }
                return Ok(Settlement::Settled(order));
            }
        },
        Err(PeerError::Refused { detail, .. }) => (OrderStatus::Pending, payment_failed_reason(&detail)),
        Err(PeerError::Unavailable(reason)) => return Ok(Settlement::Unresolved { order, reason }),
    };
    if order.status.can_become(to) {
        if let Some(changed) = apply(ctx, &order, to, Some(&reason), resolve_key).await? {
            return Ok(Settlement::Settled(changed));
        }
    }
    // Something else moved the order first (the payment webhook, usually): the outcome is
    // recorded either way, so report the order as it is now.
    if let Some(key) = resolve_key {
        db::outbox::delete_undelivered(&ctx.db.write, key).await?;
    }
    // Only the order row can have changed: items are never written after creation.
    let row =
        db::orders::fetch_order(&ctx.db.read, order.id).await?.ok_or_else(|| ApiError::not_found("Order", order.id))?;
    Ok(Settlement::Settled(row.into_order(order.items)?))
}

/// What a request wants done with an order, decided from its current status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Move {
        to: OrderStatus,
        reason: Option<String>,
    },
    /// The order already is as the request wants it.
    Keep,
}

/// Loads the order, asks `decide` what to do given its status, and applies that through the
/// status machine. If another change commits in between, decides again on the new status.
#[tracing::instrument(skip_all, fields(order_id = order_id))]
pub async fn change_status<F>(ctx: &Context, order_id: i64, mut decide: F) -> ApiResult<Order>
where
    F: FnMut(OrderStatus) -> ApiResult<Decision>,
{
    for _ in 0..MAX_RACES {
        let order = load_order(&ctx.db.read, order_id).await?.ok_or_else(|| ApiError::not_found("Order", order_id))?;
        let (to, reason) = match decide(order.status)? {
            Decision::Keep => return Ok(order),
            Decision::Move { to, reason } => (to, reason),
        };
        if let Some(changed) = apply(ctx, &order, to, reason.as_deref(), None).await? {
            return Ok(changed);
        }
    }
    Err(ApiError::Conflict(format!("order {order_id} is being changed by another request; try again")))
}

/// One status change in one transaction. `None` if the order was no longer in
/// `order.status` (nothing is written then).
async fn apply(
    ctx: &Context,
    order: &Order,
    to: OrderStatus,
    reason: Option<&str>,
    resolve_key: Option<&str>,
) -> ApiResult<Option<Order>> {
    let now = Utc::now();
    let emails = emails_of_change(ctx, order, to).await?;
    let mut tx = ctx.db.write.begin().await?;
    let email_of = |_: i64, template: TemplateName| Some(email_for(order, template));
    let moved = change_many(&mut tx, order.status, to, &[(order.id, reason)], &email_of, emails, now).await?;
    if moved.is_empty() {
        return Ok(None);
    }
    if let Some(key) = resolve_key {
        db::outbox::delete_undelivered(&mut tx, key).await?;
    }
    tx.commit().await?;
    ctx.outbox.wake();
    count_status_changes(to, 1);
    // The history table is the record; this line is for following a flow while debugging.
    tracing::debug!(order_id = order.id, from = order.status.as_str(), to = to.as_str(), "order status changed");
    Ok(Some(Order { status: to, updated_at: now, ..order.clone() }))
}

/// How one order's change to `to` sends its e-mails: each its own — except an imported order's
/// confirmation, which its import's notify mode decides whichever path pays the order (the
/// importer, or the payment webhook that got there first): none for `none`, and for `digest`
/// none while the import runs, since its digest will list the order. An order paid after its
/// digest import ended is confirmed on its own, as nothing else will tell the customer.
async fn emails_of_change(ctx: &Context, order: &Order, to: OrderStatus) -> ApiResult<Emails<'static>> {
    let Some(import_id) = order.batch_id.as_deref().filter(|_| to == OrderStatus::Paid) else {
        return Ok(Emails::EachOrder);
    };
    let Some(import) = db::imports::fetch(&ctx.db.read, import_id).await? else { return Ok(Emails::EachOrder) };
    Ok(match (import.notify()?, import.status()?.is_final()) {
        (NotifyMode::PerOrder, _) | (NotifyMode::Digest, true) => Emails::EachOrder,
        (NotifyMode::None, _) | (NotifyMode::Digest, false) => Emails::Skipped,
    })
}

/// How the e-mails of a status change reach the outbox.
#[derive(Debug, Clone, Copy)]
pub enum Emails<'a> {
    /// One row per e-mail: a single order's change.
    EachOrder,
    /// In rows of one Notification Service batch each, keyed `{prefix}-{n}`: an import's.
    Batched { key_prefix: &'a str },
    /// None at all: an import whose notify mode sends no per-order e-mails.
    Skipped,
}

/// The change of `orders` (id and the history's reason) from `from` to `to`, in the caller's
/// transaction: the guarded update — only the orders still in `from` move —, a history row
/// for each, and the effects of the transition (`status::transition`), with `email_of` making
/// an order's e-mail for a template. Returns the ids that moved.
///
/// Every path that changes a status goes through here, a single order's as an import's
/// thousand, so an effect added to a transition reaches every order it applies to.
pub async fn change_many(
    tx: &mut Transaction,
    from: OrderStatus,
    to: OrderStatus,
    orders: &[(i64, Option<&str>)],
    email_of: &(dyn Fn(i64, TemplateName) -> Option<NewEmail> + Sync),
    emails: Emails<'_>,
    now: DateTime<Utc>,
) -> ApiResult<Vec<i64>> {
    let effects = status::transition(from, to).map_err(|err| ApiError::Conflict(err.to_string()))?;
    // One order takes the statements every single change uses (cached, and cheaper than a
    // list of one); a batch takes one statement for the many.
    let moved: Vec<(i64, Option<&str>)> = match orders {
        [] => Vec::new(),
        [(id, reason)] => {
            if db::orders::update_status(&mut *tx, *id, from, to, now).await? {
                db::history::insert(&mut *tx, *id, from, to, *reason, now).await?;
                vec![(*id, *reason)]
            } else {
                Vec::new()
            }
        }
        _ => {
            let ids: Vec<i64> = orders.iter().map(|(id, _)| *id).collect();
            let moved: HashSet<i64> =
                db::orders::update_status_of(&mut *tx, &ids, from, to, now).await?.into_iter().collect();
            let moved: Vec<(i64, Option<&str>)> = orders.iter().copied().filter(|(id, _)| moved.contains(id)).collect();
            let history: Vec<Entry> =
                moved.iter().map(|&(order_id, reason)| Entry { order_id, from: Some(from), to, reason }).collect();
            db::history::insert_many(&mut *tx, &history, now).await?;
            moved
        }
    };
    for effect in effects {
        match (*effect, emails) {
            (Effect::Email(_), Emails::Skipped) => {}
            (Effect::Email(template), Emails::EachOrder) => {
                for (order_id, _) in &moved {
                    if let Some(email) = email_of(*order_id, template) {
                        Outbox::enqueue(&mut *tx, KIND_NOTIFICATION, &email, &email_key(*order_id, template)).await?;
                    }
                }
            }
            (Effect::Email(template), Emails::Batched { key_prefix }) => {
                let batch: Vec<BatchNotification> = moved
                    .iter()
                    .filter_map(|(order_id, _)| {
                        let email = email_of(*order_id, template)?;
                        Some(BatchNotification {
                            idempotency_key: Some(email_key(*order_id, template)),
                            message: BatchMessage::Email(email),
                        })
                    })
                    .collect();
                enqueue_email_batches(&mut *tx, &format!("{key_prefix}-{}", template.as_str()), batch).await?;
            }
            (Effect::Refund, _) => {
                for (order_id, reason) in &moved {
                    let refund = RefundOrder { order_id: *order_id, reason: reason.map(str::to_owned) };
                    Outbox::enqueue(&mut *tx, KIND_REFUND, &refund, &refund_key(*order_id)).await?;
                }
            }
        }
    }
    Ok(moved.into_iter().map(|(id, _)| id).collect())
}

/// Counts `orders` changes to `to` in the metrics (`order_status_changes_total`), once they
/// are committed.
pub fn count_status_changes(to: OrderStatus, orders: usize) {
    if orders > 0 {
        metrics::counter!("order_status_changes_total", "service" => crate::metrics::SERVICE, "to" => to.as_str())
            .increment(orders as u64);
    }
}

/// E-mails as outbox rows of at most one Notification Service batch each, keyed `{prefix}-{n}`.
pub async fn enqueue_email_batches(
    tx: &mut Transaction,
    prefix: &str,
    emails: Vec<BatchNotification>,
) -> sqlx::Result<()> {
    for (n, batch) in batches(emails, MAX_BATCH_ITEMS, MAX_BATCH_BYTES).into_iter().enumerate() {
        let batch = NewNotificationBatch { notifications: batch };
        Outbox::enqueue(&mut *tx, KIND_NOTIFICATION_BATCH, &batch, &format!("{prefix}-{n}")).await?;
    }
    Ok(())
}

/// The e-mail request for `template`, from the order as it is when the change commits.
fn email_for(order: &Order, template: TemplateName) -> NewEmail {
    NewEmail {
        order_id: order.id,
        recipient: order.customer_email.clone(),
        template,
        order: OrderSummary {
            customer_name: order.customer_name.clone(),
            items: order
                .items
                .iter()
                .map(|item| OrderLine {
                    product_name: item.product_name.clone(),
                    quantity: item.quantity,
                    unit_price: item.unit_price,
                })
                .collect(),
            total_amount: order.total_amount,
            currency: order.currency,
        },
    }
}

fn millis(duration: std::time::Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use platform::api::orders::OrderItem;
    use platform::{Currency, Yen};

    #[test]
    fn the_email_carries_the_whole_order_summary() {
        let now = Utc::now();
        let order = Order {
            id: 3,
            customer_email: "tanaka@example.co.jp".into(),
            customer_name: "田中太郎".into(),
            status: OrderStatus::Paid,
            total_amount: Yen::new(179_600),
            currency: Currency::JPY,
            items: vec![OrderItem {
                id: 9,
                product_name: "ノートPC".into(),
                quantity: 2,
                unit_price: Yen::new(89_800),
            }],
            batch_id: None,
            order_ref: None,
            created_at: now,
            updated_at: now,
        };
        let email = email_for(&order, TemplateName::OrderConfirmation);
        assert_eq!(email.order_id, 3);
        assert_eq!(email.recipient, "tanaka@example.co.jp");
        assert_eq!(email.template, TemplateName::OrderConfirmation);
        assert_eq!(email.order.customer_name, "田中太郎");
        assert_eq!(email.order.total_amount, Yen::new(179_600));
        assert_eq!(
            email.order.items,
            vec![OrderLine { product_name: "ノートPC".into(), quantity: 2, unit_price: Yen::new(89_800) }]
        );
    }
}
