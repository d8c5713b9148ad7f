//! The one shape of every background worker: a `try_execute_task` that does one unit of work
//! and says whether there was any, and a loop that calls it until stopped.
//!
//! Tests call `try_execute_task` directly until it reports `Idle` instead of sleeping; the
//! loop sleeps only when idle and wakes early when new work is signalled.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Some work was done; there may be more.
    Worked,
    /// Nothing was due.
    Idle,
}

/// How long a stopping worker lets the round under way finish.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// Calls `task` until `stop` is cancelled. Sleeps `idle_poll` (or until `wake` is notified)
/// after an idle round, and after an error, which is logged and retried.
pub async fn run_until_stopped<F, Fut>(
    name: &'static str,
    mut task: F,
    wake: Arc<Notify>,
    idle_poll: Duration,
    stop: CancellationToken,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<Outcome>>,
{
    tracing::debug!(worker = name, "started");
    while !stop.is_cancelled() {
        let round = task();
        tokio::pin!(round);
        let outcome = tokio::select! {
            outcome = &mut round => outcome,
            _ = stop.cancelled() => {
                // A round under way may finish, briefly, so that what it did is recorded: an
                // abandoned round's claimed work waits for its lease to run out before anyone
                // retries it.
                if tokio::time::timeout(STOP_GRACE, round).await.is_err() {
                    tracing::warn!(worker = name, "round abandoned at shutdown; its work is retried when its lease ends");
                }
                break;
            }
        };
        match outcome {
            Ok(Outcome::Worked) => continue,
            Ok(Outcome::Idle) => {}
            Err(err) => tracing::warn!(worker = name, error = ?err, "worker round failed; retrying"),
        }
        tokio::select! {
            _ = wake.notified() => {},
            _ = tokio::time::sleep(idle_poll) => {},
            _ = stop.cancelled() => break,
        }
    }
    tracing::debug!(worker = name, "stopped");
}

/// Exponential backoff with jitter, capped: how long to wait before attempt `n + 1`.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
}

impl Backoff {
    pub fn delay(&self, attempts_so_far: i64) -> Duration {
        let exponent = attempts_so_far.saturating_sub(1).clamp(0, 20) as u32;
        let raw = self.base.saturating_mul(2u32.saturating_pow(exponent)).min(self.max);
        // Up to 20% jitter so that many failed deliveries do not retry in lockstep.
        let jitter = raw.mul_f64(rand::random::<f64>() * 0.2);
        raw + jitter
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let backoff = Backoff { base: Duration::from_millis(100), max: Duration::from_secs(1) };
        let first = backoff.delay(1);
        assert!(first >= Duration::from_millis(100) && first <= Duration::from_millis(120));
        let third = backoff.delay(3);
        assert!(third >= Duration::from_millis(400) && third <= Duration::from_millis(480));
        let late = backoff.delay(50);
        assert!(late >= Duration::from_secs(1) && late <= Duration::from_millis(1200));
    }
}
