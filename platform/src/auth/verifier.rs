//! `TokenVerifier`: checks a bearer token against the Order Service's published public keys.
//!
//! Only EdDSA is accepted, whatever the token's header says (so neither `none` nor an HMAC
//! "signed" with the public key gets through), with the audience, issuer and expiry checked.
//! The key set is fetched when a token names a key id not seen yet (a rotation) and at least
//! every five minutes; if the issuer cannot be reached, the keys already known keep working.
//!
//! A verified token is remembered until it expires, so the many requests of one caller (or
//! the Order Service's own token at its peers) cost a hash-map lookup rather than a signature
//! check each: measured, that keeps the benchmark's figures where they were without auth.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};

use super::claims::Claims;
use crate::api::auth::{ISSUER, JWKS_PATH};

/// How old the key set may get before it is fetched again.
const MAX_KEY_AGE: Duration = Duration::from_secs(300);
/// How often an unknown key id may trigger a fetch: a flood of made-up key ids must not turn
/// into a flood of requests to the issuer.
const MIN_REFETCH: Duration = Duration::from_secs(2);
/// Clock difference tolerated between the issuer and this service, in seconds.
const LEEWAY_SECS: i64 = 5;
/// Verified tokens remembered at most; beyond, expired ones are dropped, then all.
const CACHE_LIMIT: usize = 10_000;

/// Where the public keys come from.
pub trait KeySource: Send + Sync + 'static {
    fn fetch(&self) -> BoxFuture<'_, anyhow::Result<JwkSet>>;
}

/// The issuer's JWKS document over HTTP: how the Payment and Notification Services get keys.
pub struct JwksEndpoint {
    url: String,
    http: reqwest::Client,
}

impl JwksEndpoint {
    /// The key set published at `url`.
    pub fn at(url: &str) -> JwksEndpoint {
        JwksEndpoint { url: url.to_owned(), http: crate::peer::http_client(Duration::from_secs(5)) }
    }
}

impl KeySource for JwksEndpoint {
    fn fetch(&self) -> BoxFuture<'_, anyhow::Result<JwkSet>> {
        Box::pin(async move {
            let response = self.http.get(&self.url).send().await?.error_for_status()?;
            Ok(response.json::<JwkSet>().await?)
        })
    }
}

/// A fixed key set, for a service whose keys are configured rather than fetched.
pub struct StaticKeys(pub JwkSet);

impl KeySource for StaticKeys {
    fn fetch(&self) -> BoxFuture<'_, anyhow::Result<JwkSet>> {
        let keys = self.0.clone();
        Box::pin(async move { Ok(keys) })
    }
}

/// Where a service finds the issuer's public keys: its JWKS URL (`AUTH_JWKS_URL`, by default
/// the Order Service's `/.well-known/jwks.json`), or a fixed set (tests of one service alone).
#[derive(Debug, Clone)]
pub enum PublicKeys {
    Jwks(String),
    Fixed(JwkSet),
}

impl PublicKeys {
    /// `AUTH_JWKS_URL` if set, else the key set of the Order Service at `order_service_url`.
    pub fn from_env(order_service_url: &str) -> PublicKeys {
        let default = format!("{}{JWKS_PATH}", order_service_url.trim_end_matches('/'));
        PublicKeys::Jwks(crate::config::env_string("AUTH_JWKS_URL", &default))
    }

    pub fn verifier(&self, audience: &str) -> TokenVerifier {
        match self {
            PublicKeys::Jwks(url) => TokenVerifier::new(audience, JwksEndpoint::at(url)),
            PublicKeys::Fixed(set) => TokenVerifier::new(audience, StaticKeys(set.clone())),
        }
    }
}

/// Why a token was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("access token expired")]
    Expired,
    #[error("access token is not for this service")]
    WrongAudience,
    #[error("access token is not valid: {0}")]
    Invalid(&'static str),
    /// No key set could be fetched yet: the token may be fine, but cannot be checked now.
    #[error("tokens cannot be checked right now: the issuer's keys are unavailable")]
    KeysUnavailable,
}

#[derive(Clone)]
pub struct TokenVerifier {
    inner: Arc<Inner>,
}

struct Inner {
    audience: String,
    source: Box<dyn KeySource>,
    ring: RwLock<KeyRing>,
    fetching: tokio::sync::Mutex<()>,
    verified: Mutex<HashMap<String, Arc<Claims>>>,
}

#[derive(Default)]
struct KeyRing {
    keys: HashMap<String, DecodingKey>,
    fetched_at: Option<Instant>,
    attempted_at: Option<Instant>,
}

impl std::fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenVerifier").field("audience", &self.inner.audience).finish_non_exhaustive()
    }
}

