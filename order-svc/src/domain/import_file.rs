//! Reading a bulk-import file: bytes in, the orders it holds and a report of what is wrong
//! with the rest out. Pure (no I/O, no clock), so every rule is unit-tested here; the route
//! and the importer only store and act on what [`read`] returns.
//!
//! The format: CSV with a header row and one row per order item; rows with the same
//! `order_ref` form one order, wherever they are in the file. Columns, in any order, named in
//! English (case-insensitive) or Japanese: `order_ref` 注文番号, `customer_email` メールアドレス,
//! `customer_name` 顧客名, `product_name` 商品名, `quantity` 数量, `unit_price` 単価 and the
//! optional `currency` 通貨 (empty means JPY). Other columns are reported and ignored.
//!
//! Choices, and why:
//! - Encoding is detected, not guessed: a UTF-8 BOM means UTF-8; text that is valid UTF-8 is
//!   UTF-8; else a strict decode as Shift_JIS (encoding_rs's `SHIFT_JIS` is the WHATWG
//!   superset that matches Excel's CP932). Real Japanese text is practically never valid in
//!   both, so two strict decodes decide. `chardetng` was rejected: it guesses among many
//!   encodings and a wrong guess imports mojibake names without a single error, where a
//!   strict decode that fails tells the user to pass `?encoding=`.
//! - Problems with the file as a whole (encoding, header, empty, too many orders) are a
//!   [`FileProblem`] and nothing is imported. A problem with a row fails that row's order and
//!   nothing else; the row's line and column (as named in the file's header) go to the report.
//! - Field rules are the API's own (`platform::new_order`), with the header's column name as
//!   the field label, so an import refuses exactly what `POST /orders` refuses. On top, an
//!   order's total must be a payable amount (`MIN_PAYMENT ..= MAX_PAYMENT`), because every
//!   imported order is paid at once and a total the Payment Service refuses would only fail
//!   later, after the order was created.
//! - Amounts are whole yen written as people write them in a spreadsheet: `1980`, `1,980`,
//!   `¥1,980`, `￥１，９８０`. Thousands separators must be well placed (`1,98` is refused:
//!   in some locales it means 1.98).
//! - Line numbers are computed from the byte offset where each record starts. The `csv`
//!   crate's own `Position::line()` is not usable here: it does not count line breaks inside
//!   quoted fields (it skips them with a fast scan), and it is the position where the
//!   previous record ended, before blank lines and the `\n` of a CRLF.
//! - Memory: the file is decoded once (borrowed, not copied, when it already is UTF-8), and
//!   besides it only one reused record, the per-order accumulators and the outputs are held.
//!   An order that has failed drops the items it had collected.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::num::IntErrorKind;

use encoding_rs::{DecoderResult, SHIFT_JIS};
use platform::api::imports::{ImportError, MAX_IMPORT_ORDERS};

/// Most lines of an error report: every error of any realistic file, while a pathological
/// one (millions of bad rows in 20 MB) cannot use the memory that listing them would take.
pub const MAX_LISTED_ERRORS: usize = 100_000;
use platform::api::payments::{MAX_PAYMENT, MIN_PAYMENT};
use platform::money::{Currency, MoneyError, Yen};
use platform::new_order::{
    order_total, parse_unit_price, CustomerEmail, Name, Quantity, ValidItem, ValidOrder, MAX_ITEMS,
};

/// Longest `order_ref`, in characters (it is stored and shown with the order).
pub const MAX_ORDER_REF_CHARS: usize = 100;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// How the file's bytes were (or are to be) turned into text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileEncoding {
    Utf8,
    /// UTF-8 starting with a byte order mark, as Excel's "CSV UTF-8" saves it.
    Utf8Bom,
    /// Shift_JIS as Windows and Excel write it (CP932 / Windows-31J).
    ShiftJis,
}

impl FileEncoding {
    /// The name stored with the import and shown by the API.
    pub fn as_str(self) -> &'static str {
        match self {
            FileEncoding::Utf8 => "utf-8",
            FileEncoding::Utf8Bom => "utf-8-bom",
            FileEncoding::ShiftJis => "shift_jis",
        }
    }

    /// The `?encoding=` parameter, case-insensitive. `utf-8-bom` (what `as_str` gives) is
    /// accepted too, so an import stored half-way can be read again the way it was read.
    pub fn parse_param(text: &str) -> Result<FileEncoding, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "utf-8" | "utf8" => Ok(FileEncoding::Utf8),
            "utf-8-sig" | "utf-8-bom" => Ok(FileEncoding::Utf8Bom),
            "shift_jis" | "shift-jis" | "sjis" | "cp932" | "windows-31j" | "ms932" => Ok(FileEncoding::ShiftJis),
            _ => Err(format!("unknown encoding '{}': use utf-8 or shift_jis", text.trim())),
        }
    }

    /// How the encoding is named to a person.
    fn label(self) -> &'static str {
        match self {
            FileEncoding::Utf8 | FileEncoding::Utf8Bom => "UTF-8",
            FileEncoding::ShiftJis => "Shift_JIS",
        }
    }
}

impl fmt::Display for FileEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A problem with the file as a whole: nothing of it is imported (the API answers 422 with
/// this text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileProblem(pub String);

impl fmt::Display for FileProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FileProblem {}

/// Everything read from one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportFile {
    pub encoding: FileEncoding,
    /// Data rows; the header and blank lines are not counted.
    pub total_rows: i64,
    /// Distinct non-empty `order_ref`s, plus one for each row with an empty `order_ref`.
    pub total_orders: i64,
    /// Orders (as counted in `total_orders`) with at least one error.
    pub failed_orders: i64,
    /// Header texts of the columns that are not part of the format, in file order.
    pub unknown_columns: Vec<String>,
    /// The valid orders, in order of first appearance.
    pub orders: Vec<StagedOrder>,
    /// Sorted by line, then by column from left to right (whole-row problems first).
    pub errors: Vec<ImportError>,
}

/// A valid order of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagedOrder {
    pub order_ref: String,
    /// The line of its first row.
    pub line: i64,
    /// Its items in file order.
    pub order: ValidOrder,
}

