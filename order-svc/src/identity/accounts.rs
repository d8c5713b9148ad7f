//! Accounts and API keys, as administrators manage them: invitations (a one-time link with
//! which the person sets a password), role changes, disabling, integrators' keys; and the
//! first administrator of a fresh database.

use chrono::{TimeZone, Utc};
use platform::api::auth::{
    check_password, ApiKey, CreatedApiKey, Invitation, InvitedUser, NewApiKey, NewUser, Role, SigningKeyInfo, User,
    UserUpdate,
};
use platform::auth::Principal;
use platform::db::now_millis;
use platform::new_order::{CustomerEmail, Name};
use platform::{ApiError, ApiResult};

use super::{keys, millis, FirstAdmin, IdentityProvider};
use crate::db;
use crate::domain::identity::{fingerprint, new_secret, shown_prefix, API_KEY_PREFIX, INVITATION_PREFIX};

/// The lock that changes to accounts take turns by (`platform::db::lock`).
const ACCOUNTS_LOCK: &str = "accounts";
/// Characters of a generated first password.
const GENERATED_PASSWORD_CHARS: usize = 24;

/// On a database without users: the administrator of `ADMIN_EMAIL`, with `ADMIN_PASSWORD`, or
/// (development only) a generated password, printed once on standard error.
pub(super) async fn create_first_admin(provider: &IdentityProvider, first: &FirstAdmin) -> anyhow::Result<()> {
    if db::users::count(&provider.db().read).await? > 0 {
        return Ok(());
    }
    let email = CustomerEmail::parse("ADMIN_EMAIL", &first.email).map_err(anyhow::Error::msg)?;
    let (password, generated) = match &first.password {
        Some(password) => (password.clone(), false),
        None if first.environment.is_production() => anyhow::bail!(
            "there is no user yet: set ADMIN_EMAIL and ADMIN_PASSWORD for the first administrator (APP_ENV=production \
             never generates a password)"
        ),
        None => (new_secret("").chars().take(GENERATED_PASSWORD_CHARS).collect(), true),
    };
    check_password(&password).map_err(|problem| anyhow::anyhow!("ADMIN_PASSWORD: {problem}"))?;
    let hash = provider.hash_new_password(&password).await.map_err(|err| anyhow::anyhow!("{err}"))?;
    let mut tx = provider.db().write.begin().await?;
    let created =
        db::users::insert(&mut tx, email.as_str(), "Administrator", Role::Admin, Some(&hash), None, Utc::now()).await?;
    tx.commit().await?;
    if created.is_none() {
        // Another replica starting at the same moment created the account first.
        return Ok(());
    }
    tracing::info!(email = email.as_str(), "created the first administrator");
    if generated {
        // Not a log line: it is said once, to whoever started the service, and never stored.
        eprintln!(
            "\n  First administrator: {}\n  Generated password:  {password}\n  (shown once; set ADMIN_PASSWORD to choose it)\n",
            email.as_str()
        );
    }
    Ok(())
}

impl IdentityProvider {
    pub async fn list_users(&self) -> ApiResult<Vec<User>> {
        let rows = db::users::list(&self.db().read).await?;
        Ok(rows.into_iter().map(db::users::UserRow::into_user).collect::<anyhow::Result<_>>()?)
    }

    /// A new account, waiting for its person to set a password through the invitation.
    pub async fn invite(&self, new: NewUser) -> ApiResult<InvitedUser> {
        let email = CustomerEmail::parse("email", &new.email).map_err(ApiError::Unprocessable)?;
        let name = Name::parse("display_name", &new.display_name).map_err(ApiError::Unprocessable)?;
        let (invitation, hash, expires_at) = self.new_invitation();
        let mut tx = self.db().write.begin().await?;
        let row = db::users::insert(
            &mut tx,
            email.as_str(),
            name.as_str(),
            new.role,
            None,
            Some((&hash, expires_at)),
            Utc::now(),
        )
        .await?
        .ok_or_else(|| {
            ApiError::Conflict(format!("a user with the e-mail address {} exists already", email.as_str()))
        })?;
        tx.commit().await?;
        tracing::info!(user_id = row.id, role = new.role.as_str(), "user invited");
        Ok(InvitedUser { user: row.into_user()?, invitation })
    }

