//! The Order Service's gauges, read from its database at each scrape of `/metrics`: its outbox,
//! and the imports by status with the orders they have still to process. (Its counters —
//! status changes, imported orders — are recorded where they happen.)

use futures::future::BoxFuture;
use platform::db::Database;
use platform::metrics::Collect;

use crate::db;

pub const SERVICE: &str = platform::api::auth::ORDER_SERVICE;

pub struct Gauges {
    pub db: Database,
}

impl Collect for Gauges {
    fn collect(&self) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async move {
            platform::metrics::collect_outbox(SERVICE, &self.db.read).await?;
            let progress = db::imports::progress(&self.db.read).await?;
            for (status, count) in progress.by_status {
                metrics::gauge!("imports", "service" => SERVICE, "status" => status).set(count as f64);
            }
            metrics::gauge!("import_orders_remaining", "service" => SERVICE).set(progress.orders_remaining as f64);
            Ok(())
        })
    }
}
