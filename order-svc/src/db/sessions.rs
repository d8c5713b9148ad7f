//! `sessions`: one row per sign-in, found by its refresh token's fingerprint.

use chrono::{DateTime, Utc};
use platform::db::{EpochMillis, Exec, RowsAffected};
use platform::on_db;

/// A new session; `idle_expires_at` and `expires_at` are milliseconds since the epoch.
#[tracing::instrument(level = "debug", skip_all, fields(user_id))]
pub async fn insert(
    conn: impl Exec<'_>,
    user_id: i64,
    token_hash: &str,
    idle_expires_at: i64,
    expires_at: i64,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    on_db!(conn, |e| sqlx::query(
        "INSERT INTO sessions (user_id, token_hash, created_at, last_used_at, idle_expires_at, expires_at)
         VALUES ($1, $2, $3, $3, $4, $5)",
    )
    .bind(user_id)
    .bind(token_hash)
    .bind(now)
    .bind(EpochMillis(idle_expires_at))
    .bind(EpochMillis(expires_at))
    .execute(e)
    .await
    .rows_affected())?;
    Ok(())
}

/// Uses the live session with this fingerprint: its idle deadline moves to `now_ms + idle_ms`
/// (never past its maximum age). Returns the session's user, or `None` if there is no live
/// session (unknown, signed out, idle too long, too old).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn touch(
    conn: impl Exec<'_>,
    token_hash: &str,
    now_ms: i64,
    idle_ms: i64,
    now: DateTime<Utc>,
) -> sqlx::Result<Option<i64>> {
    on_db!(conn, |e| sqlx::query_scalar(
        "UPDATE sessions
         SET last_used_at = $1, idle_expires_at = CASE WHEN expires_at < $3 THEN expires_at ELSE $3 END
         WHERE token_hash = $4 AND revoked_at IS NULL AND idle_expires_at > $2 AND expires_at > $2
         RETURNING user_id",
    )
    .bind(now)
    .bind(EpochMillis(now_ms))
    .bind(EpochMillis(now_ms + idle_ms))
    .bind(token_hash)
    .fetch_optional(e)
    .await)
}

/// Ends the session with this fingerprint, if it is live.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn revoke(conn: impl Exec<'_>, token_hash: &str, now: DateTime<Utc>) -> sqlx::Result<()> {
    on_db!(conn, |e| sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL")
        .bind(now)
        .bind(token_hash)
        .execute(e)
        .await
        .rows_affected())?;
    Ok(())
}

/// Ends every live session of the user.
#[tracing::instrument(level = "debug", skip_all, fields(user_id))]
pub async fn revoke_all_of(conn: impl Exec<'_>, user_id: i64, now: DateTime<Utc>) -> sqlx::Result<u64> {
    on_db!(conn, |e| sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
        .bind(now)
        .bind(user_id)
        .execute(e)
        .await
        .rows_affected())
}

/// Forgets the sessions that can no longer be used (expired, or signed out a day ago).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn forget_ended(conn: impl Exec<'_>, now_ms: i64) -> sqlx::Result<u64> {
    let day_ago = chrono::Utc::now() - chrono::Duration::days(1);
    on_db!(conn, |e| sqlx::query(
        "DELETE FROM sessions WHERE expires_at < $1 OR idle_expires_at < $1 OR revoked_at < $2"
    )
    .bind(EpochMillis(now_ms))
    .bind(day_ago)
    .execute(e)
    .await
    .rows_affected())
}
