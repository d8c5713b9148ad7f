//! `api_keys`: integrators' keys, found by their fingerprint.

use anyhow::Context;
use chrono::{DateTime, Utc};
use platform::api::auth::{ApiKey, Role};
use platform::db::{Exec, Pool};
use platform::on_db;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiKeyRow {
    pub id: i64,
    pub name: String,
    pub role: String,
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, name, role, prefix, created_at, last_used_at, revoked_at";

impl ApiKeyRow {
    pub fn role(&self) -> anyhow::Result<Role> {
        Role::parse(&self.role).with_context(|| format!("unknown role {:?} in the database", self.role))
    }

    pub fn into_api(self) -> anyhow::Result<ApiKey> {
        Ok(ApiKey {
            role: self.role()?,
            id: self.id,
            name: self.name,
            prefix: self.prefix,
            created_at: self.created_at,
            last_used_at: self.last_used_at,
            revoked_at: self.revoked_at,
        })
    }
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert(
    conn: impl Exec<'_>,
    name: &str,
    role: Role,
    key_hash: &str,
    prefix: &str,
    created_by: Option<i64>,
    now: DateTime<Utc>,
) -> sqlx::Result<ApiKeyRow> {
    on_db!(conn, |e| sqlx::query_as(&format!(
        "INSERT INTO api_keys (name, role, key_hash, prefix, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)
         RETURNING {COLUMNS}"
    ))
    .bind(name)
    .bind(role.as_str())
    .bind(key_hash)
    .bind(prefix)
    .bind(created_by)
    .bind(now)
    .fetch_one(e)
    .await)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn list(pool: &Pool) -> sqlx::Result<Vec<ApiKeyRow>> {
    on_db!(pool, |e| sqlx::query_as(&format!("SELECT {COLUMNS} FROM api_keys ORDER BY id")).fetch_all(e).await)
}

#[tracing::instrument(level = "debug", skip_all, fields(api_key_id = id))]
pub async fn find(pool: &Pool, id: i64) -> sqlx::Result<Option<ApiKeyRow>> {
    on_db!(pool, |e| sqlx::query_as(&format!("SELECT {COLUMNS} FROM api_keys WHERE id = $1"))
        .bind(id)
        .fetch_optional(e)
        .await)
}

/// Revokes the key (a second revocation keeps the first date). `None` if there is no such key.
#[tracing::instrument(level = "debug", skip_all, fields(api_key_id = id))]
pub async fn revoke(conn: impl Exec<'_>, id: i64, now: DateTime<Utc>) -> sqlx::Result<Option<ApiKeyRow>> {
    on_db!(conn, |e| sqlx::query_as(&format!(
        "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2 RETURNING {COLUMNS}"
    ))
    .bind(now)
    .bind(id)
    .fetch_optional(e)
    .await)
}

/// The live key with this fingerprint, marked as used now.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn use_key(conn: impl Exec<'_>, key_hash: &str, now: DateTime<Utc>) -> sqlx::Result<Option<ApiKeyRow>> {
    on_db!(conn, |e| sqlx::query_as(&format!(
        "UPDATE api_keys SET last_used_at = $1 WHERE key_hash = $2 AND revoked_at IS NULL RETURNING {COLUMNS}"
    ))
    .bind(now)
    .bind(key_hash)
    .fetch_optional(e)
    .await)
}
