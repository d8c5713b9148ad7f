//! The `orders` and `order_items` tables.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use platform::api::orders::{OrderStats, OrderStatus, StatusCount};
use platform::Yen;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection, SqlitePool};

use super::{ItemRow, OrderRow};
use crate::domain::{ValidItem, ValidOrder};

/// Which orders a list shows; `None` means any.
#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    pub status: Option<OrderStatus>,
    /// The whole address, case-insensitive.
    pub customer_email: Option<String>,
    /// A LIKE pattern (see `OrderFilter::email_containing`).
    email_pattern: Option<String>,
    /// The orders of one import.
    pub batch_id: Option<String>,
}

impl OrderFilter {
    /// Orders whose customer address contains `text`, case-insensitive (the dashboard's
    /// search box). `%`, `_` and `\` in `text` are matched literally.
    pub fn email_containing(mut self, text: &str) -> OrderFilter {
        let mut pattern = String::with_capacity(text.len() + 2);
        pattern.push('%');
        for c in text.chars() {
            if matches!(c, '%' | '_' | '\\') {
                pattern.push('\\');
            }
            pattern.push(c);
        }
        pattern.push('%');
        self.email_pattern = Some(pattern);
        self
    }

    /// Index into the statement variants below: one bit per condition in use.
    fn variant(&self) -> usize {
        usize::from(self.status.is_some())
            | (usize::from(self.customer_email.is_some()) << 1)
            | (usize::from(self.email_pattern.is_some()) << 2)
            | (usize::from(self.batch_id.is_some()) << 3)
    }
}

/// The conditions of `OrderFilter`, bound as ?1 … ?4 in every statement. Unused parameters
/// are bound but unreferenced, which SQLite allows.
const CONDITIONS: [&str; 4] =
    ["status = ?1", "customer_email = ?2", "customer_email LIKE ?3 ESCAPE '\\'", "batch_id = ?4"];
/// One statement per combination of conditions.
const VARIANTS: usize = 1 << CONDITIONS.len();

/// One fixed statement per combination of conditions, in `OrderFilter::variant` order. Each is
/// prepared once per connection and lets SQLite use the matching index, which an
/// `(?1 IS NULL OR status = ?1)` catch-all would not.
fn by_filter(head: &str, tail: &str) -> [String; VARIANTS] {
    std::array::from_fn(|variant| {
        let used: Vec<&str> =
            CONDITIONS.iter().enumerate().filter(|(bit, _)| variant & (1 << bit) != 0).map(|(_, c)| *c).collect();
        if used.is_empty() {
            format!("{head}{tail}")
        } else {
            format!("{head} WHERE {}{tail}", used.join(" AND "))
        }
    })
}

static COUNT_SQL: LazyLock<[String; VARIANTS]> = LazyLock::new(|| by_filter("SELECT COUNT(*) FROM orders", ""));
static PAGE_SQL: LazyLock<[String; VARIANTS]> = LazyLock::new(|| {
    by_filter(
        "SELECT id, customer_email, customer_name, status, total_amount, currency, batch_id, order_ref, created_at, updated_at FROM orders",
        " ORDER BY id DESC LIMIT ?5 OFFSET ?6",
    )
});

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_order(
    conn: &mut SqliteConnection,
    order: &ValidOrder,
    status: OrderStatus,
    now: DateTime<Utc>,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO orders (customer_email, customer_name, status, total_amount, currency, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)
         RETURNING id",
    )
    .bind(order.customer_email.as_str())
    .bind(order.customer_name.as_str())
    .bind(status.as_str())
    .bind(order.total_amount.get())
    .bind(order.currency.code())
    .bind(now)
    .fetch_one(conn)
    .await
}

