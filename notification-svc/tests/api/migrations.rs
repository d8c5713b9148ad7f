//! The migrations keep what is already stored: a SQLite database written by the first version
//! of the schema is upgraded in place when the service starts. (PostgreSQL starts from the
//! current schema: there is no older PostgreSQL database to upgrade.)

use std::time::Duration;

use platform::api::notifications::{Channel, NotificationStatus, Template};
use platform::on_db;
use serde_json::json;
use sqlx::migrate::Migrate;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection, SqliteConnection};
use tempfile::TempDir;

use crate::helpers::{batch_item, digest_request, email_request, spawn_app_with};

/// A database with only `0001_initial.sql` applied and three notifications written the way
/// that version wrote them: one SENT, one PENDING, and one since deleted (so AUTOINCREMENT's
/// counter, 3, is above the highest id, 2).
async fn database_of_the_first_schema(dir: &TempDir) -> String {
    let path = dir.path().join("old.db");
    let mut conn = SqliteConnection::connect_with(&SqliteConnectOptions::new().filename(&path).create_if_missing(true))
        .await
        .unwrap();
    conn.ensure_migrations_table().await.unwrap();
    let migrator = sqlx::migrate!("migrations/sqlite");
    let first = migrator.iter().find(|m| m.version == 1).expect("migration 0001");
    conn.apply(first).await.unwrap();
    for (order_id, channel, recipient, subject, status, key) in [
        (1, "email", "tanaka@example.co.jp", Some("件名1"), "SENT", Some("order-1-confirmation")),
        (2, "sms", "+819012345678", None, "PENDING", None),
        (3, "email", "suzuki@example.co.jp", Some("件名3"), "PENDING", Some("order-3-confirmation")),
    ] {
        sqlx::query(
            "INSERT INTO notifications (order_id, channel, recipient, template, subject, body, status,
                attempts, idempotency_key, next_attempt_at, created_at, sent_at)
             VALUES (?1, ?2, ?3, 'ORDER_SHIPPED', ?4, ?5, ?6, 0, ?7, 0, '2026-11-01T00:00:00Z',
                CASE ?6 WHEN 'SENT' THEN '2026-11-01T00:00:01Z' END)",
        )
        .bind(order_id)
        .bind(channel)
        .bind(recipient)
        .bind(subject)
        .bind(format!("本文{order_id}"))
        .bind(status)
        .bind(key)
        .execute(&mut conn)
        .await
        .unwrap();
    }
    sqlx::query("DELETE FROM notifications WHERE id = 3").execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
    format!("sqlite://{}", path.display())
}

#[tokio::test]
async fn existing_rows_survive_the_digest_migration_and_keep_working() {
    let dir = TempDir::new().unwrap();
    let url = database_of_the_first_schema(&dir).await;
    let app = spawn_app_with(|config| config.database_url = url).await;

    let sent = app.notification(1).await;
    assert_eq!((sent.status, sent.order_id, sent.body.as_str()), (NotificationStatus::Sent, 1, "本文1"));
    assert_eq!(sent.subject.as_deref(), Some("件名1"));
    assert!(sent.sent_at.is_some());
    // The PENDING SMS is still in the queue, and the sender still finds it.
    let queued = app.wait_until_settled(2, Duration::from_secs(5)).await;
    assert_eq!((queued.status, queued.channel), (NotificationStatus::Sent, Channel::Sms));
    assert!(app.sms_file(2).exists());

    let templates: Vec<Template> = app.get("/api/v1/notifications/templates").await.json().await.unwrap();
    assert_eq!(templates.len(), 7, "the six of 0001 and the digest");

    // The ids are still never reused, the idempotency keys still unique.
    let fresh = app.accept_email(&email_request(4)).await;
    assert_eq!(fresh.id, 4, "id 3 was used before the migration");
    let repeat = app.post_email_with_key(&email_request(1), "order-1-confirmation").await;
    assert_eq!(repeat.status(), 201);
    assert_eq!(repeat.json::<serde_json::Value>().await.unwrap()["id"], json!(1));
    let sms: serde_json::Value = app.post_sms(&crate::helpers::sms_request(5)).await.json().await.unwrap();
    assert_eq!(sms["status"], json!("PENDING"));

    let outcome = app.accept_batch(&[batch_item("digest-1", "digest", digest_request(6, &["PO-1"]))]).await;
    assert_eq!(outcome.queued, 1);
    assert_eq!(app.row_count().await, 5);

    // The new CHECK holds: no digest by SMS, even written directly.
    let sms_digest = on_db!(&app.pool, |e| sqlx::query(
        "INSERT INTO notifications (order_id, channel, recipient, template, body, next_attempt_at, created_at)
         VALUES (1, 'sms', '+819012345678', 'ORDER_DIGEST', 'x', 0, '2026-11-01T00:00:00Z')",
    )
    .execute(e)
    .await
    .map(drop));
    assert!(sms_digest.is_err(), "an SMS digest was stored");
}
