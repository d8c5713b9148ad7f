//! The Payment Service's gauges, read from its database at each scrape of `/metrics`: its outbox
//! of webhooks, and the payments still pending. (The outcomes of payments are counted where
//! they are recorded: `payments_total`.)

use futures::future::BoxFuture;
use platform::db::Database;
use platform::metrics::Collect;

use crate::db;

pub const SERVICE: &str = platform::api::auth::PAYMENT_SERVICE;

pub struct Gauges {
    pub db: Database,
}

impl Collect for Gauges {
    fn collect(&self) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async move {
            platform::metrics::collect_outbox(SERVICE, &self.db.read).await?;
            let pending = db::payments::count_pending(&self.db.read).await?;
            metrics::gauge!("payments_pending", "service" => SERVICE).set(pending as f64);
            Ok(())
        })
    }
}

/// Counts the payments as settled, by their status.
pub fn count_settled<'a>(rows: impl IntoIterator<Item = &'a crate::db::payments::PaymentRow>) {
    let mut by_status: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for row in rows {
        *by_status.entry(row.status.as_str()).or_default() += 1;
    }
    for (status, payments) in by_status {
        count_outcomes(status, payments);
    }
}

/// Counts payments that reached `status` (`completed`, `failed`, `pending`, `refunded`): a new
/// payment is counted `pending`, then again by its outcome.
pub fn count_outcomes(status: &str, payments: usize) {
    if payments > 0 {
        metrics::counter!("payments_total", "service" => SERVICE, "status" => status.to_owned())
            .increment(payments as u64);
    }
}
