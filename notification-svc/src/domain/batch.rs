//! A batch of notifications (`POST /api/v1/notifications/batch`, fed by bulk imports): which
//! items are to be stored, which repeat a key met earlier in the batch, which are refused —
//! and, once the stored ones are in the database, what to answer for each item. Kept free of
//! I/O so that the rules are unit-tested here and the route only reads and writes.

use std::collections::HashMap;

use platform::api::notifications::{
    BatchMessage, BatchNotification, BatchNotificationResult, NotificationBatchOutcome, MAX_NOTIFICATIONS_PER_BATCH,
};
use platform::extract::IdempotencyKey;
use platform::{ApiError, ApiResult};

use super::AcceptedNotification;

/// The statuses of `BatchNotificationResult`: those the single request would have been
/// answered with (202 for "queued now", as the batch itself).
const QUEUED: u16 = 202;
const ALREADY_QUEUED: u16 = 200;
const REFUSED: u16 = 422;

/// What to do with one item of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intake {
    /// Valid, and the first valid item of the batch with its key: to be stored, unless an
    /// earlier request already stored a notification under the key.
    Store { key: IdempotencyKey, notification: AcceptedNotification },
    /// Valid, but the item at this (earlier) index carries the same key: it is the same
    /// notification, answered as a duplicate of that one.
    SameKeyAs(usize),
    /// Refused (422), for this reason; the other items go on regardless.
    Refused(String),
}

/// One item of a batch as read off the wire: its key as sent (echoed in its result), and the
/// notification it asks for or why it could not be read. An unreadable item is refused in its
/// own result, as any other invalid item is, instead of refusing the whole batch.
#[derive(Debug, Clone)]
pub struct BatchItem {
    pub idempotency_key: Option<String>,
    pub request: Result<BatchNotification, String>,
}

impl BatchItem {
    pub fn read(raw: serde_json::Map<String, serde_json::Value>) -> BatchItem {
        let idempotency_key = raw.get("idempotency_key").and_then(serde_json::Value::as_str).map(str::to_owned);
        let request = serde_json::from_value(serde_json::Value::Object(raw))
            .map_err(|err| format!("invalid notification: {err}"));
        BatchItem { idempotency_key, request }
    }
}

impl From<BatchNotification> for BatchItem {
    fn from(notification: BatchNotification) -> BatchItem {
        BatchItem { idempotency_key: notification.idempotency_key.clone(), request: Ok(notification) }
    }
}

/// A batch must hold 1 ..= `MAX_NOTIFICATIONS_PER_BATCH` items; otherwise nothing is stored.
pub fn check_size(count: usize) -> ApiResult<()> {
    if count == 0 || count > MAX_NOTIFICATIONS_PER_BATCH {
        return Err(ApiError::Unprocessable(format!(
            "notifications must contain 1 to {MAX_NOTIFICATIONS_PER_BATCH} items (got {count})"
        )));
    }
    Ok(())
}

/// Validates and renders every item, exactly as the single endpoints would (an `email` item
/// is what `POST /api/v1/notifications/email` takes). A refused item becomes
/// `Intake::Refused`; only an internal error (a template that fails to render) fails the
/// whole batch.
pub fn plan(items: &[BatchItem]) -> ApiResult<Vec<Intake>> {
    let mut first_with_key: HashMap<String, usize> = HashMap::with_capacity(items.len());
    items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            let item = match &item.request {
                Ok(item) => item,
                Err(unreadable) => return Ok(Intake::Refused(unreadable.clone())),
            };
            let key = match &item.idempotency_key {
                Some(key) => IdempotencyKey::parse(key),
                // Stored under a key of its own that nothing else can repeat: the rows are told
                // apart by their keys, and an item without one is never a duplicate.
                None => IdempotencyKey::parse(&format!("unkeyed-{}", uuid::Uuid::new_v4())),
            };
            let accepted = key.and_then(|key| {
                let notification = match &item.message {
                    BatchMessage::Email(email) => AcceptedNotification::email(email)?,
                    BatchMessage::Digest(digest) => AcceptedNotification::digest(digest)?,
                };
                Ok((key, notification))
            });
            match accepted {
                Ok((key, notification)) => match first_with_key.get(key.as_str()) {
                    Some(&first) => Ok(Intake::SameKeyAs(first)),
                    None => {
                        first_with_key.insert(key.as_str().to_owned(), index);
                        Ok(Intake::Store { key, notification })
                    }
                },
                Err(ApiError::Internal(cause)) => Err(ApiError::Internal(cause)),
                Err(refusal) => Ok(Intake::Refused(refusal.to_string())),
            }
        })
        .collect()
}

