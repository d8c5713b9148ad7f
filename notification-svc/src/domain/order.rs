//! The order a message speaks of, checked field by field: a name a person can read, at
//! least one line, sensible quantities and prices.

use platform::api::notifications::{OrderLine, OrderSummary};
use platform::new_order::Name;
use platform::{ApiError, ApiResult, Yen};

pub use platform::api::notifications::MAX_LINES as MAX_ITEMS;

/// A name as a message shows it: the platform's rule for names (`platform::new_order::Name`:
/// at most 200 characters, no control character — a newline in a name would let a caller write
/// extra lines into the message — not blank; trimmed), so that every order's names fit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(Name);

impl DisplayName {
    pub fn parse(field: &str, text: &str) -> ApiResult<DisplayName> {
        Name::parse(field, text).map(DisplayName).map_err(ApiError::Unprocessable)
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineItem {
    pub product_name: DisplayName,
    /// At least 1.
    pub quantity: i64,
    /// Zero or more.
    pub unit_price: Yen,
}

/// Everything a template may show about an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderDetails {
    order_id: i64,
    customer_name: DisplayName,
    lines: Vec<LineItem>,
    total: Yen,
}

impl OrderDetails {
    pub fn parse(order_id: i64, order: &OrderSummary) -> ApiResult<OrderDetails> {
        let order_id = parse_order_id("order_id", order_id)?;
        let customer_name = DisplayName::parse("order.customer_name", &order.customer_name)?;
        let lines = parse_lines("order.items", &order.items)?;
        let total = parse_total("order.total_amount", order.total_amount)?;
        Ok(OrderDetails { order_id, customer_name, lines, total })
    }

    pub fn order_id(&self) -> i64 {
        self.order_id
    }

    pub fn customer_name(&self) -> &str {
        self.customer_name.as_str()
    }

    pub fn lines(&self) -> &[LineItem] {
        &self.lines
    }

    pub fn total(&self) -> Yen {
        self.total
    }
}

// The checks below are shared with the digest (`super::digest`), which lists several orders;
// `field` names the offending field in the 422's detail (`order.items[1].quantity`,
// `orders[3].items[1].quantity`).

pub(crate) fn parse_order_id(field: &str, order_id: i64) -> ApiResult<i64> {
    if order_id < 1 {
        return Err(ApiError::Unprocessable(format!("{field} must be at least 1 (got {order_id})")));
    }
    Ok(order_id)
}

/// 1..=1000 lines, each with a readable product name, a quantity of at least 1 and a price
/// that is not negative.
pub(crate) fn parse_lines(field: &str, items: &[OrderLine]) -> ApiResult<Vec<LineItem>> {
    if items.is_empty() {
        return Err(ApiError::Unprocessable(format!("{field} must contain at least one item")));
    }
    if items.len() > MAX_ITEMS {
        return Err(ApiError::Unprocessable(format!(
            "{field} must contain at most {MAX_ITEMS} items (got {})",
            items.len()
        )));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let product_name = DisplayName::parse(&format!("{field}[{i}].product_name"), &item.product_name)?;
            if item.quantity < 1 {
                return Err(ApiError::Unprocessable(format!(
                    "{field}[{i}].quantity must be at least 1 (got {})",
                    item.quantity
                )));
            }
            if item.unit_price < Yen::ZERO {
                return Err(ApiError::Unprocessable(format!(
                    "{field}[{i}].unit_price must not be negative (got {})",
                    item.unit_price
                )));
            }
            Ok(LineItem { product_name, quantity: item.quantity, unit_price: item.unit_price })
        })
        .collect()
}

pub(crate) fn parse_total(field: &str, total: Yen) -> ApiResult<Yen> {
    if total < Yen::ZERO {
        return Err(ApiError::Unprocessable(format!("{field} must not be negative (got {total})")));
    }
    Ok(total)
}

#[cfg(test)]
pub(crate) mod tests {
    use platform::Currency;

    use super::*;

    pub(crate) fn summary() -> OrderSummary {
        OrderSummary {
            customer_name: "  田中 太郎 ".into(),
            items: vec![
                OrderLine {
                    product_name: "ワイヤレスイヤホン".into(), quantity: 2, unit_price: Yen::new(89_800)
                },
                OrderLine { product_name: "充電ケーブル".into(), quantity: 1, unit_price: Yen::ZERO },
            ],
            total_amount: Yen::new(179_600),
            currency: Currency::JPY,
        }
    }

    fn detail_of(result: ApiResult<OrderDetails>) -> String {
        match result {
            Err(ApiError::Unprocessable(detail)) => detail,
            other => panic!("expected a 422, got {other:?}"),
        }
    }

    #[test]
    fn a_valid_order_is_parsed_with_the_name_trimmed() {
        let order = OrderDetails::parse(42, &summary()).unwrap();
        assert_eq!(order.order_id(), 42);
        assert_eq!(order.customer_name(), "田中 太郎");
        assert_eq!(order.lines().len(), 2);
        assert_eq!(order.total(), Yen::new(179_600));
    }

    #[test]
    fn each_bad_field_is_named_in_the_detail() {
        assert!(detail_of(OrderDetails::parse(0, &summary())).contains("order_id"));

        let mut blank_name = summary();
        blank_name.customer_name = "   ".into();
        assert!(detail_of(OrderDetails::parse(1, &blank_name)).contains("customer_name"));

        let mut long_name = summary();
        long_name.customer_name = "あ".repeat(201);
        assert!(detail_of(OrderDetails::parse(1, &long_name)).contains("customer_name"));
        long_name.customer_name = "あ".repeat(200);
        assert!(OrderDetails::parse(1, &long_name).is_ok());

        let mut newline = summary();
        newline.customer_name = "田中\n追伸".into();
        assert!(detail_of(OrderDetails::parse(1, &newline)).contains("customer_name"));

        let mut no_items = summary();
        no_items.items.clear();
        assert!(detail_of(OrderDetails::parse(1, &no_items)).contains("order.items"));

        let mut too_many = summary();
        too_many.items = vec![too_many.items[0].clone(); 1001];
        assert!(detail_of(OrderDetails::parse(1, &too_many)).contains("order.items"));

        let mut zero_quantity = summary();
        zero_quantity.items[1].quantity = 0;
        assert!(detail_of(OrderDetails::parse(1, &zero_quantity)).contains("order.items[1].quantity"));

        let mut negative_price = summary();
        negative_price.items[0].unit_price = Yen::new(-1);
        assert!(detail_of(OrderDetails::parse(1, &negative_price)).contains("order.items[0].unit_price"));

        let mut empty_product = summary();
        empty_product.items[0].product_name = String::new();
        assert!(detail_of(OrderDetails::parse(1, &empty_product)).contains("order.items[0].product_name"));

        let mut negative_total = summary();
        negative_total.total_amount = Yen::new(-5);
        assert!(detail_of(OrderDetails::parse(1, &negative_total)).contains("total_amount"));
    }
}
