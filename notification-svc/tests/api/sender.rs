//! The sender: sending is rate limited while accepting is not, and a transport that keeps
//! failing ends in FAILED after the configured attempts.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use notification_svc::send_rate::SendRate;
use platform::api::notifications::NotificationStatus;
use platform::db::{Backend, EpochMillis};
use platform::on_db;

use crate::helpers::{email_request, spawn_app, spawn_app_with};

#[tokio::test]
async fn sending_is_limited_to_the_configured_rate_while_accepting_is_not() {
    let app = spawn_app_with(|config| config.rate_per_sec = 10).await;

    let started = Instant::now();
    let mut ids = Vec::new();
    for order_id in 1..=30 {
        ids.push(app.accept_email(&email_request(order_id)).await.id);
    }
    let accepting = started.elapsed();
    assert!(accepting < Duration::from_secs(1), "30 requests took {accepting:?} to be answered");

    let mut sent_at: Vec<DateTime<Utc>> = Vec::new();
    for id in &ids {
        let notification = app.wait_until_settled(*id, Duration::from_secs(15)).await;
        assert_eq!(notification.status, NotificationStatus::Sent);
        sent_at.push(notification.sent_at.expect("sent_at"));
    }
    sent_at.sort();

    // One message per 100 ms, no burst: no one-second window of sends holds more than the
    // rate. On SQLite `sent_at` is read from the clock just after the in-process limiter lets
    // a message go, so two releases can look a millisecond closer than they were; one message
    // of slack keeps the test honest without making it flaky. Without the limit all 30 would
    // go out within a fraction of a second; with a second's burst, 20 within one second.
    let busiest = sent_at
        .iter()
        .map(|start| sent_at.iter().filter(|t| **t >= *start && **t - *start < chrono::Duration::seconds(1)).count())
        .max()
        .unwrap_or(0);
    let span = sent_at[sent_at.len() - 1] - sent_at[0];
    assert!(busiest <= 10 + 1, "{busiest} messages were sent within one second");
    assert!(span >= chrono::Duration::milliseconds(2800), "30 messages at 10/s were all sent within {span:?}");
}

/// The limiter of every replica (on PostgreSQL, two `SendRate`s on one database stand for two
/// processes; on SQLite one process sends, and its limiter is shared by its tasks) releases
/// one send per interval in total, however many senders ask at once.
#[tokio::test]
async fn senders_asking_at_once_are_released_one_interval_apart_in_total() {
    const RATE: u32 = 50;
    const RELEASES_PER_SENDER: usize = 5;
    let app = spawn_app().await;
    let interval = chrono::Duration::milliseconds(1000 / RATE as i64);
    let replicas: Vec<Arc<SendRate>> = match app.pool.backend() {
        Backend::Postgres => {
            (0..2).map(|_| Arc::new(SendRate::for_database(&app.pool, RATE.try_into().unwrap()))).collect()
        }
        Backend::Sqlite => vec![Arc::new(SendRate::for_database(&app.pool, RATE.try_into().unwrap()))],
    };
    let senders = (0..6).map(|n| {
        let rate = replicas[n % replicas.len()].clone();
        tokio::spawn(async move {
            let mut released = Vec::new();
            while released.len() < RELEASES_PER_SENDER {
                if let Some(at) = rate.until_released(Duration::from_secs(1)).await.expect("the release row") {
                    released.push(at);
                }
            }
            released
        })
    });
    let mut released: Vec<DateTime<Utc>> = Vec::new();
    for sender in senders.collect::<Vec<_>>() {
        released.extend(sender.await.expect("a sender"));
    }
    released.sort();

    let span = released[released.len() - 1] - released[0];
    let at_least = interval * (released.len() as i32 - 1) - chrono::Duration::milliseconds(5);
    assert!(span >= at_least, "{} releases within {span:?}", released.len());
    if app.pool.backend() == Backend::Postgres {
        // On the database's clock, checked against the newest row: exact.
        for pair in released.windows(2) {
            assert!(pair[1] - pair[0] >= interval, "releases at {} and {}: closer than {interval:?}", pair[0], pair[1]);
        }
    }
}

