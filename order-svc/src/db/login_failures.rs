//! `login_failures`: failed sign-ins per account and per client address, in fixed windows.
//! Kept in the database, so the limits hold in total however many replicas take sign-ins.

use platform::db::{EpochMillis, Exec, Pool, RowsAffected};
use platform::on_db;

/// Whose failures a row counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Account,
    Address,
}

impl Scope {
    fn as_str(self) -> &'static str {
        match self {
            Scope::Account => "account",
            Scope::Address => "address",
        }
    }
}

/// `(failures, window_started_at)` of the subject (milliseconds since the epoch), if it failed
/// before.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn get(pool: &Pool, scope: Scope, subject: &str) -> sqlx::Result<Option<(i64, i64)>> {
    let row: Option<(i64, EpochMillis)> = on_db!(pool, |e| sqlx::query_as(
        "SELECT failures, window_started_at FROM login_failures WHERE scope = $1 AND subject = $2"
    )
    .bind(scope.as_str())
    .bind(subject)
    .fetch_optional(e)
    .await)?;
    Ok(row.map(|(failures, started)| (failures, started.0)))
}

/// Counts one more failure at `now_ms`: in the current window, or as the first of a new one
/// when the current began `window_ms` or more ago. One statement (an upsert), so concurrent
/// failures — on one replica or several — each count.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn record(conn: impl Exec<'_>, scope: Scope, subject: &str, now_ms: i64, window_ms: i64) -> sqlx::Result<()> {
    on_db!(conn, |e| sqlx::query(
        "INSERT INTO login_failures (scope, subject, failures, window_started_at) VALUES ($1, $2, 1, $3)
         ON CONFLICT (scope, subject) DO UPDATE SET
            failures = CASE WHEN login_failures.window_started_at <= $4 THEN 1
                            ELSE login_failures.failures + 1 END,
            window_started_at = CASE WHEN login_failures.window_started_at <= $4 THEN $3
                                     ELSE login_failures.window_started_at END",
    )
    .bind(scope.as_str())
    .bind(subject)
    .bind(EpochMillis(now_ms))
    .bind(EpochMillis(now_ms - window_ms))
    .execute(e)
    .await
    .rows_affected())?;
    Ok(())
}

/// Forgets the subject's failures (after a successful sign-in), and every window that ended
/// before `expired_before`, so the table holds only what can still close a door.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn clear(conn: impl Exec<'_>, scope: Scope, subject: &str, expired_before: i64) -> sqlx::Result<()> {
    on_db!(conn, |e| sqlx::query(
        "DELETE FROM login_failures WHERE (scope = $1 AND subject = $2) OR window_started_at < $3"
    )
    .bind(scope.as_str())
    .bind(subject)
    .bind(EpochMillis(expired_before))
    .execute(e)
    .await
    .rows_affected())?;
    Ok(())
}

/// Forgets the windows that began before `before`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn forget_before(conn: impl Exec<'_>, before: i64) -> sqlx::Result<u64> {
    on_db!(conn, |e| sqlx::query("DELETE FROM login_failures WHERE window_started_at < $1")
        .bind(EpochMillis(before))
        .execute(e)
        .await
        .rows_affected())
}
