//! Whole numbers read from JSON exactly, however JSON writes them: `52`, `52.0` and `5.2e1` are
//! all the integer 52, as JSON Schema's `integer` says. serde's `i64` would refuse the last two
//! although the documents allow them, and `f64` would round large ones; this reads the number's
//! decimal text (serde_json's `arbitrary_precision`) instead.

use std::fmt;

use serde::{Deserialize, Deserializer};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WholeNumberError {
    NotANumber(String),
    /// It has a fraction (`52.5`).
    Fraction(String),
    /// It does not fit in an `i64`.
    TooLarge(String),
}

impl fmt::Display for WholeNumberError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WholeNumberError::NotANumber(t) => write!(f, "'{t}' is not a number"),
            WholeNumberError::Fraction(t) => write!(f, "'{t}' is not a whole number"),
            WholeNumberError::TooLarge(t) => write!(f, "'{t}' is too large"),
        }
    }
}

impl std::error::Error for WholeNumberError {}

/// Reads a JSON number's text (`-12`, `12.000`, `1.2e3`, `1200E-2`) as a whole number.
pub fn parse(text: &str) -> Result<i64, WholeNumberError> {
    let not_a_number = || WholeNumberError::NotANumber(text.to_owned());
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => (&unsigned[..at], Some(&unsigned[at + 1..])),
        None => (unsigned, None),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all_digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty()
        || !all_digits(whole)
        || !all_digits(fraction)
        || (mantissa.contains('.') && fraction.is_empty())
    {
        return Err(not_a_number());
    }
    let exponent: i64 = match exponent {
        None => 0,
        Some(e) => {
            let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
            if digits.is_empty() || !all_digits(digits) {
                return Err(not_a_number());
            }
            // Beyond any i64 either way: only a zero mantissa can still be whole and fit.
            e.parse().unwrap_or(if e.starts_with('-') { i64::MIN } else { i64::MAX })
        }
    };
    // The number is `digits` × 10^`scale`.
    let digits: String = format!("{whole}{fraction}").trim_start_matches('0').to_owned();
    if digits.is_empty() {
        return Ok(0);
    }
    let scale = exponent.saturating_sub(fraction.len() as i64);
    let significant = if scale < 0 {
        let dropped = usize::try_from(scale.unsigned_abs()).unwrap_or(usize::MAX);
        if dropped >= digits.len() || !digits[digits.len() - dropped..].bytes().all(|b| b == b'0') {
            return Err(WholeNumberError::Fraction(text.to_owned()));
        }
        digits[..digits.len() - dropped].to_owned()
    } else {
        if scale > 19 {
            return Err(WholeNumberError::TooLarge(text.to_owned()));
        }
        format!("{digits}{}", "0".repeat(scale as usize))
    };
    let magnitude: i128 = significant.parse().map_err(|_| WholeNumberError::TooLarge(text.to_owned()))?;
    let value = if negative { -magnitude } else { magnitude };
    i64::try_from(value).map_err(|_| WholeNumberError::TooLarge(text.to_owned()))
}

/// `#[serde(deserialize_with = "crate::whole_number::deserialize")]` for an `i64` field of a
/// request body.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    let number = serde_json::Number::deserialize(deserializer)?;
    parse(&number.to_string()).map_err(serde::de::Error::custom)
}

/// An integer parameter of a path or a query string, read as `parse` reads a JSON number: a
/// client (or a tool reading the documents) may write the integer 52 as `52.0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct WholeNumber(pub i64);

impl<'de> Deserialize<'de> for WholeNumber {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = WholeNumber;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a whole number")
            }
            fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<WholeNumber, E> {
                Ok(WholeNumber(value))
            }
            fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<WholeNumber, E> {
                i64::try_from(value).map(WholeNumber).map_err(|_| E::custom(format!("{value} is too large")))
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<WholeNumber, E> {
                parse(text).map(WholeNumber).map_err(E::custom)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

impl utoipa::PartialSchema for WholeNumber {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::Integer)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Int64)))
            .into()
    }
}

impl utoipa::ToSchema for WholeNumber {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_way_json_writes_a_whole_number_is_read_exactly() {
        for (text, value) in [
            ("52", 52),
            ("-52", -52),
            ("52.0", 52),
            ("52.000", 52),
            ("5.2e1", 52),
            ("5.2E+1", 52),
            ("5200e-2", 52),
            ("0", 0),
            ("-0.0", 0),
            ("0e999999999999999999999", 0),
            ("1e18", 1_000_000_000_000_000_000),
            ("9223372036854775807", i64::MAX),
            ("-9223372036854775808", i64::MIN),
            ("9.223372036854775807e18", i64::MAX),
        ] {
            assert_eq!(parse(text), Ok(value), "{text}");
        }
    }

    #[test]
    fn fractions_overflows_and_garbage_are_refused() {
        for text in ["52.5", "5.25e1", "1e-1", "1e-999999999999999999999"] {
            assert!(matches!(parse(text), Err(WholeNumberError::Fraction(_))), "{text}");
        }
        for text in ["9223372036854775808", "1e19", "1e20", "-9223372036854775809", "1e999999999999999999999"] {
            assert!(matches!(parse(text), Err(WholeNumberError::TooLarge(_))), "{text}");
        }
        for text in ["", "-", ".5", "5.", "1e", "1e+", "0x10", "NaN", "1_000", " 1"] {
            assert!(matches!(parse(text), Err(WholeNumberError::NotANumber(_))), "{text:?}");
        }
    }

    #[test]
    fn a_body_field_takes_the_number_in_any_whole_form() {
        #[derive(serde::Deserialize)]
        struct Body {
            #[serde(deserialize_with = "deserialize")]
            id: i64,
        }
        let read = |json: &str| serde_json::from_str::<Body>(json).map(|b| b.id);
        assert_eq!(read(r#"{"id": 7.0}"#).unwrap(), 7);
        assert_eq!(read(r#"{"id": 7e2}"#).unwrap(), 700);
        assert!(read(r#"{"id": 7.5}"#).is_err());
        assert!(read(r#"{"id": "7"}"#).is_err());
    }

    #[test]
    fn a_parameter_takes_the_number_in_any_whole_form() {
        #[derive(serde::Deserialize)]
        struct Params {
            skip: Option<WholeNumber>,
        }
        let read = |query: &str| serde_urlencoded::from_str::<Params>(query).map(|p| p.skip);
        assert_eq!(read("skip=40").unwrap(), Some(WholeNumber(40)));
        assert_eq!(read("skip=40.0").unwrap(), Some(WholeNumber(40)));
        assert_eq!(read("").unwrap(), None);
        assert!(read("skip=4.5").is_err());
        assert!(read("skip=forty").is_err());
    }
}
