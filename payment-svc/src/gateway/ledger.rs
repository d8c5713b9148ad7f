//! The gateway simulator's memory: the outcome of every transaction it charged, in a database
//! of its own (the outside world does not share the Payment Service's database; replicas of
//! the service share one gateway, hence one ledger), so that it answers "what became of this
//! transaction?" truthfully across restarts, as a real gateway does.

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use platform::db::{Database, Migrations, Pool};
use platform::on_db;
use platform::outbox::Outbox;

use super::capture::{capture_report, CAPTURE_REPORT};
use super::ChargeOutcome;

static LEDGER_MIGRATIONS: Migrations = Migrations {
    sqlite: sqlx::migrate!("gateway_migrations/sqlite"),
    postgres: sqlx::migrate!("gateway_migrations/postgres"),
};

#[derive(Debug, Clone)]
pub struct Ledger {
    db: Database,
}

impl Ledger {
    pub async fn open(url: &str) -> anyhow::Result<Ledger> {
        let db = Database::connect(url, 2).await.with_context(|| format!("cannot open the gateway's ledger {url}"))?;
        platform::db::migrate(&db, &LEDGER_MIGRATIONS).await.context("cannot migrate the gateway's ledger")?;
        Ok(Ledger { db })
    }

    /// Records `outcome` for a transaction seen for the first time, and returns what is on
    /// record: a transaction charged before keeps its first outcome (the gateway is idempotent
    /// by transaction id).
    pub async fn record(
        &self,
        transaction_id: &str,
        amount: i64,
        outcome: &ChargeOutcome,
    ) -> anyhow::Result<ChargeOutcome> {
        let (name, reason) = columns(outcome);
        let inserted: Option<String> = on_db!(&self.db.write, |e| {
            sqlx::query_scalar(
            "INSERT INTO transactions (transaction_id, amount, outcome, reason, created_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (transaction_id) DO NOTHING RETURNING outcome",
        )
        .bind(transaction_id)
        .bind(amount)
        .bind(name)
        .bind(reason)
        .bind(Utc::now())
        .fetch_optional(e)
        .await
        })?;
        if inserted.is_some() {
            return Ok(outcome.clone());
        }
        self.find(transaction_id)
            .await?
            .with_context(|| format!("transaction {transaction_id} vanished from the ledger"))
    }

    /// Captures up to `limit` charges authorised before `authorised_before`, oldest first, and
    /// writes the report of each to the gateway's outbox, in one transaction; returns how many.
    /// On PostgreSQL the claim skips the charges another replica's round is capturing.
    pub async fn capture_due(&self, authorised_before: DateTime<Utc>, limit: i64) -> anyhow::Result<usize> {
        const SQL: &str = "UPDATE transactions SET outcome = 'captured'
             WHERE transaction_id IN (
                SELECT transaction_id FROM transactions WHERE outcome = 'authorised' AND created_at < $1
                ORDER BY created_at LIMIT $2 {lock})
             RETURNING transaction_id";
        let mut tx = self.db.write.begin().await?;
        let captured: Vec<String> = on_db!(&mut tx,
            sqlite: SQL.replace("{lock}", ""),
            postgres: SQL.replace("{lock}", "FOR UPDATE SKIP LOCKED"),
            |e, sql| sqlx::query_scalar(&sql).bind(authorised_before).bind(limit).fetch_all(e).await)?;
        for transaction_id in &captured {
            let key = format!("gateway-{transaction_id}-captured");
            Outbox::enqueue(&mut tx, CAPTURE_REPORT, &capture_report(transaction_id), &key).await?;
        }
        tx.commit().await?;
        Ok(captured.len())
    }

    /// Where the gateway's outbox is.
    pub fn pool(&self) -> &Pool {
        &self.db.write
    }

    /// The outcome on record, if the gateway ever charged the transaction.
    pub async fn find(&self, transaction_id: &str) -> anyhow::Result<Option<ChargeOutcome>> {
        let row: Option<(String, Option<String>)> = on_db!(&self.db.write, |e| sqlx::query_as(
            "SELECT outcome, reason FROM transactions WHERE transaction_id = $1"
        )
        .bind(transaction_id)
        .fetch_optional(e)
        .await)?;
        row.map(|(outcome, reason)| match outcome.as_str() {
            "captured" => Ok(ChargeOutcome::Captured),
            "authorised" => Ok(ChargeOutcome::Pending),
            "declined" => Ok(ChargeOutcome::Declined { reason: reason.unwrap_or_default() }),
            other => anyhow::bail!("unknown outcome {other:?} in the gateway's ledger"),
        })
        .transpose()
    }
}

fn columns(outcome: &ChargeOutcome) -> (&'static str, Option<&str>) {
    match outcome {
        ChargeOutcome::Captured => ("captured", None),
        ChargeOutcome::Pending => ("authorised", None),
        ChargeOutcome::Declined { reason } => ("declined", Some(reason.as_str())),
    }
}