/// Decodes and reads the whole file. `explicit` overrides detection.
pub fn read(bytes: &[u8], explicit: Option<FileEncoding>) -> Result<ImportFile, FileProblem> {
    let (encoding, text) = decode(bytes, explicit)?;
    if text.trim().is_empty() {
        return Err(FileProblem("the file is empty".into()));
    }
    // Field counts are checked per row (a short row is that row's error), so the reader
    // must not stop at the first one; `has_headers(false)` because the header is ours to
    // interpret.
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut lines = LineCounter::new(text.as_bytes());
    let mut record = csv::StringRecord::new();
    if next_record(&mut reader, &mut record, &mut lines)?.is_none() {
        return Err(FileProblem("the file is empty".into()));
    }
    let mut sheet = Sheet::new(Columns::from_header(&record)?);
    while let Some(line) = next_record(&mut reader, &mut record, &mut lines)? {
        // Blank lines are skipped by `csv` already; a line of only separators or spaces
        // (what a spreadsheet leaves after deleting a row's contents) is blank too.
        if record.iter().all(|field| field.trim().is_empty()) {
            continue;
        }
        if record.iter().any(|field| field.contains(char::is_control)) {
            record = record.iter().map(without_line_breaks).collect();
        }
        sheet.add_row(&record, line)?;
    }
    sheet.finish(encoding)
}

/// A cell as one line: a line break inside a quoted cell (Alt+Enter in Excel) or a tab
/// becomes a space. The API refuses control characters in names (an e-mail could not carry
/// them), and a break in a spreadsheet cell is layout, not content.
fn without_line_breaks(field: &str) -> String {
    let mut one_line = String::with_capacity(field.len());
    for part in field.split(|c: char| c.is_control()).filter(|part| !part.is_empty()) {
        if !one_line.is_empty() {
            one_line.push(' ');
        }
        one_line.push_str(part);
    }
    one_line
}

/// Reads the next record into `record` and returns the line it starts on.
fn next_record(
    reader: &mut csv::Reader<&[u8]>,
    record: &mut csv::StringRecord,
    lines: &mut LineCounter<'_>,
) -> Result<Option<i64>, FileProblem> {
    let from = reader.position().byte();
    match reader.read_record(record) {
        Ok(true) => Ok(Some(lines.line_of_record_after(from))),
        Ok(false) => Ok(None),
        // Reading from a slice of valid UTF-8 with flexible lengths leaves `csv` nothing to
        // fail on; should it anyway, the file cannot be trusted as a whole.
        Err(err) => Err(FileProblem(format!("the file cannot be read as CSV: {err}"))),
    }
}

/// The text of the file, and how it was decoded.
fn decode(bytes: &[u8], explicit: Option<FileEncoding>) -> Result<(FileEncoding, Cow<'_, str>), FileProblem> {
    let after_bom = bytes.strip_prefix(UTF8_BOM);
    match explicit {
        // Asked for UTF-8: a BOM, if there is one, is UTF-8's own and not part of the text.
        // The encoding reported is what the file holds, so reading it again gives the same.
        Some(FileEncoding::Utf8 | FileEncoding::Utf8Bom) => {
            let (encoding, body) = match after_bom {
                Some(body) => (FileEncoding::Utf8Bom, body),
                None => (FileEncoding::Utf8, bytes),
            };
            match std::str::from_utf8(body) {
                Ok(text) => Ok((encoding, Cow::Borrowed(text))),
                Err(err) => Err(not_in_encoding(FileEncoding::Utf8, body, err.valid_up_to())),
            }
        }
        Some(FileEncoding::ShiftJis) => decode_shift_jis(bytes)
            .map(|text| (FileEncoding::ShiftJis, text))
            .map_err(|bad_at| not_in_encoding(FileEncoding::ShiftJis, bytes, bad_at)),
        None => {
            if let Some(body) = after_bom {
                return match std::str::from_utf8(body) {
                    Ok(text) => Ok((FileEncoding::Utf8Bom, Cow::Borrowed(text))),
                    Err(err) => Err(FileProblem(format!(
                        "the file starts with a UTF-8 byte order mark but is not valid UTF-8 (line {})",
                        line_of_offset(body, err.valid_up_to())
                    ))),
                };
            }
            if let Ok(text) = std::str::from_utf8(bytes) {
                return Ok((FileEncoding::Utf8, Cow::Borrowed(text)));
            }
            decode_shift_jis(bytes).map(|text| (FileEncoding::ShiftJis, text)).map_err(|_| {
                FileProblem(
                    "the file's encoding is not recognised: it is neither UTF-8 nor Shift_JIS; save it as \
                     UTF-8 or Shift_JIS, or give the encoding with ?encoding=utf-8|shift_jis"
                        .into(),
                )
            })
        }
    }
}

/// Strict Shift_JIS: `Err` with the offset of the first byte that does not decode, rather
/// than a replacement character in a customer's name.
fn decode_shift_jis(bytes: &[u8]) -> Result<Cow<'_, str>, usize> {
    match SHIFT_JIS.decode_without_bom_handling_and_without_replacement(bytes) {
        Some(text) => Ok(text),
        None => Err(first_bad_shift_jis_byte(bytes)),
    }
}

/// Only on the failure path: decodes again into a small buffer to find where it failed.
fn first_bad_shift_jis_byte(bytes: &[u8]) -> usize {
    let mut decoder = SHIFT_JIS.new_decoder_without_bom_handling();
    let mut buffer = [0u8; 4096];
    let mut offset = 0;
    loop {
        let rest = bytes.get(offset..).unwrap_or_default();
        let (result, read, _) = decoder.decode_to_utf8_without_replacement(rest, &mut buffer, true);
        offset += read;
        match result {
            DecoderResult::OutputFull => continue,
            DecoderResult::InputEmpty => return offset,
            DecoderResult::Malformed(bad, after) => {
                return offset.saturating_sub(usize::from(bad) + usize::from(after));
            }
        }
    }
}

fn not_in_encoding(encoding: FileEncoding, bytes: &[u8], bad_at: usize) -> FileProblem {
    FileProblem(format!(
        "the file is not valid {} (line {}); check the encoding, or leave ?encoding= out to detect it",
        encoding.label(),
        line_of_offset(bytes, bad_at)
    ))
}

/// 1-based line of a byte offset. Safe on undecoded bytes: neither UTF-8 nor Shift_JIS uses
/// CR or LF inside a multi-byte character.
fn line_of_offset(bytes: &[u8], offset: usize) -> i64 {
    let mut counter = LineCounter::new(bytes);
    counter.advance_to(offset.min(bytes.len()));
    counter.line
}

/// The physical line where each record starts, counted incrementally (records come in
/// order, so the file is scanned once). CRLF, LF and a lone CR each end one line, as they
/// do for `csv`.
struct LineCounter<'t> {
    text: &'t [u8],
    /// Line breaks before `offset` are counted in `line`.
    offset: usize,
    line: i64,
}

impl<'t> LineCounter<'t> {
    fn new(text: &'t [u8]) -> Self {
        LineCounter { text, offset: 0, line: 1 }
    }

