//! `signing_keys`: the Ed25519 keys tokens are signed with.

use chrono::{DateTime, Utc};
use platform::db::{EpochMillis, Pool, RowsAffected, Transaction};
use platform::on_db;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SigningKeyRow {
    pub kid: String,
    pub private_key: Vec<u8>,
    pub created_at: DateTime<Utc>,
}

/// The key that signs now.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn active(pool: &Pool) -> sqlx::Result<Option<SigningKeyRow>> {
    on_db!(pool, |e| sqlx::query_as(
        "SELECT kid, private_key, created_at FROM signing_keys WHERE retired_at IS NULL
         ORDER BY created_at DESC LIMIT 1",
    )
    .fetch_optional(e)
    .await)
}

/// The keys to publish: the active one and those retired after `retired_after` (milliseconds
/// since the epoch), whose tokens may still be in use.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn published(pool: &Pool, retired_after: i64) -> sqlx::Result<Vec<SigningKeyRow>> {
    on_db!(pool, |e| sqlx::query_as(
        "SELECT kid, private_key, created_at FROM signing_keys WHERE retired_at IS NULL OR retired_at > $1
         ORDER BY created_at",
    )
    .bind(EpochMillis(retired_after))
    .fetch_all(e)
    .await)
}

/// Stores `kid` as the active key and retires every other one at `now_ms`. On PostgreSQL a
/// unique index admits one active key, so of two replicas activating keys at once, one gets a
/// unique violation (see `keys::store_as_active`).
#[tracing::instrument(level = "debug", skip_all, fields(kid))]
pub async fn activate(
    tx: &mut Transaction,
    kid: &str,
    private_key: &[u8],
    now: DateTime<Utc>,
    now_ms: i64,
) -> sqlx::Result<()> {
    on_db!(&mut *tx, |e| sqlx::query("UPDATE signing_keys SET retired_at = $1 WHERE retired_at IS NULL")
        .bind(EpochMillis(now_ms))
        .execute(e)
        .await
        .rows_affected())?;
    on_db!(tx, |e| sqlx::query("INSERT INTO signing_keys (kid, private_key, created_at) VALUES ($1, $2, $3)")
        .bind(kid)
        .bind(private_key)
        .bind(now)
        .execute(e)
        .await
        .rows_affected())?;
    Ok(())
}
