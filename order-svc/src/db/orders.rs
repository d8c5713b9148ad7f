//! The `orders` and `order_items` tables.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use platform::api::orders::{OrderStats, OrderStatus, StatusCount};
use platform::db::{EpochMillis, Exec, Pool, RowsAffected, Transaction};
use platform::on_db;
use platform::Yen;
use sqlx::query::QueryAs;
use sqlx::QueryBuilder;

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

    /// Binds the values of the conditions in use, in the order their statement names them.
    fn bind_to<'q, DB, O>(
        &'q self,
        mut query: QueryAs<'q, DB, O, <DB as sqlx::Database>::Arguments<'q>>,
    ) -> QueryAs<'q, DB, O, <DB as sqlx::Database>::Arguments<'q>>
    where
        DB: sqlx::Database,
        &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    {
        let values = [
            self.status.map(OrderStatus::as_str),
            self.customer_email.as_deref(),
            self.email_pattern.as_deref(),
            self.batch_id.as_deref(),
        ];
        for value in values.into_iter().flatten() {
            query = query.bind(value);
        }
        query
    }
}

/// The conditions of `OrderFilter`, in `OrderFilter::variant`'s bit order, for each dialect;
/// `{}` is the placeholder's number, given in order to the conditions in use (PostgreSQL
/// refuses a statement bound with more parameters than it names). Addresses compare without
/// case: on SQLite by the column's NOCASE collation (which its index has), on PostgreSQL by
/// `lower()` (which its index has) and ILIKE.
const SQLITE_CONDITIONS: [&str; 4] =
    ["status = ${}", "customer_email = ${}", "customer_email LIKE ${} ESCAPE '\\'", "batch_id = ${}"];
const POSTGRES_CONDITIONS: [&str; 4] =
    ["status = ${}", "lower(customer_email) = lower(${})", "customer_email ILIKE ${} ESCAPE '\\'", "batch_id = ${}"];
/// One statement per combination of conditions.
const VARIANTS: usize = 1 << SQLITE_CONDITIONS.len();

/// The statements of a list query, one per combination of conditions, for one dialect.
struct FilterStatements([String; VARIANTS]);

impl FilterStatements {
    /// One fixed statement per combination of conditions, in `OrderFilter::variant` order. Each
    /// is prepared once per connection and lets the database use the matching index, which an
    /// `($1 IS NULL OR status = $1)` catch-all would not. `tail` may name the parameters that
    /// follow the conditions' as `{n}` and `{n+1}`.
    fn new(conditions: &[&str; 4], head: &str, tail: &str) -> FilterStatements {
        FilterStatements(std::array::from_fn(|variant| {
            let used: Vec<String> = conditions
                .iter()
                .enumerate()
                .filter(|(bit, _)| variant & (1 << bit) != 0)
                .enumerate()
                .map(|(n, (_, condition))| condition.replace("{}", &(n + 1).to_string()))
                .collect();
            let next = used.len() + 1;
            let tail = tail.replace("{n}", &next.to_string()).replace("{n+1}", &(next + 1).to_string());
            if used.is_empty() {
                format!("{head}{tail}")
            } else {
                format!("{head} WHERE {}{tail}", used.join(" AND "))
            }
        }))
    }

    fn of(&self, filter: &OrderFilter) -> &str {
        &self.0[filter.variant()]
    }
}

/// A list query's statements for both dialects.
struct Dialects {
    sqlite: FilterStatements,
    postgres: FilterStatements,
}

impl Dialects {
    fn new(head: &str, tail: &str) -> Dialects {
        Dialects {
            sqlite: FilterStatements::new(&SQLITE_CONDITIONS, head, tail),
            postgres: FilterStatements::new(&POSTGRES_CONDITIONS, head, tail),
        }
    }
}

static COUNT_SQL: LazyLock<Dialects> = LazyLock::new(|| Dialects::new("SELECT COUNT(*) FROM orders", ""));
static PAGE_SQL: LazyLock<Dialects> = LazyLock::new(|| {
    Dialects::new(
        "SELECT id, customer_email, customer_name, status, total_amount, currency, batch_id, order_ref, created_at, updated_at FROM orders",
        " ORDER BY id DESC LIMIT ${n} OFFSET ${n+1}",
    )
});

