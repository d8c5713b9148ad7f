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
//!
//! The pieces: `encoding` (bytes to text), `lines` (where records start), `columns` (the
//! header), `rows` (rows into orders and the report) and `numbers` (quantities and prices).

mod columns;
mod encoding;
mod lines;
mod numbers;
mod rows;

use std::fmt;

use platform::api::imports::ImportError;
use platform::new_order::ValidOrder;

use columns::Columns;
use encoding::decode;
pub use encoding::FileEncoding;
use lines::{next_record, without_line_breaks, LineCounter};
use rows::Sheet;

/// Most lines of an error report: every error of any realistic file, while a pathological
/// one (millions of bad rows in 20 MB) cannot use the memory that listing them would take.
pub const MAX_LISTED_ERRORS: usize = 100_000;

/// Longest `order_ref`, in characters (it is stored and shown with the order).
pub const MAX_ORDER_REF_CHARS: usize = 100;

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

pub(super) fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use encoding_rs::SHIFT_JIS;
    use platform::api::imports::MAX_IMPORT_ORDERS;

    use platform::money::{Currency, Yen};

    use super::encoding::UTF8_BOM;
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

        // The documented pattern admits exactly what is accepted.
        let schema = serde_json::to_value(FileEncoding::param_schema()).unwrap();
        let pattern = regex::Regex::new(schema["pattern"].as_str().unwrap()).unwrap();
        for text in
            ["utf-8", "UTF8", "Utf-8-Sig", "Shift_JIS", "SJIS", "Windows-31J", "latin1", "utf-88", " utf-8", "utf_8"]
        {
            assert_eq!(pattern.is_match(text), FileEncoding::parse_param(text).is_ok(), "{text}");
        }
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
    fn a_price_beyond_the_unit_price_limit_fails_that_order() {
        let f =
            read_text(&file(&["OK,a@example.com,Aoki,pen,1,100,", "X,b@example.com,Baba,gold,2,9223372036854775807,"]));
        assert_eq!(refs(&f), vec!["OK"]);
        assert_eq!(f.errors, vec![error(3, Some("X"), Some("unit_price"), "unit_price must be at most ¥100,000,000")]);
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