    /// `csv` reports where the previous record ended (right after the byte that ended it,
    /// which for CRLF is the CR). The next record starts after any further line breaks:
    /// the rest of a CRLF and blank lines, which `csv` skips. No record starts with a line
    /// break (an empty first field is followed by a comma, a quoted one by a quote).
    fn line_of_record_after(&mut self, ended_at: u64) -> i64 {
        let mut start = usize::try_from(ended_at).unwrap_or(usize::MAX).max(self.offset).min(self.text.len());
        while matches!(self.text.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        self.advance_to(start);
        self.line
    }

    fn advance_to(&mut self, to: usize) {
        let from = self.offset.min(to);
        let breaks = self
            .text
            .get(from..to)
            .unwrap_or_default()
            .iter()
            .enumerate()
            .filter(|&(i, &byte)| byte == b'\n' || (byte == b'\r' && self.text.get(from + i + 1) != Some(&b'\n')));
        self.line += i64::try_from(breaks.count()).unwrap_or(i64::MAX);
        self.offset = to.max(self.offset);
    }
}

/// A column of the format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
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

    fn english(self) -> &'static str {
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

    fn japanese(self) -> &'static str {
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
    fn named_by(text: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|field| text.eq_ignore_ascii_case(field.english()) || text == field.japanese())
    }
}

/// Where each field is in a record, and what the header calls it.
struct Columns {
    /// Indexed by `Field as usize`: the field's position in a record and its header text.
    at: [Option<(usize, String)>; Field::ALL.len()],
    /// Fields per record, as the header has them.
    width: usize,
    unknown: Vec<String>,
}

impl Columns {
    fn from_header(header: &csv::StringRecord) -> Result<Columns, FileProblem> {
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
    fn value<'r>(&self, record: &'r csv::StringRecord, field: Field) -> &'r str {
        self.at[field as usize].as_ref().and_then(|(position, _)| record.get(*position)).unwrap_or("").trim()
    }

    /// The header text of `field`'s column: the label of every message about it.
    fn name(&self, field: Field) -> &str {
        self.at[field as usize].as_ref().map_or(field.english(), |(_, name)| name.as_str())
    }

    /// Sort key of an error's column: whole-row problems first, then left to right.
    fn rank(&self, field: Option<Field>) -> usize {
        field.and_then(|field| self.at[field as usize].as_ref()).map_or(0, |(position, _)| position + 1)
    }
}

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
struct Sheet {
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
    fn new(columns: Columns) -> Sheet {
        Sheet {
            columns,
            drafts: Vec::new(),
            by_ref: HashMap::new(),
            total_rows: 0,
            errors: Vec::new(),
            unlisted_errors: 0,
        }
    }

    fn add_row(&mut self, record: &csv::StringRecord, line: i64) -> Result<(), FileProblem> {
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

    fn finish(mut self, encoding: FileEncoding) -> Result<ImportFile, FileProblem> {
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

fn parse_currency(field: &str, text: &str) -> Result<Currency, String> {
    if text.is_empty() {
        return Ok(Currency::JPY);
    }
    Currency::parse(text).map_err(|_| format!("{field} must be JPY, not {}", quoted(text)))
}

/// A whole number, `1,000` allowed. A number too large for `i64` is still "too large"
/// rather than "not a number".
fn parse_quantity(field: &str, text: &str) -> Result<Quantity, String> {
    if text.is_empty() {
        return Err(format!("{field} must not be empty"));
    }
    let not_a_number = || format!("{field} must be a whole number, not {}", quoted(text));
    let ascii = to_ascii_number(text);
    let (minus, digits) = strip_minus(&ascii);
    let digits = without_thousands_separators(digits).ok_or_else(not_a_number)?;
    let sign = if minus { "-" } else { "" };
    match format!("{sign}{digits}").parse::<i64>() {
        Ok(quantity) => Quantity::parse(field, quantity),
        Err(err) => match err.kind() {
            IntErrorKind::PosOverflow => Quantity::parse(field, i64::MAX),
            IntErrorKind::NegOverflow => Quantity::parse(field, i64::MIN),
            _ => Err(not_a_number()),
        },
    }
}

/// Whole yen as people type it: `1980`, `1,980`, `¥1,980`, `￥1980`, `-¥5` (refused as
/// negative by the API's rule), `1980.0`. `\` counts as a yen sign: in CP932 the yen sign of
/// a Japanese keyboard is byte 0x5C, which Japanese Windows shows as ¥ but which decodes to
/// a backslash.
fn parse_price(field: &str, text: &str) -> Result<Yen, String> {
    if text.is_empty() {
        return Err(format!("{field} must not be empty"));
    }
    let not_yen = || format!("{field} must be a whole number of yen such as 1980 or ¥1,980, not {}", quoted(text));
    let ascii = to_ascii_number(text);
    let (minus, rest) = strip_minus(&ascii);
    // The sign may stand on either side of the yen sign: `-¥5` and `¥-5`.
    let (minus, rest) = match rest.strip_prefix(['¥', '\\']).map(str::trim_start) {
        Some(amount) if !minus => strip_minus(amount),
        Some(amount) => (minus, amount),
        None => (minus, rest),
    };
    let (whole, fraction) = match rest.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (rest, None),
    };
    let whole = without_thousands_separators(whole).ok_or_else(not_yen)?;
    let sign = if minus { "-" } else { "" };
    let plain = match fraction {
        Some(fraction) => format!("{sign}{whole}.{fraction}"),
        None => format!("{sign}{whole}"),
    };
    let yen = Yen::parse_decimal(&plain).map_err(|err| match err {
        MoneyError::FractionalYen(_) => format!("{field} must be whole yen, not {}", quoted(text)),
        MoneyError::TooLarge(_) => format!("{field} is too large: {}", quoted(text)),
        MoneyError::NotADecimal(_) => not_yen(),
    })?;
    parse_unit_price(field, yen)
}

/// A leading minus sign, and the rest with spaces after the sign removed.
fn strip_minus(text: &str) -> (bool, &str) {
    match text.strip_prefix('-') {
        Some(rest) => (true, rest.trim_start()),
        None => (false, text),
    }
}

/// `1,980` → `1980`; `None` for separators that are not every third digit from the right
/// (`1,98`, `19,80`, `,980`), which are more likely a decimal comma or a typo than yen.
fn without_thousands_separators(digits: &str) -> Option<Cow<'_, str>> {
    if !digits.contains(',') {
        return Some(Cow::Borrowed(digits));
    }
    let mut groups = digits.split(',');
    let first = groups.next().unwrap_or_default();
    let all_digits = |group: &str| group.bytes().all(|b| b.is_ascii_digit());
    if !(1..=3).contains(&first.len()) || !all_digits(first) {
        return None;
    }
    let mut plain = String::with_capacity(digits.len());
    plain.push_str(first);
    for group in groups {
        if group.len() != 3 || !all_digits(group) {
            return None;
        }
        plain.push_str(group);
    }
    Some(Cow::Owned(plain))
}

/// Full-width digits and signs (`１，９８０`, `￥`, `－`), as a Japanese IME types them, in
/// their ASCII form. Free for ASCII text.
fn to_ascii_number(text: &str) -> Cow<'_, str> {
    if text.is_ascii() {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| match c {
                '０'..='９' => char::from_digit(u32::from(c) - u32::from('０'), 10).unwrap_or(c),
                '，' => ',',
                '．' => '.',
                '－' | '−' => '-',
                '￥' => '¥',
                other => other,
            })
            .collect(),
    )
}

