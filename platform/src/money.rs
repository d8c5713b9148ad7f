//! Money: whole Japanese yen, and the one currency the platform accepts.
//!
//! JPY has no minor unit, so an amount is an `i64` count of yen. On the wire it keeps the
//! documented shape (`89800.0`): serde_json's `arbitrary_precision` hands us the number's
//! decimal text, which is parsed and printed exactly. No binary float is ever involved, so
//! `0.1 + 0.2` style drift cannot reach a total, a payment or a refund.

use std::fmt;

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

/// An amount of money in whole yen. May be negative only as an intermediate value; the
/// domain rules of each service decide which amounts are acceptable.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Yen(i64);

impl Yen {
    pub const ZERO: Yen = Yen(0);

    pub const fn new(yen: i64) -> Self {
        Yen(yen)
    }

    pub const fn get(self) -> i64 {
        self.0
    }

    pub fn checked_add(self, other: Yen) -> Option<Yen> {
        self.0.checked_add(other.0).map(Yen)
    }

    pub fn checked_mul(self, quantity: i64) -> Option<Yen> {
        self.0.checked_mul(quantity).map(Yen)
    }

    /// Parses an amount as a person types it: `89800` or `89800.0`. A non-zero fraction is
    /// refused (yen cannot be split), and so are blanks, exponents (`8.98e4` is how JSON may
    /// write a number, not how anyone types a price) and anything that would overflow.
    pub fn parse_decimal(text: &str) -> Result<Yen, MoneyError> {
        if text.contains(['e', 'E']) {
            return Err(MoneyError::NotADecimal(text.to_owned()));
        }
        Yen::from_json_number(text)
    }

    /// Parses a JSON number's text, exponents included (`8.98e4` is 89800: `whole_number`).
    fn from_json_number(text: &str) -> Result<Yen, MoneyError> {
        crate::whole_number::parse(text).map(Yen).map_err(|err| match err {
            crate::whole_number::WholeNumberError::NotANumber(t) => MoneyError::NotADecimal(t),
            crate::whole_number::WholeNumberError::Fraction(t) => MoneyError::FractionalYen(t),
            crate::whole_number::WholeNumberError::TooLarge(t) => MoneyError::TooLarge(t),
        })
    }

    /// `¥179,600`: how people read an amount in the e-mails and the dashboard.
    pub fn display_jpy(self) -> String {
        let digits = self.0.unsigned_abs().to_string();
        let mut grouped = String::with_capacity(digits.len() + digits.len() / 3 + 2);
        for (i, ch) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(ch);
        }
        let sign = if self.0 < 0 { "-" } else { "" };
        format!("{sign}¥{grouped}")
    }
}

impl fmt::Display for Yen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MoneyError {
    NotADecimal(String),
    FractionalYen(String),
    TooLarge(String),
}

impl fmt::Display for MoneyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MoneyError::NotADecimal(t) => write!(f, "'{t}' is not a plain decimal amount of yen"),
            MoneyError::FractionalYen(t) => {
                write!(f, "'{t}' has a fraction of a yen; JPY amounts are whole numbers")
            }
            MoneyError::TooLarge(t) => write!(f, "'{t}' is too large an amount"),
        }
    }
}

impl std::error::Error for MoneyError {}

impl Serialize for Yen {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // `N.0` is the documented shape; building the Number from text keeps it exact.
        let number: serde_json::Number = format!("{}.0", self.0).parse().map_err(serde::ser::Error::custom)?;
        number.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Yen {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let number = serde_json::Number::deserialize(deserializer)?;
        Yen::from_json_number(&number.to_string()).map_err(de::Error::custom)
    }
}

impl Yen {
    /// The JSON Schema of an amount from `min` to `max`: whole yen, written `89800.0` in
    /// answers, which JSON Schema counts as an integer (a number without a fraction).
    pub fn schema_between(min: Yen, max: Yen) -> utoipa::openapi::Object {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::Integer)
            .minimum(Some(min.0))
            .maximum(Some(max.0))
            .description(Some("Whole yen; a fraction of a yen is refused."))
            .examples([serde_json::json!(89800.0)])
            .build()
    }
}

