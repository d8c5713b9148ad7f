//! The new-order form's values and the checks it runs on them before anything is sent: the
//! Order Service's own rules (`platform::new_order`), worded with the form's labels, and the
//! Payment Service's amount limits as a warning (an order outside them is still created, but
//! its payment is refused and it stays pending).

use platform::api::orders::{NewOrder, NewOrderItem};
use platform::api::payments::{MAX_PAYMENT, MIN_PAYMENT};
use platform::new_order::{parse_unit_price, CustomerEmail, Name, Quantity, ValidOrder, MAX_ITEMS};
use platform::{Currency, Yen};

/// One item row as typed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ItemInput {
    pub product_name: String,
    pub quantity: String,
    pub unit_price: String,
}

/// The whole form as typed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FormInput {
    pub customer_email: String,
    pub customer_name: String,
    pub items: Vec<ItemInput>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ItemProblems {
    pub product_name: Option<String>,
    pub quantity: Option<String>,
    pub unit_price: Option<String>,
}

/// What the form shows beside its fields, and the order to send once nothing is wrong.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FormCheck {
    pub customer_email: Option<String>,
    pub customer_name: Option<String>,
    /// One entry per item row, in order.
    pub items: Vec<ItemProblems>,
    /// Problems of the order as a whole (no items, too many, a total too large).
    pub order_problems: Vec<String>,
    /// Σ quantity × unit price over the rows that can be read, for the live total.
    pub total: Option<Yen>,
    pub payment_warning: Option<String>,
    /// `Some` exactly when the Order Service's rules accept the order.
    pub order: Option<NewOrder>,
}

impl FormCheck {
    pub fn is_valid(&self) -> bool {
        self.order.is_some()
    }
}

pub fn check(input: &FormInput) -> FormCheck {
    let customer_email = CustomerEmail::parse("E-mail", &input.customer_email).err();
    let customer_name = Name::parse("Customer name", &input.customer_name).err();

    let mut items = Vec::with_capacity(input.items.len());
    let mut order_items = Vec::with_capacity(input.items.len());
    let mut total = Some(Yen::ZERO);
    for row in &input.items {
        let product_name = Name::parse("Product", &row.product_name).err();
        let quantity = parse_quantity(&row.quantity);
        let unit_price = parse_price(&row.unit_price);
        if let (Ok(quantity), Ok(unit_price)) = (&quantity, &unit_price) {
            total = total.and_then(|t| t.checked_add(unit_price.checked_mul(*quantity)?));
            order_items.push(NewOrderItem {
                product_name: row.product_name.clone(),
                quantity: *quantity,
                unit_price: *unit_price,
            });
        }
        items.push(ItemProblems { product_name, quantity: quantity.err(), unit_price: unit_price.err() });
    }

    let mut order_problems = Vec::new();
    if input.items.is_empty() {
        order_problems.push("Add at least one item.".to_owned());
    } else if input.items.len() > MAX_ITEMS {
        order_problems.push(format!("An order has at most {MAX_ITEMS} items."));
    }
    if total.is_none() {
        order_problems.push("The total is too large.".to_owned());
    }

    let fields_ok = customer_email.is_none()
        && customer_name.is_none()
        && order_problems.is_empty()
        && items.iter().all(|i| i.product_name.is_none() && i.quantity.is_none() && i.unit_price.is_none());
    let order = fields_ok
        .then(|| NewOrder {
            customer_email: input.customer_email.trim().to_owned(),
            customer_name: input.customer_name.trim().to_owned(),
            items: order_items,
            currency: Currency::JPY,
        })
        // The Order Service's own gate, so the form can never send what it would refuse.
        .filter(|order| ValidOrder::parse(order.clone()).is_ok());

    let payment_warning = total.filter(|t| !input.items.is_empty() && (*t < MIN_PAYMENT || *t > MAX_PAYMENT)).map(|_| {
        format!(
            "A payment must be {} to {}: this order would be created, but its payment refused and the order left pending.",
            MIN_PAYMENT.display_jpy(),
            MAX_PAYMENT.display_jpy()
        )
    });

    FormCheck { customer_email, customer_name, items, order_problems, total, payment_warning, order }
}

