//! The import worker: takes an accepted import from `validating` to its final status.
//!
//! Every step is a transaction that records how far it got, so a restart anywhere resumes
//! where the last commit left off and nothing is done twice:
//!
//! 1. **Validate** (`validating`): read the file, stage its valid orders in `import_orders`
//!    and its problems in `import_errors`; the file is kept until then so that a restart can
//!    read it again.
//! 2. **Process** (`processing`), in chunks of `CHUNK_ORDERS` orders, a few chunks at once:
//!    create the chunk's orders (`staged` → `created`; the unique (batch_id, order_ref) index
//!    makes a second creation impossible), pay them with one Payment Service batch whose
//!    items carry each order's usual payment key (a repeated batch charges nothing twice), then
//!    in one transaction apply the outcomes, queue the confirmations as an outbox row and
//!    count the chunk (`created` → `paid` | `failed`).
//! 3. **Finish**: queue the digests (notify=digest) and set the final status, together.
//!
//! An unreachable peer is retried with backoff for as long as it takes; the import simply
//! stays `processing`. E-mails go through the outbox, so the import never waits for the
//! Notification Service, which drains its queue at its own rate.
//!
//! One process runs an import at a time, holding it by a lease in the database
//! (`db::imports::Lease`) that it renews while it works and that every step's transaction
//! checks first: when several replicas share a PostgreSQL database, each looks now and then
//! for imports whose holder stopped renewing — it died — and takes them over where their
//! last commit left them, while a holder that lost its lease can no longer write a thing.

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use chrono::Utc;
use futures::{StreamExt, TryStreamExt};
use platform::api::imports::{ImportStatus, NotifyMode};
use platform::api::orders::{NewOrder, OrderStatus};
use platform::api::payments::{BatchPayment, NewPaymentBatch, PaymentBatchOutcome, PaymentStatus};
use platform::db::Transaction;
use platform::peer::PeerError;
use platform::worker::Backoff;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::context::Context;
use crate::db;
use crate::db::imports::{ImportOrderRow, Lease, StagedRow};
use crate::domain::import::{self as rules, PaidOrder, MAX_BATCH_BYTES, MAX_BATCH_ITEMS};
use crate::domain::import_file::{self, FileEncoding, ImportFile};
use crate::domain::keys::payment_key;
use crate::domain::status::{payment_failed_reason, REASON_PAYMENT_COMPLETED};
use crate::domain::ValidOrder;
use crate::lifecycle::{self, Emails};

/// Orders per chunk: one Payment Service batch, one outbox row of e-mails (or a few).
pub const CHUNK_ORDERS: i64 = 500;
/// Chunks in flight at once per import: enough to overlap one chunk's payment call with
/// another's database work, few enough to keep memory and the peers' load bounded.
const CONCURRENT_CHUNKS: usize = 3;

/// Runs imports in the background, at most `concurrency` at once in total (the database keeps
/// the count, `db::imports::start_queued`), and stops them (at a commit boundary, since
/// dropping a transaction rolls it back) when the service stops.
#[derive(Clone)]
pub struct Importer {
    tasks: TaskTracker,
    stop: CancellationToken,
    /// How a failed step is retried.
    backoff: Backoff,
    concurrency: u32,
    holder: Holder,
    /// The imports this process runs now: a take-over round never starts one of them twice.
    running: Arc<Mutex<HashSet<String>>>,
}

/// This process as the holder of imports' leases.
#[derive(Clone)]
struct Holder {
    /// Its name in `imports.lease_owner`: where it listens, and a suffix of its own for this
    /// start (`127.0.0.1:8000/3f2a9c1e`), so an operator can tell which replica runs an import.
    owner: Arc<str>,
    /// How long a lease holds unless renewed (renewed every third of it).
    lease: Duration,
}

impl Holder {
    /// A lease from now.
    fn lease(&self) -> Lease<'_> {
        Lease { owner: &self.owner, until_ms: platform::db::now_millis() + millis(self.lease) }
    }
}

/// A step found that this process no longer holds the import: another one took it over.
#[derive(Debug, thiserror::Error)]
#[error("this process no longer holds the import's lease: another took it over")]
struct LeaseLost;

