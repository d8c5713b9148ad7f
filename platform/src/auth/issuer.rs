//! Minting tokens: Ed25519 signing keys and the `Issuer` that signs with the active one.
//!
//! Behind the `issuer` feature, which only the Order Service enables (and the other services'
//! tests, which need tokens without starting an Order Service). Built on their own, the Payment
//! and Notification Services lack this code; built with the Order Service in one cargo
//! invocation, feature unification links it into them too — but they never hold a private key
//! (the keys live in the Order Service's database), so they still cannot mint.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm, OctetKeyPairParameters,
    OctetKeyPairType, PublicKeyUse,
};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::claims::Claims;
use crate::api::auth::ISSUER;

/// One Ed25519 key pair and its key id.
#[derive(Clone)]
pub struct SigningKey {
    kid: String,
    key: ed25519_dalek::SigningKey,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.kid).finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A fresh key from the operating system's randomness.
    pub fn generate() -> SigningKey {
        let mut seed = [0u8; 32];
        rand::rng().fill_bytes(&mut seed);
        let key = ed25519_dalek::SigningKey::from_bytes(&seed);
        SigningKey { kid: key_id(&key), key }
    }

    /// A key stored as PKCS#8 DER (how the Order Service keeps it).
    pub fn from_pkcs8_der(der: &[u8]) -> anyhow::Result<SigningKey> {
        let key = ed25519_dalek::SigningKey::from_pkcs8_der(der)
            .map_err(|err| anyhow::anyhow!("unreadable Ed25519 signing key: {err}"))?;
        Ok(SigningKey { kid: key_id(&key), key })
    }

    pub fn to_pkcs8_der(&self) -> anyhow::Result<Vec<u8>> {
        let document =
            self.key.to_pkcs8_der().map_err(|err| anyhow::anyhow!("cannot encode the signing key: {err}"))?;
        Ok(document.as_bytes().to_vec())
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public half as a JSON Web Key (RFC 8037).
    pub fn public_jwk(&self) -> Jwk {
        Jwk {
            common: CommonParameters {
                public_key_use: Some(PublicKeyUse::Signature),
                key_algorithm: Some(KeyAlgorithm::EdDSA),
                key_id: Some(self.kid.clone()),
                ..CommonParameters::default()
            },
            algorithm: AlgorithmParameters::OctetKeyPair(OctetKeyPairParameters {
                key_type: OctetKeyPairType::OctetKeyPair,
                curve: EllipticCurve::Ed25519,
                x: URL_SAFE_NO_PAD.encode(self.key.verifying_key().to_bytes()),
            }),
        }
    }
}

/// The key id: the first 12 bytes of the public key's SHA-256, base64url. Derived from the key,
/// so the same key always has the same id.
fn key_id(key: &ed25519_dalek::SigningKey) -> String {
    let digest = Sha256::digest(key.verifying_key().to_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..12])
}

/// The public keys of `keys`, as the JWKS document publishes them.
pub fn key_set<'a>(keys: impl IntoIterator<Item = &'a SigningKey>) -> JwkSet {
    JwkSet { keys: keys.into_iter().map(SigningKey::public_jwk).collect() }
}

/// An issuer with a key of its own and the key set that verifies its tokens: for the tests of
/// a service on its own, which need tokens but no Order Service.
pub fn throwaway_issuer() -> (Issuer, JwkSet) {
    let key = SigningKey::generate();
    let keys = key_set([&key]);
    // A freshly generated key always encodes.
    let issuer = Issuer::new(&key).unwrap_or_else(|err| unreachable!("a generated key encodes: {err}"));
    (issuer, keys)
}

/// What a new token is for.
#[derive(Debug, Clone)]
pub struct Grant {
    /// `user:{id}`, `key:{id}` or `service:{name}`.
    pub subject: String,
    /// `viewer`, `operator`, `admin` or `service`.
    pub role: String,
    pub audience: Vec<String>,
    pub ttl: Duration,
    pub scope: Option<String>,
}

/// Signs tokens with the active key. Cheap to clone; a rotation is seen by every clone.
#[derive(Clone)]
pub struct Issuer {
    active: Arc<RwLock<Arc<ActiveKey>>>,
}

struct ActiveKey {
    kid: String,
    encoding: EncodingKey,
}

impl Issuer {
    pub fn new(key: &SigningKey) -> anyhow::Result<Issuer> {
        Ok(Issuer { active: Arc::new(RwLock::new(Arc::new(ActiveKey::of(key)?))) })
    }

    /// Signs with `key` from now on.
    pub fn rotate_to(&self, key: &SigningKey) -> anyhow::Result<()> {
        let active = Arc::new(ActiveKey::of(key)?);
        *self.active.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = active;
        Ok(())
    }

