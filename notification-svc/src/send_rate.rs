//! The send rate (NFR-008): at most `NOTIFICATION_RATE_PER_SEC` messages a second for the whole
//! service, however many replicas of it send.
//!
//! On SQLite one process sends, and an in-process limiter (`governor`) keeps it to the rate
//! exactly. On PostgreSQL several replicas send side by side, and a limit per process would let
//! N replicas send N times the rate; there, the next free send slot is one row of the database
//! (`send_rate`), read and moved on by one statement on the database's clock — so the slots of
//! all replicas are one sequence, a rate interval apart, whatever their own clocks say.

use std::num::NonZeroU32;
use std::time::Duration;

use chrono::{DateTime, Utc};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use platform::db::Pool;
use sqlx::PgPool;

pub enum SendRate {
    /// One sender in one process.
    InProcess(DefaultDirectRateLimiter),
    /// Senders in several processes, sharing the database's slot.
    Shared { pool: PgPool, interval: Duration },
}

impl SendRate {
    /// The limiter for a service whose database is `pool`.
    pub fn for_database(pool: &Pool, rate_per_sec: NonZeroU32) -> SendRate {
        match pool {
            Pool::Sqlite(_) => SendRate::InProcess(RateLimiter::direct(Quota::per_second(rate_per_sec))),
            Pool::Postgres(pool) => {
                SendRate::Shared { pool: pool.clone(), interval: Duration::from_secs(1) / rate_per_sec.get() }
            }
        }
    }

    /// Waits until this process may send one message.
    pub async fn until_ready(&self) -> sqlx::Result<()> {
        match self {
            SendRate::InProcess(limiter) => limiter.until_ready().await,
            SendRate::Shared { pool, interval } => {
                let (slot, now) = take_slot(pool, *interval).await?;
                if let Ok(wait) = (slot - now).to_std() {
                    tokio::time::sleep(wait).await;
                }
            }
        }
        Ok(())
    }
}

/// Takes the next free send slot and moves the row on by one interval: returns the slot and the
/// database's time now. The row lock orders concurrent takers, so no two get the same slot; a
/// slot in the past (the service was idle) is replaced by now, so an idle spell saves up no
/// burst.
async fn take_slot(pool: &PgPool, interval: Duration) -> sqlx::Result<(DateTime<Utc>, DateTime<Utc>)> {
    sqlx::query_as(
        "UPDATE send_rate SET next_slot = GREATEST(next_slot, clock_timestamp()) + $1
         RETURNING next_slot - $1, clock_timestamp()",
    )
    .bind(interval)
    .fetch_one(pool)
    .await
}
