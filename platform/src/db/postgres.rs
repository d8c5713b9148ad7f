//! Opening a service's PostgreSQL database: one pool for reads and writes. PostgreSQL has no
//! single writer to queue behind — concurrent writers lock rows, not the database — so the
//! SQLite split into readers and a writer has nothing to protect here.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

/// Connects to the (existing) database at `url` with up to `max_connections` connections.
pub(super) async fn connect(url: &str, max_connections: u32) -> anyhow::Result<PgPool> {
    let options = PgConnectOptions::from_str(url)?;
    let pool = PgPoolOptions::new()
        .max_connections(max_connections.max(2))
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options)
        .await?;
    Ok(pool)
}