impl TokenVerifier {
    /// A verifier for tokens meant for `audience` (this service's name).
    pub fn new(audience: &str, source: impl KeySource) -> TokenVerifier {
        TokenVerifier {
            inner: Arc::new(Inner {
                audience: audience.to_owned(),
                source: Box::new(source),
                ring: RwLock::new(KeyRing::default()),
                fetching: tokio::sync::Mutex::new(()),
                verified: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The claims of `token` if it is a valid token for this service.
    pub async fn verify(&self, token: &str) -> Result<Arc<Claims>, TokenError> {
        self.verify_for(token, &self.inner.audience).await
    }

    /// The claims of `token` if it is a valid token for `audience` (a ticket's, say).
    pub async fn verify_for(&self, token: &str, audience: &str) -> Result<Arc<Claims>, TokenError> {
        let now = chrono::Utc::now().timestamp();
        let remembered = self.lock_verified().get(token).cloned();
        let claims = match remembered {
            Some(claims) => claims,
            None => {
                let claims = Arc::new(self.check_signature(token).await?);
                self.remember(token, &claims, now);
                claims
            }
        };
        if claims.exp + LEEWAY_SECS < now {
            return Err(TokenError::Expired);
        }
        if !claims.aud.iter().any(|a| a == audience) {
            return Err(TokenError::WrongAudience);
        }
        Ok(claims)
    }

    /// Fetches the key set now, e.g. right after the issuer rotated its key.
    pub async fn reload_keys(&self) {
        let _one_at_a_time = self.inner.fetching.lock().await;
        self.fetch_keys().await;
    }

    /// Signature, algorithm, issuer and the presence of every claim; audience and expiry are
    /// checked by the caller, for remembered tokens too.
    async fn check_signature(&self, token: &str) -> Result<Claims, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Invalid("malformed token"))?;
        if header.alg != Algorithm::EdDSA {
            return Err(TokenError::Invalid("only EdDSA-signed tokens are accepted"));
        }
        let kid = header.kid.ok_or(TokenError::Invalid("the token names no key"))?;
        let key = self.key(&kid).await?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "aud", "iss", "sub"]);
        // Checked afterwards, the same way for remembered tokens.
        validation.validate_aud = false;
        validation.validate_exp = false;
        let data = jsonwebtoken::decode::<Claims>(token, &key, &validation).map_err(|err| match err.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidIssuer => TokenError::Invalid("the token has another issuer"),
            _ => TokenError::Invalid("the signature or the claims do not verify"),
        })?;
        Ok(data.claims)
    }

    async fn key(&self, kid: &str) -> Result<DecodingKey, TokenError> {
        if let Some(key) = self.known_key(kid, true) {
            return Ok(key);
        }
        {
            let _one_at_a_time = self.inner.fetching.lock().await;
            // Another request may have fetched while this one waited.
            if let Some(key) = self.known_key(kid, true) {
                return Ok(key);
            }
            let may_fetch = {
                let ring = self.read_ring();
                ring.attempted_at.is_none_or(|at| at.elapsed() >= MIN_REFETCH)
            };
            if may_fetch {
                self.fetch_keys().await;
            }
        }
        // A stale set is still better than none while the issuer is unreachable.
        if let Some(key) = self.known_key(kid, false) {
            return Ok(key);
        }
        if self.read_ring().fetched_at.is_none() {
            return Err(TokenError::KeysUnavailable);
        }
        Err(TokenError::Invalid("the token names an unknown key"))
    }

    fn known_key(&self, kid: &str, fresh_only: bool) -> Option<DecodingKey> {
        let ring = self.read_ring();
        let fresh = ring.fetched_at.is_some_and(|at| at.elapsed() < MAX_KEY_AGE);
        if fresh_only && !fresh {
            return None;
        }
        ring.keys.get(kid).cloned()
    }

    /// Call with `fetching` held.
    async fn fetch_keys(&self) {
        self.write_ring().attempted_at = Some(Instant::now());
        match self.inner.source.fetch().await {
            Ok(set) => {
                let keys = decoding_keys(&set);
                let mut ring = self.write_ring();
                let changed = ring.keys.len() != keys.len() || keys.keys().any(|kid| !ring.keys.contains_key(kid));
                ring.keys = keys;
                ring.fetched_at = Some(Instant::now());
                drop(ring);
                if changed {
                    // A key taken out of the set takes its tokens with it.
                    self.lock_verified().clear();
                }
            }
            Err(err) => tracing::warn!(error = %err, "cannot fetch the token signing keys; keeping the known ones"),
        }
    }

    fn remember(&self, token: &str, claims: &Arc<Claims>, now: i64) {
        let mut verified = self.lock_verified();
        if verified.len() >= CACHE_LIMIT {
            verified.retain(|_, claims| claims.exp + LEEWAY_SECS >= now);
            if verified.len() >= CACHE_LIMIT {
                verified.clear();
            }
        }
        verified.insert(token.to_owned(), claims.clone());
    }

    // A poisoned lock only means another request panicked mid-update of a cache; the data
    // is still a usable cache.
    fn lock_verified(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Claims>>> {
        self.inner.verified.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn read_ring(&self) -> std::sync::RwLockReadGuard<'_, KeyRing> {
        self.inner.ring.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write_ring(&self) -> std::sync::RwLockWriteGuard<'_, KeyRing> {
        self.inner.ring.write().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The Ed25519 keys of a set, by key id; anything else in it is ignored.
fn decoding_keys(set: &JwkSet) -> HashMap<String, DecodingKey> {
    set.keys
        .iter()
        .filter_map(|jwk| {
            let kid = jwk.common.key_id.clone()?;
            match &jwk.algorithm {
                AlgorithmParameters::OctetKeyPair(okp) if okp.curve == EllipticCurve::Ed25519 => {
                    DecodingKey::from_jwk(jwk).ok().map(|key| (kid, key))
                }
                _ => None,
            }
        })
        .collect()
}
