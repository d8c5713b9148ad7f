//! The Order Service as the platform's one token issuer (`IdentityProvider`): sign-in and the
//! sessions it opens, API keys exchanged for tokens, this service's own tokens for its peers
//! (`ServiceTokens`), and the tickets of the import event streams.
//!
//! Accounts and API keys are managed in `accounts`, signing keys in `keys`. Every token is an
//! EdDSA JWT of `access_ttl` (five minutes by default); a session's refresh token is a random
//! secret stored as a fingerprint, extended on each use up to a maximum age.

pub mod accounts;
pub mod keys;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{TimeZone, Utc};
use platform::api::auth::{
    check_password, AccessGrant, EventsTicket, Identity, Role, SessionGrant, IMPORT_EVENTS, NOTIFICATION_SERVICE,
    ORDER_SERVICE, PAYMENT_SERVICE,
};
use platform::auth::issuer::{Grant, Issuer};
use platform::auth::{Principal, TokenVerifier, ROLE_SERVICE};
use platform::config::Environment;
use platform::db::{now_millis, Database};
use platform::{ApiError, ApiResult};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::db;
use crate::db::login_failures::Scope;
use crate::db::users::UserRow;
use crate::domain::identity::{
    fingerprint, hash_password, new_secret, verify_password, Throttle, ThrottlePolicy, API_KEY_PREFIX,
    REFRESH_TOKEN_PREFIX,
};

/// How often the active signing key is read again (`follow_signing_key`).
const KEY_FOLLOW_EVERY: Duration = Duration::from_secs(30);
/// How long an import's event-stream ticket may be used to (re)connect.
const TICKET_TTL: Duration = Duration::from_secs(60);
/// Password hashes computed at once: each takes 19 MiB and tens of milliseconds of a core, so a
/// flood of sign-ins queues here instead of exhausting memory.
const CONCURRENT_HASHES: usize = 4;
/// The answer to every failed sign-in, whatever failed: nothing tells whether the account exists.
const SIGN_IN_REFUSED: &str = "the e-mail address or the password is incorrect";

/// Every token names all three services: the dashboard uses one token with each of them.
const EVERY_SERVICE: [&str; 3] = [ORDER_SERVICE, PAYMENT_SERVICE, NOTIFICATION_SERVICE];

#[derive(Debug, Clone)]
pub struct IdentitySettings {
    /// `AUTH_ACCESS_TOKEN_TTL_SECS` (300).
    pub access_ttl: Duration,
    /// `AUTH_SESSION_IDLE_SECS` (12 h): a session unused this long ends.
    pub session_idle: Duration,
    /// `AUTH_SESSION_MAX_SECS` (7 days): a session ends this long after the sign-in, used or not.
    pub session_max: Duration,
    /// `AUTH_INVITATION_TTL_SECS` (7 days).
    pub invitation_ttl: Duration,
    /// `LOGIN_MAX_FAILURES_PER_ACCOUNT` (5) per `LOGIN_FAILURE_WINDOW_SECS` (900).
    pub account_throttle: ThrottlePolicy,
    /// `LOGIN_MAX_FAILURES_PER_ADDRESS` (20) per `LOGIN_FAILURE_WINDOW_SECS`.
    pub address_throttle: ThrottlePolicy,
}

/// The first administrator, created on a database without users.
#[derive(Debug, Clone)]
pub struct FirstAdmin {
    /// `ADMIN_EMAIL` (`admin@example.com`).
    pub email: String,
    /// `ADMIN_PASSWORD`; unset, development generates one and prints it once, production refuses
    /// to start.
    pub password: Option<String>,
    pub environment: Environment,
}

#[derive(Clone)]
pub struct IdentityProvider {
    inner: Arc<Inner>,
}

struct Inner {
    db: Database,
    issuer: Issuer,
    verifier: TokenVerifier,
    settings: IdentitySettings,
    /// Hashed with the same parameters as every password, and checked when there is no account
    /// to check: a sign-in for an unknown address takes as long as one with a wrong password.
    decoy_hash: String,
    hashing: Semaphore,
}