impl Importer {
    /// An importer for the process listening at `address` (`host:port`).
    pub fn new(backoff: Backoff, concurrency: u32, lease: Duration, address: &str) -> Importer {
        let start = uuid::Uuid::new_v4().simple().to_string();
        Importer {
            tasks: TaskTracker::new(),
            stop: CancellationToken::new(),
            backoff,
            concurrency,
            holder: Holder { owner: format!("{address}/{}", &start[..8]).into(), lease },
            running: Arc::default(),
        }
    }

    /// Starts the oldest queued imports while there is room. `upload` is an import just
    /// accepted by this process with its file already read, which need not be read again if it
    /// is one of those started.
    pub async fn start_queued(&self, ctx: &Context, mut upload: Option<(String, ImportFile)>) -> anyhow::Result<()> {
        let started = db::imports::start_queued(&ctx.db.write, self.concurrency, self.holder.lease()).await?;
        for id in started {
            let file = match upload.take() {
                Some((upload_id, file)) if upload_id == id => Some(file),
                other => {
                    upload = other;
                    None
                }
            };
            tracing::info!(import_id = %id, "import started");
            self.run_in_background(ctx.clone(), id, file);
        }
        Ok(())
    }

    /// Like `start_queued`, retried until the database answers (or the service stops): an
    /// import that ends makes room for the next one, which nothing else may start soon.
    pub fn start_queued_eventually(&self, ctx: Context) {
        let importer = self.clone();
        self.tasks.spawn(async move {
            let mut attempts = 0;
            while let Err(err) = importer.start_queued(&ctx, None).await {
                attempts += 1;
                let delay = importer.backoff.delay(attempts);
                tracing::warn!(error = ?err, retry_in_ms = delay.as_millis() as u64, "cannot start the queued imports; retrying");
                tokio::select! {
                    () = importer.stop.cancelled() => return,
                    () = tokio::time::sleep(delay) => {}
                }
            }
        });
    }

    /// Runs (or resumes) the import `id`, whose lease this process has just taken, renewing
    /// the lease while it runs; then starts the next queued one. `file` is the upload just
    /// read, if this process has it; otherwise the stored file is read again.
    fn run_in_background(&self, ctx: Context, id: String, file: Option<ImportFile>) {
        if !self.running.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).insert(id.clone()) {
            return;
        }
        let importer = self.clone();
        self.tasks.spawn(async move {
            tokio::select! {
                () = importer.stop.cancelled() => {
                    tracing::info!(import_id = %id, "import paused by shutdown; it resumes at the next start");
                }
                () = importer.keep_lease(&ctx, &id) => {
                    tracing::info!(import_id = %id, "the import's lease ended: it finished, or another process took it over");
                }
                () = run(ctx.clone(), id.clone(), file, importer.backoff, importer.holder.clone()) => {}
            }
            importer.running.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).remove(&id);
            if !importer.stop.is_cancelled() {
                importer.start_queued_eventually(ctx);
            }
        });
    }

    /// Renews the lease on import `id` every third of its length; returns when it cannot be
    /// renewed because another process holds it now, or the import ended.
    async fn keep_lease(&self, ctx: &Context, id: &str) {
        loop {
            tokio::time::sleep(self.holder.lease / 3).await;
            match db::imports::renew(&ctx.db.write, id, self.holder.lease()).await {
                Ok(true) => {}
                Ok(false) => return,
                // The database is away: the steps fail too, and the lease may lapse meanwhile;
                // whoever holds it when it is back goes on.
                Err(err) => tracing::warn!(import_id = %id, error = %err, "cannot renew the import's lease now"),
            }
        }
    }

    /// Takes over the imports whose holder stopped renewing its lease (it died), runs them, and
    /// starts queued ones if there is room: at start-up, and every half lease since (`watch`).
    /// On SQLite, which one process serves, every lease was its previous life's: all of them
    /// are taken over at start-up.
    pub async fn take_over_lapsed(&self, ctx: &Context, starting: bool) -> anyhow::Result<()> {
        let lapsed_before = match ctx.db.backend() {
            platform::db::Backend::Sqlite if starting => i64::MAX,
            _ => platform::db::now_millis(),
        };
        for id in db::imports::take_over_lapsed(&ctx.db.write, lapsed_before, self.holder.lease()).await? {
            tracing::info!(import_id = %id, "resuming import");
            self.run_in_background(ctx.clone(), id, None);
        }
        self.start_queued(ctx, None).await
    }

    /// Every half lease until the service stops: takes over lapsed imports and starts queued
    /// ones (a replica that died may have left both).
    pub fn watch(&self, ctx: Context) {
        let importer = self.clone();
        self.tasks.spawn(async move {
            loop {
                tokio::select! {
                    () = importer.stop.cancelled() => return,
                    () = tokio::time::sleep(importer.holder.lease / 2) => {}
                }
                if let Err(err) = importer.take_over_lapsed(&ctx, false).await {
                    tracing::warn!(error = ?err, "cannot look for imports to take over now");
                }
            }
        });
    }

    /// Resolves when the service begins to stop: long-lived answers (the event streams)
    /// end then, so that they do not hold the shutdown up.
    pub fn stopping(&self) -> tokio_util::sync::WaitForCancellationFutureOwned {
        self.stop.clone().cancelled_owned()
    }

    /// Tells every import and event stream to stop, without waiting.
    pub fn begin_shutdown(&self) {
        self.stop.cancel();
    }

    /// Stops every running import and waits until they have.
    pub async fn shutdown(&self) {
        self.stop.cancel();
        self.tasks.close();
        self.tasks.wait().await;
    }
}