/// All the items of a new order in one statement: at most `platform::new_order::MAX_ITEMS` rows, well
/// within SQLite's limit on bound parameters. Rows are inserted in the order given, so their
/// ids ascend in that order; they come back sorted by id, as `fetch_items` reads them, since
/// SQLite does not promise the order of `RETURNING` rows.
#[tracing::instrument(level = "debug", skip_all, fields(order_id = order_id, items = items.len()))]
pub async fn insert_items(
    conn: &mut SqliteConnection,
    order_id: i64,
    items: &[ValidItem],
) -> sqlx::Result<Vec<ItemRow>> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let mut query =
        QueryBuilder::<Sqlite>::new("INSERT INTO order_items (order_id, product_name, quantity, unit_price) ");
    query.push_values(items, |mut row, item| {
        row.push_bind(order_id)
            .push_bind(item.product_name.as_str())
            .push_bind(item.quantity.get())
            .push_bind(item.unit_price.get());
    });
    query.push(" RETURNING id, order_id, product_name, quantity, unit_price");
    let mut rows: Vec<ItemRow> = query.build_query_as().fetch_all(conn).await?;
    rows.sort_unstable_by_key(|row| row.id);
    Ok(rows)
}

/// Rows per multi-row INSERT of an import: within SQLite's 32,766 bound parameters for the
/// widest of these statements (9 per order).
const ROWS_PER_INSERT: usize = 2_000;

/// The orders of one chunk of an import, as `payment_processing`, in few statements. A
/// reference already created for this batch (by a run that was interrupted after its
/// commit) is skipped by the unique (batch_id, order_ref) index. Returns the ids created with
/// their references.
#[tracing::instrument(level = "debug", skip_all, fields(batch_id = batch_id, orders = orders.len()))]
pub async fn insert_imported(
    conn: &mut SqliteConnection,
    batch_id: &str,
    orders: &[(&str, &ValidOrder)],
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<(i64, String)>> {
    let mut created = Vec::with_capacity(orders.len());
    for chunk in orders.chunks(ROWS_PER_INSERT) {
        let mut query = QueryBuilder::<Sqlite>::new(
            "INSERT INTO orders (customer_email, customer_name, status, total_amount, currency, batch_id, order_ref,
                                 created_at, updated_at) ",
        );
        query.push_values(chunk, |mut row, (order_ref, order)| {
            row.push_bind(order.customer_email.as_str())
                .push_bind(order.customer_name.as_str())
                .push_bind(OrderStatus::PaymentProcessing.as_str())
                .push_bind(order.total_amount.get())
                .push_bind(order.currency.code())
                .push_bind(batch_id)
                .push_bind(*order_ref)
                .push_bind(now)
                .push_bind(now);
        });
        query.push(" ON CONFLICT DO NOTHING RETURNING id, order_ref");
        let rows: Vec<(i64, String)> = query.build_query_as().fetch_all(&mut *conn).await?;
        created.extend(rows);
    }
    Ok(created)
}