/// A value as quoted in a message, cut short so that one long cell cannot flood the report.
fn quoted(text: &str) -> String {
    const MAX_CHARS: usize = 50;
    if text.chars().count() <= MAX_CHARS {
        format!("'{text}'")
    } else {
        format!("'{}…'", text.chars().take(MAX_CHARS).collect::<String>())
    }
}

fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "order_ref,customer_email,customer_name,product_name,quantity,unit_price,currency";

    /// A file with the English header and `rows`, LF line ends: row `i` is on line `i + 2`.
    fn file(rows: &[&str]) -> String {
        let mut text = format!("{HEADER}\n");
        for row in rows {
            text.push_str(row);
            text.push('\n');
        }
        text
    }

    fn read_text(text: &str) -> ImportFile {
        read(text.as_bytes(), None).unwrap()
    }

    fn problem(bytes: &[u8], explicit: Option<FileEncoding>) -> String {
        read(bytes, explicit).unwrap_err().0
    }

    fn refs(file: &ImportFile) -> Vec<&str> {
        file.orders.iter().map(|o| o.order_ref.as_str()).collect()
    }

    fn products(order: &StagedOrder) -> Vec<&str> {
        order.order.items.iter().map(|i| i.product_name.as_str()).collect()
    }

    fn error(line: i64, order_ref: Option<&str>, column: Option<&str>, message: &str) -> ImportError {
        ImportError {
            line,
            order_ref: order_ref.map(str::to_owned),
            column: column.map(str::to_owned),
            message: message.to_owned(),
        }
    }

    #[test]
    fn a_utf8_file_is_detected_and_every_field_read() {
        let f = read_text(&file(&[
            "A-1, tanaka@example.co.jp ,田中太郎,ノートPC,2,89800,JPY",
            "A-1,tanaka@example.co.jp,田中太郎,マウス,1,1980,JPY",
        ]));
        assert_eq!(f.encoding, FileEncoding::Utf8);
        assert_eq!((f.total_rows, f.total_orders, f.failed_orders), (2, 1, 0));
        assert_eq!(f.errors, vec![]);
        assert_eq!(f.unknown_columns, Vec::<String>::new());
        let staged = &f.orders[0];
        assert_eq!((staged.order_ref.as_str(), staged.line), ("A-1", 2));
        let order = &staged.order;
        assert_eq!(order.customer_email.as_str(), "tanaka@example.co.jp");
        assert_eq!(order.customer_name.as_str(), "田中太郎");
        assert_eq!(order.currency, Currency::JPY);
        assert_eq!(products(staged), vec!["ノートPC", "マウス"]);
        assert_eq!(order.items[0].quantity.get(), 2);
        assert_eq!(order.items[0].unit_price, Yen::new(89_800));
        assert_eq!(order.total_amount, Yen::new(181_580));
    }

    #[test]
    fn a_utf8_file_with_a_bom_is_detected_and_the_bom_is_not_part_of_the_first_header() {
        let mut bytes = UTF8_BOM.to_vec();
        bytes.extend_from_slice(file(&["A1,a@example.com,Aoki,pen,1,500,"]).as_bytes());
        let f = read(&bytes, None).unwrap();
        assert_eq!(f.encoding, FileEncoding::Utf8Bom);
        assert_eq!(f.encoding.as_str(), "utf-8-bom");
        assert_eq!(refs(&f), vec!["A1"]);
        assert!(f.unknown_columns.is_empty(), "{:?}", f.unknown_columns);
        // Read again the way the importer does after a restart: the same result.
        let again = read(&bytes, Some(FileEncoding::parse_param(f.encoding.as_str()).unwrap())).unwrap();
        assert_eq!(again, f);
    }

    #[test]
    fn a_shift_jis_file_from_excel_with_japanese_headers_is_detected() {
        // 髙 and ① exist only in CP932's extensions, which Excel uses and WHATWG Shift_JIS covers.
        let text = "注文番号,メールアドレス,顧客名,商品名,数量,単価,通貨\r\n\
                    注-1,takahashi@example.jp,髙橋①,ノートＰＣ,1,\"89,800\",JPY\r\n\
                    注-2,sato@example.jp,佐藤,ペン,0,100,JPY\r\n";
        let (bytes, _, had_errors) = SHIFT_JIS.encode(text);
        assert!(!had_errors);
        assert!(std::str::from_utf8(&bytes).is_err(), "the test needs bytes that are not UTF-8");
        let f = read(&bytes, None).unwrap();
        assert_eq!(f.encoding, FileEncoding::ShiftJis);
        assert_eq!(f.encoding.as_str(), "shift_jis");
        assert_eq!(refs(&f), vec!["注-1"]);
        assert_eq!(f.orders[0].order.customer_name.as_str(), "髙橋①");
        assert_eq!(products(&f.orders[0]), vec!["ノートＰＣ"]);
        assert_eq!(f.orders[0].order.total_amount, Yen::new(89_800));
        assert_eq!(f.errors, vec![error(3, Some("注-2"), Some("数量"), "数量 must be at least 1")]);
    }

    #[test]
    fn an_explicit_encoding_overrides_detection() {
        // C3 A9 is "é" in UTF-8 and the half-width katakana "ﾃｩ" in Shift_JIS.
        let mut bytes = file(&[]).into_bytes();
        bytes.extend_from_slice(b"A1,jose@example.com,Jos\xC3\xA9,pen,1,500,\n");
        let detected = read(&bytes, None).unwrap();
        assert_eq!(detected.encoding, FileEncoding::Utf8);
        assert_eq!(detected.orders[0].order.customer_name.as_str(), "José");
        let explicit = read(&bytes, Some(FileEncoding::ShiftJis)).unwrap();
        assert_eq!(explicit.encoding, FileEncoding::ShiftJis);
        assert_eq!(explicit.orders[0].order.customer_name.as_str(), "Josﾃｩ");
    }

    #[test]
    fn a_file_that_does_not_decode_in_the_explicit_encoding_is_a_file_problem_naming_it() {
        let text = file(&["A1,a@example.com,Aoki,pen,1,500,", "A2,b@example.com,佐藤,pen,1,500,"]);
        let (shift_jis, _, _) = SHIFT_JIS.encode(&text);
        let message = problem(&shift_jis, Some(FileEncoding::Utf8));
        assert!(message.contains("not valid UTF-8 (line 3)"), "{message}");
        let message = problem(&shift_jis, Some(FileEncoding::Utf8Bom));
        assert!(message.contains("not valid UTF-8"), "{message}");

        let mut bytes = file(&["A1,a@example.com,Aoki,pen,1,500,"]).into_bytes();
        bytes.extend_from_slice(b"A2,b@example.com,\xFF,pen,1,500,\n");
        let message = problem(&bytes, Some(FileEncoding::ShiftJis));
        assert!(message.contains("not valid Shift_JIS (line 3)"), "{message}");
    }

    #[test]
    fn bytes_that_are_neither_utf8_nor_shift_jis_are_a_file_problem_suggesting_the_parameter() {
        let mut bytes = file(&[]).into_bytes();
        bytes.extend_from_slice(b"A1,a@example.com,\xFF\xFE,pen,1,500,\n");
        let message = problem(&bytes, None);
        assert!(message.contains("encoding is not recognised"), "{message}");
        assert!(message.contains("?encoding=utf-8|shift_jis"), "{message}");

        let mut with_bom = UTF8_BOM.to_vec();
        with_bom.extend_from_slice(&bytes);
        let message = problem(&with_bom, None);
        assert!(message.contains("byte order mark but is not valid UTF-8 (line 2)"), "{message}");
    }

    #[test]
    fn the_encoding_parameter_accepts_every_documented_spelling() {
        for (text, expected) in [
            ("utf-8", FileEncoding::Utf8),
            ("UTF8", FileEncoding::Utf8),
            ("utf-8-sig", FileEncoding::Utf8Bom),
            ("utf-8-bom", FileEncoding::Utf8Bom),
            ("shift_jis", FileEncoding::ShiftJis),
            ("Shift-JIS", FileEncoding::ShiftJis),
            ("SJIS", FileEncoding::ShiftJis),
            ("cp932", FileEncoding::ShiftJis),
            ("Windows-31J", FileEncoding::ShiftJis),
            ("MS932", FileEncoding::ShiftJis),
        ] {
            assert_eq!(FileEncoding::parse_param(text), Ok(expected), "{text}");
        }
        for encoding in [FileEncoding::Utf8, FileEncoding::Utf8Bom, FileEncoding::ShiftJis] {
            assert_eq!(FileEncoding::parse_param(encoding.as_str()), Ok(encoding));
        }
        let err = FileEncoding::parse_param("latin1").unwrap_err();
        assert!(err.contains("'latin1'") && err.contains("utf-8") && err.contains("shift_jis"), "{err}");
    }

    #[test]
    fn crlf_and_lone_cr_line_ends_are_read_and_counted_like_lf() {
        // product_name last, so a CR left in a value would show in the product's name.
        let lf = "order_ref,customer_email,customer_name,quantity,unit_price,product_name\n\
                  A1,a@example.com,Aoki,1,500,pen\n\
                  \n\
                  A2,b@example.com,Baba,0,500,ink\n";
        for text in [lf.replace('\n', "\r\n"), lf.replace('\n', "\r"), lf.to_owned()] {
            let f = read_text(&text);
            assert_eq!(products(&f.orders[0]), vec!["pen"], "{text:?}");
            assert_eq!(
                f.errors,
                vec![error(4, Some("A2"), Some("quantity"), "quantity must be at least 1")],
                "{text:?}"
            );
            assert_eq!(f.total_rows, 2);
        }
    }

    #[test]
    fn quoted_fields_keep_commas_quotes_and_line_breaks_and_later_line_numbers_stay_right() {
        let text = file(&[
            r#"A1,a@example.com,"Aoki, Ken","Pen, ""fine"" tip",1,500,"#,
            "A2,b@example.com,Baba,\"Note\nbook\r\nA4\",1,500,",
            "A3,c@example.com,Chiba,ink,0,500,",
            "A2,b@example.com,Baba,\"two\n\nlines\",x,500,",
            "A4,d@example.com,Doi,pen,1,-5,",
        ]);
        let f = read_text(&text);
        assert_eq!(refs(&f), vec!["A1"]);
        assert_eq!(f.orders[0].order.customer_name.as_str(), "Aoki, Ken");
        assert_eq!(products(&f.orders[0]), vec![r#"Pen, "fine" tip"#]);
        assert_eq!(
            f.errors,
            vec![
                // A2's first row spans lines 3 ..= 5 (a CRLF inside quotes is one line break).
                error(6, Some("A3"), Some("quantity"), "quantity must be at least 1"),
                // Spans 7 ..= 9: an empty line inside quotes is part of the value, not skipped.
                error(7, Some("A2"), Some("quantity"), "quantity must be a whole number, not 'x'"),
                error(10, Some("A4"), Some("unit_price"), "unit_price must not be negative"),
            ]
        );

        // The same with CRLF ends, and the order that spans lines valid: it starts on line 3.
        let text = file(&[
            "A1,a@example.com,Aoki,pen,1,500,",
            "A2,b@example.com,Baba,\"Note\nbook\",1,500,",
            "A3,,Chiba,ink,1,500,",
        ])
        .replace('\n', "\r\n");
        let f = read_text(&text);
        assert_eq!(
            f.orders.iter().map(|o| (o.order_ref.as_str(), o.line)).collect::<Vec<_>>(),
            vec![("A1", 2), ("A2", 3)]
        );
        // A break inside a cell is layout: the value is read as one line.
        assert_eq!(products(&f.orders[1]), vec!["Note book"]);
        assert_eq!(f.errors[0].line, 5);
    }

    #[test]
    fn the_error_report_lists_at_most_its_limit_and_counts_the_rest() {
        // One order of many bad rows: each row is two problems.
        let mut text = String::from("order_ref,customer_email,customer_name,product_name,quantity,unit_price\n");
        for _ in 0..(MAX_LISTED_ERRORS / 2 + 10) {
            text.push_str("X,bad,n,p,0,100\n");
        }
        let f = read_text(&text);
        // The listed problems, the note of those left out, and the order's own (> 100 rows).
        assert_eq!(f.errors.len(), MAX_LISTED_ERRORS + 2);
        assert!(f.errors.iter().any(|e| e.message.starts_with("20 more problems")), "{:?}", f.errors.last());
        assert_eq!((f.total_orders, f.failed_orders), (1, 1));
    }

    #[test]
    fn rows_without_a_reference_count_towards_the_order_limit() {
        let mut text = String::from("order_ref,customer_email,customer_name,product_name,quantity,unit_price\n");
        for _ in 0..=MAX_IMPORT_ORDERS {
            text.push_str(",a@example.com,n,p,1,100\n");
        }
        let problem = read(text.as_bytes(), None).unwrap_err();
        assert!(problem.0.contains("more than 10000 orders"), "{problem}");
    }

    #[test]
    fn rows_of_one_order_are_grouped_even_when_not_adjacent_and_keep_file_order() {
        let f = read_text(&file(&[
            "A,a@example.com,Aoki,p1,1,100,",
            "B,b@example.com,Baba,q1,1,200,",
            "A,a@example.com,Aoki,p2,2,100,",
            "C,c@example.com,Chiba,r1,1,300,",
            "B,b@example.com,Baba,q2,1,200,",
            "A,a@example.com,Aoki,p3,3,100,",
        ]));
        assert_eq!((f.total_rows, f.total_orders, f.failed_orders), (6, 3, 0));
        assert_eq!(refs(&f), vec!["A", "B", "C"]);
        assert_eq!(f.orders.iter().map(|o| o.line).collect::<Vec<_>>(), vec![2, 3, 5]);
        assert_eq!(products(&f.orders[0]), vec!["p1", "p2", "p3"]);
        assert_eq!(products(&f.orders[1]), vec!["q1", "q2"]);
        assert_eq!(f.orders[0].order.total_amount, Yen::new(600));
    }

    #[test]
    fn japanese_headers_in_any_order_name_the_columns_in_messages() {
        let text = "数量,単価,商品名,顧客名,メールアドレス,　注文番号　\n\
                    2,980,ペン,青木,a@example.com,J1\n\
                    1,-1,ノート,馬場,b@example.com,J2\n\
                    1,100,,千葉,c@example,J3\n";
        let f = read_text(text);
        assert_eq!(refs(&f), vec!["J1"]);
        assert_eq!(f.orders[0].order.total_amount, Yen::new(1960));
        assert_eq!(f.orders[0].order.customer_name.as_str(), "青木");
        assert_eq!(
            f.errors,
            vec![
                error(3, Some("J2"), Some("単価"), "単価 must not be negative"),
                error(4, Some("J3"), Some("商品名"), "商品名 must not be empty"),
                error(4, Some("J3"), Some("メールアドレス"), "メールアドレス is not a valid e-mail address"),
            ]
        );
    }

    #[test]
    fn header_matching_trims_spaces_and_ignores_english_case() {
        let text =
            " Order_Ref ,CUSTOMER_EMAIL,\u{3000}customer_name\u{3000},Product_Name,Quantity,Unit_Price,Currency\n\
                    A1,a@example.com,Aoki,pen,1,500,jpy\n\
                    A2,b@example.com,Baba,pen,-1,500,\n";
        let f = read_text(text);
        assert_eq!(refs(&f), vec!["A1"]);
        assert_eq!(f.errors, vec![error(3, Some("A2"), Some("Quantity"), "Quantity must be at least 1")]);
    }

    #[test]
    fn unknown_columns_are_reported_once_and_their_values_ignored() {
        let text = "memo,order_ref,customer_email,customer_name,備考,product_name,quantity,unit_price,memo,\n\
                    call first,A1,a@example.com,Aoki,至急,pen,1,500,x,\n";
        let f = read_text(text);
        assert_eq!(f.unknown_columns, vec!["memo".to_owned(), "備考".to_owned()]);
        assert_eq!(refs(&f), vec!["A1"]);
        assert_eq!(f.errors, vec![]);
    }

    #[test]
    fn every_kind_of_invalid_row_fails_only_its_own_order_at_its_line_and_column() {
        let cases: &[(&str, Option<&str>, &str)] = &[
            ("B,not-an-email,佐藤花子,pen,1,500,", Some("customer_email"), "customer_email is not a valid e-mail address"),
            ("B,sato@example.jp,,pen,1,500,", Some("customer_name"), "customer_name must not be empty"),
            ("B,sato@example.jp,佐藤花子, ,1,500,", Some("product_name"), "product_name must not be empty"),
            ("B,sato@example.jp,佐藤花子,pen,,500,", Some("quantity"), "quantity must not be empty"),
            ("B,sato@example.jp,佐藤花子,pen,0,500,", Some("quantity"), "quantity must be at least 1"),
            ("B,sato@example.jp,佐藤花子,pen,10001,1,", Some("quantity"), "quantity must be at most 10000"),
            ("B,sato@example.jp,佐藤花子,pen,99999999999999999999,1,", Some("quantity"), "quantity must be at most 10000"),
            ("B,sato@example.jp,佐藤花子,pen,two,500,", Some("quantity"), "quantity must be a whole number, not 'two'"),
            ("B,sato@example.jp,佐藤花子,pen,1.5,500,", Some("quantity"), "quantity must be a whole number, not '1.5'"),
            ("B,sato@example.jp,佐藤花子,pen,1,,", Some("unit_price"), "unit_price must not be empty"),
            ("B,sato@example.jp,佐藤花子,pen,1,-100,", Some("unit_price"), "unit_price must not be negative"),
            ("B,sato@example.jp,佐藤花子,pen,1,-¥100,", Some("unit_price"), "unit_price must not be negative"),
            ("B,sato@example.jp,佐藤花子,pen,1,99.5,", Some("unit_price"), "unit_price must be whole yen, not '99.5'"),
            (
                "B,sato@example.jp,佐藤花子,pen,1,abc,",
                Some("unit_price"),
                "unit_price must be a whole number of yen such as 1980 or ¥1,980, not 'abc'",
            ),
            (
                "B,sato@example.jp,佐藤花子,pen,1,\"1,98\",",
                Some("unit_price"),
                "unit_price must be a whole number of yen such as 1980 or ¥1,980, not '1,98'",
            ),
            ("B,sato@example.jp,佐藤花子,pen,1,1e3,", Some("unit_price"), "unit_price must be a whole number of yen such as 1980 or ¥1,980, not '1e3'"),
            ("B,sato@example.jp,佐藤花子,pen,1,99999999999999999999,", Some("unit_price"), "unit_price is too large: '99999999999999999999'"),
            ("B,sato@example.jp,佐藤花子,pen,1,500,USD", Some("currency"), "currency must be JPY, not 'USD'"),
            (
                "B,other@example.jp,佐藤花子,pen,1,500,",
                Some("customer_email"),
                "customer_email must be the same on every row of an order: line 3 has 'sato@example.jp', this row has 'other@example.jp'",
            ),
            (
                "B,sato@example.jp,佐藤,pen,1,500,",
                Some("customer_name"),
                "customer_name must be the same on every row of an order: line 3 has '佐藤花子', this row has '佐藤'",
            ),
            ("B,sato@example.jp,佐藤花子,pen,1", None, "the row has 5 fields but the header has 7"),
            ("B,sato@example.jp,佐藤花子,pen,1,500,JPY,extra", None, "the row has 8 fields but the header has 7"),
        ];
        for (bad_row, column, message) in cases {
            let f = read_text(&file(&[
                "G1,aoki@example.jp,青木,pen,1,500,",
                "B,sato@example.jp,佐藤花子,pen,1,500,",
                "G2,baba@example.jp,馬場,pen,1,500,",
                bad_row,
                "G1,aoki@example.jp,青木,ink,1,500,",
            ]));
            assert_eq!(f.errors, vec![error(5, Some("B"), *column, message)], "{bad_row}");
            assert_eq!(refs(&f), vec!["G1", "G2"], "{bad_row}");
            assert_eq!(products(&f.orders[0]), vec!["pen", "ink"], "{bad_row}");
            assert_eq!((f.total_rows, f.total_orders, f.failed_orders), (5, 3, 1), "{bad_row}");
        }
    }

    #[test]
    fn all_problems_of_a_row_are_reported_together() {
        let f = read_text(&file(&["A,nope,,,0,-1,EUR"]));
        let columns: Vec<_> = f.errors.iter().map(|e| e.column.as_deref().unwrap()).collect();
        assert_eq!(
            columns,
            vec!["customer_email", "customer_name", "product_name", "quantity", "unit_price", "currency"]
        );
        assert!(f.errors.iter().all(|e| e.line == 2 && e.order_ref.as_deref() == Some("A")));
        assert_eq!(f.failed_orders, 1);
    }

    #[test]
    fn an_order_total_outside_the_payment_limits_fails_that_order_on_its_first_line() {
        let f = read_text(&file(&[
            "OK,a@example.com,Aoki,pen,1,100,",
            "BIG,b@example.com,Baba,tv,1,600000,",
            "MAX,c@example.com,Chiba,tv,2,500000,",
            "BIG,b@example.com,Baba,tv,1,400001,",
            "SMALL,d@example.com,Doi,gum,1,99,",
            "FREE,e@example.com,Endo,gift,1,0,",
        ]));
        assert_eq!(refs(&f), vec!["OK", "MAX"]);
        assert_eq!(f.orders[1].order.total_amount, Yen::new(1_000_000));
        assert_eq!(
            f.errors,
            vec![
                error(3, Some("BIG"), None, "order total ¥1,000,001 is outside the payment limits ¥100 … ¥1,000,000"),
                error(6, Some("SMALL"), None, "order total ¥99 is outside the payment limits ¥100 … ¥1,000,000"),
                error(7, Some("FREE"), None, "order total ¥0 is outside the payment limits ¥100 … ¥1,000,000"),
            ]
        );
        assert_eq!(f.failed_orders, 3);
    }

    #[test]
    fn an_order_total_that_overflows_fails_that_order() {
        let f =
            read_text(&file(&["OK,a@example.com,Aoki,pen,1,100,", "X,b@example.com,Baba,gold,2,9223372036854775807,"]));
        assert_eq!(refs(&f), vec!["OK"]);
        assert_eq!(
            f.errors,
            vec![error(3, Some("X"), None, "order total is too large: the payment limits are ¥100 … ¥1,000,000")]
        );
    }

    #[test]
    fn an_order_of_more_than_100_rows_fails_on_its_first_line() {
        let hundred: Vec<String> = (0..100).map(|i| format!("H,a@example.com,Aoki,p{i},1,10,")).collect();
        let mut rows: Vec<&str> = hundred.iter().map(String::as_str).collect();
        let f = read_text(&file(&rows));
        assert_eq!(f.orders[0].order.items.len(), 100);
        assert_eq!(f.errors, vec![]);

        rows.insert(0, "OK,b@example.com,Baba,pen,1,100,");
        rows.push("H,a@example.com,Aoki,p100,1,10,");
        let f = read_text(&file(&rows));
        assert_eq!(refs(&f), vec!["OK"]);
        assert_eq!(
            f.errors,
            vec![error(3, Some("H"), None, "the order has 101 rows; an order may have at most 100 items")]
        );
        assert_eq!((f.total_rows, f.total_orders, f.failed_orders), (102, 2, 1));
    }

    #[test]
    fn a_row_with_an_empty_order_ref_is_a_failed_order_of_its_own() {
        let f = read_text(&file(&[
            "A,a@example.com,Aoki,pen,1,500,",
            " ,b@example.com,Baba,pen,1,500,",
            ",c@example.com,Chiba,pen,0,500,",
        ]));
        assert_eq!(refs(&f), vec!["A"]);
        assert_eq!(
            f.errors,
            vec![
                error(3, None, Some("order_ref"), "order_ref must not be empty"),
                error(4, None, Some("order_ref"), "order_ref must not be empty"),
                error(4, None, Some("quantity"), "quantity must be at least 1"),
            ]
        );
        assert_eq!((f.total_rows, f.total_orders, f.failed_orders), (3, 3, 2));
    }

    #[test]
    fn an_order_ref_of_more_than_100_characters_fails_its_order() {
        let longest = "注".repeat(100);
        let too_long = "注".repeat(101);
        let ok_row = format!("{longest},a@example.com,Aoki,pen,1,500,");
        let bad_row = format!("{too_long},b@example.com,Baba,pen,1,500,");
        let f = read_text(&file(&[&ok_row, &bad_row]));
        assert_eq!(refs(&f), vec![longest.as_str()]);
        assert_eq!(
            f.errors,
            vec![error(3, Some(&too_long), Some("order_ref"), "order_ref must be at most 100 characters")]
        );
    }

    #[test]
    fn a_missing_required_column_is_a_file_problem_naming_it() {
        let message =
            problem(b"order_ref,customer_email,customer_name,product_name,unit_price\nA,a@example.com,A,p,1\n", None);
        assert_eq!(message, "the header (the first line) has no column for quantity (数量)");
        let message = problem("注文番号,メールアドレス,顧客名,数量\nA,a@example.com,A,1\n".as_bytes(), None);
        assert_eq!(message, "the header (the first line) has no column for product_name (商品名), unit_price (単価)");
    }

    #[test]
    fn two_columns_naming_one_field_is_a_file_problem() {
        let message = problem(format!("{HEADER},注文番号\n").as_bytes(), None);
        assert_eq!(message, "the columns 'order_ref' and '注文番号' both name order_ref; keep one of them");
        let message = problem(format!("{HEADER}, Quantity\n").as_bytes(), None);
        assert!(message.contains("'quantity' and 'Quantity'"), "{message}");
    }

    #[test]
    fn an_empty_file_is_a_file_problem() {
        for bytes in [&b""[..], UTF8_BOM, b"\r\n\n", "  \n\u{3000}\n".as_bytes()] {
            assert_eq!(problem(bytes, None), "the file is empty", "{bytes:?}");
        }
    }

    #[test]
    fn a_header_without_rows_is_a_file_problem() {
        for text in [HEADER.to_owned(), format!("{HEADER}\r\n"), format!("{HEADER}\n\n,,,,,,\n \n")] {
            assert_eq!(problem(text.as_bytes(), None), "the file has a header but no order rows", "{text:?}");
        }
    }

    #[test]
    fn more_than_10000_orders_is_a_file_problem_and_10000_are_not() {
        let mut text = file(&[]);
        for i in 0..MAX_IMPORT_ORDERS {
            text.push_str(&format!("R{i},a@example.com,Aoki,pen,1,100,\n"));
        }
        // More rows of known orders do not count against the limit.
        text.push_str("R0,a@example.com,Aoki,ink,1,100,\n");
        let f = read_text(&text);
        assert_eq!(f.orders.len(), MAX_IMPORT_ORDERS);
        assert_eq!(f.total_orders, MAX_IMPORT_ORDERS as i64);

        text.push_str("R10000,a@example.com,Aoki,pen,1,100,\n");
        let message = problem(text.as_bytes(), None);
        assert_eq!(
            message,
            "the file holds more than 10000 orders (distinct order_ref values); split it into files of at most 10000"
        );
    }

    #[test]
    fn blank_lines_are_skipped_and_not_counted() {
        let text = format!("\n{HEADER}\n\nA,a@example.com,Aoki,pen,1,500,\n\n,,,,,,\n  ,\u{3000}, , , , ,\nB,b@example.com,Baba,pen,0,500,\n\n");
        let f = read_text(&text);
        assert_eq!(refs(&f), vec!["A"]);
        assert_eq!(f.orders[0].line, 4);
        assert_eq!(f.errors, vec![error(8, Some("B"), Some("quantity"), "quantity must be at least 1")]);
        assert_eq!((f.total_rows, f.total_orders), (2, 2));
    }

    #[test]
    fn currency_may_be_empty_jpy_in_any_case_or_a_column_that_is_absent() {
        let f = read_text(&file(&[
            "A,a@example.com,Aoki,pen,1,500,",
            "A,a@example.com,Aoki,pen,1,500,jpy",
            "A,a@example.com,Aoki,pen,1,500, JPY ",
        ]));
        assert_eq!(f.errors, vec![]);
        assert_eq!(f.orders[0].order.currency, Currency::JPY);
        let f = read_text(
            "order_ref,customer_email,customer_name,product_name,quantity,unit_price\nA,a@example.com,A,p,1,500\n",
        );
        assert_eq!(f.orders[0].order.currency, Currency::JPY);
    }

    #[test]
    fn yen_signs_thousands_separators_and_full_width_digits_are_read() {
        let f = read_text(&file(&[
            "A,a@example.com,Aoki,p1,1,\"¥1,980\",",
            "A,a@example.com,Aoki,p2,1,\"￥１２，８００\",",
            "A,a@example.com,Aoki,p3,２,\\500,",
            "A,a@example.com,Aoki,p4,1,\" ¥ 1,000,000 \",",
        ]));
        assert_eq!(
            f.errors,
            vec![error(2, Some("A"), None, "order total ¥1,015,780 is outside the payment limits ¥100 … ¥1,000,000")]
        );

        let price = |text: &str| parse_price("unit_price", text);
        for (text, yen) in [
            ("1980", 1980),
            ("1,980", 1980),
            ("¥1,980", 1980),
            ("￥1980", 1980),
            ("¥ 12,800", 12_800),
            ("１，９８０", 1980),
            ("\\500", 500),
            ("1980.0", 1980),
            ("1,234,567", 1_234_567),
            ("0", 0),
        ] {
            assert_eq!(price(text), Ok(Yen::new(yen)), "{text}");
        }
        for text in ["1,98", "19,80", ",980", "1,9800", "1980円", "$1980", "¥", "1 980", "¥¥1", "--5", "-¥-5"] {
            assert!(price(text).is_err(), "{text}");
        }
        for text in ["-5", "-¥5", "¥-5", "－￥５"] {
            assert_eq!(price(text), Err("unit_price must not be negative".to_owned()), "{text}");
        }
        assert_eq!(parse_quantity("quantity", "1,000"), Quantity::parse("quantity", 1000));
        assert_eq!(parse_quantity("quantity", " ３ ".trim()), Quantity::parse("quantity", 3));
        assert!(parse_quantity("quantity", "1,0").is_err());
    }

    #[test]
    fn errors_are_sorted_by_line_then_column_from_left_to_right() {
        // unit_price is left of customer_email here; the order-level error of BIG is found last
        // but belongs on line 2.
        let text = "order_ref,unit_price,customer_email,customer_name,product_name,quantity\n\
                    BIG,900000,a@example.com,Aoki,tv,1\n\
                    BAD,-1,nope,Baba,pen,1\n\
                    BIG,900000,a@example.com,Aoki,tv,1\n\
                    ,1,c@example.com,Chiba,pen,x\n";
        let f = read_text(text);
        let found: Vec<(i64, Option<&str>)> = f.errors.iter().map(|e| (e.line, e.column.as_deref())).collect();
        assert_eq!(
            found,
            vec![
                (2, None),
                (3, Some("unit_price")),
                (3, Some("customer_email")),
                (5, Some("order_ref")),
                (5, Some("quantity")),
            ]
        );
        assert_eq!((f.total_orders, f.failed_orders), (3, 3));
    }

    #[test]
    fn line_counter_counts_crlf_lf_and_lone_cr_as_one_line_each() {
        assert_eq!(line_of_offset(b"a\r\nb\nc\rd", 8), 4);
        assert_eq!(line_of_offset(b"a\r\nb", 2), 1);
        assert_eq!(line_of_offset(b"a\r\nb", 3), 2);
        assert_eq!(line_of_offset(b"", 10), 1);
    }

    /// The benchmark's shape (its speed is measured by `make bench`, not here).
    #[test]
    fn a_file_of_30000_rows_and_10000_scattered_orders_is_read_whole() {
        let mut text = String::from("注文番号,メールアドレス,顧客名,商品名,数量,単価,通貨,備考\r\n");
        for row in 0..30_000 {
            // 10,000 orders of 3 items each, the items of an order spread through the file.
            let order = row % 10_000;
            text.push_str(&format!(
                "ORD-2026-{order:06},customer{order}@example.co.jp,山田 太郎{order},\"ワイヤレスマウス, 型番{row}\",{},\"¥{},{:03}\",JPY,配送メモ\r\n",
                row % 5 + 1,
                row % 9 + 1,
                row % 1000
            ));
        }
        assert!(text.len() > 2_500_000, "{} bytes", text.len());
        let f = read(text.as_bytes(), None).unwrap();
        assert_eq!((f.total_rows, f.orders.len(), f.errors.len()), (30_000, 10_000, 0));
        assert!(f.orders.iter().all(|order| order.order.items.len() == 3));
        assert_eq!(f.orders[7].order_ref, "ORD-2026-000007");
        assert_eq!(f.orders[7].line, 9, "an order starts on the line of its first row");
    }
}
