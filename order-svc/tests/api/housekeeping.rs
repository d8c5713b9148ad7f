//! The housekeeping round forgets exactly what has outlived its use: `Idempotency-Key`s past
//! their retention, receipts of webhooks whose signatures have expired, closed sign-in failure
//! windows; everything younger stays.

use order_svc::domain::idempotency::RETENTION_MS;
use order_svc::housekeeping::Housekeeping;
use platform::db::{now_millis, Database, EpochMillis, RowsAffected};
use platform::on_db;

use crate::helpers::spawn_platform;

#[tokio::test]
async fn a_round_forgets_what_expired_and_keeps_the_rest() {
    let app = spawn_platform().await;
    let pool = app.order_pool();
    let now = now_millis();
    let day = 24 * 60 * 60 * 1000;
    for (key, age) in [("expired", RETENTION_MS + 1_000), ("kept", RETENTION_MS - 60_000)] {
        on_db!(pool, |e| sqlx::query(
            "INSERT INTO order_requests (caller, idempotency_key, request_hash, created_at) VALUES ('user:1', $1, 'h', $2)",
        )
        .bind(key)
        .bind(EpochMillis(now - age))
        .execute(e)
        .await.rows_affected())
        .unwrap();
    }
    for (delivery, age) in [("msg.expired", 11 * 60 * 1000), ("msg.kept", 60_000)] {
        on_db!(pool, |e| sqlx::query(
            "INSERT INTO webhook_receipts (delivery, message_id, received_at) VALUES ($1, 'msg', $2)"
        )
        .bind(delivery)
        .bind(EpochMillis(now - age))
        .execute(e)
        .await
        .rows_affected())
        .unwrap();
    }
    for (subject, age) in [("expired@example.jp", day + 1_000), ("kept@example.jp", 60_000)] {
        on_db!(pool, |e| sqlx::query(
            "INSERT INTO login_failures (scope, subject, failures, window_started_at) VALUES ('account', $1, 3, $2)",
        )
        .bind(subject)
        .bind(EpochMillis(now - age))
        .execute(e)
        .await
        .rows_affected())
        .unwrap();
    }

    let database = Database { read: pool.clone(), write: pool.clone() };
    Housekeeping::new(database).try_execute_task().await.expect("a round");

    let left = |sql: &'static str| async move {
        on_db!(pool, |e| sqlx::query_scalar::<_, String>(sql).fetch_all(e).await).expect("readable")
    };
    assert_eq!(left("SELECT idempotency_key FROM order_requests").await, ["kept"]);
    assert_eq!(left("SELECT delivery FROM webhook_receipts").await, ["msg.kept"]);
    assert_eq!(left("SELECT subject FROM login_failures").await, ["kept@example.jp"]);
}
