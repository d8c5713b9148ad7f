//! The reconciliation of orders left in `payment_processing`: every path that takes an order's
//! payment (the request, its outbox row, the Payment Service's webhook) has a way to be lost —
//! a process killed at the wrong moment, a webhook refused — so orders that have waited longer
//! than any of them takes are asked about at the Payment Service and settled by its answer. An
//! order the Payment Service has no payment for is paid again, through its usual outbox row
//! and key (so it is never charged twice); one whose payment is still pending (a deferred
//! capture) is asked about again a period later.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use platform::api::payments::{NewPayment, PaymentStatus};
use platform::db::now_millis;
use platform::outbox::Outbox;
use platform::peer::PeerError;
use platform::worker::{run_until_stopped, Outcome};
use tokio_util::sync::CancellationToken;

use crate::context::Context;
use crate::db;
use crate::db::outbox::KIND_PAYMENT;
use crate::domain::keys::payment_key;
use crate::lifecycle::{self, Settlement};

/// Orders asked about per round.
const ROUND: i64 = 50;

pub struct Reconciler {
    ctx: Context,
    /// How long an order may wait in `payment_processing` before it is reconciled.
    after: Duration,
}

impl Reconciler {
    pub fn new(ctx: Context, after: Duration) -> Reconciler {
        Reconciler { ctx, after }
    }

    /// Reconciles a round of orders that have waited too long.
    pub async fn try_execute_task(&self) -> anyhow::Result<Outcome> {
        let after_ms = i64::try_from(self.after.as_millis())?;
        let changed_before = Utc::now() - chrono::Duration::from_std(self.after)?;
        let now = now_millis();
        let orders =
            db::orders::claim_awaiting_payment(&self.ctx.db.write, changed_before, now - after_ms, now, ROUND).await?;
        if orders.is_empty() {
            return Ok(Outcome::Idle);
        }
        for order_id in orders {
            // An order that cannot be settled now (the Payment Service is down) waits for the
            // next period, as its claim noted: a Payment Service that is down is not to be
            // hammered.
            if let Err(err) = self.reconcile(order_id).await {
                tracing::warn!(order_id, error = %err, "cannot reconcile the order's payment now; next round");
            }
        }
        Ok(Outcome::Worked)
    }

    #[tracing::instrument(skip_all, fields(order_id))]
    async fn reconcile(&self, order_id: i64) -> anyhow::Result<()> {
        let Some(order) = lifecycle::load_order(&self.ctx.db.read, order_id).await? else { return Ok(()) };
        match self.ctx.payments.payment_for_order(order_id).await {
            Ok(Some(payment)) if payment.status == PaymentStatus::Pending => {
                tracing::debug!("payment still pending at the Payment Service");
            }
            Ok(Some(payment)) => {
                tracing::info!(status = payment.status.as_str(), "order reconciled with its payment");
                match lifecycle::settle_payment(&self.ctx, order, Ok(payment), None).await? {
                    Settlement::Settled(_) => {}
                    Settlement::Unresolved { reason, .. } => anyhow::bail!(reason),
                }
            }
            Ok(None) => {
                // Never reached the Payment Service: pay it, as its creation would have.
                tracing::warn!("no payment at the Payment Service; paying it again");
                let payment = NewPayment { order_id, amount: order.total_amount, currency: order.currency };
                let key = payment_key(order_id);
                let mut tx = self.ctx.db.write.begin().await?;
                Outbox::enqueue(&mut tx, KIND_PAYMENT, &payment, &key).await?;
                db::outbox::revive(&mut tx, &key, now_millis()).await?;
                tx.commit().await?;
                self.ctx.outbox.wake();
            }
            Err(PeerError::Unavailable(reason)) | Err(PeerError::Refused { detail: reason, .. }) => {
                anyhow::bail!("the Payment Service did not answer: {reason}")
            }
        }
        Ok(())
    }

    /// Runs until `stop`: a round every quarter of `after` when there is nothing to do.
    pub fn spawn(self, stop: CancellationToken) -> tokio::task::JoinHandle<()> {
        let idle = (self.after / 4).max(Duration::from_millis(100));
        let reconciler = Arc::new(self);
        tokio::spawn(async move {
            run_until_stopped(
                "reconciler",
                || {
                    let reconciler = reconciler.clone();
                    async move { reconciler.try_execute_task().await }
                },
                Arc::new(tokio::sync::Notify::new()),
                idle,
                stop,
            )
            .await
        })
    }
}