    pub fn active_kid(&self) -> String {
        self.current().kid.clone()
    }

    /// A signed token for `grant`, valid from now for `grant.ttl`.
    pub fn mint(&self, grant: &Grant) -> anyhow::Result<String> {
        let now = chrono::Utc::now().timestamp();
        let ttl = i64::try_from(grant.ttl.as_secs()).unwrap_or(i64::MAX);
        let mut jti = [0u8; 16];
        rand::rng().fill_bytes(&mut jti);
        let claims = Claims {
            iss: ISSUER.to_owned(),
            sub: grant.subject.clone(),
            aud: grant.audience.clone(),
            exp: now.saturating_add(ttl),
            iat: now,
            jti: URL_SAFE_NO_PAD.encode(jti),
            role: grant.role.clone(),
            scope: grant.scope.clone(),
        };
        self.sign(&claims)
    }

    /// Signs `claims` exactly as given (the tests use this for expired or odd tokens).
    pub fn sign(&self, claims: &Claims) -> anyhow::Result<String> {
        let active = self.current();
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(active.kid.clone());
        Ok(jsonwebtoken::encode(&header, claims, &active.encoding)?)
    }

    fn current(&self) -> Arc<ActiveKey> {
        self.active.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }
}

impl ActiveKey {
    fn of(key: &SigningKey) -> anyhow::Result<ActiveKey> {
        Ok(ActiveKey { kid: key.kid.clone(), encoding: EncodingKey::from_ed_der(&key.to_pkcs8_der()?) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{StaticKeys, TokenError, TokenVerifier};

    fn grant(audience: &str, ttl_secs: u64) -> Grant {
        Grant {
            subject: "user:1".into(),
            role: "admin".into(),
            audience: vec![audience.into()],
            ttl: Duration::from_secs(ttl_secs),
            scope: None,
        }
    }

    #[tokio::test]
    async fn a_minted_token_verifies_with_the_published_key_only() {
        let key = SigningKey::generate();
        let issuer = Issuer::new(&key).unwrap();
        let verifier = TokenVerifier::new("payment-svc", StaticKeys(key_set([&key])));
        let token = issuer.mint(&grant("payment-svc", 300)).unwrap();
        let claims = verifier.verify(&token).await.unwrap();
        assert_eq!((claims.sub.as_str(), claims.role.as_str(), claims.iss.as_str()), ("user:1", "admin", "order-svc"));

        let other = SigningKey::generate();
        let stranger = TokenVerifier::new("payment-svc", StaticKeys(key_set([&other])));
        assert_eq!(stranger.verify(&token).await, Err(TokenError::Invalid("the token names an unknown key")));
    }

    #[tokio::test]
    async fn audience_and_expiry_are_checked() {
        let key = SigningKey::generate();
        let issuer = Issuer::new(&key).unwrap();
        let verifier = TokenVerifier::new("payment-svc", StaticKeys(key_set([&key])));
        let elsewhere = issuer.mint(&grant("notification-svc", 300)).unwrap();
        assert_eq!(verifier.verify(&elsewhere).await, Err(TokenError::WrongAudience));

        let mut claims = (*verifier.verify(&issuer.mint(&grant("payment-svc", 300)).unwrap()).await.unwrap()).clone();
        claims.exp = chrono::Utc::now().timestamp() - 60;
        let expired = issuer.sign(&claims).unwrap();
        assert_eq!(verifier.verify(&expired).await, Err(TokenError::Expired));
        // Remembered tokens are checked the same way.
        assert_eq!(verifier.verify(&expired).await, Err(TokenError::Expired));
    }

    #[tokio::test]
    async fn after_a_rotation_both_keys_verify_while_both_are_published() {
        let old = SigningKey::generate();
        let new = SigningKey::generate();
        let issuer = Issuer::new(&old).unwrap();
        let before = issuer.mint(&grant("payment-svc", 300)).unwrap();
        issuer.rotate_to(&new).unwrap();
        let after = issuer.mint(&grant("payment-svc", 300)).unwrap();
        assert_eq!(issuer.active_kid(), new.kid());
        let verifier = TokenVerifier::new("payment-svc", StaticKeys(key_set([&old, &new])));
        assert!(verifier.verify(&before).await.is_ok());
        assert!(verifier.verify(&after).await.is_ok());
    }

    #[test]
    fn a_stored_key_comes_back_with_the_same_id() {
        let key = SigningKey::generate();
        let again = SigningKey::from_pkcs8_der(&key.to_pkcs8_der().unwrap()).unwrap();
        assert_eq!(again.kid(), key.kid());
        assert_ne!(SigningKey::generate().kid(), key.kid());
        assert!(SigningKey::from_pkcs8_der(b"not a key").is_err());
    }
}