/// Drives the import to its end, retrying whatever fails (a peer or the database) with
/// backoff: every step is safe to repeat. Stops when a step finds the lease lost.
#[tracing::instrument(skip_all, fields(import_id = %id))]
async fn run(ctx: Context, id: String, mut file: Option<ImportFile>, backoff: Backoff, holder: Holder) {
    let mut attempts = 0;
    loop {
        match run_once(&ctx, &id, file.take(), backoff, &holder).await {
            Ok(()) => return,
            Err(err) if err.is::<LeaseLost>() => {
                tracing::warn!("another process took the import over; stopped here");
                return;
            }
            Err(err) => {
                attempts += 1;
                let delay = backoff.delay(attempts);
                tracing::warn!(error = ?err, attempts, retry_in_ms = delay.as_millis() as u64, "import step failed; retrying");
                tokio::time::sleep(delay).await;
            }
        }
    }
}

async fn run_once(
    ctx: &Context,
    id: &str,
    file: Option<ImportFile>,
    backoff: Backoff,
    holder: &Holder,
) -> anyhow::Result<()> {
    let row = db::imports::fetch(&ctx.db.write, id).await?.with_context(|| format!("import {id} vanished"))?;
    let notify = row.notify()?;
    match row.status()? {
        ImportStatus::Validating => {
            let file = match file {
                Some(file) => file,
                None => match reread(ctx, id, &row.encoding).await? {
                    Ok(file) => file,
                    Err(problem) => {
                        let mut tx = begin_step(ctx, id, holder).await?;
                        db::imports::finish(&mut tx, id, ImportStatus::Failed, Some(&problem), Utc::now()).await?;
                        tx.commit().await?;
                        return Ok(());
                    }
                },
            };
            stage(ctx, id, file, holder).await?;
        }
        ImportStatus::Processing => {}
        _ => return Ok(()),
    }
    let staged = db::imports::staged_count(&ctx.db.write, id).await?;
    let chunks = (0..staged).step_by(CHUNK_ORDERS as usize).map(|start| start..(start + CHUNK_ORDERS).min(staged));
    futures::stream::iter(chunks)
        .map(|seqs| process_chunk(ctx, id, notify, seqs, backoff, holder))
        .buffer_unordered(CONCURRENT_CHUNKS)
        .try_collect::<()>()
        .await?;
    finish(ctx, id, notify, holder).await
}

/// The transaction of one step of the import, begun by renewing this process's lease on it:
/// `LeaseLost` if another process holds it now. The renewal also locks the import's row (on
/// PostgreSQL) until the step commits, so no other process can take it over mid-step.
async fn begin_step(ctx: &Context, id: &str, holder: &Holder) -> anyhow::Result<Transaction> {
    let mut tx = ctx.db.write.begin().await?;
    if !db::imports::renew(&mut tx, id, holder.lease()).await? {
        return Err(LeaseLost.into());
    }
    Ok(tx)
}

