//! The rules of a bulk import that need no I/O: what an import's final status is, the e-mails
//! its orders get (one confirmation each, or one digest per customer), and how requests to a
//! peer are cut so that none exceeds the peer's limits.

use std::collections::BTreeMap;

use platform::api::imports::ImportStatus;
use platform::api::notifications::{
    BatchMessage, BatchNotification, DigestOrder, NewDigestEmail, NewEmail, OrderLine, OrderSummary, TemplateName,
    MAX_DIGEST_ORDERS,
};
use platform::api::orders::{NewOrder, NewOrderItem};
use serde::Serialize;

use crate::domain::ValidOrder;

/// Most items in one request to a peer (their batch endpoints take up to 1,000).
pub const MAX_BATCH_ITEMS: usize = 1_000;
/// Most JSON bytes in one request to a peer: half the 1 MiB body limit every service has, so
/// an order with many long item names cannot push a batch over it.
pub const MAX_BATCH_BYTES: usize = 512 * 1024;

/// Done when nothing is left: `completed` if no order failed, `failed` if none succeeded
/// (including a file with no valid order at all), else `completed_with_errors`.
pub fn final_status(succeeded: i64, failed: i64) -> ImportStatus {
    if failed == 0 {
        ImportStatus::Completed
    } else if succeeded == 0 {
        ImportStatus::Failed
    } else {
        ImportStatus::CompletedWithErrors
    }
}

/// The staged form of a valid order: the body the API would have received, which
/// `ValidOrder::parse` accepts again when the import resumes after a restart.
pub fn to_new_order(order: &ValidOrder) -> NewOrder {
    NewOrder {
        customer_email: order.customer_email.as_str().to_owned(),
        customer_name: order.customer_name.as_str().to_owned(),
        items: order
            .items
            .iter()
            .map(|item| NewOrderItem {
                product_name: item.product_name.as_str().to_owned(),
                quantity: item.quantity.get(),
                unit_price: item.unit_price,
            })
            .collect(),
        currency: order.currency,
    }
}

fn order_lines(order: &ValidOrder) -> Vec<OrderLine> {
    order
        .items
        .iter()
        .map(|item| OrderLine {
            product_name: item.product_name.as_str().to_owned(),
            quantity: item.quantity.get(),
            unit_price: item.unit_price,
        })
        .collect()
}

/// The e-mail `template` of one imported order. Its status change puts it in the outbox under
/// the same idempotency key as the same e-mail of any other order, so no path sends it twice.
pub fn email(order_id: i64, order: &ValidOrder, template: TemplateName) -> NewEmail {
    NewEmail {
        order_id,
        recipient: order.customer_email.as_str().to_owned(),
        template,
        order: OrderSummary {
            customer_name: order.customer_name.as_str().to_owned(),
            items: order_lines(order),
            total_amount: order.total_amount,
            currency: order.currency,
        },
    }
}

/// A paid order of an import, as its digest lists it.
#[derive(Debug, Clone)]
pub struct PaidOrder {
    pub order_id: i64,
    pub order_ref: String,
    pub order: ValidOrder,
}

/// Most item lines in one digest, so that a customer with many large orders gets several
/// e-mails of a readable (and sendable) size rather than one that no batch could carry.
pub const MAX_DIGEST_LINES: usize = 5_000;

