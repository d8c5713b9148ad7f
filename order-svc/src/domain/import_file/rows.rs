//! The rows of the file made into orders: each row checked by the API's own rules and
//! against its order's first row, each order's total against the payment limits, and the
//! error report.

use std::collections::HashMap;

use platform::api::imports::{ImportError, MAX_IMPORT_ORDERS};
use platform::api::payments::{MAX_PAYMENT, MIN_PAYMENT};
use platform::money::Currency;
use platform::new_order::{order_total, CustomerEmail, Name, ValidItem, ValidOrder, MAX_ITEMS};

use super::columns::{Columns, Field};
use super::numbers::{parse_currency, parse_price, parse_quantity, quoted};
use super::{count, FileEncoding, FileProblem, ImportFile, StagedOrder, MAX_LISTED_ERRORS, MAX_ORDER_REF_CHARS};

/// One order as its rows arrive.
struct OrderDraft {
    /// `None` for a row with an empty `order_ref`, which is an order (a failed one) of its own.
    order_ref: Option<String>,
    line: i64,
    rows: usize,
    /// The first row's customer columns as written: every later row must repeat them.
    customer_email: String,
    customer_name: String,
    /// The first row's currency, `None` if it was not valid.
    currency: Option<Currency>,
    /// The first row's customer, when that row was valid.
    customer: Option<(CustomerEmail, Name)>,
    /// Emptied once the order fails, and never more than `MAX_ITEMS` long.
    items: Vec<ValidItem>,
    failed: bool,
}

/// The reading of a file's rows: orders by first appearance and the error report.
pub(super) struct Sheet {
    columns: Columns,
    drafts: Vec<OrderDraft>,
    by_ref: HashMap<String, usize>,
    total_rows: usize,
    /// With the sort key of each error's column; at most `MAX_LISTED_ERRORS`.
    errors: Vec<(usize, ImportError)>,
    /// Errors beyond `MAX_LISTED_ERRORS`, counted only.
    unlisted_errors: usize,
}

impl Sheet {
    pub(super) fn new(columns: Columns) -> Sheet {
        Sheet {
            columns,
            drafts: Vec::new(),
            by_ref: HashMap::new(),
            total_rows: 0,
            errors: Vec::new(),
            unlisted_errors: 0,
        }
    }

    pub(super) fn add_row(&mut self, record: &csv::StringRecord, line: i64) -> Result<(), FileProblem> {
        self.total_rows += 1;
        let columns = &self.columns;
        let order_ref = columns.value(record, Field::OrderRef);
        let index = match self.by_ref.get(order_ref) {
            Some(&index) => index,
            None => {
                // A row without a reference is an order of its own, so it counts too.
                if self.drafts.len() >= MAX_IMPORT_ORDERS {
                    return Err(FileProblem(format!(
                        "the file holds more than {MAX_IMPORT_ORDERS} orders (distinct {} values); split it into \
                         files of at most {MAX_IMPORT_ORDERS}",
                        columns.name(Field::OrderRef)
                    )));
                }
                self.drafts.push(OrderDraft {
                    order_ref: (!order_ref.is_empty()).then(|| order_ref.to_owned()),
                    line,
                    rows: 0,
                    customer_email: columns.value(record, Field::CustomerEmail).to_owned(),
                    customer_name: columns.value(record, Field::CustomerName).to_owned(),
                    currency: None,
                    customer: None,
                    items: Vec::new(),
                    failed: false,
                });
                let index = self.drafts.len() - 1;
                if !order_ref.is_empty() {
                    self.by_ref.insert(order_ref.to_owned(), index);
                }
                index
            }
        };
        let Some(draft) = self.drafts.get_mut(index) else {
            return Err(FileProblem("internal error: an order of the file was lost".into()));
        };
        draft.rows += 1;
        let problems = check_row(columns, record, draft);
        if problems.is_empty() {
            return Ok(());
        }
        draft.failed = true;
        draft.items = Vec::new();
        for (field, message) in problems {
            if self.errors.len() >= MAX_LISTED_ERRORS {
                self.unlisted_errors += 1;
                continue;
            }
            let error = ImportError {
                line,
                order_ref: draft.order_ref.clone(),
                column: field.map(|field| columns.name(field).to_owned()),
                message,
            };
            self.errors.push((columns.rank(field), error));
        }
        Ok(())
    }

    pub(super) fn finish(mut self, encoding: FileEncoding) -> Result<ImportFile, FileProblem> {
        if self.total_rows == 0 {
            return Err(FileProblem("the file has a header but no order rows".into()));
        }
        let total_orders = self.drafts.len();
        let mut failed_orders = 0;
        let mut orders = Vec::with_capacity(self.drafts.len());
        for draft in std::mem::take(&mut self.drafts) {
            let (line, order_ref) = (draft.line, draft.order_ref.clone());
            match finish_order(draft) {
                Ok(staged) => orders.push(staged),
                Err(problem) => {
                    failed_orders += 1;
                    if let Some(message) = problem {
                        self.errors.push((0, ImportError { line, order_ref, column: None, message }));
                    }
                }
            }
        }
        // Stable: the problems of one cell keep the order they were found in.
        self.errors.sort_by_key(|(rank, error)| (error.line, *rank));
        if self.unlisted_errors > 0 {
            let line = self.errors.last().map_or(1, |(_, error)| error.line);
            let message = format!(
                "{} more problems in later rows are not listed; correct the ones above and check the file again",
                self.unlisted_errors
            );
            self.errors.push((0, ImportError { line, order_ref: None, column: None, message }));
        }
        Ok(ImportFile {
            encoding,
            total_rows: count(self.total_rows),
            total_orders: count(total_orders),
            failed_orders: count(failed_orders),
            unknown_columns: self.columns.unknown,
            orders,
            errors: self.errors.into_iter().map(|(_, error)| error).collect(),
        })
    }
}