impl IdentityProvider {
    /// Loads (or, on a fresh database, creates) the signing key and the first administrator.
    pub async fn start(db: &Database, settings: IdentitySettings, first_admin: &FirstAdmin) -> anyhow::Result<Self> {
        let key = keys::load_or_create(db).await?;
        let issuer = Issuer::new(&key)?;
        let verifier = TokenVerifier::new(ORDER_SERVICE, keys::PublishedKeys::new(db, settings.access_ttl));
        let decoy_hash = tokio::task::spawn_blocking(|| hash_password(&new_secret(""))).await??;
        let provider = IdentityProvider {
            inner: Arc::new(Inner {
                db: db.clone(),
                issuer,
                verifier,
                settings,
                decoy_hash,
                hashing: Semaphore::new(CONCURRENT_HASHES),
            }),
        };
        accounts::create_first_admin(&provider, first_admin).await?;
        Ok(provider)
    }

    /// The verifier of this service's own tokens (it checks them against its published keys,
    /// like any service).
    pub fn verifier(&self) -> TokenVerifier {
        self.inner.verifier.clone()
    }

    pub fn service_tokens(&self) -> ServiceTokens {
        ServiceTokens {
            issuer: self.inner.issuer.clone(),
            ttl: self.inner.settings.access_ttl,
            cache: Default::default(),
        }
    }

    pub fn access_ttl(&self) -> Duration {
        self.inner.settings.access_ttl
    }

