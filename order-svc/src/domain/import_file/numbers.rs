//! Quantities, prices and currencies as people type them into a spreadsheet.

use std::borrow::Cow;
use std::num::IntErrorKind;

use platform::money::{Currency, MoneyError, Yen};
use platform::new_order::{parse_unit_price, Quantity};

pub(super) fn parse_currency(field: &str, text: &str) -> Result<Currency, String> {
    if text.is_empty() {
        return Ok(Currency::JPY);
    }
    Currency::parse(text).map_err(|_| format!("{field} must be JPY, not {}", quoted(text)))
}

/// A whole number, `1,000` allowed. A number too large for `i64` is still "too large"
/// rather than "not a number".
pub(super) fn parse_quantity(field: &str, text: &str) -> Result<Quantity, String> {
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
pub(super) fn parse_price(field: &str, text: &str) -> Result<Yen, String> {
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
pub(super) fn quoted(text: &str) -> String {
    const MAX_CHARS: usize = 50;
    if text.chars().count() <= MAX_CHARS {
        format!("'{text}'")
    } else {
        format!("'{}…'", text.chars().take(MAX_CHARS).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use platform::money::Yen;
    use platform::new_order::Quantity;

    use super::*;

    #[test]
    fn prices_and_quantities_are_read_as_people_type_them() {
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
            ("100,000,000", 100_000_000),
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
}