/// The problems of one row against the format and against its order's first row; a valid
/// row's item is added to the order. `draft.rows` already counts this row.
fn check_row(columns: &Columns, record: &csv::StringRecord, draft: &mut OrderDraft) -> Vec<(Option<Field>, String)> {
    let mut problems = Vec::new();
    if record.len() != columns.width {
        // Which value belongs to which column is unknown, so nothing else is checked.
        problems.push((None, format!("the row has {} fields but the header has {}", record.len(), columns.width)));
        return problems;
    }
    let label = |field| columns.name(field);
    let order_ref = columns.value(record, Field::OrderRef);
    if order_ref.is_empty() {
        problems.push((Some(Field::OrderRef), format!("{} must not be empty", label(Field::OrderRef))));
    } else if order_ref.chars().count() > MAX_ORDER_REF_CHARS {
        let message = format!("{} must be at most {MAX_ORDER_REF_CHARS} characters", label(Field::OrderRef));
        problems.push((Some(Field::OrderRef), message));
    }

    let mut note = |field: Field, problem: Option<String>| {
        if let Some(message) = problem {
            problems.push((Some(field), message));
        }
    };
    let email_text = columns.value(record, Field::CustomerEmail);
    let name_text = columns.value(record, Field::CustomerName);
    let email = CustomerEmail::parse(label(Field::CustomerEmail), email_text);
    let name = Name::parse(label(Field::CustomerName), name_text);
    let currency = parse_currency(label(Field::Currency), columns.value(record, Field::Currency));
    let first_row = draft.rows == 1;
    // A value that is wrong in itself is reported as such; one that is valid but differs
    // from the order's first row is reported as a disagreement, naming the first line.
    let differs = |field: Field, first: &str, this: &str| {
        (!first_row && first != this).then(|| {
            format!(
                "{} must be the same on every row of an order: line {} has {}, this row has {}",
                label(field),
                draft.line,
                quoted(first),
                quoted(this)
            )
        })
    };
    note(
        Field::CustomerEmail,
        email.as_ref().err().cloned().or_else(|| differs(Field::CustomerEmail, &draft.customer_email, email_text)),
    );
    note(
        Field::CustomerName,
        name.as_ref().err().cloned().or_else(|| differs(Field::CustomerName, &draft.customer_name, name_text)),
    );
    // Currencies are compared by meaning: an empty cell and `jpy` both say JPY.
    let currency_problem = match (&currency, draft.currency) {
        (Err(message), _) => Some(message.clone()),
        (Ok(this), Some(first)) if !first_row && *this != first => Some(format!(
            "{} must be the same on every row of an order: line {} has {}, this row has {}",
            label(Field::Currency),
            draft.line,
            first.code(),
            this.code()
        )),
        (Ok(_), _) => None,
    };
    note(Field::Currency, currency_problem);

    let product_name = Name::parse(label(Field::ProductName), columns.value(record, Field::ProductName));
    let quantity = parse_quantity(label(Field::Quantity), columns.value(record, Field::Quantity));
    let unit_price = parse_price(label(Field::UnitPrice), columns.value(record, Field::UnitPrice));
    note(Field::ProductName, product_name.as_ref().err().cloned());
    note(Field::Quantity, quantity.as_ref().err().cloned());
    note(Field::UnitPrice, unit_price.as_ref().err().cloned());

    if first_row {
        draft.currency = currency.as_ref().ok().copied();
        if let (Ok(email), Ok(name)) = (&email, &name) {
            draft.customer = Some((email.clone(), name.clone()));
        }
    }
    // Past `MAX_ITEMS` the order fails when it is finished; holding more items is useless.
    if problems.is_empty() && !draft.failed && draft.items.len() < MAX_ITEMS {
        if let (Ok(product_name), Ok(quantity), Ok(unit_price)) = (product_name, quantity, unit_price) {
            draft.items.push(ValidItem { product_name, quantity, unit_price });
        }
    }
    problems
}

/// The valid order a draft makes, or why it failed: the order-level problem, or `None` for
/// a draft failed by its rows (their errors are reported already).
fn finish_order(draft: OrderDraft) -> Result<StagedOrder, Option<String>> {
    // Counted on rows, so an order fails for its size even when some of its rows are bad.
    if draft.rows > MAX_ITEMS {
        return Err(Some(format!("the order has {} rows; an order may have at most {MAX_ITEMS} items", draft.rows)));
    }
    if draft.failed {
        return Err(None);
    }
    let limits = format!("{} … {}", MIN_PAYMENT.display_jpy(), MAX_PAYMENT.display_jpy());
    let Some(total_amount) = order_total(&draft.items) else {
        return Err(Some(format!("order total is too large: the payment limits are {limits}")));
    };
    if !(MIN_PAYMENT..=MAX_PAYMENT).contains(&total_amount) {
        return Err(Some(format!("order total {} is outside the payment limits {limits}", total_amount.display_jpy())));
    }
    match (draft.order_ref, draft.customer, draft.currency) {
        (Some(order_ref), Some((customer_email, customer_name)), Some(currency)) => Ok(StagedOrder {
            order_ref,
            line: draft.line,
            order: ValidOrder { customer_email, customer_name, items: draft.items, total_amount, currency },
        }),
        // An empty ref or an invalid first row failed the draft, which returned above; not
        // reachable, but refused rather than trusted.
        _ => Err(Some("the order could not be read".into())),
    }
}
