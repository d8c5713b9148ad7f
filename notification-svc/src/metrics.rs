//! The Notification Service's gauges, read from its database at each scrape of `/metrics`: the
//! notifications by delivery status (`pending` is the send queue's depth), and the send rate the
//! sender keeps to. (Accepted, sent and failed notifications are counted where that happens:
//! `notifications_total`; the rate actually reached is `rate(notifications_total{outcome="sent"})`.)

use futures::future::BoxFuture;
use platform::db::Database;
use platform::metrics::Collect;

use crate::db;

pub const SERVICE: &str = platform::api::auth::NOTIFICATION_SERVICE;

pub struct Gauges {
    pub db: Database,
    pub rate_per_sec: u32,
}

impl Collect for Gauges {
    fn collect(&self) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async move {
            let counts = db::notifications::count_by_status(&self.db.read).await?;
            for (status, count) in [("PENDING", counts.pending), ("SENT", counts.sent), ("FAILED", counts.failed)] {
                metrics::gauge!("notifications", "service" => SERVICE, "status" => status).set(count as f64);
            }
            metrics::gauge!("notification_send_rate_limit_per_second", "service" => SERVICE)
                .set(f64::from(self.rate_per_sec));
            Ok(())
        })
    }
}

/// Counts notifications by what became of them: `queued`, `sent`, `retried`, `failed`.
pub fn count(outcome: &'static str, notifications: usize) {
    if notifications > 0 {
        metrics::counter!("notifications_total", "service" => SERVICE, "outcome" => outcome)
            .increment(notifications as u64);
    }
}