/// Any amount that fits: where the field's own rule is checked later (a batch item's, which is
/// answered in its result).
impl utoipa::PartialSchema for Yen {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        Yen::schema_between(Yen(i64::MIN), Yen(i64::MAX)).into()
    }
}

impl utoipa::ToSchema for Yen {}

/// The currencies the platform accepts: only JPY. Anything else is refused when the request
/// is read, with a message that names the offending code. In JSON the code is exactly `JPY`,
/// as documented; `parse` (for a file or a stored row) also takes `jpy` and surrounding blanks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub enum Currency {
    #[default]
    JPY,
}

impl Currency {
    pub fn code(self) -> &'static str {
        match self {
            Currency::JPY => "JPY",
        }
    }

    pub fn parse(code: &str) -> Result<Currency, String> {
        if code.trim().eq_ignore_ascii_case("JPY") {
            Ok(Currency::JPY)
        } else {
            Err(format!("unsupported currency '{code}': only JPY is accepted"))
        }
    }
}

impl Currency {
    /// The code as JSON carries it: exactly `JPY`.
    pub fn of_json(code: &str) -> Result<Currency, String> {
        match code {
            "JPY" => Ok(Currency::JPY),
            _ => Err(format!("unsupported currency '{code}': only JPY is accepted")),
        }
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = String::deserialize(deserializer)?;
        Currency::of_json(&code).map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_whole_amounts_with_or_without_a_zero_fraction() {
        assert_eq!(Yen::parse_decimal("89800").unwrap(), Yen(89800));
        assert_eq!(Yen::parse_decimal("89800.0").unwrap(), Yen(89800));
        assert_eq!(Yen::parse_decimal("-5.00").unwrap(), Yen(-5));
    }

    #[test]
    fn refuses_fractions_and_garbage() {
        assert!(matches!(Yen::parse_decimal("0.5"), Err(MoneyError::FractionalYen(_))));
        assert!(matches!(Yen::parse_decimal("89800.0000000000001"), Err(MoneyError::FractionalYen(_))));
        assert!(Yen::parse_decimal("1e5").is_err(), "nobody types a price so");
        assert_eq!(Yen::from_json_number("1e5").unwrap(), Yen(100_000), "a whole number, written as JSON may");
        assert!(Yen::from_json_number("1.5e0").is_err());
        assert!(Yen::parse_decimal("").is_err());
        assert!(Yen::parse_decimal(".5").is_err());
        assert!(Yen::parse_decimal("99999999999999999999").is_err());
    }

    #[test]
    fn json_round_trip_keeps_the_documented_shape() {
        let yen: Yen = serde_json::from_str("179600.0").unwrap();
        assert_eq!(yen, Yen(179600));
        assert_eq!(serde_json::to_string(&yen).unwrap(), "179600.0");
        assert!(serde_json::from_str::<Yen>("\"100\"").is_err());
        assert!(serde_json::from_str::<Yen>("100.5").is_err());
    }

    #[test]
    fn displays_grouped_yen() {
        assert_eq!(Yen(179600).display_jpy(), "¥179,600");
        assert_eq!(Yen(100).display_jpy(), "¥100");
        assert_eq!(Yen(1_000_000).display_jpy(), "¥1,000,000");
        assert_eq!(Yen(-1234).display_jpy(), "-¥1,234");
    }

    #[test]
    fn currency_other_than_jpy_is_refused_by_name() {
        assert_eq!(serde_json::from_str::<Currency>("\"JPY\"").unwrap(), Currency::JPY);
        let err = serde_json::from_str::<Currency>("\"USD\"").unwrap_err().to_string();
        assert!(err.contains("USD"), "{err}");
        assert!(serde_json::from_str::<Currency>("\"jpy\"").is_err(), "JSON takes the code exactly");
        assert_eq!(Currency::parse(" jpy "), Ok(Currency::JPY), "a file may write it loosely");
    }
}
