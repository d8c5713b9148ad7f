//! `users`: the people who sign in.

use anyhow::Context;
use chrono::{DateTime, Utc};
use platform::api::auth::{Role, User, UserStatus};
use platform::db::{EpochMillis, Exec, Pool, RowsAffected};
use platform::on_db;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub role: String,
    pub password_hash: Option<String>,
    pub disabled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, email, display_name, role, password_hash, disabled_at, created_at, last_login_at";

impl UserRow {
    pub fn role(&self) -> anyhow::Result<Role> {
        Role::parse(&self.role).with_context(|| format!("unknown role {:?} in the database", self.role))
    }

    pub fn status(&self) -> UserStatus {
        match (&self.disabled_at, &self.password_hash) {
            (Some(_), _) => UserStatus::Disabled,
            (None, None) => UserStatus::Invited,
            (None, Some(_)) => UserStatus::Active,
        }
    }

    /// The password hash of an account that may sign in now.
    pub fn usable_password_hash(&self) -> Option<&str> {
        match self.status() {
            UserStatus::Active => self.password_hash.as_deref(),
            _ => None,
        }
    }

    pub fn into_user(self) -> anyhow::Result<User> {
        Ok(User {
            role: self.role()?,
            status: self.status(),
            id: self.id,
            email: self.email,
            display_name: self.display_name,
            created_at: self.created_at,
            last_login_at: self.last_login_at,
        })
    }
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn count(pool: &Pool) -> sqlx::Result<i64> {
    on_db!(pool, |e| sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(e).await)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn list(pool: &Pool) -> sqlx::Result<Vec<UserRow>> {
    on_db!(pool, |e| sqlx::query_as(&format!("SELECT {COLUMNS} FROM users ORDER BY id")).fetch_all(e).await)
}

#[tracing::instrument(level = "debug", skip_all, fields(user_id = id))]
pub async fn find(conn: impl Exec<'_>, id: i64) -> sqlx::Result<Option<UserRow>> {
    on_db!(conn, |e| sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE id = $1"))
        .bind(id)
        .fetch_optional(e)
        .await)
}

/// The account with this address, compared without case (ASCII's on SQLite, as its NOCASE
/// column; Unicode's on PostgreSQL, as its unique index on `lower(email)`).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn find_by_email(pool: &Pool, email: &str) -> sqlx::Result<Option<UserRow>> {
    on_db!(pool, |e| sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE lower(email) = lower($1)"))
        .bind(email)
        .fetch_optional(e)
        .await)
}

/// A new account: active when `password_hash` is given, invited (with the invitation's
/// fingerprint and expiry) otherwise. `None` if the address is taken.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert(
    conn: impl Exec<'_>,
    email: &str,
    display_name: &str,
    role: Role,
    password_hash: Option<&str>,
    invitation: Option<(&str, i64)>,
    now: DateTime<Utc>,
) -> sqlx::Result<Option<UserRow>> {
    on_db!(conn, |e| sqlx::query_as(&format!(
        "INSERT INTO users (email, display_name, role, password_hash, invitation_hash, invitation_expires_at,
                            created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
         ON CONFLICT DO NOTHING
         RETURNING {COLUMNS}"
    ))
    .bind(email)
    .bind(display_name)
    .bind(role.as_str())
    .bind(password_hash)
    .bind(invitation.map(|(hash, _)| hash))
    .bind(invitation.map(|(_, expires_at)| EpochMillis(expires_at)))
    .bind(now)
    .fetch_optional(e)
    .await)
}

/// Writes the account's name, role and disabled mark as given.
#[tracing::instrument(level = "debug", skip_all, fields(user_id = id))]
pub async fn update(
    conn: impl Exec<'_>,
    id: i64,
    display_name: &str,
    role: Role,
    disabled_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> sqlx::Result<Option<UserRow>> {
    on_db!(conn, |e| sqlx::query_as(&format!(
        "UPDATE users SET display_name = $1, role = $2, disabled_at = $3, updated_at = $4 WHERE id = $5
         RETURNING {COLUMNS}"
    ))
    .bind(display_name)
    .bind(role.as_str())
    .bind(disabled_at)
    .bind(now)
    .bind(id)
    .fetch_optional(e)
    .await)
}

/// A new invitation for the account; its current password stops working.
#[tracing::instrument(level = "debug", skip_all, fields(user_id = id))]
pub async fn reset_to_invitation(
    conn: impl Exec<'_>,
    id: i64,
    invitation_hash: &str,
    expires_at: i64,
    now: DateTime<Utc>,
) -> sqlx::Result<Option<UserRow>> {
    on_db!(conn, |e| sqlx::query_as(&format!(
        "UPDATE users SET password_hash = NULL, invitation_hash = $1, invitation_expires_at = $2, updated_at = $3
         WHERE id = $4
         RETURNING {COLUMNS}"
    ))
    .bind(invitation_hash)
    .bind(EpochMillis(expires_at))
    .bind(now)
    .bind(id)
    .fetch_optional(e)
    .await)
}

/// Sets the password of the account invited with this fingerprint, if the invitation is still
/// valid at `now_ms`, and uses the invitation up.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn accept_invitation(
    conn: impl Exec<'_>,
    invitation_hash: &str,
    password_hash: &str,
    now_ms: i64,
    now: DateTime<Utc>,
) -> sqlx::Result<Option<i64>> {
    on_db!(conn, |e| sqlx::query_scalar(
        "UPDATE users SET password_hash = $1, invitation_hash = NULL, invitation_expires_at = NULL, updated_at = $2
         WHERE invitation_hash = $3 AND invitation_expires_at > $4 AND disabled_at IS NULL
         RETURNING id",
    )
    .bind(password_hash)
    .bind(now)
    .bind(invitation_hash)
    .bind(EpochMillis(now_ms))
    .fetch_optional(e)
    .await)
}

#[tracing::instrument(level = "debug", skip_all, fields(user_id = id))]
pub async fn record_login(conn: impl Exec<'_>, id: i64, now: DateTime<Utc>) -> sqlx::Result<()> {
    on_db!(conn, |e| sqlx::query("UPDATE users SET last_login_at = $1 WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(e)
        .await
        .rows_affected())?;
    Ok(())
}

/// Admins who can sign in now, other than `except`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn count_other_admins(conn: impl Exec<'_>, except: i64) -> sqlx::Result<i64> {
    on_db!(conn, |e| {
        sqlx::query_scalar(
        "SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled_at IS NULL AND password_hash IS NOT NULL AND id <> $1"
    )
    .bind(except)
    .fetch_one(e)
    .await
    })
}