    /// Changes name, role or the disabled mark. Nobody disables their own account, and the
    /// last administrator stays one: otherwise nobody could manage users any more.
    pub async fn update_user(&self, id: i64, update: UserUpdate, by: &Principal) -> ApiResult<User> {
        let name = update
            .display_name
            .as_deref()
            .map(|name| Name::parse("display_name", name).map_err(ApiError::Unprocessable))
            .transpose()?;
        let now = Utc::now();
        let mut tx = self.db().write.begin().await?;
        // Changes to accounts take turns, on one replica or several: each decides on what the
        // one before it wrote (no lost update, and never two demotions of the last two admins).
        platform::db::lock(&mut tx, ACCOUNTS_LOCK).await?;
        let current = db::users::find(&mut tx, id).await?.ok_or_else(|| ApiError::not_found("User", id))?;
        let role = update.role.unwrap_or(current.role()?);
        let disabled_at = match update.disabled {
            Some(true) => current.disabled_at.or(Some(now)),
            Some(false) => None,
            None => current.disabled_at,
        };
        if disabled_at.is_some() && matches!(by, Principal::User { id: me, .. } if *me == id) {
            return Err(ApiError::Conflict("you cannot disable your own account".into()));
        }
        let stays_admin = role == Role::Admin && disabled_at.is_none();
        if current.role()? == Role::Admin && !stays_admin && db::users::count_other_admins(&mut tx, id).await? == 0 {
            return Err(ApiError::Conflict(format!("{} is the last administrator", current.email)));
        }
        let display_name = name.as_ref().map_or(current.display_name.as_str(), Name::as_str);
        let row = db::users::update(&mut tx, id, display_name, role, disabled_at, now)
            .await?
            .ok_or_else(|| ApiError::not_found("User", id))?;
        if disabled_at.is_some() && current.disabled_at.is_none() {
            let ended = db::sessions::revoke_all_of(&mut tx, id, now).await?;
            tracing::info!(user_id = id, sessions = ended, "user disabled; sessions ended");
        }
        tx.commit().await?;
        Ok(row.into_user()?)
    }

    /// A new invitation for an existing account (a lost link, or a forgotten password): the
    /// account's password stops working and its sessions end until the link is used.
    pub async fn reinvite(&self, id: i64) -> ApiResult<InvitedUser> {
        let (invitation, hash, expires_at) = self.new_invitation();
        let now = Utc::now();
        let mut tx = self.db().write.begin().await?;
        platform::db::lock(&mut tx, ACCOUNTS_LOCK).await?;
        let current = db::users::find(&mut tx, id).await?.ok_or_else(|| ApiError::not_found("User", id))?;
        if current.disabled_at.is_some() {
            return Err(ApiError::Conflict("the account is disabled: enable it first".into()));
        }
        let row = db::users::reset_to_invitation(&mut tx, id, &hash, expires_at, now)
            .await?
            .ok_or_else(|| ApiError::not_found("User", id))?;
        db::sessions::revoke_all_of(&mut tx, id, now).await?;
        tx.commit().await?;
        Ok(InvitedUser { user: row.into_user()?, invitation })
    }

    /// Sets the password of the invited account. The invitation is then used up.
    pub async fn accept_invitation(&self, token: &str, password: &str) -> ApiResult<()> {
        let hash = self.hash_new_password(password).await?;
        let mut tx = self.db().write.begin().await?;
        db::users::accept_invitation(&mut tx, &fingerprint(token), &hash, now_millis(), Utc::now())
            .await?
            .ok_or_else(|| ApiError::NotFound("the invitation is unknown, used already or expired".into()))?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn list_api_keys(&self) -> ApiResult<Vec<ApiKey>> {
        let rows = db::api_keys::list(&self.db().read).await?;
        Ok(rows.into_iter().map(db::api_keys::ApiKeyRow::into_api).collect::<anyhow::Result<_>>()?)
    }

    /// A new key; the key itself is in this answer only.
    pub async fn create_api_key(&self, new: NewApiKey, by: &Principal) -> ApiResult<CreatedApiKey> {
        let name = Name::parse("name", &new.name).map_err(ApiError::Unprocessable)?;
        let key = new_secret(API_KEY_PREFIX);
        let created_by = match by {
            Principal::User { id, .. } => Some(*id),
            _ => None,
        };
        let mut tx = self.db().write.begin().await?;
        let row = db::api_keys::insert(
            &mut tx,
            name.as_str(),
            new.role,
            &fingerprint(&key),
            &shown_prefix(&key),
            created_by,
            Utc::now(),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(api_key_id = row.id, role = new.role.as_str(), "API key created");
        Ok(CreatedApiKey { key, api_key: row.into_api()? })
    }

    /// Revokes the key: it can no longer be exchanged for tokens (those already issued expire
    /// within their five minutes).
    pub async fn revoke_api_key(&self, id: i64) -> ApiResult<ApiKey> {
        let mut tx = self.db().write.begin().await?;
        let row =
            db::api_keys::revoke(&mut tx, id, Utc::now()).await?.ok_or_else(|| ApiError::not_found("API key", id))?;
        tx.commit().await?;
        tracing::info!(api_key_id = id, "API key revoked");
        Ok(row.into_api()?)
    }

    /// A new signing key: tokens are signed with it from now on; those signed with the previous
    /// key stay valid until they expire.
    pub async fn rotate_signing_key(&self) -> ApiResult<SigningKeyInfo> {
        let key = keys::rotate(self.db()).await?;
        self.inner.issuer.rotate_to(&key)?;
        self.inner.verifier.reload_keys().await;
        Ok(SigningKeyInfo { kid: key.kid().to_owned(), created_at: Utc::now() })
    }

    /// A new invitation: the token to hand out, its fingerprint and its expiry in milliseconds.
    fn new_invitation(&self) -> (Invitation, String, i64) {
        let token = new_secret(INVITATION_PREFIX);
        let expires_at = now_millis() + millis(self.settings().invitation_ttl);
        let hash = fingerprint(&token);
        let expires = Utc.timestamp_millis_opt(expires_at).single().unwrap_or_else(Utc::now);
        (Invitation { token, expires_at: expires }, hash, expires_at)
    }
}