/// The notifications stored under the keys of the `Intake::Store` items, by key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredKeys {
    /// Stored by this batch.
    pub inserted: HashMap<String, i64>,
    /// Already there, stored by an earlier request with the same key.
    pub existing: HashMap<String, i64>,
}

/// The answer: one result per item, in request order, and the counts.
pub fn outcome(items: &[BatchItem], plan: &[Intake], stored: &StoredKeys) -> anyhow::Result<NotificationBatchOutcome> {
    anyhow::ensure!(items.len() == plan.len(), "a plan of {} items for a batch of {}", plan.len(), items.len());
    let mut ids: Vec<Option<i64>> = Vec::with_capacity(plan.len());
    let mut results = Vec::with_capacity(plan.len());
    for (item, intake) in items.iter().zip(plan) {
        let (status, id, detail) = match intake {
            Intake::Store { key, .. } => {
                if let Some(&id) = stored.inserted.get(key.as_str()) {
                    (QUEUED, Some(id), None)
                } else if let Some(&id) = stored.existing.get(key.as_str()) {
                    (ALREADY_QUEUED, Some(id), Some(already_queued()))
                } else {
                    anyhow::bail!("idempotency key {:?} was neither stored nor found", key.as_str());
                }
            }
            Intake::SameKeyAs(first) => {
                let id = ids.get(*first).copied().flatten();
                anyhow::ensure!(id.is_some(), "item {first}, which the batch repeats, has no notification");
                (ALREADY_QUEUED, id, Some(already_queued()))
            }
            Intake::Refused(reason) => (REFUSED, None, Some(reason.clone())),
        };
        ids.push(id);
        results.push(BatchNotificationResult {
            idempotency_key: item.idempotency_key.clone(),
            status,
            notification_id: id,
            detail,
        });
    }
    let count = |status: u16| results.iter().filter(|r| r.status == status).count() as i64;
    Ok(NotificationBatchOutcome {
        queued: count(QUEUED),
        duplicates: count(ALREADY_QUEUED),
        rejected: count(REFUSED),
        results,
    })
}

fn already_queued() -> String {
    "already queued under this idempotency key".into()
}

#[cfg(test)]
mod tests {
    use platform::api::notifications::{NewEmail, TemplateName};

    use super::*;
    use crate::domain::digest::tests::digest;
    use crate::domain::order::tests::summary;

    fn email(key: &str, order_id: i64) -> BatchNotification {
        BatchNotification {
            idempotency_key: Some(key.into()),
            message: BatchMessage::Email(NewEmail {
                order_id,
                recipient: "tanaka@example.co.jp".into(),
                template: TemplateName::OrderConfirmation,
                order: summary(),
            }),
        }
    }

    fn key_of(intake: &Intake) -> &str {
        match intake {
            Intake::Store { key, .. } => key.as_str(),
            other => panic!("expected Store, got {other:?}"),
        }
    }

    fn refusal_of(intake: &Intake) -> &str {
        match intake {
            Intake::Refused(reason) => reason,
            other => panic!("expected Refused, got {other:?}"),
        }
    }

    #[test]
    fn an_empty_or_oversized_batch_is_refused_whole() {
        assert!(check_size(0).is_err());
        assert!(check_size(MAX_NOTIFICATIONS_PER_BATCH).is_ok());
        match check_size(MAX_NOTIFICATIONS_PER_BATCH + 1) {
            Err(ApiError::Unprocessable(detail)) => assert!(detail.contains("1001"), "{detail}"),
            other => panic!("expected a 422, got {other:?}"),
        }
    }