fn parse_quantity(text: &str) -> Result<i64, String> {
    let quantity: i64 = text.trim().parse().map_err(|_| "Quantity must be a whole number".to_owned())?;
    Quantity::parse("Quantity", quantity).map(Quantity::get)
}

fn parse_price(text: &str) -> Result<Yen, String> {
    let price = Yen::parse_decimal(text.trim().trim_start_matches('¥').replace(',', "").as_str())
        .map_err(|_| "Unit price must be a whole number of yen".to_owned())?;
    parse_unit_price("Unit price", price)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(name: &str, quantity: &str, price: &str) -> ItemInput {
        ItemInput { product_name: name.into(), quantity: quantity.into(), unit_price: price.into() }
    }

    fn form(items: Vec<ItemInput>) -> FormInput {
        FormInput { customer_email: " tanaka@example.co.jp ".into(), customer_name: "田中太郎".into(), items }
    }

    #[test]
    fn a_valid_form_gives_the_order_and_its_total() {
        let checked = check(&form(vec![item("ノートPC", "2", "89,800"), item("マウス", "1", "¥3500")]));
        assert!(checked.is_valid(), "{checked:?}");
        assert_eq!(checked.total, Some(Yen::new(183_100)));
        let order = checked.order.unwrap();
        assert_eq!(order.customer_email, "tanaka@example.co.jp");
        assert_eq!(order.items[0].unit_price, Yen::new(89_800));
        assert_eq!(checked.payment_warning, None);
    }

    #[test]
    fn each_bad_field_gets_its_own_message() {
        let mut input = form(vec![item(" ", "0", "-5"), item("本", "abc", "12.5")]);
        input.customer_email = "not-an-address".into();
        input.customer_name = "".into();
        let checked = check(&input);
        assert!(!checked.is_valid());
        assert_eq!(checked.customer_email.as_deref(), Some("E-mail is not a valid e-mail address"));
        assert_eq!(checked.customer_name.as_deref(), Some("Customer name must not be empty"));
        assert_eq!(checked.items[0].product_name.as_deref(), Some("Product must not be empty"));
        assert_eq!(checked.items[0].quantity.as_deref(), Some("Quantity must be at least 1"));
        assert_eq!(checked.items[0].unit_price.as_deref(), Some("Unit price must not be negative"));
        assert_eq!(checked.items[1].quantity.as_deref(), Some("Quantity must be a whole number"));
        assert_eq!(checked.items[1].unit_price.as_deref(), Some("Unit price must be a whole number of yen"));
    }

    #[test]
    fn an_order_needs_items_and_a_total_that_fits() {
        let checked = check(&form(vec![]));
        assert_eq!(checked.order_problems, vec!["Add at least one item.".to_owned()]);
        assert!(!checked.is_valid());

        // The per-item bounds keep every total far inside i64: a price beyond them is the
        // row's problem, and the total counts the rows that can be read.
        let checked = check(&form(vec![item("a", "10000", "9223372036854775807"), item("b", "2", "300")]));
        assert_eq!(checked.items[0].unit_price.as_deref(), Some("Unit price must be at most ¥100,000,000"));
        assert_eq!(checked.total, Some(Yen::new(600)));
        assert!(!checked.is_valid());

        let largest = check(&form(vec![item("a", "10000", "100000000"); MAX_ITEMS]));
        assert_eq!(largest.total, Some(Yen::new(100_000_000_000_000)));
        assert!(largest.is_valid());
    }

    #[test]
    fn totals_outside_the_payment_limits_warn_but_do_not_block() {
        let small = check(&form(vec![item("付箋", "1", "99")]));
        assert!(small.is_valid());
        assert!(small.payment_warning.is_some());
        let at_limits = [check(&form(vec![item("a", "1", "100")])), check(&form(vec![item("a", "1", "1000000")]))];
        assert!(at_limits.iter().all(|c| c.payment_warning.is_none()));
        assert!(check(&form(vec![item("a", "1", "1000001")])).payment_warning.is_some());
    }
}
