//! The columns of the format and where the file's header puts them.

use super::FileProblem;

/// A column of the format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Field {
    OrderRef,
    CustomerEmail,
    CustomerName,
    ProductName,
    Quantity,
    UnitPrice,
    Currency,
}

impl Field {
    const ALL: [Field; 7] = [
        Field::OrderRef,
        Field::CustomerEmail,
        Field::CustomerName,
        Field::ProductName,
        Field::Quantity,
        Field::UnitPrice,
        Field::Currency,
    ];

    pub(super) fn english(self) -> &'static str {
        match self {
            Field::OrderRef => "order_ref",
            Field::CustomerEmail => "customer_email",
            Field::CustomerName => "customer_name",
            Field::ProductName => "product_name",
            Field::Quantity => "quantity",
            Field::UnitPrice => "unit_price",
            Field::Currency => "currency",
        }
    }

    pub(super) fn japanese(self) -> &'static str {
        match self {
            Field::OrderRef => "注文番号",
            Field::CustomerEmail => "メールアドレス",
            Field::CustomerName => "顧客名",
            Field::ProductName => "商品名",
            Field::Quantity => "数量",
            Field::UnitPrice => "単価",
            Field::Currency => "通貨",
        }
    }

    fn is_required(self) -> bool {
        self != Field::Currency
    }

    /// `text` is already trimmed. `str::trim` removes the full-width space (U+3000) too.
    pub(super) fn named_by(text: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|field| text.eq_ignore_ascii_case(field.english()) || text == field.japanese())
    }
}

/// Where each field is in a record, and what the header calls it.
pub(super) struct Columns {
    /// Indexed by `Field as usize`: the field's position in a record and its header text.
    pub(super) at: [Option<(usize, String)>; Field::ALL.len()],
    /// Fields per record, as the header has them.
    pub(super) width: usize,
    pub(super) unknown: Vec<String>,
}

impl Columns {
    pub(super) fn from_header(header: &csv::StringRecord) -> Result<Columns, FileProblem> {
        let mut at: [Option<(usize, String)>; Field::ALL.len()] = Default::default();
        let mut unknown: Vec<String> = Vec::new();
        for (position, text) in header.iter().enumerate() {
            let text = text.trim();
            match Field::named_by(text) {
                Some(field) => {
                    if let Some((_, first)) = &at[field as usize] {
                        return Err(FileProblem(format!(
                            "the columns '{first}' and '{text}' both name {}; keep one of them",
                            field.english()
                        )));
                    }
                    at[field as usize] = Some((position, text.to_owned()));
                }
                // A header cell left empty is not reported: spreadsheets keep such columns
                // after their contents were deleted, and there is no name to show.
                None if text.is_empty() => {}
                None => {
                    if !unknown.iter().any(|u| u == text) {
                        unknown.push(text.to_owned());
                    }
                }
            }
        }
        let missing: Vec<String> = Field::ALL
            .into_iter()
            .filter(|field| field.is_required() && at[*field as usize].is_none())
            .map(|field| format!("{} ({})", field.english(), field.japanese()))
            .collect();
        if !missing.is_empty() {
            return Err(FileProblem(format!("the header (the first line) has no column for {}", missing.join(", "))));
        }
        Ok(Columns { at, width: header.len(), unknown })
    }

    /// The trimmed value of `field` in `record`; empty when the column is absent (only
    /// `currency` may be) or the record is short.
    pub(super) fn value<'r>(&self, record: &'r csv::StringRecord, field: Field) -> &'r str {
        self.at[field as usize].as_ref().and_then(|(position, _)| record.get(*position)).unwrap_or("").trim()
    }

    /// The header text of `field`'s column: the label of every message about it.
    pub(super) fn name(&self, field: Field) -> &str {
        self.at[field as usize].as_ref().map_or(field.english(), |(_, name)| name.as_str())
    }

    /// Sort key of an error's column: whole-row problems first, then left to right.
    pub(super) fn rank(&self, field: Option<Field>) -> usize {
        field.and_then(|field| self.at[field as usize].as_ref()).map_or(0, |(position, _)| position + 1)
    }
}