#[tokio::test]
async fn a_transport_that_keeps_failing_ends_in_failed_after_the_allowed_attempts() {
    let app = spawn_app_with(|config| {
        config.failure_rate = 1.0;
        config.max_attempts = 2;
    })
    .await;

    let accepted = app.accept_email(&email_request(3)).await;
    let settled = app.wait_until_settled(accepted.id, Duration::from_secs(5)).await;

    assert_eq!(settled.status, NotificationStatus::Failed);
    assert_eq!(settled.attempts, 2);
    assert_eq!(settled.error.as_deref(), Some("simulated transport failure"));
    assert_eq!(settled.sent_at, None);
    assert!(!app.mail_file(accepted.id).exists(), "nothing was sent");
}

#[tokio::test]
async fn a_notification_whose_sender_died_mid_send_is_sent_once_its_lease_runs_out() {
    let app = spawn_app_with(|config| config.max_attempts = 3).await;
    let accepted = app.accept_email(&email_request(11)).await;
    app.wait_until_settled(accepted.id, Duration::from_secs(5)).await;

    std::fs::remove_file(app.mail_file(accepted.id)).unwrap();
    // What a crash leaves behind: a PENDING row that was claimed (attempt counted, lease
    // set) but never finished. Once the lease has run out it is due again.
    on_db!(&app.pool, |e| sqlx::query(
        "UPDATE notifications SET status = 'PENDING', sent_at = NULL, attempts = 1, next_attempt_at = $1 WHERE id = $2",
    )
    .bind(EpochMillis(Utc::now().timestamp_millis() - 1))
    .bind(accepted.id)
    .execute(e)
    .await
    .map(drop))
    .unwrap();

    let settled = app.wait_until_settled(accepted.id, Duration::from_secs(5)).await;
    assert_eq!(settled.status, NotificationStatus::Sent);
    assert_eq!(settled.attempts, 2);
    assert!(app.mail_file(accepted.id).exists());
}

/// On PostgreSQL, a sender that cannot be released before its claim's lease would run out
/// (the other replicas' senders keep taking the releases) hands its message back uncounted
/// instead of sending it late, when another replica may already have claimed it. SQLite has
/// one sender per database, which is always released within an interval: the PostgreSQL pass
/// of `make test` runs this one.
#[tokio::test]
async fn a_sender_the_other_replicas_keep_from_a_release_hands_its_message_back_uncounted() {
    let app = spawn_app_with(|config| config.max_attempts = 3).await;
    if app.pool.backend() == Backend::Sqlite {
        return;
    }
    let set_next_release = |at: &'static str| {
        let pool = app.pool.clone();
        async move {
            on_db!(&pool, |e| sqlx::query(&format!("UPDATE send_rate SET next_slot = {at}"))
                .execute(e)
                .await
                .map(drop))
            .expect("the release row");
        }
    };
    // As if other replicas had taken every release for the next hour.
    set_next_release("clock_timestamp() + interval '1 hour'").await;
    let accepted = app.accept_email(&email_request(21)).await;

    // Claimed and handed back round after round (each round a claim would count an attempt).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let waiting = app.notification(accepted.id).await;
    assert_eq!(waiting.status, NotificationStatus::Pending);
    assert!(!app.mail_file(accepted.id).exists(), "nothing was sent");

    set_next_release("'-infinity'").await;
    let settled = app.wait_until_settled(accepted.id, Duration::from_secs(5)).await;
    assert_eq!(settled.status, NotificationStatus::Sent);
    assert_eq!(settled.attempts, 1, "the rounds that handed it back counted no attempt");
    assert!(app.mail_file(accepted.id).exists());
}
