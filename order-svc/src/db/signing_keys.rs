//! `signing_keys`: the Ed25519 keys tokens are signed with.

use chrono::{DateTime, Utc};
use sqlx::{SqliteConnection, SqlitePool};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SigningKeyRow {
    pub kid: String,
    pub private_key: Vec<u8>,
    pub created_at: DateTime<Utc>,
}

/// The key that signs now.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn active(pool: &SqlitePool) -> sqlx::Result<Option<SigningKeyRow>> {
    sqlx::query_as(
        "SELECT kid, private_key, created_at FROM signing_keys WHERE retired_at IS NULL
         ORDER BY created_at DESC LIMIT 1",
    )
    .fetch_optional(pool)
    .await
}

/// The keys to publish: the active one and those retired after `retired_after` (milliseconds
/// since the epoch), whose tokens may still be in use.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn published(pool: &SqlitePool, retired_after: i64) -> sqlx::Result<Vec<SigningKeyRow>> {
    sqlx::query_as(
        "SELECT kid, private_key, created_at FROM signing_keys WHERE retired_at IS NULL OR retired_at > ?1
         ORDER BY created_at",
    )
    .bind(retired_after)
    .fetch_all(pool)
    .await
}

/// Stores `kid` as the active key and retires every other one at `now_ms`.
#[tracing::instrument(level = "debug", skip_all, fields(kid))]
pub async fn activate(
    conn: &mut SqliteConnection,
    kid: &str,
    private_key: &[u8],
    now: DateTime<Utc>,
    now_ms: i64,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE signing_keys SET retired_at = ?1 WHERE retired_at IS NULL")
        .bind(now_ms)
        .execute(&mut *conn)
        .await?;
    sqlx::query("INSERT INTO signing_keys (kid, private_key, created_at) VALUES (?1, ?2, ?3)")
        .bind(kid)
        .bind(private_key)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}
