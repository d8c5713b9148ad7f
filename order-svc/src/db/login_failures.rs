//! `login_failures`: sign-in attempts per account and per client address, in fixed windows —
//! each counted before its password is checked, the successful ones given back. Kept in the
//! database, so the limits hold in total however many replicas take sign-ins.

use platform::db::{EpochMillis, Exec, RowsAffected, Transaction};
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

/// Counts one more attempt at `now_ms`: in the current window, or as the first of a new one
/// when the current began `window_ms` or more ago. Returns the attempts now counted and when
/// their window began (milliseconds since the epoch). One statement (an upsert), so attempts
/// at the same moment — on one replica or several — each count, and each sees the others.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn record(
    conn: impl Exec<'_>,
    scope: Scope,
    subject: &str,
    now_ms: i64,
    window_ms: i64,
) -> sqlx::Result<(i64, i64)> {
    let (attempts, window_started_at): (i64, EpochMillis) = on_db!(conn, |e| sqlx::query_as(
        "INSERT INTO login_failures (scope, subject, failures, window_started_at) VALUES ($1, $2, 1, $3)
         ON CONFLICT (scope, subject) DO UPDATE SET
            failures = CASE WHEN login_failures.window_started_at <= $4 THEN 1
                            ELSE login_failures.failures + 1 END,
            window_started_at = CASE WHEN login_failures.window_started_at <= $4 THEN $3
                                     ELSE login_failures.window_started_at END
         RETURNING failures, window_started_at",
    )
    .bind(scope.as_str())
    .bind(subject)
    .bind(EpochMillis(now_ms))
    .bind(EpochMillis(now_ms - window_ms))
    .fetch_one(e)
    .await)?;
    Ok((attempts, window_started_at.0))
}

/// Takes back one attempt of the window that began at `window_started_at` (an attempt that
/// succeeded), if that window still runs; a row left counting nothing is removed, so everyday
/// sign-ins leave no trace here. Two statements: run it in a transaction (the first one's row
/// lock keeps an attempt made meanwhile from being deleted with it).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn give_back(tx: &mut Transaction, scope: Scope, subject: &str, window_started_at: i64) -> sqlx::Result<()> {
    on_db!(&mut *tx, |e| sqlx::query(
        "UPDATE login_failures SET failures = failures - 1
         WHERE scope = $1 AND subject = $2 AND window_started_at = $3 AND failures > 0"
    )
    .bind(scope.as_str())
    .bind(subject)
    .bind(EpochMillis(window_started_at))
    .execute(e)
    .await
    .rows_affected())?;
    on_db!(&mut *tx, |e| sqlx::query("DELETE FROM login_failures WHERE scope = $1 AND subject = $2 AND failures = 0")
        .bind(scope.as_str())
        .bind(subject)
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
