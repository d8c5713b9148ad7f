//! A new order as the client sends it, turned into one that cannot be wrong: every field
//! checked, names trimmed, the total computed without overflow. Also the reason of a status
//! change. Parse, don't validate: the rest of the Order Service only ever sees `ValidOrder`.
//!
//! These rules live here, outside the Order Service, because the dashboard's order form runs
//! the very same code in the browser to show each problem inline before it submits. Each rule's
//! JSON Schema (`*_schema`) sits beside it, so the OpenAPI documents say what the rule does; a
//! test checks each pattern against its rule.

use std::fmt;

use crate::api::orders::{NewOrder, NewOrderItem};
use crate::money::{Currency, Yen};
use email_address::{EmailAddress, Options};

pub const MAX_EMAIL_CHARS: usize = 254;
pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_ITEMS: usize = 100;
pub const MAX_QUANTITY: i64 = 10_000;
/// The largest unit price, ¥100,000,000: far above any real price, so that every order's total
/// fits an `i64` (100 × 10,000 × ¥10^8 = ¥10^14) and the document can state both bounds. Not
/// the payment limit (FR-013): as documented, an order beyond it is created and its payment
/// refused, whether one item or many make it so.
pub const MAX_UNIT_PRICE: Yen = Yen::new(100_000_000);
pub const MAX_REASON_CHARS: usize = 500;

/// Characters no name may contain: Unicode's control characters (`char::is_control`).
const CONTROL: &str = r"\x00-\x1f\x7f-\x9f";
/// A character that is neither a control character nor white space (`char::is_whitespace`):
/// what a name needs at least one of.
const VISIBLE: &str = r"[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]";

/// The pattern of `Name`: no control character, and something besides white space.
pub fn name_pattern() -> String {
    format!("^[^{CONTROL}]*{VISIBLE}[^{CONTROL}]*$")
}

/// The pattern of free text that may be blank (a reason): no control character.
pub fn text_pattern() -> String {
    format!("^[^{CONTROL}]*$")
}

fn string_schema() -> utoipa::openapi::ObjectBuilder {
    utoipa::openapi::ObjectBuilder::new().schema_type(utoipa::openapi::schema::Type::String)
}

/// The JSON Schema of a `Name`.
pub fn name_schema() -> utoipa::openapi::Object {
    string_schema().min_length(Some(1)).max_length(Some(MAX_NAME_CHARS)).pattern(Some(name_pattern())).build()
}

/// The JSON Schema of a `Name` that may be left out or `null`.
pub fn optional_name_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
            utoipa::openapi::schema::Type::String,
            utoipa::openapi::schema::Type::Null,
        ]))
        .min_length(Some(1))
        .max_length(Some(MAX_NAME_CHARS))
        .pattern(Some(name_pattern()))
        .build()
}

/// The JSON Schema of a `CustomerEmail`.
pub fn email_schema() -> utoipa::openapi::Object {
    string_schema()
        .format(Some(utoipa::openapi::SchemaFormat::Custom("email".into())))
        .max_length(Some(MAX_EMAIL_CHARS))
        .build()
}

/// The JSON Schema of a `Quantity`.
pub fn quantity_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::Integer)
        .minimum(Some(1))
        .maximum(Some(MAX_QUANTITY))
        .build()
}

/// The JSON Schema of a unit price (`parse_unit_price`).
pub fn unit_price_schema() -> utoipa::openapi::Object {
    Yen::schema_between(Yen::ZERO, MAX_UNIT_PRICE)
}

/// The JSON Schema of an optional `StatusReason`.
pub fn reason_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
            utoipa::openapi::schema::Type::String,
            utoipa::openapi::schema::Type::Null,
        ]))
        .max_length(Some(MAX_REASON_CHARS))
        .pattern(Some(text_pattern()))
        .description(Some("Optional; blank means none"))
        .build()
}

/// Everything wrong with a request, each message naming its field (422).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidOrder(pub Vec<String>);

impl fmt::Display for InvalidOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join("; "))
    }
}

impl std::error::Error for InvalidOrder {}

/// A syntactically valid address (RFC 5322 addr-spec with a dotted domain), trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerEmail(String);