/// One digest per customer address (compared case-insensitively), each listing that
/// customer's orders in file order, addressed with the name of their first order; a customer
/// with more than `MAX_DIGEST_ORDERS` orders or `MAX_DIGEST_LINES` lines gets several parts.
/// Customers are taken in the order of their first order and the keys number them (and their
/// parts) in that order, so the same import always yields the same keys.
pub fn digests(batch_id: &str, orders: &[PaidOrder]) -> Vec<BatchNotification> {
    let mut by_customer: BTreeMap<String, (usize, Vec<&PaidOrder>)> = BTreeMap::new();
    for (position, paid) in orders.iter().enumerate() {
        let address = paid.order.customer_email.as_str().to_lowercase();
        by_customer.entry(address).or_insert_with(|| (position, Vec::new())).1.push(paid);
    }
    let mut customers: Vec<(usize, Vec<&PaidOrder>)> = by_customer.into_values().collect();
    customers.sort_by_key(|(first, _)| *first);
    let mut digests = Vec::with_capacity(customers.len());
    for (number, (_, orders)) in customers.into_iter().enumerate() {
        for (part, orders) in digest_parts(&orders).into_iter().enumerate() {
            let first = &orders[0].order;
            let key = if part == 0 {
                format!("import-{batch_id}-digest-{number}")
            } else {
                format!("import-{batch_id}-digest-{number}-{part}")
            };
            digests.push(BatchNotification {
                idempotency_key: Some(key),
                message: BatchMessage::Digest(NewDigestEmail {
                    recipient: first.customer_email.as_str().to_owned(),
                    customer_name: first.customer_name.as_str().to_owned(),
                    batch_id: batch_id.to_owned(),
                    orders: orders
                        .iter()
                        .map(|paid| DigestOrder {
                            order_id: paid.order_id,
                            order_ref: paid.order_ref.clone(),
                            items: order_lines(&paid.order),
                            total_amount: paid.order.total_amount,
                        })
                        .collect(),
                    currency: first.currency,
                }),
            });
        }
    }
    digests
}

/// One customer's orders cut into digests of at most `MAX_DIGEST_ORDERS` orders and
/// `MAX_DIGEST_LINES` lines (an order is never split).
fn digest_parts<'a>(orders: &[&'a PaidOrder]) -> Vec<Vec<&'a PaidOrder>> {
    let mut parts: Vec<Vec<&PaidOrder>> = Vec::new();
    let mut lines = 0;
    for &paid in orders {
        let order_lines = paid.order.items.len();
        match parts.last_mut() {
            Some(part) if part.len() < MAX_DIGEST_ORDERS && lines + order_lines <= MAX_DIGEST_LINES => {
                part.push(paid);
                lines += order_lines;
            }
            _ => {
                parts.push(vec![paid]);
                lines = order_lines;
            }
        }
    }
    parts
}

/// Cuts `items` into requests of at most `max_items` items and about `max_bytes` of JSON
/// each (an item larger than `max_bytes` on its own still gets a request of its own).
pub fn batches<T: Serialize>(items: Vec<T>, max_items: usize, max_bytes: usize) -> Vec<Vec<T>> {
    let mut batches = Vec::new();
    let mut current = Vec::new();
    let mut current_bytes = 0;
    for item in items {
        // Serialising a value we built ourselves cannot fail; if it somehow did, counting it
        // as large only makes its batch smaller.
        let size = serde_json::to_vec(&item).map_or(max_bytes, |json| json.len() + 1);
        if !current.is_empty() && (current.len() == max_items || current_bytes + size > max_bytes) {
            batches.push(std::mem::take(&mut current));
            current_bytes = 0;
        }
        current_bytes += size;
        current.push(item);
    }
    if !current.is_empty() {
        batches.push(current);
    }
    batches
}

#[cfg(test)]
mod tests {
    use platform::{Currency, Yen};

    use super::*;

    fn valid(email: &str, name: &str, items: &[(&str, i64, i64)]) -> ValidOrder {
        ValidOrder::parse(NewOrder {
            customer_email: email.into(),
            customer_name: name.into(),
            items: items
                .iter()
                .map(|(product, quantity, price)| NewOrderItem {
                    product_name: (*product).into(),
                    quantity: *quantity,
                    unit_price: Yen::new(*price),
                })
                .collect(),
            currency: Currency::JPY,
        })
        .unwrap()
    }

    #[test]
    fn the_final_status_follows_the_counts() {
        assert_eq!(final_status(10, 0), ImportStatus::Completed);
        assert_eq!(final_status(9, 1), ImportStatus::CompletedWithErrors);
        assert_eq!(final_status(0, 3), ImportStatus::Failed);
        assert_eq!(final_status(0, 0), ImportStatus::Completed);
    }

    #[test]
    fn a_staged_order_parses_back_to_itself() {
        let order = valid("a@example.jp", "田中", &[("ノートPC", 2, 89_800), ("マウス", 1, 1_980)]);
        assert_eq!(ValidOrder::parse(to_new_order(&order)).unwrap(), order);
    }