/// `sql` for each dialect (SQLite, PostgreSQL), with `{ids}` as a subquery of the ids in a JSON
/// array bound as text at parameter `$param`: one statement whatever the list's length, so it is
/// prepared once.
fn with_json_ids(sql: &str, param: usize) -> (String, String) {
    (
        sql.replace("{ids}", &format!("SELECT value FROM json_each(${param})")),
        sql.replace(
            "{ids}",
            &format!("SELECT CAST(value AS BIGINT) FROM json_array_elements_text(CAST(${param} AS json))"),
        ),
    )
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_order(
    conn: impl Exec<'_>,
    order: &ValidOrder,
    status: OrderStatus,
    now: DateTime<Utc>,
) -> sqlx::Result<i64> {
    on_db!(conn, |e| sqlx::query_scalar(
        "INSERT INTO orders (customer_email, customer_name, status, total_amount, currency, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6)
         RETURNING id",
    )
    .bind(order.customer_email.as_str())
    .bind(order.customer_name.as_str())
    .bind(status.as_str())
    .bind(order.total_amount.get())
    .bind(order.currency.code())
    .bind(now)
    .fetch_one(e)
    .await)
}

/// All the items of a new order in one statement: at most `platform::new_order::MAX_ITEMS` rows, well
/// within SQLite's limit on bound parameters. Rows are inserted in the order given, so their
/// ids ascend in that order; they come back sorted by id, as `fetch_items` reads them, since
/// SQLite does not promise the order of `RETURNING` rows.
#[tracing::instrument(level = "debug", skip_all, fields(order_id = order_id, items = items.len()))]
pub async fn insert_items(conn: impl Exec<'_>, order_id: i64, items: &[ValidItem]) -> sqlx::Result<Vec<ItemRow>> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let mut rows: Vec<ItemRow> = on_db!(conn, |e| {
        let mut query = QueryBuilder::new("INSERT INTO order_items (order_id, product_name, quantity, unit_price) ");
        query.push_values(items, |mut row, item| {
            row.push_bind(order_id)
                .push_bind(item.product_name.as_str())
                .push_bind(item.quantity.get())
                .push_bind(item.unit_price.get());
        });
        query.push(" RETURNING id, order_id, product_name, quantity, unit_price");
        query.build_query_as().fetch_all(e).await
    })?;
    rows.sort_unstable_by_key(|row| row.id);
    Ok(rows)
}

/// Rows per multi-row INSERT of an import: within SQLite's 32,766 bound parameters for the
/// widest of these statements (9 per order), and PostgreSQL's 65,535.
const ROWS_PER_INSERT: usize = 2_000;

