//! The digest of a bulk import (`ORDER_DIGEST`): one e-mail listing one customer's orders of
//! one import, checked order by order with the same rules as a single order's fields.

use platform::api::notifications::NewDigestEmail;
use platform::{ApiError, ApiResult, Yen};

use super::order::{parse_lines, parse_order_id, parse_total, DisplayName, LineItem};

/// Most orders one digest may list: an import sends at most this many notifications per
/// request, so a customer with more orders than that gets several digests.
pub use platform::api::notifications::MAX_DIGEST_ORDERS;

/// One order of a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestOrderDetails {
    pub order_id: i64,
    /// The customer's own reference (the import file's `order_ref`).
    pub order_ref: DisplayName,
    pub lines: Vec<LineItem>,
    pub total: Yen,
}

/// Everything the digest template may show, the recipient apart (parsed as for any e-mail).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestDetails {
    customer_name: DisplayName,
    batch_id: DisplayName,
    orders: Vec<DigestOrderDetails>,
    grand_total: Yen,
}

impl DigestDetails {
    pub fn parse(digest: &NewDigestEmail) -> ApiResult<DigestDetails> {
        let customer_name = DisplayName::parse("customer_name", &digest.customer_name)?;
        // Shown in the body, so held to the rules of a name: no newline can add lines.
        let batch_id = DisplayName::parse("batch_id", &digest.batch_id)?;
        if digest.orders.is_empty() {
            return Err(ApiError::Unprocessable("orders must contain at least one order".into()));
        }
        if digest.orders.len() > MAX_DIGEST_ORDERS {
            return Err(ApiError::Unprocessable(format!(
                "orders must contain at most {MAX_DIGEST_ORDERS} orders (got {})",
                digest.orders.len()
            )));
        }
        let orders = digest
            .orders
            .iter()
            .enumerate()
            .map(|(i, order)| {
                Ok(DigestOrderDetails {
                    order_id: parse_order_id(&format!("orders[{i}].order_id"), order.order_id)?,
                    order_ref: DisplayName::parse(&format!("orders[{i}].order_ref"), &order.order_ref)?,
                    lines: parse_lines(&format!("orders[{i}].items"), &order.items)?,
                    total: parse_total(&format!("orders[{i}].total_amount"), order.total_amount)?,
                })
            })
            .collect::<ApiResult<Vec<_>>>()?;
        let grand_total = orders
            .iter()
            .try_fold(Yen::ZERO, |sum, order| sum.checked_add(order.total))
            .ok_or_else(|| ApiError::Unprocessable("the orders' total_amounts add up to too large an amount".into()))?;
        Ok(DigestDetails { customer_name, batch_id, orders, grand_total })
    }

    /// The id the notification is filed under: the first order's.
    pub fn order_id(&self) -> i64 {
        self.orders[0].order_id
    }

    pub fn customer_name(&self) -> &str {
        self.customer_name.as_str()
    }

    pub fn batch_id(&self) -> &str {
        self.batch_id.as_str()
    }

    /// At least one.
    pub fn orders(&self) -> &[DigestOrderDetails] {
        &self.orders
    }