    #[test]
    fn an_imported_orders_email_carries_the_whole_order() {
        let order = valid("a@example.jp", "田中", &[("ノートPC", 2, 89_800)]);
        let email = email(42, &order, TemplateName::OrderConfirmation);
        assert_eq!((email.order_id, email.template), (42, TemplateName::OrderConfirmation));
        assert_eq!(email.recipient, "a@example.jp");
        assert_eq!(email.order.total_amount, Yen::new(179_600));
        assert_eq!(email.order.items[0].product_name, "ノートPC");
    }

    #[test]
    fn digests_group_by_address_ignoring_case_in_file_order() {
        let paid = |id, reference: &str, email: &str| PaidOrder {
            order_id: id,
            order_ref: reference.into(),
            order: valid(email, &format!("name of {reference}"), &[("p", 1, 500)]),
        };
        let orders =
            vec![paid(1, "A-1", "b@example.jp"), paid(2, "B-1", "a@example.jp"), paid(3, "A-2", "B@Example.jp")];
        let digests = digests("imp", &orders);
        assert_eq!(digests.len(), 2);
        assert_eq!(digests[0].idempotency_key.as_deref(), Some("import-imp-digest-0"));
        let BatchMessage::Digest(first) = &digests[0].message else { panic!("not a digest") };
        assert_eq!(first.recipient, "b@example.jp");
        assert_eq!(first.customer_name, "name of A-1");
        assert_eq!(first.orders.iter().map(|o| o.order_ref.as_str()).collect::<Vec<_>>(), ["A-1", "A-2"]);
        assert_eq!(first.batch_id, "imp");
        let BatchMessage::Digest(second) = &digests[1].message else { panic!("not a digest") };
        assert_eq!(second.orders.iter().map(|o| o.order_id).collect::<Vec<_>>(), [2]);
    }

    #[test]
    fn a_customer_with_more_orders_than_a_digest_holds_gets_several() {
        let orders: Vec<PaidOrder> = (1..=2_500)
            .map(|id| PaidOrder {
                order_id: id,
                order_ref: format!("R-{id}"),
                order: valid("buyer@example.jp", "購買部", &[("p", 1, 500)]),
            })
            .collect();
        let digests = digests("imp", &orders);
        let sizes: Vec<usize> = digests
            .iter()
            .map(|d| match &d.message {
                BatchMessage::Digest(digest) => digest.orders.len(),
                BatchMessage::Email(_) => 0,
            })
            .collect();
        assert_eq!(sizes, [1_000, 1_000, 500]);
        let keys: Vec<&str> = digests.iter().filter_map(|d| d.idempotency_key.as_deref()).collect();
        assert_eq!(keys, ["import-imp-digest-0", "import-imp-digest-0-1", "import-imp-digest-0-2"]);
        // Many lines per order cut sooner: 60 orders of 100 lines is 6,000 lines.
        let items: Vec<(&str, i64, i64)> = (0..100).map(|_| ("p", 1, 100)).collect();
        let big: Vec<PaidOrder> = (1..=60)
            .map(|id| PaidOrder {
                order_id: id,
                order_ref: format!("B-{id}"),
                order: valid("b@example.jp", "b", &items),
            })
            .collect();
        assert_eq!(super::digests("imp", &big).len(), 2);
    }

    #[test]
    fn batches_respect_both_the_count_and_the_size() {
        let by_count = batches((0..2_500).collect::<Vec<i32>>(), 1_000, usize::MAX);
        assert_eq!(by_count.iter().map(Vec::len).collect::<Vec<_>>(), [1_000, 1_000, 500]);
        // Each string serialises to 12 bytes plus a separator: three fit in 40, not four.
        let strings: Vec<String> = (0..7).map(|_| "x".repeat(10)).collect();
        let by_size = batches(strings, 1_000, 40);
        assert_eq!(by_size.iter().map(Vec::len).collect::<Vec<_>>(), [3, 3, 1]);
        let oversized = batches(vec!["y".repeat(100), "z".into()], 1_000, 40);
        assert_eq!(oversized.iter().map(Vec::len).collect::<Vec<_>>(), [1, 1]);
        assert!(batches(Vec::<i32>::new(), 10, 10).is_empty());
    }
}
