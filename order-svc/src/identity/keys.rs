//! The signing keys: the first one created with the database, rotated on an administrator's
//! request, and published (the active key, and retired keys for as long as tokens they
//! signed can still be in use) as the JWKS document every service verifies with.

use std::time::Duration;

use chrono::Utc;
use futures::future::BoxFuture;
use platform::auth::issuer::{key_set, SigningKey};
use platform::auth::{JwkSet, KeySource};
use platform::db::{now_millis, Database};

use crate::db;

/// How long past a token's lifetime a retired key stays published: time for every verifier
/// to have fetched the new key before the old one disappears.
const RETIREMENT_MARGIN: Duration = Duration::from_secs(600);

/// The active key; on a fresh database, a new one.
pub async fn load_or_create(db: &Database) -> anyhow::Result<SigningKey> {
    if let Some(row) = db::signing_keys::active(&db.write).await? {
        return SigningKey::from_pkcs8_der(&row.private_key);
    }
    let key = SigningKey::generate();
    store_as_active(db, &key).await?;
    tracing::info!(kid = key.kid(), "created the first token signing key");
    Ok(key)
}

/// A new active key; the previous one is retired (still published for a while).
pub async fn rotate(db: &Database) -> anyhow::Result<SigningKey> {
    let key = SigningKey::generate();
    store_as_active(db, &key).await?;
    tracing::info!(kid = key.kid(), "rotated the token signing key");
    Ok(key)
}

async fn store_as_active(db: &Database, key: &SigningKey) -> anyhow::Result<()> {
    let mut tx = db.write.begin().await?;
    db::signing_keys::activate(&mut tx, key.kid(), &key.to_pkcs8_der()?, Utc::now(), now_millis()).await?;
    tx.commit().await?;
    Ok(())
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