/// The stored file of an import interrupted while validating, read again the way it was
/// read first. `Err` with the reason if it cannot be (which would mean it changed).
async fn reread(ctx: &Context, id: &str, encoding: &str) -> anyhow::Result<Result<ImportFile, String>> {
    let Some(bytes) = db::imports::load_file(&ctx.db.write, id).await? else {
        return Ok(Err("the uploaded file was lost before it was validated; upload it again".into()));
    };
    let encoding = FileEncoding::parse_param(encoding).ok();
    let read = tokio::task::spawn_blocking(move || import_file::read(&bytes, encoding)).await?;
    Ok(read.map_err(|problem| problem.to_string()))
}

/// Step 1: the file's valid orders and its error report, and the import on to `processing`.
async fn stage(ctx: &Context, id: &str, file: ImportFile, holder: &Holder) -> anyhow::Result<()> {
    let rows: Vec<StagedRow> = file
        .orders
        .iter()
        .enumerate()
        .map(|(seq, staged)| {
            Ok(StagedRow {
                seq: seq as i64,
                order_ref: &staged.order_ref,
                line: staged.line,
                payload: serde_json::to_string(&rules::to_new_order(&staged.order))?,
            })
        })
        .collect::<anyhow::Result<_>>()?;
    let mut tx = begin_step(ctx, id, holder).await?;
    db::imports::stage(&mut tx, id, &rows, &file.errors, file.failed_orders).await?;
    tx.commit().await?;
    count_imported_orders("failed", usize::try_from(file.failed_orders).unwrap_or(0));
    tracing::info!(orders = rows.len(), errors = file.errors.len(), "import staged");
    Ok(())
}

/// A staged order read back.
struct ChunkOrder {
    row: ImportOrderRow,
    order: ValidOrder,
}

fn read_chunk(rows: Vec<ImportOrderRow>) -> anyhow::Result<Vec<ChunkOrder>> {
    rows.into_iter()
        .map(|row| {
            let body: NewOrder = serde_json::from_str(&row.payload)?;
            let order = ValidOrder::parse(body).map_err(|err| anyhow::anyhow!("staged order became invalid: {err}"))?;
            Ok(ChunkOrder { row, order })
        })
        .collect()
}

/// Step 2 for the orders at positions `seqs`: create, pay, settle — and pay again, after a
/// while, whatever is not settled yet (a payment the gateway left pending until its webhook,
/// or one still being charged when a repeated batch asked).
#[tracing::instrument(level = "debug", skip_all, fields(chunk = seqs.start))]
async fn process_chunk(
    ctx: &Context,
    id: &str,
    notify: NotifyMode,
    seqs: Range<i64>,
    backoff: Backoff,
    holder: &Holder,
) -> anyhow::Result<()> {
    let rows = db::imports::unfinished_orders(&ctx.db.write, id, seqs.clone()).await?;
    if rows.iter().any(|row| row.state == "staged") {
        create_orders(ctx, id, &read_chunk(rows)?, seqs.clone(), holder).await?;
    }
    for attempt in 0.. {
        let created = read_chunk(db::imports::unfinished_orders(&ctx.db.write, id, seqs.clone()).await?)?;
        if created.is_empty() {
            return Ok(());
        }
        if attempt > 0 {
            tracing::info!(orders = created.len(), "payments not settled yet; asking again");
            tokio::time::sleep(backoff.delay(attempt)).await;
        }
        let outcome = pay(ctx, &created, backoff).await;
        settle(ctx, id, notify, &created, outcome, holder).await?;
    }
    Ok(())
}

