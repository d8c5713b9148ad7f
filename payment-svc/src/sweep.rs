//! The sweep: payments left `pending` longer than the gateway can take to answer — their
//! answer was lost (the process died between storing the payment and recording the answer) or
//! the gateway left them for its webhook — are asked about again, and settled by what the
//! gateway says. Asking is charging the same transaction again, which the gateway answers with
//! the outcome it has on record, or charges now if the first call never reached it. A settled
//! payment's webhook to the Order Service is written by the settling statement (the outbox
//! trigger), like every other change of status. Each round claims the payments it asks about
//! (`db::payments::claim_overdue`), so the sweeps of several replicas share the work.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use futures::stream::{self, StreamExt};
use platform::db::{EpochMillis, Pool};
use platform::outbox::Outbox;
use platform::worker::{run_until_stopped, Outcome};
use tokio_util::sync::CancellationToken;

use crate::db::payments::{self as db, NewStatus};
use crate::domain::verdict_of;
use crate::gateway::Gateway;

/// Payments asked about per round.
const ROUND: i64 = 100;
/// Of those, asked at once.
const CONCURRENT_ASKS: usize = 16;

pub struct Sweep {
    writer: Pool,
    gateway: Gateway,
    outbox: Outbox,
}

impl Sweep {
    pub fn new(writer: Pool, gateway: Gateway, outbox: Outbox) -> Sweep {
        Sweep { writer, gateway, outbox }
    }

    /// Asks about a round of overdue pending payments and records the answers.
    pub async fn try_execute_task(&self) -> anyhow::Result<Outcome> {
        let timeout = self.gateway.timeout();
        let now = Utc::now();
        let overdue_since = now - chrono::Duration::from_std(timeout)?;
        let checked_before = EpochMillis(now.timestamp_millis() - i64::try_from(timeout.as_millis())?);
        let rows =
            db::claim_overdue(&self.writer, overdue_since, checked_before, EpochMillis(now.timestamp_millis()), ROUND)
                .await?;
        if rows.is_empty() {
            return Ok(Outcome::Idle);
        }
        let answers: Vec<Option<NewStatus>> = stream::iter(rows)
            .map(|row| async move {
                let answer = match self.gateway.charge(&row.transaction_id, row.amount).await {
                    Ok(charge) => verdict_of(charge).map(|(verdict, failure_reason)| NewStatus {
                        payment_id: row.id,
                        status: verdict.status(),
                        failure_reason,
                    }),
                    Err(err) => {
                        tracing::warn!(payment_id = row.id, error = %err, "the gateway did not answer the sweep");
                        None
                    }
                };
                answer
            })
            .buffer_unordered(CONCURRENT_ASKS)
            .collect()
            .await;
        // Those still without an answer were noted as asked by the claim: they wait for the next
        // period.
        let settled: Vec<NewStatus> = answers.into_iter().flatten().collect();
        let recorded = db::settle_pending(&self.writer, &settled).await?;
        crate::metrics::count_settled(&recorded);
        if !recorded.is_empty() {
            tracing::info!(settled = recorded.len(), "sweep settled payments left pending");
            self.outbox.wake();
        }
        Ok(Outcome::Worked)
    }

    /// Runs the sweep until `stop`, a round every half gateway timeout when there is nothing to do.
    pub fn spawn(self, stop: CancellationToken) -> tokio::task::JoinHandle<()> {
        let idle = (self.gateway.timeout() / 2).max(Duration::from_millis(200));
        let sweep = Arc::new(self);
        tokio::spawn(async move {
            run_until_stopped(
                "sweep",
                || {
                    let sweep = sweep.clone();
                    async move { sweep.try_execute_task().await }
                },
                Arc::new(tokio::sync::Notify::new()),
                idle,
                stop,
            )
            .await
        })
    }
}