/// The items of many new orders, in few statements.
#[tracing::instrument(level = "debug", skip_all, fields(items = items.len()))]
pub async fn insert_items_of(conn: &mut SqliteConnection, items: &[(i64, &ValidItem)]) -> sqlx::Result<()> {
    for chunk in items.chunks(ROWS_PER_INSERT) {
        let mut query =
            QueryBuilder::<Sqlite>::new("INSERT INTO order_items (order_id, product_name, quantity, unit_price) ");
        query.push_values(chunk, |mut row, (order_id, item)| {
            row.push_bind(*order_id)
                .push_bind(item.product_name.as_str())
                .push_bind(item.quantity.get())
                .push_bind(item.unit_price.get());
        });
        query.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Moves each of `order_ids` that is still in `from` to `to`; returns those that moved. The
/// same guard as `update_status`, for a whole chunk of an import at once.
#[tracing::instrument(level = "debug", skip_all, fields(orders = order_ids.len(), from = from.as_str(), to = to.as_str()))]
pub async fn update_status_of(
    conn: &mut SqliteConnection,
    order_ids: &[i64],
    from: OrderStatus,
    to: OrderStatus,
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<i64>> {
    if order_ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids = serde_json::to_string(order_ids).map_err(|err| sqlx::Error::Encode(Box::new(err)))?;
    sqlx::query_scalar(
        "UPDATE orders SET status = ?1, updated_at = ?2
         WHERE id IN (SELECT value FROM json_each(?3)) AND status = ?4
         RETURNING id",
    )
    .bind(to.as_str())
    .bind(now)
    .bind(ids)
    .bind(from.as_str())
    .fetch_all(conn)
    .await
}

/// The orders of `order_ids` with their items, for the e-mails of an import.
pub async fn fetch_orders_of(pool: &SqlitePool, order_ids: &[i64]) -> sqlx::Result<Vec<OrderRow>> {
    if order_ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids = serde_json::to_string(order_ids).map_err(|err| sqlx::Error::Encode(Box::new(err)))?;
    sqlx::query_as(
        "SELECT id, customer_email, customer_name, status, total_amount, currency, batch_id, order_ref, created_at,
                updated_at
         FROM orders WHERE id IN (SELECT value FROM json_each(?1)) ORDER BY id",
    )
    .bind(ids)
    .fetch_all(pool)
    .await
}

/// Moves the order from `from` to `to`, only if it still is in `from`: of two concurrent
/// changes, exactly one applies. `false` when the order was no longer in `from`.
#[tracing::instrument(level = "debug", skip_all, fields(order_id = order_id, from = from.as_str(), to = to.as_str()))]
pub async fn update_status(
    conn: &mut SqliteConnection,
    order_id: i64,
    from: OrderStatus,
    to: OrderStatus,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let result = sqlx::query("UPDATE orders SET status = ?1, updated_at = ?2 WHERE id = ?3 AND status = ?4")
        .bind(to.as_str())
        .bind(now)
        .bind(order_id)
        .bind(from.as_str())
        .execute(conn)
        .await?;
    Ok(result.rows_affected() == 1)
}

#[tracing::instrument(level = "debug", skip_all, fields(order_id = order_id))]
pub async fn fetch_order(pool: &SqlitePool, order_id: i64) -> sqlx::Result<Option<OrderRow>> {
    // Built once: `format!` here would allocate on the hottest read path.
    const SQL: &str = "SELECT id, customer_email, customer_name, status, total_amount, currency, batch_id, order_ref, created_at, updated_at
                       FROM orders WHERE id = ?1";
    sqlx::query_as(SQL).bind(order_id).fetch_optional(pool).await
}

#[tracing::instrument(level = "debug", skip_all, fields(order_id = order_id))]
pub async fn fetch_items(pool: &SqlitePool, order_id: i64) -> sqlx::Result<Vec<ItemRow>> {
    sqlx::query_as(
        "SELECT id, order_id, product_name, quantity, unit_price FROM order_items WHERE order_id = ?1 ORDER BY id",
    )
    .bind(order_id)
    .fetch_all(pool)
    .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn count_orders(pool: &SqlitePool, filter: &OrderFilter) -> sqlx::Result<i64> {
    sqlx::query_scalar(COUNT_SQL[filter.variant()].as_str())
        .bind(filter.status.map(OrderStatus::as_str))
        .bind(filter.customer_email.as_deref())
        .bind(filter.email_pattern.as_deref())
        .bind(filter.batch_id.as_deref())
        .fetch_one(pool)
        .await
}

/// One page of orders, newest first.
#[tracing::instrument(level = "debug", skip_all, fields(skip = skip, limit = limit))]
pub async fn list_orders(
    pool: &SqlitePool,
    filter: &OrderFilter,
    skip: i64,
    limit: i64,
) -> sqlx::Result<Vec<OrderRow>> {
    sqlx::query_as(PAGE_SQL[filter.variant()].as_str())
        .bind(filter.status.map(OrderStatus::as_str))
        .bind(filter.customer_email.as_deref())
        .bind(filter.email_pattern.as_deref())
        .bind(filter.batch_id.as_deref())
        .bind(limit)
        .bind(skip)
        .fetch_all(pool)
        .await
}

/// The items of several orders in one statement (no query per order). The ids travel as
/// one JSON array so that the statement is the same whatever the page size.
#[tracing::instrument(level = "debug", skip_all, fields(orders = order_ids.len()))]
pub async fn fetch_items_of(pool: &SqlitePool, order_ids: &[i64]) -> sqlx::Result<Vec<ItemRow>> {
    if order_ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids = serde_json::to_string(order_ids).map_err(|err| sqlx::Error::Encode(Box::new(err)))?;
    sqlx::query_as(
        "SELECT id, order_id, product_name, quantity, unit_price FROM order_items
         WHERE order_id IN (SELECT value FROM json_each(?1))
         ORDER BY order_id, id",
    )
    .bind(ids)
    .fetch_all(pool)
    .await
}

/// The overview figures, from two aggregate statements over the orders table.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn stats(pool: &SqlitePool, today_starts_at: DateTime<Utc>) -> sqlx::Result<OrderStats> {
    let groups: Vec<(String, i64, i64)> =
        sqlx::query_as("SELECT status, COUNT(*), COALESCE(SUM(total_amount), 0) FROM orders GROUP BY status")
            .fetch_all(pool)
            .await?;
    let orders_today: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orders WHERE created_at >= ?1")
        .bind(today_starts_at)
        .fetch_one(pool)
        .await?;
    let count_of = |status: OrderStatus| groups.iter().find(|g| g.0 == status.as_str()).map_or((0, 0), |g| (g.1, g.2));
    let by_status: Vec<StatusCount> =
        OrderStatus::ALL.into_iter().map(|status| StatusCount { status, count: count_of(status).0 }).collect();
    let paid_revenue = [OrderStatus::Paid, OrderStatus::Shipped, OrderStatus::Delivered]
        .into_iter()
        .map(|status| count_of(status).1)
        .sum();
    Ok(OrderStats {
        total_orders: by_status.iter().map(|s| s.count).sum(),
        by_status,
        paid_revenue: Yen::new(paid_revenue),
        orders_today,
        today_starts_at,
    })
}

/// Orders in `payment_processing` since before `changed_before` and not reconciled since
/// `checked_before` (milliseconds since the epoch) whose payment no request, outbox row or
/// running import is still seeing to: the ones the reconciler asks the Payment Service about.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn awaiting_payment(
    pool: &SqlitePool,
    changed_before: DateTime<Utc>,
    checked_before: i64,
    limit: i64,
) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar(
        "SELECT o.id FROM orders o
         WHERE o.status = 'payment_processing' AND o.updated_at < ?1
           AND (o.payment_checked_at IS NULL OR o.payment_checked_at < ?2)
           AND NOT EXISTS (SELECT 1 FROM outbox x WHERE x.idempotency_key = 'order-' || o.id || '-payment'
                           AND x.delivered_at IS NULL AND x.dead_at IS NULL)
           AND (o.batch_id IS NULL OR NOT EXISTS (SELECT 1 FROM imports i WHERE i.id = o.batch_id
                                                  AND i.status IN ('validating', 'processing')))
         ORDER BY o.id LIMIT ?3",
    )
    .bind(changed_before)
    .bind(checked_before)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Notes that the order's payment was asked about at `now_ms`.
#[tracing::instrument(level = "debug", skip_all, fields(order_id))]
pub async fn mark_payment_checked(conn: &mut SqliteConnection, order_id: i64, now_ms: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE orders SET payment_checked_at = ?1 WHERE id = ?2")
        .bind(now_ms)
        .bind(order_id)
        .execute(conn)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_variants_reference_only_their_parameters() {
        let mut filter = OrderFilter::default();
        assert!(!PAGE_SQL[filter.variant()].contains("WHERE"));
        filter.status = Some(OrderStatus::Paid);
        assert!(PAGE_SQL[filter.variant()].contains("WHERE status = ?1 ORDER"));
        filter.customer_email = Some("a@example.com".into());
        assert!(PAGE_SQL[filter.variant()].contains("status = ?1 AND customer_email = ?2"));
        filter.status = None;
        assert!(COUNT_SQL[filter.variant()].ends_with("WHERE customer_email = ?2"));
    }
}
