//! The import queue's SQLite migration (0006) rebuilds the `imports` table, which the import's
//! file, staged orders and error report refer to with ON DELETE CASCADE: an upgraded database
//! keeps all of them, and the new rules hold. (PostgreSQL starts from the current schema: there
//! is no older PostgreSQL database to upgrade.)

use platform::api::imports::{Import, ImportError, ImportStatus};
use platform::db::Pool;
use sqlx::migrate::Migrate;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection, SqliteConnection};
use tempfile::TempDir;

use crate::helpers::spawn_platform_with;

const IMPORT: &str = "0d5e0a4c-1c1f-4d1b-9a43-7f0e8f1c2b3a";

/// A database of the schema before 0006 holding one finished import with two errors, one
/// staged order and its stored file.
async fn database_before_the_queue(dir: &TempDir) -> String {
    let path = dir.path().join("order.db");
    let options = SqliteConnectOptions::new().filename(&path).create_if_missing(true);
    let mut conn = SqliteConnection::connect_with(&options).await.unwrap();
    conn.ensure_migrations_table().await.unwrap();
    for migration in sqlx::migrate!("migrations/sqlite").iter().filter(|m| m.version < 6) {
        conn.apply(migration).await.unwrap();
    }
    let statements = [
        format!(
            "INSERT INTO imports (id, status, file_sha256, encoding, dry_run, notify, total_rows, total_orders,
                                  processed_orders, succeeded_orders, failed_orders, error_count, created_at, finished_at)
             VALUES ('{IMPORT}', 'completed_with_errors', 'abc', 'utf-8', 0, 'per_order', 3, 3, 1, 1, 2, 2,
                     '2026-11-01T00:00:00Z', '2026-11-01T00:00:05Z')"
        ),
        format!("INSERT INTO import_files (import_id, content) VALUES ('{IMPORT}', x'6f72646572')"),
        format!(
            "INSERT INTO import_orders (import_id, seq, order_ref, line, payload, state)
             VALUES ('{IMPORT}', 0, 'R-1', 2, '{{}}', 'paid')"
        ),
        format!(
            "INSERT INTO import_errors (import_id, line, order_ref, column_name, message)
             VALUES ('{IMPORT}', 3, 'R-2', 'quantity', 'must be at least 1'),
                    ('{IMPORT}', 4, 'R-3', 'unit_price', 'must be a whole number of yen')"
        ),
    ];
    for sql in statements {
        sqlx::query(&sql).execute(&mut conn).await.unwrap();
    }
    conn.close().await.unwrap();
    format!("sqlite://{}", path.display())
}

#[tokio::test]
async fn an_upgraded_database_keeps_every_import_with_its_file_orders_and_errors() {
    let dir = TempDir::new().unwrap();
    let url = database_before_the_queue(&dir).await;
    let app = spawn_platform_with(|c| c.order.database_url = url).await;
    let Pool::Sqlite(pool) = app.order_pool().clone() else { panic!("the upgraded database is SQLite") };

    let import: Import = app
        .client
        .get(app.order_url(&format!("/api/v1/orders/imports/{IMPORT}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!((import.status, import.failed_orders, import.error_count), (ImportStatus::CompletedWithErrors, 2, 2));
    let errors: Vec<ImportError> = app
        .client
        .get(app.order_url(&format!("/api/v1/orders/imports/{IMPORT}/errors")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(errors.iter().map(|e| e.line).collect::<Vec<_>>(), [3, 4]);
    let count = |table: &str| {
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE import_id = ?1");
        let pool = pool.clone();
        async move { sqlx::query_scalar::<_, i64>(&sql).bind(IMPORT).fetch_one(&pool).await.unwrap() }
    };
    assert_eq!((count("import_orders").await, count("import_files").await), (1, 1), "nothing cascaded");

    // The widened CHECK takes `queued`, and still refuses what is no status.
    let insert = |id: &'static str, status: &'static str, sha: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query(
                "INSERT INTO imports (id, status, file_sha256, encoding, dry_run, notify, created_at)
                 VALUES (?1, ?2, ?3, 'utf-8', 0, 'per_order', '2026-12-01T00:00:00Z')",
            )
            .bind(id)
            .bind(status)
            .bind(sha)
            .execute(&pool)
            .await
        }
    };
    assert!(insert("f1", "failed", "same").await.is_ok());
    assert!(insert("f2", "failed", "same").await.is_ok(), "a file may fail more than once");
    assert!(insert("s1", "sleeping", "other").await.is_err(), "not a status");
    // Imports that did not fail still hold their file: a second one is refused.
    sqlx::query("UPDATE imports SET status = 'completed' WHERE file_sha256 = 'abc'").execute(&pool).await.unwrap();
    let twin = sqlx::query(
        "INSERT INTO imports (id, status, file_sha256, encoding, dry_run, notify, created_at)
         VALUES ('twin', 'queued', 'abc', 'utf-8', 0, 'per_order', '2026-12-01T00:00:00Z')",
    )
    .execute(&pool)
    .await;
    assert!(twin.is_err(), "two live imports of one file");
}