    #[test]
    fn valid_items_are_stored_and_bad_ones_refused_alone() {
        let mut bad_recipient = email("order-2", 2);
        if let BatchMessage::Email(request) = &mut bad_recipient.message {
            request.recipient = "not-an-email".into();
        }
        let mut digest_as_email = email("order-3", 3);
        if let BatchMessage::Email(request) = &mut digest_as_email.message {
            request.template = TemplateName::OrderDigest;
        }
        let mut empty_digest = digest();
        empty_digest.orders.clear();
        let items = vec![
            email("order-1", 1),
            bad_recipient,
            digest_as_email,
            email("k".repeat(201).as_str(), 4),
            BatchNotification { idempotency_key: Some("digest-1".into()), message: BatchMessage::Digest(digest()) },
            BatchNotification { idempotency_key: Some("digest-2".into()), message: BatchMessage::Digest(empty_digest) },
            email("  ", 5),
        ];
        let mut items: Vec<BatchItem> = items.into_iter().map(BatchItem::from).collect();
        let unreadable =
            serde_json::json!({"idempotency_key": "shapeless", "message": {"email": {"order_id": "seven"}}});
        items.push(BatchItem::read(unreadable.as_object().unwrap().clone()));
        let plan = plan(&items).unwrap();
        assert_eq!(key_of(&plan[0]), "order-1");
        assert!(refusal_of(&plan[1]).contains("recipient"), "{:?}", plan[1]);
        assert!(refusal_of(&plan[2]).contains("ORDER_DIGEST"), "{:?}", plan[2]);
        assert!(refusal_of(&plan[3]).contains("Idempotency-Key"), "{:?}", plan[3]);
        match &plan[4] {
            Intake::Store { key, notification } => {
                assert_eq!(key.as_str(), "digest-1");
                assert_eq!(notification.template, TemplateName::OrderDigest);
                assert_eq!(notification.order_id, 101, "filed under the first order");
            }
            other => panic!("expected the digest to be stored, got {other:?}"),
        }
        assert!(refusal_of(&plan[5]).contains("orders"), "{:?}", plan[5]);
        assert!(refusal_of(&plan[6]).contains("Idempotency-Key"), "{:?}", plan[6]);
        assert!(refusal_of(&plan[7]).starts_with("invalid notification"), "{:?}", plan[7]);
        assert_eq!(items[7].idempotency_key.as_deref(), Some("shapeless"), "echoed even so");
    }

    #[test]
    fn a_key_repeated_in_the_batch_is_the_first_items_notification() {
        let mut refused_first = email("order-9", 9);
        if let BatchMessage::Email(request) = &mut refused_first.message {
            request.order_id = 0;
        }
        // Keys are trimmed like the header, so " order-1" is "order-1".
        let items: Vec<BatchItem> = [email("order-1", 1), refused_first, email(" order-1", 1), email("order-9", 9)]
            .into_iter()
            .map(BatchItem::from)
            .collect();
        let plan = plan(&items).unwrap();
        assert_eq!(key_of(&plan[0]), "order-1");
        assert!(matches!(plan[1], Intake::Refused(_)));
        assert_eq!(plan[2], Intake::SameKeyAs(0));
        // A refused item claims no key: the next valid one with it is stored.
        assert_eq!(key_of(&plan[3]), "order-9");
    }

    #[test]
    fn the_outcome_answers_each_item_in_order_and_counts_them() {
        let mut bad = email("bad", 3);
        if let BatchMessage::Email(request) = &mut bad.message {
            request.recipient = String::new();
        }
        let items: Vec<BatchItem> =
            [email("new", 1), email("old", 2), bad, email("new", 1)].into_iter().map(BatchItem::from).collect();
        let plan = plan(&items).unwrap();
        let stored = StoredKeys {
            inserted: HashMap::from([("new".to_owned(), 11)]),
            existing: HashMap::from([("old".to_owned(), 5)]),
        };
        let outcome = outcome(&items, &plan, &stored).unwrap();
        assert_eq!((outcome.queued, outcome.duplicates, outcome.rejected), (1, 2, 1));
        let answers: Vec<_> = outcome
            .results
            .iter()
            .map(|r| (r.idempotency_key.as_deref().unwrap_or(""), r.status, r.notification_id))
            .collect();
        assert_eq!(
            answers,
            vec![("new", 202, Some(11)), ("old", 200, Some(5)), ("bad", 422, None), ("new", 200, Some(11))]
        );
        assert_eq!(outcome.results[0].detail, None);
        assert!(outcome.results[2].detail.as_deref().unwrap().contains("recipient"));

        let lost = StoredKeys::default();
        assert!(super::outcome(&items, &plan, &lost).is_err(), "a key neither stored nor found is a bug");
    }
}