impl CustomerEmail {
    /// `field` names the input in the message: the API's field name, or a form's label.
    pub fn parse(field: &str, text: &str) -> Result<CustomerEmail, String> {
        // Counted before trimming, as the document's maxLength counts.
        if text.chars().count() > MAX_EMAIL_CHARS {
            return Err(format!("{field} must be at most {MAX_EMAIL_CHARS} characters"));
        }
        let text = text.trim();
        // Display names (`Taro <t@example.jp>`) and IP literals are valid RFC 5322 but not
        // something a shop can mail reliably, so they are refused.
        let options = Options::default().without_display_text().without_domain_literal().with_required_tld();
        match EmailAddress::parse_with_options(text, options) {
            Ok(_) => Ok(CustomerEmail(text.to_owned())),
            Err(_) => Err(format!("{field} is not a valid e-mail address")),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A customer or product name: at most `MAX_NAME_CHARS` characters, no control character,
/// not blank; kept trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name(String);

impl Name {
    /// Checks the text as sent, before trimming, so that the rule is the one the documents
    /// state (`name_schema`).
    pub fn parse(field: &str, text: &str) -> Result<Name, String> {
        if text.chars().count() > MAX_NAME_CHARS {
            return Err(format!("{field} must be at most {MAX_NAME_CHARS} characters"));
        }
        // The Notification Service refuses them in an e-mail, so an order carrying one could
        // never be confirmed.
        if text.contains(char::is_control) {
            return Err(format!("{field} must not contain line breaks, tabs or other control characters"));
        }
        let text = text.trim();
        if text.is_empty() {
            return Err(format!("{field} must not be empty"));
        }
        Ok(Name(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// How many of a product: 1 ..= `MAX_QUANTITY`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quantity(i64);

impl Quantity {
    pub fn parse(field: &str, quantity: i64) -> Result<Quantity, String> {
        if quantity < 1 {
            Err(format!("{field} must be at least 1"))
        } else if quantity > MAX_QUANTITY {
            Err(format!("{field} must be at most {MAX_QUANTITY}"))
        } else {
            Ok(Quantity(quantity))
        }
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

/// A unit price: ¥0 (a free item) ..= `MAX_UNIT_PRICE`.
pub fn parse_unit_price(field: &str, price: Yen) -> Result<Yen, String> {
    if price < Yen::ZERO {
        Err(format!("{field} must not be negative"))
    } else if price > MAX_UNIT_PRICE {
        Err(format!("{field} must be at most {}", MAX_UNIT_PRICE.display_jpy()))
    } else {
        Ok(price)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidItem {
    pub product_name: Name,
    pub quantity: Quantity,
    /// Never negative.
    pub unit_price: Yen,
}

impl ValidItem {
    fn parse(index: usize, item: NewOrderItem) -> Result<ValidItem, Vec<String>> {
        let product_name = Name::parse(&format!("items[{index}].product_name"), &item.product_name);
        let quantity = Quantity::parse(&format!("items[{index}].quantity"), item.quantity);
        let unit_price = parse_unit_price(&format!("items[{index}].unit_price"), item.unit_price);
        match (product_name, quantity, unit_price) {
            (Ok(product_name), Ok(quantity), Ok(unit_price)) => Ok(ValidItem { product_name, quantity, unit_price }),
            (a, b, c) => Err([a.err(), b.err(), c.err()].into_iter().flatten().collect()),
        }
    }

    pub fn subtotal(&self) -> Option<Yen> {
        self.unit_price.checked_mul(self.quantity.get())
    }
}

/// Σ quantity × unit_price, or `None` if it does not fit in an `i64` of yen.
pub fn order_total(items: &[ValidItem]) -> Option<Yen> {
    items.iter().try_fold(Yen::ZERO, |total, item| total.checked_add(item.subtotal()?))
}

/// A new order that passed every rule, with its total.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidOrder {
    pub customer_email: CustomerEmail,
    pub customer_name: Name,
    /// 1 ..= `MAX_ITEMS` items.
    pub items: Vec<ValidItem>,
    pub total_amount: Yen,
    pub currency: Currency,
}

impl ValidOrder {
    pub fn parse(order: NewOrder) -> Result<ValidOrder, InvalidOrder> {
        let mut problems = Vec::new();
        let customer_email =
            CustomerEmail::parse("customer_email", &order.customer_email).map_err(|e| problems.push(e)).ok();
        let customer_name = Name::parse("customer_name", &order.customer_name).map_err(|e| problems.push(e)).ok();
        if order.items.is_empty() {
            problems.push("items must contain at least one item".to_owned());
        } else if order.items.len() > MAX_ITEMS {
            problems.push(format!("items must contain at most {MAX_ITEMS} items"));
        }
        let mut items = Vec::with_capacity(order.items.len().min(MAX_ITEMS));
        for (index, item) in order.items.into_iter().enumerate() {
            match ValidItem::parse(index, item) {
                Ok(item) => items.push(item),
                Err(mut errors) => problems.append(&mut errors),
            }
        }
        if !problems.is_empty() {
            return Err(InvalidOrder(problems));
        }
        let total_amount =
            order_total(&items).ok_or_else(|| InvalidOrder(vec!["total_amount is too large".to_owned()]))?;
        match (customer_email, customer_name) {
            (Some(customer_email), Some(customer_name)) => {
                Ok(ValidOrder { customer_email, customer_name, items, total_amount, currency: order.currency })
            }
            // Both parsed or `problems` was not empty and we returned above.
            _ => Err(InvalidOrder(vec!["invalid order".to_owned()])),
        }
    }
}

/// The optional reason of a status change: at most `MAX_REASON_CHARS` characters and no control
/// character (as sent), trimmed, blank means none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusReason(String);

impl StatusReason {
    pub fn parse(reason: Option<&str>) -> Result<Option<StatusReason>, String> {
        let Some(reason) = reason else {
            return Ok(None);
        };
        if reason.chars().count() > MAX_REASON_CHARS {
            return Err(format!("reason must be at most {MAX_REASON_CHARS} characters"));
        }
        if reason.contains(char::is_control) {
            return Err("reason must not contain line breaks, tabs or other control characters".into());
        }
        let reason = reason.trim();
        if reason.is_empty() {
            return Ok(None);
        }
        Ok(Some(StatusReason(reason.to_owned())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(name: &str, quantity: i64, unit_price: i64) -> NewOrderItem {
        NewOrderItem { product_name: name.into(), quantity, unit_price: Yen::new(unit_price) }
    }

    fn order(items: Vec<NewOrderItem>) -> NewOrder {
        NewOrder {
            customer_email: "tanaka@example.co.jp".into(),
            customer_name: "田中太郎".into(),
            items,
            currency: Currency::JPY,
        }
    }

    fn problems(order: NewOrder) -> Vec<String> {
        ValidOrder::parse(order).unwrap_err().0
    }

    #[test]
    fn the_documented_example_is_valid_and_totals_179600() {
        let valid = ValidOrder::parse(order(vec![item("ノートPC", 2, 89800)])).unwrap();
        assert_eq!(valid.total_amount, Yen::new(179_600));
        assert_eq!(valid.customer_email.as_str(), "tanaka@example.co.jp");
        assert_eq!(valid.customer_name.as_str(), "田中太郎");
        assert_eq!(valid.items.len(), 1);
    }

    #[test]
    fn total_sums_every_line() {
        let valid = ValidOrder::parse(order(vec![item("a", 3, 100), item("b", 1, 0), item("c", 10, 7)])).unwrap();
        assert_eq!(valid.total_amount, Yen::new(370));
    }

    #[test]
    fn a_sum_that_would_overflow_is_none() {
        let items = vec![
            ValidItem { product_name: Name("a".into()), quantity: Quantity(1), unit_price: Yen::new(i64::MAX) },
            ValidItem { product_name: Name("b".into()), quantity: Quantity(1), unit_price: Yen::new(1) },
        ];
        assert_eq!(order_total(&items), None);
    }

    #[test]
    fn the_largest_order_is_accepted_and_totals_exactly() {
        let largest: Vec<_> = (0..100).map(|i| item(&format!("p{i}"), MAX_QUANTITY, 1_000_000)).collect();
        let valid = ValidOrder::parse(order(largest)).unwrap();
        assert_eq!(valid.total_amount, Yen::new(100 * 10_000 * 1_000_000));
    }

    #[test]
    fn customer_email_must_be_an_address() {
        for bad in ["", "not-an-email", "a@", "@example.com", "a b@example.com", "Taro <t@example.jp>", "a@localhost"] {
            let mut o = order(vec![item("a", 1, 100)]);
            o.customer_email = bad.into();
            assert_eq!(problems(o), vec!["customer_email is not a valid e-mail address"], "{bad:?}");
        }
    }

    #[test]
    fn customer_email_is_trimmed() {
        assert_eq!(CustomerEmail::parse("customer_email", "  a@example.com ").unwrap().as_str(), "a@example.com");
    }

    /// An address of exactly `len` characters: labels stay under the crate's 63-character
    /// label limit.
    fn address_of_length(len: usize) -> String {
        let mut domain = String::new();
        let domain_len = len - "user@".len();
        while domain.len() + 60 < domain_len {
            domain.push_str(&"x".repeat(59));
            domain.push('.');
        }
        domain.push_str(&"y".repeat(domain_len - domain.len() - 4));
        domain.push_str(".com");
        format!("user@{domain}")
    }

    #[test]
    fn customer_email_may_be_254_characters_but_not_255() {
        let at_limit = address_of_length(254);
        assert_eq!(at_limit.len(), 254);
        assert!(CustomerEmail::parse("customer_email", &at_limit).is_ok(), "{at_limit}");
        let too_long = address_of_length(255);
        assert_eq!(too_long.len(), 255);
        assert_eq!(
            CustomerEmail::parse("customer_email", &too_long).unwrap_err(),
            "customer_email must be at most 254 characters"
        );
    }

    #[test]
    fn customer_name_is_trimmed_and_1_to_200_characters() {
        assert_eq!(Name::parse("customer_name", "  田中太郎 ").unwrap().as_str(), "田中太郎");
        assert_eq!(Name::parse("customer_name", "x").unwrap().as_str(), "x");
        assert!(Name::parse("customer_name", &"名".repeat(200)).is_ok());
        assert_eq!(
            Name::parse("customer_name", &"名".repeat(201)).unwrap_err(),
            "customer_name must be at most 200 characters"
        );
        assert_eq!(Name::parse("customer_name", "   ").unwrap_err(), "customer_name must not be empty");
        for controlled in ["田中\n太郎", "田中太郎\n", "\t田中", "田中\u{85}"] {
            assert_eq!(
                Name::parse("customer_name", controlled).unwrap_err(),
                "customer_name must not contain line breaks, tabs or other control characters",
                "{controlled:?}"
            );
        }
        // The limit counts what was sent, spaces included.
        assert!(Name::parse("customer_name", &format!(" {}", "名".repeat(200))).is_err());
        let mut o = order(vec![item("a", 1, 100)]);
        o.customer_name = "".into();
        assert_eq!(problems(o), vec!["customer_name must not be empty"]);
    }

    #[test]
    fn items_must_number_1_to_100() {
        assert_eq!(problems(order(vec![])), vec!["items must contain at least one item"]);
        let hundred: Vec<_> = (0..100).map(|i| item(&format!("p{i}"), 1, 1)).collect();
        assert_eq!(ValidOrder::parse(order(hundred)).unwrap().items.len(), 100);
        let too_many: Vec<_> = (0..101).map(|i| item(&format!("p{i}"), 1, 1)).collect();
        assert_eq!(problems(order(too_many)), vec!["items must contain at most 100 items"]);
    }

    #[test]
    fn product_name_is_trimmed_and_1_to_200_characters() {
        let valid = ValidOrder::parse(order(vec![item("  ノートPC  ", 1, 1)])).unwrap();
        assert_eq!(valid.items[0].product_name.as_str(), "ノートPC");
        assert!(ValidOrder::parse(order(vec![item(&"p".repeat(200), 1, 1)])).is_ok());
        assert_eq!(
            problems(order(vec![item("a", 1, 1), item(&"p".repeat(201), 1, 1)])),
            vec!["items[1].product_name must be at most 200 characters"]
        );
        assert_eq!(problems(order(vec![item(" ", 1, 1)])), vec!["items[0].product_name must not be empty"]);
    }

    #[test]
    fn quantity_is_1_to_10000() {
        assert!(ValidOrder::parse(order(vec![item("a", 1, 1)])).is_ok());
        assert!(ValidOrder::parse(order(vec![item("a", 10_000, 1)])).is_ok());
        assert_eq!(
            problems(order(vec![item("a", 1, 1), item("b", 0, 1)])),
            vec!["items[1].quantity must be at least 1"]
        );
        assert_eq!(problems(order(vec![item("a", -3, 1)])), vec!["items[0].quantity must be at least 1"]);
        assert_eq!(problems(order(vec![item("a", 10_001, 1)])), vec!["items[0].quantity must be at most 10000"]);
    }

    #[test]
    fn unit_price_is_0_to_a_hundred_million_yen_and_no_total_overflows() {
        assert_eq!(ValidOrder::parse(order(vec![item("a", 1, 0)])).unwrap().total_amount, Yen::ZERO);
        // Beyond the payment limit is still an order (its payment is refused), as documented.
        assert!(ValidOrder::parse(order(vec![item("a", 1, 1_000_001)])).is_ok());
        assert_eq!(problems(order(vec![item("a", 1, -1)])), vec!["items[0].unit_price must not be negative"]);
        assert_eq!(
            problems(order(vec![item("a", 1, 100_000_001)])),
            vec!["items[0].unit_price must be at most ¥100,000,000"]
        );
        let largest = ValidOrder::parse(order(vec![item("a", MAX_QUANTITY, 100_000_000); MAX_ITEMS])).unwrap();
        assert_eq!(largest.total_amount, Yen::new(100_000_000_000_000));
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let mut o = order(vec![item("", 0, -1)]);
        o.customer_email = "nope".into();
        let all = problems(o);
        assert_eq!(
            all,
            vec![
                "customer_email is not a valid e-mail address",
                "items[0].product_name must not be empty",
                "items[0].quantity must be at least 1",
                "items[0].unit_price must not be negative",
            ]
        );
        assert_eq!(InvalidOrder(all).to_string().matches("; ").count(), 3);
    }

    #[test]
    fn status_reason_is_optional_trimmed_and_at_most_500_characters() {
        assert_eq!(StatusReason::parse(None), Ok(None));
        assert_eq!(StatusReason::parse(Some("   ")), Ok(None));
        assert_eq!(StatusReason::parse(Some(" shipped by DHL ")).unwrap().unwrap().as_str(), "shipped by DHL");
        assert!(StatusReason::parse(Some(&"理".repeat(500))).unwrap().is_some());
        assert_eq!(
            StatusReason::parse(Some(&"理".repeat(501))),
            Err("reason must be at most 500 characters".to_owned())
        );
        assert!(StatusReason::parse(Some("line\nbreak")).is_err());
    }

    /// Each pattern of the documents, matched the way a tool reading them would, says yes
    /// exactly where its rule does.
    #[test]
    fn the_documented_patterns_agree_with_the_rules() {
        let name = regex::Regex::new(&name_pattern()).unwrap();
        let text = regex::Regex::new(&text_pattern()).unwrap();
        let samples = [
            "田中太郎",
            " 田中 ",
            "x",
            "",
            " ",
            "\u{3000}",
            "\u{a0}x",
            "a\tb",
            "a\n",
            "\u{7f}",
            "\u{9f}z",
            "\u{2028}",
            "\u{200b}",
            "\u{feff}",
            "名前\u{2003}",
            "🍣",
            "\u{1680}\u{205f}",
            "a\u{85}",
        ];
        for sample in samples {
            assert_eq!(name.is_match(sample), Name::parse("n", sample).is_ok(), "name {sample:?}");
            let reason_ok = StatusReason::parse(Some(sample)).is_ok();
            assert_eq!(text.is_match(sample), reason_ok, "reason {sample:?}");
        }
    }
}