/// `staged` → `created`: the orders, their items and history, in one transaction.
async fn create_orders(
    ctx: &Context,
    id: &str,
    chunk: &[ChunkOrder],
    seqs: Range<i64>,
    holder: &Holder,
) -> anyhow::Result<()> {
    let now = Utc::now();
    let to_create: Vec<(&str, &ValidOrder)> = chunk
        .iter()
        .filter(|order| order.row.state == "staged")
        .map(|order| (order.row.order_ref.as_str(), &order.order))
        .collect();
    let by_ref: HashMap<&str, &ValidOrder> = to_create.iter().copied().collect();
    let mut tx = begin_step(ctx, id, holder).await?;
    let created = db::orders::insert_imported(&mut tx, id, &to_create, now).await?;
    let items: Vec<_> = created
        .iter()
        .filter_map(|(order_id, order_ref)| by_ref.get(order_ref.as_str()).map(|order| (*order_id, *order)))
        .flat_map(|(order_id, order)| order.items.iter().map(move |item| (order_id, item)))
        .collect();
    db::orders::insert_items_of(&mut tx, &items).await?;
    let ids: Vec<i64> = created.iter().map(|(order_id, _)| *order_id).collect();
    db::history::insert_creation_of(&mut tx, &ids, now).await?;
    db::imports::mark_created(&mut tx, id, seqs).await?;
    tx.commit().await?;
    Ok(())
}

/// The Payment Service's answer for a chunk, asked again until it gives one. A refusal of
/// the whole request (which validated items cannot cause: a Payment Service too old to know
/// the batch endpoint, say) is retried too, loudly: only an item's own answer fails an order.
async fn pay(ctx: &Context, chunk: &[ChunkOrder], backoff: Backoff) -> PaymentBatchOutcome {
    let payments: Vec<BatchPayment> = chunk
        .iter()
        .filter_map(|order| {
            let order_id = order.row.order_id?;
            Some(BatchPayment {
                idempotency_key: Some(payment_key(order_id)),
                order_id,
                amount: order.order.total_amount,
                currency: order.order.currency,
            })
        })
        .collect();
    let mut outcome = PaymentBatchOutcome { results: Vec::with_capacity(payments.len()) };
    for batch in rules::batches(payments, MAX_BATCH_ITEMS, MAX_BATCH_BYTES) {
        let batch = NewPaymentBatch { payments: batch };
        let mut attempts = 0;
        let answer = loop {
            match ctx.payments.pay_batch(&batch).await {
                Ok(answer) => break answer,
                Err(err) => {
                    attempts += 1;
                    if matches!(err, PeerError::Refused { .. }) {
                        tracing::error!(error = %err, attempts, "payment batch refused as a whole; retrying");
                    } else {
                        tracing::warn!(error = %err, attempts, "payment batch not answered; retrying");
                    }
                    tokio::time::sleep(backoff.delay(attempts)).await;
                }
            }
        };
        outcome.results.extend(answer.results);
    }
    outcome
}

