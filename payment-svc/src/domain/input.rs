//! Validated inputs: an order reference, an amount within the transaction limits and a
//! free-text note (refund or decline reason), each with its limit. (The Idempotency-Key is
//! `platform::extract::IdempotencyKey`, shared with the Notification Service.)

use platform::api::payments::{MAX_PAYMENT, MIN_PAYMENT};
use platform::Yen;

/// A reference to an order of the Order Service (a logical reference, not a foreign key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderId(i64);

impl OrderId {
    pub fn parse(id: i64) -> Result<OrderId, String> {
        if id >= 1 {
            Ok(OrderId(id))
        } else {
            Err(format!("order_id must be a positive integer (got {id})"))
        }
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

/// An amount one transaction may carry: `MIN_PAYMENT ..= MAX_PAYMENT` (FR-012, FR-013).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaymentAmount(Yen);

impl PaymentAmount {
    pub fn parse(amount: Yen) -> Result<PaymentAmount, String> {
        if (MIN_PAYMENT..=MAX_PAYMENT).contains(&amount) {
            Ok(PaymentAmount(amount))
        } else {
            Err(format!(
                "amount must be between {} and {} JPY inclusive (got {})",
                MIN_PAYMENT.display_jpy(),
                MAX_PAYMENT.display_jpy(),
                amount.display_jpy()
            ))
        }
    }

    pub fn yen(self) -> Yen {
        self.0
    }
}

/// A free-text reason (why a refund was asked for, why the gateway failed a charge).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note(String);

impl Note {
    pub const MAX_CHARS: usize = 500;

    /// `None` and blank text both mean "no reason given".
    pub fn parse_optional(text: Option<String>) -> Result<Option<Note>, String> {
        match text {
            None => Ok(None),
            Some(text) if text.trim().is_empty() => Ok(None),
            Some(text) if text.chars().count() > Self::MAX_CHARS => {
                Err(format!("reason must be at most {} characters", Self::MAX_CHARS))
            }
            Some(text) => Ok(Some(Note(text))),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_inside_the_limits_are_accepted_inclusively() {
        for yen in [100, 101, 999_999, 1_000_000] {
            assert_eq!(PaymentAmount::parse(Yen::new(yen)).unwrap().yen(), Yen::new(yen));
        }
    }

    #[test]
    fn amounts_outside_the_limits_name_the_limits() {
        for yen in [i64::MIN, -100, 0, 99, 1_000_001, i64::MAX] {
            let err = PaymentAmount::parse(Yen::new(yen)).unwrap_err();
            assert!(err.contains("¥100") && err.contains("¥1,000,000"), "{err}");
        }
    }

    #[test]
    fn order_ids_must_be_positive() {
        assert_eq!(OrderId::parse(1).unwrap().get(), 1);
        assert!(OrderId::parse(0).is_err());
        assert!(OrderId::parse(-7).is_err());
    }

    #[test]
    fn notes_are_optional_and_bounded_in_characters_not_bytes() {
        assert_eq!(Note::parse_optional(None).unwrap(), None);
        assert_eq!(Note::parse_optional(Some("  ".into())).unwrap(), None);
        assert!(Note::parse_optional(Some("返".repeat(500))).unwrap().is_some());
        assert!(Note::parse_optional(Some("返".repeat(501))).is_err());
    }
}