    pub fn grand_total(&self) -> Yen {
        self.grand_total
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use platform::api::notifications::{DigestOrder, OrderLine};
    use platform::Currency;

    use super::*;

    /// Two orders of one customer: ¥179,600 and ¥3,000.
    pub(crate) fn digest() -> NewDigestEmail {
        NewDigestEmail {
            recipient: "tanaka@example.co.jp".into(),
            customer_name: " 田中 太郎 ".into(),
            batch_id: "imp-20261122-01".into(),
            orders: vec![
                DigestOrder {
                    order_id: 101,
                    order_ref: "PO-0001".into(),
                    items: vec![
                        OrderLine {
                            product_name: "ワイヤレスイヤホン".into(),
                            quantity: 2,
                            unit_price: Yen::new(89_800),
                        },
                        OrderLine { product_name: "充電ケーブル".into(), quantity: 1, unit_price: Yen::ZERO },
                    ],
                    total_amount: Yen::new(179_600),
                },
                DigestOrder {
                    order_id: 102,
                    order_ref: "PO-0002".into(),
                    items: vec![OrderLine {
                        product_name: "マウスパッド".into(),
                        quantity: 3,
                        unit_price: Yen::new(1_000),
                    }],
                    total_amount: Yen::new(3_000),
                },
            ],
            currency: Currency::JPY,
        }
    }

    fn detail_of(result: ApiResult<DigestDetails>) -> String {
        match result {
            Err(ApiError::Unprocessable(detail)) => detail,
            other => panic!("expected a 422, got {other:?}"),
        }
    }

    #[test]
    fn a_valid_digest_is_filed_under_its_first_order_with_the_grand_total() {
        let digest = DigestDetails::parse(&digest()).unwrap();
        assert_eq!(digest.order_id(), 101);
        assert_eq!(digest.customer_name(), "田中 太郎");
        assert_eq!(digest.batch_id(), "imp-20261122-01");
        assert_eq!(digest.orders().len(), 2);
        assert_eq!(digest.orders()[1].order_ref.as_str(), "PO-0002");
        assert_eq!(digest.orders()[1].lines[0].quantity, 3);
        assert_eq!(digest.grand_total(), Yen::new(182_600));
    }

    #[test]
    fn one_and_a_thousand_orders_are_accepted() {
        let mut one = digest();
        one.orders.truncate(1);
        assert_eq!(DigestDetails::parse(&one).unwrap().grand_total(), Yen::new(179_600));

        let mut thousand = digest();
        thousand.orders = vec![thousand.orders[1].clone(); MAX_DIGEST_ORDERS];
        assert_eq!(DigestDetails::parse(&thousand).unwrap().grand_total(), Yen::new(3_000_000));
    }

    #[test]
    fn each_bad_field_is_named_in_the_detail() {
        let mut no_name = digest();
        no_name.customer_name = "  ".into();
        assert!(detail_of(DigestDetails::parse(&no_name)).contains("customer_name"));

        let mut no_batch = digest();
        no_batch.batch_id = String::new();
        assert!(detail_of(DigestDetails::parse(&no_batch)).contains("batch_id"));

        let mut newline_in_batch = digest();
        newline_in_batch.batch_id = "imp\n追伸".into();
        assert!(detail_of(DigestDetails::parse(&newline_in_batch)).contains("batch_id"));

        let mut no_orders = digest();
        no_orders.orders.clear();
        assert!(detail_of(DigestDetails::parse(&no_orders)).contains("at least one order"));

        let mut too_many = digest();
        too_many.orders = vec![too_many.orders[0].clone(); MAX_DIGEST_ORDERS + 1];
        assert!(detail_of(DigestDetails::parse(&too_many)).contains("at most 1000 orders"));

        let mut no_items = digest();
        no_items.orders[1].items.clear();
        assert!(detail_of(DigestDetails::parse(&no_items)).contains("orders[1].items must contain at least one item"));

        let mut zero_quantity = digest();
        zero_quantity.orders[0].items[1].quantity = 0;
        assert!(detail_of(DigestDetails::parse(&zero_quantity)).contains("orders[0].items[1].quantity"));

        let mut bad_id = digest();
        bad_id.orders[1].order_id = 0;
        assert!(detail_of(DigestDetails::parse(&bad_id)).contains("orders[1].order_id"));

        let mut blank_ref = digest();
        blank_ref.orders[0].order_ref = " ".into();
        assert!(detail_of(DigestDetails::parse(&blank_ref)).contains("orders[0].order_ref"));

        let mut negative_total = digest();
        negative_total.orders[1].total_amount = Yen::new(-1);
        assert!(detail_of(DigestDetails::parse(&negative_total)).contains("orders[1].total_amount"));

        let mut overflowing = digest();
        overflowing.orders[0].total_amount = Yen::new(i64::MAX);
        assert!(detail_of(DigestDetails::parse(&overflowing)).contains("too large"));
    }
}