/// The orders of one chunk of an import, as `payment_processing`, in few statements. A
/// reference already created for this batch (by a run that was interrupted after its
/// commit) is skipped by the unique (batch_id, order_ref) index. Returns the ids created with
/// their references.
#[tracing::instrument(level = "debug", skip_all, fields(batch_id = batch_id, orders = orders.len()))]
pub async fn insert_imported(
    tx: &mut Transaction,
    batch_id: &str,
    orders: &[(&str, &ValidOrder)],
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<(i64, String)>> {
    let mut created = Vec::with_capacity(orders.len());
    for chunk in orders.chunks(ROWS_PER_INSERT) {
        let rows: Vec<(i64, String)> = on_db!(&mut *tx, |e| {
            let mut query = QueryBuilder::new(
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
            query.build_query_as().fetch_all(e).await
        })?;
        created.extend(rows);
    }
    Ok(created)
}

/// The items of many new orders, in few statements.
#[tracing::instrument(level = "debug", skip_all, fields(items = items.len()))]
pub async fn insert_items_of(tx: &mut Transaction, items: &[(i64, &ValidItem)]) -> sqlx::Result<()> {
    for chunk in items.chunks(ROWS_PER_INSERT) {
        on_db!(&mut *tx, |e| {
            let mut query =
                QueryBuilder::new("INSERT INTO order_items (order_id, product_name, quantity, unit_price) ");
            query.push_values(chunk, |mut row, (order_id, item)| {
                row.push_bind(*order_id)
                    .push_bind(item.product_name.as_str())
                    .push_bind(item.quantity.get())
                    .push_bind(item.unit_price.get());
            });
            query.build().execute(e).await.rows_affected()
        })?;
    }
    Ok(())
}

static UPDATE_STATUS_OF: LazyLock<(String, String)> = LazyLock::new(|| {
    with_json_ids("UPDATE orders SET status = $1, updated_at = $2 WHERE id IN ({ids}) AND status = $4 RETURNING id", 3)
});

/// Moves each of `order_ids` that is still in `from` to `to`; returns those that moved. The
/// same guard as `update_status`, for a whole chunk of an import at once.
#[tracing::instrument(level = "debug", skip_all, fields(orders = order_ids.len(), from = from.as_str(), to = to.as_str()))]
pub async fn update_status_of(
    conn: impl Exec<'_>,
    order_ids: &[i64],
    from: OrderStatus,
    to: OrderStatus,
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<i64>> {
    if order_ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids = serde_json::to_string(order_ids).map_err(|err| sqlx::Error::Encode(Box::new(err)))?;
    on_db!(conn, sqlite: &UPDATE_STATUS_OF.0, postgres: &UPDATE_STATUS_OF.1, |e, sql| sqlx::query_scalar(sql)
        .bind(to.as_str())
        .bind(now)
        .bind(&ids)
        .bind(from.as_str())
        .fetch_all(e)
        .await)
}

static FETCH_ORDERS_OF: LazyLock<(String, String)> = LazyLock::new(|| {
    with_json_ids(
        "SELECT id, customer_email, customer_name, status, total_amount, currency, batch_id, order_ref, created_at,
                updated_at
         FROM orders WHERE id IN ({ids}) ORDER BY id",
        1,
    )
});

/// The orders of `order_ids` with their items, for the e-mails of an import.
pub async fn fetch_orders_of(pool: &Pool, order_ids: &[i64]) -> sqlx::Result<Vec<OrderRow>> {
    if order_ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids = serde_json::to_string(order_ids).map_err(|err| sqlx::Error::Encode(Box::new(err)))?;
    on_db!(pool, sqlite: &FETCH_ORDERS_OF.0, postgres: &FETCH_ORDERS_OF.1, |e, sql| sqlx::query_as(sql)
        .bind(&ids)
        .fetch_all(e)
        .await)
}

/// Moves the order from `from` to `to`, only if it still is in `from`: of two concurrent
/// changes, exactly one applies. `false` when the order was no longer in `from`.
#[tracing::instrument(level = "debug", skip_all, fields(order_id = order_id, from = from.as_str(), to = to.as_str()))]
pub async fn update_status(
    conn: impl Exec<'_>,
    order_id: i64,
    from: OrderStatus,
    to: OrderStatus,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let moved =
        on_db!(conn, |e| sqlx::query("UPDATE orders SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4")
            .bind(to.as_str())
            .bind(now)
            .bind(order_id)
            .bind(from.as_str())
            .execute(e)
            .await
            .rows_affected())?;
    Ok(moved == 1)
}

#[tracing::instrument(level = "debug", skip_all, fields(order_id = order_id))]
pub async fn fetch_order(pool: &Pool, order_id: i64) -> sqlx::Result<Option<OrderRow>> {
    // Built once: `format!` here would allocate on the hottest read path.
    const SQL: &str = "SELECT id, customer_email, customer_name, status, total_amount, currency, batch_id, order_ref, created_at, updated_at
                       FROM orders WHERE id = $1";
    on_db!(pool, |e| sqlx::query_as(SQL).bind(order_id).fetch_optional(e).await)
}

#[tracing::instrument(level = "debug", skip_all, fields(order_id = order_id))]
pub async fn fetch_items(pool: &Pool, order_id: i64) -> sqlx::Result<Vec<ItemRow>> {
    on_db!(pool, |e| sqlx::query_as(
        "SELECT id, order_id, product_name, quantity, unit_price FROM order_items WHERE order_id = $1 ORDER BY id",
    )
    .bind(order_id)
    .fetch_all(e)
    .await)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn count_orders(pool: &Pool, filter: &OrderFilter) -> sqlx::Result<i64> {
    on_db!(pool, sqlite: COUNT_SQL.sqlite.of(filter), postgres: COUNT_SQL.postgres.of(filter), |e, sql| {
        filter.bind_to(sqlx::query_as::<_, (i64,)>(sql)).fetch_one(e).await.map(|(count,)| count)
    })
}

/// One page of orders, newest first.
#[tracing::instrument(level = "debug", skip_all, fields(skip = skip, limit = limit))]
pub async fn list_orders(pool: &Pool, filter: &OrderFilter, skip: i64, limit: i64) -> sqlx::Result<Vec<OrderRow>> {
    on_db!(pool, sqlite: PAGE_SQL.sqlite.of(filter), postgres: PAGE_SQL.postgres.of(filter), |e, sql| {
        filter.bind_to(sqlx::query_as(sql)).bind(limit).bind(skip).fetch_all(e).await
    })
}

static FETCH_ITEMS_OF: LazyLock<(String, String)> = LazyLock::new(|| {
    with_json_ids(
        "SELECT id, order_id, product_name, quantity, unit_price FROM order_items
         WHERE order_id IN ({ids})
         ORDER BY order_id, id",
        1,
    )
});

/// The items of several orders in one statement (no query per order). The ids travel as
/// one JSON array so that the statement is the same whatever the page size.
#[tracing::instrument(level = "debug", skip_all, fields(orders = order_ids.len()))]
pub async fn fetch_items_of(pool: &Pool, order_ids: &[i64]) -> sqlx::Result<Vec<ItemRow>> {
    if order_ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids = serde_json::to_string(order_ids).map_err(|err| sqlx::Error::Encode(Box::new(err)))?;
    on_db!(pool, sqlite: &FETCH_ITEMS_OF.0, postgres: &FETCH_ITEMS_OF.1, |e, sql| sqlx::query_as(sql)
        .bind(&ids)
        .fetch_all(e)
        .await)
}

/// The overview figures, from two aggregate statements over the orders table.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn stats(pool: &Pool, today_starts_at: DateTime<Utc>) -> sqlx::Result<OrderStats> {
    let groups: Vec<(String, i64, i64)> = on_db!(pool, |e| sqlx::query_as(
        "SELECT status, COUNT(*), CAST(COALESCE(SUM(total_amount), 0) AS BIGINT) FROM orders GROUP BY status"
    )
    .fetch_all(e)
    .await)?;
    let orders_today: i64 = on_db!(pool, |e| sqlx::query_scalar("SELECT COUNT(*) FROM orders WHERE created_at >= $1")
        .bind(today_starts_at)
        .fetch_one(e)
        .await)?;
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

/// Claims up to `limit` orders in `payment_processing` since before `changed_before` and not
/// reconciled since `checked_before` (milliseconds since the epoch) whose payment no request,
/// outbox row or running import is still seeing to — the ones the reconciler asks the Payment
/// Service about — by noting them asked about at `now_ms`. Claiming is what lets the
/// reconcilers of several replicas run side by side: an order one has claimed is not due for
/// another before a period has passed (and on PostgreSQL, rows another claim is locking right
/// now are skipped).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn claim_awaiting_payment(
    pool: &Pool,
    changed_before: DateTime<Utc>,
    checked_before: i64,
    now_ms: i64,
    limit: i64,
) -> sqlx::Result<Vec<i64>> {
    on_db!(pool,
        sqlite: CLAIM_AWAITING_PAYMENT.replace("{lock}", ""),
        postgres: CLAIM_AWAITING_PAYMENT.replace("{lock}", "FOR UPDATE OF o SKIP LOCKED"),
        |e, sql| sqlx::query_scalar(&sql)
            .bind(changed_before)
            .bind(EpochMillis(checked_before))
            .bind(limit)
            .bind(EpochMillis(now_ms))
            .fetch_all(e)
            .await)
}

const CLAIM_AWAITING_PAYMENT: &str = "UPDATE orders SET payment_checked_at = $4
     WHERE id IN (
        SELECT o.id FROM orders o
        WHERE o.status = 'payment_processing' AND o.updated_at < $1
          AND (o.payment_checked_at IS NULL OR o.payment_checked_at < $2)
          AND NOT EXISTS (SELECT 1 FROM outbox x WHERE x.idempotency_key = 'order-' || o.id || '-payment'
                          AND x.delivered_at IS NULL AND x.dead_at IS NULL)
          AND (o.batch_id IS NULL OR NOT EXISTS (SELECT 1 FROM imports i WHERE i.id = o.batch_id
                                                 AND i.status IN ('validating', 'processing')))
        ORDER BY o.id LIMIT $3 {lock})
     RETURNING id";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_variants_number_only_the_parameters_they_use() {
        let mut filter = OrderFilter::default();
        assert!(!PAGE_SQL.sqlite.of(&filter).contains("WHERE"));
        assert!(PAGE_SQL.sqlite.of(&filter).ends_with("LIMIT $1 OFFSET $2"));
        filter.status = Some(OrderStatus::Paid);
        assert!(PAGE_SQL.sqlite.of(&filter).contains("WHERE status = $1 ORDER BY id DESC LIMIT $2 OFFSET $3"));
        filter.customer_email = Some("a@example.com".into());
        assert!(PAGE_SQL.sqlite.of(&filter).contains("status = $1 AND customer_email = $2"));
        assert!(PAGE_SQL.postgres.of(&filter).contains("status = $1 AND lower(customer_email) = lower($2)"));
        filter.status = None;
        assert!(COUNT_SQL.sqlite.of(&filter).ends_with("WHERE customer_email = $1"));
        let filter = OrderFilter::default().email_containing("tanaka");
        assert!(COUNT_SQL.postgres.of(&filter).ends_with("WHERE customer_email ILIKE $1 ESCAPE '\\'"));
    }
}
