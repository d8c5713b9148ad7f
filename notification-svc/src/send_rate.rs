//! The send rate (NFR-008): at most `NOTIFICATION_RATE_PER_SEC` messages a second for the whole
//! service, however many replicas of it send.
//!
//! The limit is strict on both backends: one message per `1 / rate` interval, no burst, so no
//! one-second window ever holds more than the rate (a token bucket holding a second's quota
//! would let nearly twice the rate through a window that starts with a full bucket).
//!
//! On SQLite one process sends, and an in-process limiter (`governor`) spaces its sends. On
//! PostgreSQL several replicas send side by side, and a limit per process would let N replicas
//! send N times the rate; there, the time the last send was released is one row of the
//! database (`send_rate`), and a sender is released only by moving that row on, in one
//! statement evaluated on the database's clock against the newest row — so the
//! releases of all replicas are one sequence, at least an interval apart, whatever their own
//! clocks say.
//!
//! A release is the message's `sent_at`: the moment it was handed to the transport. What no
//! limiter can see is a process stalled between its release and the transport's first byte;
//! the release time is the one the limit is kept, and tested, on.

use std::num::NonZeroU32;
use std::time::Duration;

use chrono::{DateTime, Utc};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use platform::db::Pool;
use sqlx::PgPool;

pub enum SendRate {
    /// One sender in one process.
    InProcess(DefaultDirectRateLimiter),
    /// Senders in several processes, sharing the database's release row.
    Shared { pool: PgPool, interval: Duration },
}

impl SendRate {
    /// The limiter for a service whose database is `pool`.
    pub fn for_database(pool: &Pool, rate_per_sec: NonZeroU32) -> SendRate {
        match pool {
            Pool::Sqlite(_) => {
                let one_at_a_time = Quota::per_second(rate_per_sec).allow_burst(NonZeroU32::MIN);
                SendRate::InProcess(RateLimiter::direct(one_at_a_time))
            }
            Pool::Postgres(pool) => {
                SendRate::Shared { pool: pool.clone(), interval: Duration::from_secs(1) / rate_per_sec.get() }
            }
        }
    }

    /// Waits until this process may send one message, for at most `within`; returns the
    /// moment it was released, which is the message's `sent_at`, or `None` when senders of
    /// other replicas took every release meanwhile.
    pub async fn until_released(&self, within: Duration) -> sqlx::Result<Option<DateTime<Utc>>> {
        match self {
            // The only sender of its process waits one interval at most; `until_ready` takes
            // nothing until it returns, so giving up on it wastes no release.
            SendRate::InProcess(limiter) => {
                Ok(tokio::time::timeout(within, limiter.until_ready()).await.ok().map(|()| Utc::now()))
            }
            SendRate::Shared { pool, interval } => {
                let deadline = tokio::time::Instant::now() + within;
                loop {
                    if let Some(released) = release(pool, *interval).await? {
                        return Ok(Some(released));
                    }
                    // Another sender was released less than an interval ago: wait until the
                    // interval is over, then compete for the next release.
                    let (next, now) = next_release(pool).await?;
                    let wait = (next - now).to_std().unwrap_or_default();
                    if tokio::time::Instant::now() + wait > deadline {
                        return Ok(None);
                    }
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }
}

/// Releases one send if the last release is at least `interval` old on the database's clock,
/// and returns its time; `None` when it is too early. When another sender moved the row on
/// between this statement's read and its write, PostgreSQL evaluates the condition and the new
/// value again on the newest row, reading the clock again, so two releases are never closer
/// than `interval`, however the senders race.
async fn release(pool: &PgPool, interval: Duration) -> sqlx::Result<Option<DateTime<Utc>>> {
    sqlx::query_scalar(
        "UPDATE send_rate SET next_slot = clock_timestamp() + $1
         WHERE next_slot <= clock_timestamp()
         RETURNING next_slot - $1",
    )
    .bind(interval)
    .fetch_optional(pool)
    .await
}

/// When the next release may happen, and the database's time now.
async fn next_release(pool: &PgPool) -> sqlx::Result<(DateTime<Utc>, DateTime<Utc>)> {
    sqlx::query_as("SELECT next_slot, clock_timestamp() FROM send_rate").fetch_one(pool).await
}
