//! The signing keys: the first one created with the database, rotated on an administrator's
//! request, and published (the active key, and retired keys for as long as tokens they
//! signed can still be in use) as the JWKS document every service verifies with.

use std::time::Duration;

use anyhow::Context as _;
use chrono::Utc;
use futures::future::BoxFuture;
use platform::auth::issuer::{key_set, SigningKey};
use platform::auth::{JwkSet, KeySource};
use platform::db::{now_millis, Database};

use crate::db;

/// How long past a token's lifetime a retired key stays published: time for every verifier
/// to have fetched the new key before the old one disappears.
const RETIREMENT_MARGIN: Duration = Duration::from_secs(600);

/// The active key; on a fresh database, a new one — or, when another replica created one at
/// the same moment, that one.
pub async fn load_or_create(db: &Database) -> anyhow::Result<SigningKey> {
    if let Some(key) = active(db).await? {
        return Ok(key);
    }
    let key = SigningKey::generate();
    if store_as_active(db, &key).await? {
        tracing::info!(kid = key.kid(), "created the first token signing key");
        return Ok(key);
    }
    active(db).await?.context("another process created the first signing key, which is not there")
}

/// The key that signs now, as the database says (another replica may have rotated it).
pub async fn active(db: &Database) -> anyhow::Result<Option<SigningKey>> {
    db::signing_keys::active(&db.write).await?.map(|row| SigningKey::from_pkcs8_der(&row.private_key)).transpose()
}

/// A new active key; the previous one is retired (still published for a while).
pub async fn rotate(db: &Database) -> anyhow::Result<SigningKey> {
    // Two rotations at once (on two replicas) take turns: the one that lost retires the
    // winner's key in its second attempt, and both keys stay published.
    for _ in 0..2 {
        let key = SigningKey::generate();
        if store_as_active(db, &key).await? {
            tracing::info!(kid = key.kid(), "rotated the token signing key");
            return Ok(key);
        }
    }
    anyhow::bail!("the signing key was rotated by someone else at the same moment, twice")
}

/// `false` when another process activated a key at the same moment (the one-active-key index
/// of PostgreSQL refused this one).
async fn store_as_active(db: &Database, key: &SigningKey) -> anyhow::Result<bool> {
    let mut tx = db.write.begin().await?;
    match db::signing_keys::activate(&mut tx, key.kid(), &key.to_pkcs8_der()?, Utc::now(), now_millis()).await {
        Ok(()) => {}
        Err(err) if platform::db::is_unique_violation(&err) => return Ok(false),
        Err(err) => return Err(err.into()),
    }
    match tx.commit().await {
        Ok(()) => Ok(true),
        Err(err) if platform::db::is_unique_violation(&err) => Ok(false),
        Err(err) => Err(err.into()),
    }
}

/// The keys to publish now, given the lifetime of access tokens.
pub async fn published(db: &Database, access_ttl: Duration) -> anyhow::Result<JwkSet> {
    let retired_after = now_millis() - i64::try_from((access_ttl + RETIREMENT_MARGIN).as_millis())?;
    let rows = db::signing_keys::published(&db.read, retired_after).await?;
    let keys =
        rows.iter().map(|row| SigningKey::from_pkcs8_der(&row.private_key)).collect::<anyhow::Result<Vec<_>>>()?;
    Ok(key_set(&keys))
}

/// The published keys as this service's own verifier reads them: from its database.
pub struct PublishedKeys {
    db: Database,
    access_ttl: Duration,
}

impl PublishedKeys {
    pub fn new(db: &Database, access_ttl: Duration) -> PublishedKeys {
        PublishedKeys { db: db.clone(), access_ttl }
    }
}

impl KeySource for PublishedKeys {
    fn fetch(&self) -> BoxFuture<'_, anyhow::Result<JwkSet>> {
        Box::pin(published(&self.db, self.access_ttl))
    }
}