/// `created` → `paid` | `failed`, with the orders' new statuses and history, the e-mails and
/// the counts, in one transaction.
async fn settle(
    ctx: &Context,
    id: &str,
    notify: NotifyMode,
    chunk: &[ChunkOrder],
    outcome: PaymentBatchOutcome,
    holder: &Holder,
) -> anyhow::Result<()> {
    let now = Utc::now();
    let by_order: HashMap<i64, &ChunkOrder> =
        chunk.iter().filter_map(|order| Some((order.row.order_id?, order))).collect();
    let mut captured = Vec::new();
    let mut refused: Vec<(i64, String)> = Vec::new();
    for result in &outcome.results {
        match (&result.payment, result.status) {
            (Some(payment), 201) if payment.status == PaymentStatus::Completed => captured.push(result.order_id),
            // No outcome yet (the gateway's webhook will tell, or a charge is under way):
            // the order stays `created` and is asked about again.
            (Some(payment), 201) if payment.status == PaymentStatus::Pending => {}
            _ => {
                let detail = result.detail.clone().unwrap_or_else(|| format!("payment answered {}", result.status));
                refused.push((result.order_id, detail));
            }
        }
    }

    let mut tx = begin_step(ctx, id, holder).await?;
    // Through the same transition as a single order's, effects included: the confirmation is
    // batched per chunk, or left to the digest (or to nobody) as the import's notify mode says.
    let email_of = |order_id: i64, template| {
        let order = by_order.get(&order_id)?;
        Some(rules::email(order_id, &order.order, template))
    };
    // Named after the first order of the chunk: a later pass over the same chunk e-mails other
    // orders, so its rows must not share the key (which would drop them).
    let key_prefix = format!("import-{id}-emails-{}", chunk.iter().map(|order| order.row.seq).min().unwrap_or(0));
    let emails = match notify {
        NotifyMode::PerOrder => Emails::Batched { key_prefix: &key_prefix },
        NotifyMode::Digest | NotifyMode::None => Emails::Skipped,
    };
    let captured_changes: Vec<(i64, Option<&str>)> =
        captured.iter().map(|&order_id| (order_id, Some(REASON_PAYMENT_COMPLETED))).collect();
    let paid = lifecycle::change_many(
        &mut tx,
        OrderStatus::PaymentProcessing,
        OrderStatus::Paid,
        &captured_changes,
        &email_of,
        emails,
        now,
    )
    .await?;
    let refused_ids: Vec<i64> = refused.iter().map(|(order_id, _)| *order_id).collect();
    let reasons: Vec<(i64, String)> =
        refused.iter().map(|(order_id, detail)| (*order_id, payment_failed_reason(detail))).collect();
    let refused_changes: Vec<(i64, Option<&str>)> =
        reasons.iter().map(|(order_id, reason)| (*order_id, Some(reason.as_str()))).collect();
    let unpaid = lifecycle::change_many(
        &mut tx,
        OrderStatus::PaymentProcessing,
        OrderStatus::Pending,
        &refused_changes,
        &email_of,
        emails,
        now,
    )
    .await?;

    let errors: Vec<_> = refused
        .iter()
        .filter_map(|(order_id, detail)| {
            let order = by_order.get(order_id)?;
            Some(platform::api::imports::ImportError {
                line: order.row.line,
                order_ref: Some(order.row.order_ref.clone()),
                column: None,
                message: format!("payment not taken: {detail}"),
            })
        })
        .collect();
    // Captured, whether by this answer or, first, by the payment webhook.
    let succeeded = &captured;
    db::imports::mark_orders(&mut tx, id, succeeded, "paid").await?;
    db::imports::mark_orders(&mut tx, id, &refused_ids, "failed").await?;
    db::imports::insert_errors(&mut tx, id, &errors).await?;
    db::imports::count_outcomes(&mut tx, id, succeeded.len() as i64, refused.len() as i64).await?;
    tx.commit().await?;
    ctx.outbox.wake();
    lifecycle::count_status_changes(OrderStatus::Paid, paid.len());
    lifecycle::count_status_changes(OrderStatus::Pending, unpaid.len());
    count_imported_orders("succeeded", succeeded.len());
    count_imported_orders("failed", refused.len());
    Ok(())
}

/// Step 3: the digests, if asked for, and the final status, in one transaction.
async fn finish(ctx: &Context, id: &str, notify: NotifyMode, holder: &Holder) -> anyhow::Result<()> {
    let digests = if notify == NotifyMode::Digest { digests(ctx, id).await? } else { Vec::new() };
    let mut tx = begin_step(ctx, id, holder).await?;
    lifecycle::enqueue_email_batches(&mut tx, &format!("import-{id}-digests"), digests).await?;
    let (succeeded, failed) = db::imports::outcome_counts(&mut tx, id).await?;
    let status = rules::final_status(succeeded, failed);
    db::imports::finish(&mut tx, id, status, None, Utc::now()).await?;
    tx.commit().await?;
    ctx.outbox.wake();
    tracing::info!(status = status.as_str(), succeeded, failed, "import finished");
    Ok(())
}

/// One digest per customer, listing the import's orders that are paid now (an order still
/// awaiting capture gets its own confirmation when the webhook completes it).
async fn digests(ctx: &Context, id: &str) -> anyhow::Result<Vec<platform::api::notifications::BatchNotification>> {
    let rows = db::imports::paid_orders(&ctx.db.write, id).await?;
    let paid = rows
        .into_iter()
        .filter_map(|row| Some((row.order_id?, row)))
        .map(|(order_id, row)| {
            let order = read_chunk(vec![row.clone()])?.remove(0).order;
            Ok(PaidOrder { order_id, order_ref: row.order_ref, order })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(rules::digests(id, &paid))
}

/// Counts an import's orders by their outcome (`succeeded`: paid; `failed`: refused by the
/// file's rules or by the payment) in the metrics, once committed.
fn count_imported_orders(outcome: &'static str, orders: usize) {
    if orders > 0 {
        metrics::counter!("import_orders_total", "service" => crate::metrics::SERVICE, "outcome" => outcome)
            .increment(orders as u64);
    }
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}