    /// Until `stop`, signs with whatever key the database says is active, looking every
    /// `KEY_FOLLOW_EVERY`: another replica may have rotated it. The key this one signed with
    /// meanwhile stays published far longer than that (`keys::RETIREMENT_MARGIN`), so its
    /// tokens stay good.
    pub fn follow_signing_key(&self, stop: CancellationToken) -> tokio::task::JoinHandle<()> {
        let provider = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = stop.cancelled() => return,
                    () = tokio::time::sleep(KEY_FOLLOW_EVERY) => {}
                }
                match keys::active(provider.db()).await {
                    Ok(Some(key)) if key.kid() != provider.inner.issuer.active_kid() => {
                        if let Err(err) = provider.inner.issuer.rotate_to(&key) {
                            tracing::warn!(error = %err, "cannot sign with the active key");
                            continue;
                        }
                        tracing::info!(kid = key.kid(), "signing with the key another replica made active");
                    }
                    Ok(_) => {}
                    Err(err) => tracing::warn!(error = %err, "cannot read the active signing key now"),
                }
            }
        })
    }

    fn db(&self) -> &Database {
        &self.inner.db
    }

    fn settings(&self) -> &IdentitySettings {
        &self.inner.settings
    }

    /// Checks the password and opens a session. Every attempt counts against the account and
    /// the client's address before the password is checked, and a successful one is given
    /// back; beyond their limits, attempts are refused (429) until the window ends, whether or
    /// not the account exists.
    pub async fn sign_in(&self, email: &str, password: &str, address: IpAddr) -> ApiResult<SessionGrant> {
        // Longer passwords are refused before any hashing: they could only cost time.
        if password.chars().count() > platform::api::auth::MAX_PASSWORD_CHARS {
            return Err(ApiError::Unprocessable("password is too long".into()));
        }
        // Throttled by the address as typed, in any case; looked up without case (the column
        // compares so).
        let email = email.trim();
        let account = email.to_lowercase();
        let address = address.to_string();
        let now_ms = now_millis();
        let address_window_started_at = self.count_attempt(&account, &address, now_ms).await?;

        let user = db::users::find_by_email(&self.db().read, email).await?;
        let hash = user.as_ref().and_then(UserRow::usable_password_hash).unwrap_or(&self.inner.decoy_hash).to_owned();
        let matches = self.verify_password(password, hash).await?;
        let user = match user {
            Some(user) if matches && user.usable_password_hash().is_some() => user,
            // Counted already: a failure leaves its attempt counted.
            _ => return Err(ApiError::Unauthorized(SIGN_IN_REFUSED.into())),
        };

        let refresh_token = new_secret(REFRESH_TOKEN_PREFIX);
        let now = Utc::now();
        let expires_at = now_ms + millis(self.settings().session_max);
        let idle_expires_at = (now_ms + millis(self.settings().session_idle)).min(expires_at);
        let mut tx = self.db().write.begin().await?;
        db::sessions::insert(&mut tx, user.id, &fingerprint(&refresh_token), idle_expires_at, expires_at, now).await?;
        db::users::record_login(&mut tx, user.id, now).await?;
        let forget_before =
            now_ms - millis(self.settings().account_throttle.window.max(self.settings().address_throttle.window));
        db::login_failures::clear(&mut tx, Scope::Account, &account, forget_before).await?;
        db::login_failures::give_back(&mut tx, Scope::Address, &address, address_window_started_at).await?;
        tx.commit().await?;
        tracing::info!(user_id = user.id, "signed in");

        let access = self.access_for(&user)?;
        let refresh_expires_at = Utc.timestamp_millis_opt(expires_at).single().unwrap_or(now);
        Ok(SessionGrant { access, refresh_token, refresh_expires_at })
    }

    /// A new access token for the session of `refresh_token`, with the account's role as it is
    /// now. 401 if the session has ended or the account can no longer sign in.
    pub async fn refresh(&self, refresh_token: &str) -> ApiResult<AccessGrant> {
        let ended = || ApiError::Unauthorized("the session has ended: sign in again".into());
        let now_ms = now_millis();
        let mut tx = self.db().write.begin().await?;
        let hash = fingerprint(refresh_token);
        let user_id = db::sessions::touch(&mut tx, &hash, now_ms, millis(self.settings().session_idle), Utc::now())
            .await?
            .ok_or_else(ended)?;
        let user = db::users::find(&mut tx, user_id).await?.ok_or_else(ended)?;
        if user.usable_password_hash().is_none() {
            // Disabled or reset meanwhile: this session is over for good.
            db::sessions::revoke(&mut tx, &hash, Utc::now()).await?;
            tx.commit().await?;
            return Err(ended());
        }
        tx.commit().await?;
        self.access_for(&user)
    }

    /// Ends the session of `refresh_token`; an unknown or ended one is fine too.
    pub async fn sign_out(&self, refresh_token: &str) -> ApiResult<()> {
        db::sessions::revoke(&self.db().write, &fingerprint(refresh_token), Utc::now()).await?;
        Ok(())
    }

    /// An access token for an integrator's API key.
    pub async fn exchange_api_key(&self, api_key: &str) -> ApiResult<AccessGrant> {
        let refused = || ApiError::Unauthorized("the API key is unknown or revoked".into());
        if !api_key.starts_with(API_KEY_PREFIX) {
            return Err(refused());
        }
        let key =
            db::api_keys::use_key(&self.db().write, &fingerprint(api_key), Utc::now()).await?.ok_or_else(refused)?;
        let role = key.role()?;
        let identity = Identity { subject: format!("key:{}", key.id), name: key.name, email: None, role };
        self.grant(identity)
    }

    /// Who `principal` is, as `GET /api/v1/auth/me` shows it.
    pub async fn describe(&self, principal: &Principal) -> ApiResult<Identity> {
        let gone = || ApiError::Unauthorized("the account behind this token no longer exists".into());
        Ok(match principal {
            Principal::User { id, .. } => {
                let user = db::users::find(&self.db().read, *id).await?.ok_or_else(gone)?;
                user_identity(&user)?
            }
            Principal::ApiKey { id, role } => {
                let name = db::api_keys::find(&self.db().read, *id).await?.map(|key| key.name).ok_or_else(gone)?;
                Identity { subject: principal.subject(), name, email: None, role: *role }
            }
            Principal::Service { name } => {
                return Err(ApiError::Forbidden(format!("the service {name} has no account to describe")))
            }
        })
    }

    /// A ticket for the event stream of import `import_id`, for `principal` (who may read it).
    pub fn events_ticket(&self, principal: &Principal, import_id: &str) -> ApiResult<EventsTicket> {
        let role = role_of(principal).map_or(ROLE_SERVICE, Role::as_str);
        let ticket = self.inner.issuer.mint(&Grant {
            subject: principal.subject(),
            role: role.to_owned(),
            audience: vec![IMPORT_EVENTS.to_owned()],
            ttl: TICKET_TTL,
            scope: Some(ticket_scope(import_id)),
        })?;
        Ok(EventsTicket { ticket, expires_in: TICKET_TTL.as_secs() as i64 })
    }

    /// Whether `ticket` opens the event stream of import `import_id`.
    pub async fn check_events_ticket(&self, ticket: &str, import_id: &str) -> ApiResult<()> {
        let claims = self.inner.verifier.verify_for(ticket, IMPORT_EVENTS).await.map_err(platform::auth::rejection)?;
        if claims.scope.as_deref() != Some(ticket_scope(import_id).as_str()) {
            return Err(ApiError::Unauthorized("this ticket is for another import".into()));
        }
        Ok(())
    }

    fn access_for(&self, user: &UserRow) -> ApiResult<AccessGrant> {
        self.grant(user_identity(user)?)
    }

    fn grant(&self, identity: Identity) -> ApiResult<AccessGrant> {
        let ttl = self.settings().access_ttl;
        let access_token = self.inner.issuer.mint(&Grant {
            subject: identity.subject.clone(),
            role: identity.role.as_str().to_owned(),
            audience: EVERY_SERVICE.map(str::to_owned).to_vec(),
            ttl,
            scope: None,
        })?;
        Ok(AccessGrant { access_token, token_type: "Bearer".into(), expires_in: ttl.as_secs() as i64, identity })
    }

    /// Counts this attempt against the account and the address (one transaction), and refuses
    /// it (429) when either is past its limit. Returns when the address's window began, for a
    /// successful attempt to give its count back.
    async fn count_attempt(&self, account: &str, address: &str, now_ms: i64) -> ApiResult<i64> {
        let (account_policy, address_policy) = (self.settings().account_throttle, self.settings().address_throttle);
        let mut tx = self.db().write.begin().await?;
        let on_account =
            db::login_failures::record(&mut tx, Scope::Account, account, now_ms, millis(account_policy.window)).await?;
        let on_address =
            db::login_failures::record(&mut tx, Scope::Address, address, now_ms, millis(address_policy.window)).await?;
        tx.commit().await?;
        for (scope, policy, (attempts, window_started_at)) in
            [(Scope::Account, account_policy, on_account), (Scope::Address, address_policy, on_address)]
        {
            if let Throttle::Closed { retry_after_secs } = policy.check(attempts, window_started_at, now_ms) {
                let whose = match scope {
                    Scope::Account => "this account",
                    Scope::Address => "your address",
                };
                tracing::warn!(scope = ?scope, "sign-in refused: too many failures");
                return Err(ApiError::TooManyRequests {
                    detail: format!("too many failed sign-ins for {whose}; try again in {retry_after_secs} s"),
                    retry_after_secs,
                });
            }
        }
        Ok(on_address.1)
    }

    async fn verify_password(&self, password: &str, hash: String) -> ApiResult<bool> {
        let _permit = self.inner.hashing.acquire().await.map_err(|err| anyhow::anyhow!(err))?;
        let password = password.to_owned();
        Ok(tokio::task::spawn_blocking(move || verify_password(&password, &hash)).await.map_err(anyhow::Error::from)?)
    }

    async fn hash_new_password(&self, password: &str) -> ApiResult<String> {
        check_password(password).map_err(ApiError::Unprocessable)?;
        let _permit = self.inner.hashing.acquire().await.map_err(|err| anyhow::anyhow!(err))?;
        let password = password.to_owned();
        Ok(tokio::task::spawn_blocking(move || hash_password(&password)).await.map_err(anyhow::Error::from)??)
    }
}

fn user_identity(user: &UserRow) -> anyhow::Result<Identity> {
    Ok(Identity {
        subject: format!("user:{}", user.id),
        name: user.display_name.clone(),
        email: Some(user.email.clone()),
        role: user.role()?,
    })
}

fn ticket_scope(import_id: &str) -> String {
    format!("import:{import_id}")
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// The Order Service's own tokens for its peers, each kept until half its lifetime has passed.
#[derive(Clone)]
pub struct ServiceTokens {
    issuer: Issuer,
    ttl: Duration,
    cache: Arc<Mutex<HashMap<&'static str, (String, i64)>>>,
}

impl std::fmt::Debug for ServiceTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServiceTokens")
    }
}

impl ServiceTokens {
    /// A token of this service for the peer named `audience`.
    pub fn for_peer(&self, audience: &'static str) -> anyhow::Result<String> {
        let now = Utc::now().timestamp();
        let renew_at = |expires: i64| expires - (self.ttl.as_secs() as i64) / 2;
        let mut cache = self.cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((token, expires)) = cache.get(audience) {
            if now < renew_at(*expires) {
                return Ok(token.clone());
            }
        }
        let token = self.issuer.mint(&Grant {
            subject: format!("service:{ORDER_SERVICE}"),
            role: ROLE_SERVICE.to_owned(),
            audience: vec![audience.to_owned()],
            ttl: self.ttl,
            scope: None,
        })?;
        cache.insert(audience, (token.clone(), now + self.ttl.as_secs() as i64));
        Ok(token)
    }
}

/// The role of a principal that is a person or a key (services have none).
pub fn role_of(principal: &Principal) -> Option<Role> {
    match principal {
        Principal::User { role, .. } | Principal::ApiKey { role, .. } => Some(*role),
        Principal::Service { .. } => None,
    }
}
