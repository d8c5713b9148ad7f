//! Who a message goes to: an e-mail address, or a mobile number normalised to E.164.

use std::str::FromStr;

use email_address::{EmailAddress, Options};
use platform::{ApiError, ApiResult};

const MAX_EMAIL_LEN: usize = 254;

/// An address both `email_address` (RFC 5321/5322 rules) and lettre accept, so a stored
/// notification can always be turned into a message later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailRecipient(String);

impl EmailRecipient {
    pub fn parse(text: &str) -> ApiResult<EmailRecipient> {
        // Counted as sent, as the document's maxLength counts.
        if text.chars().count() > MAX_EMAIL_LEN {
            return Err(ApiError::Unprocessable(format!("recipient must be at most {MAX_EMAIL_LEN} characters")));
        }
        let text = text.trim();
        let invalid = || ApiError::Unprocessable(format!("recipient '{text}' is not a valid e-mail address"));
        if text.is_empty() {
            return Err(ApiError::Unprocessable("recipient must not be empty".into()));
        }
        // A bare address with a dotted domain: `Name <a@b>` and `a@[127.0.0.1]` are valid
        // RFC 5322 but not something an order form should produce.
        let options = Options::default().with_required_tld().without_domain_literal().without_display_text();
        EmailAddress::parse_with_options(text, options).map_err(|_| invalid())?;
        lettre::Address::from_str(text).map_err(|_| invalid())?;
        Ok(EmailRecipient(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A mobile number in E.164 (`+819012345678`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Accepts a Japanese mobile number written domestically (`090-1234-5678`,
    /// `09012345678`; prefixes 070/080/090) or any E.164 number (`+819012345678`); a single
    /// hyphen or space between two digits is ignored. A `+81` number must be a mobile one too,
    /// since an SMS cannot reach a landline. `PATTERN` says the same for the documents.
    pub fn parse(text: &str) -> ApiResult<PhoneNumber> {
        let invalid = || {
            ApiError::Unprocessable(format!(
                "recipient '{text}' is not a mobile phone number (e.g. 090-1234-5678 or +819012345678)"
            ))
        };
        let (international, rest) = match text.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let separator = |c: char| c == '-' || c == ' ';
        let doubled = rest.chars().zip(rest.chars().skip(1)).any(|(a, b)| separator(a) && separator(b));
        if rest.starts_with(separator) || rest.ends_with(separator) || doubled {
            return Err(invalid());
        }
        let digits: String = rest.chars().filter(|c| *c != '-' && *c != ' ').collect();
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        let is_japanese_mobile =
            |national: &str| national.len() == 10 && ["70", "80", "90"].iter().any(|p| national.starts_with(p));
        if international {
            if let Some(national) = digits.strip_prefix("81") {
                if !is_japanese_mobile(national) {
                    return Err(invalid());
                }
            } else if !(8..=15).contains(&digits.len()) || digits.starts_with('0') {
                return Err(invalid());
            }
            Ok(PhoneNumber(format!("+{digits}")))
        } else {
            match digits.strip_prefix('0') {
                Some(national) if is_japanese_mobile(national) => Ok(PhoneNumber(format!("+81{national}"))),
                _ => Err(invalid()),
            }
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }

    /// `parse`'s rule as a pattern, for the documents: a domestic mobile number, a `+81` mobile
    /// number, or another E.164 number of 8 to 15 digits; digits separated by at most one
    /// hyphen or space.
    pub const PATTERN: &'static str = platform::api::notifications::PHONE_NUMBER_PATTERN;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_addresses_are_accepted_and_trimmed() {
        assert_eq!(EmailRecipient::parse(" tanaka@example.co.jp ").unwrap().as_str(), "tanaka@example.co.jp");
        assert!(EmailRecipient::parse("first.last+tag@sub.example.com").is_ok());
    }

    #[test]
    fn malformed_or_overlong_addresses_are_refused() {
        for bad in [
            "",
            "not-an-email",
            "@example.com",
            "tanaka@",
            "tanaka@localhost",
            "tanaka@@example.com",
            "田中 <tanaka@example.com>",
            "tanaka@[127.0.0.1]",
            "tanaka@exa mple.com",
        ] {
            assert!(EmailRecipient::parse(bad).is_err(), "{bad:?} should be refused");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(EmailRecipient::parse(&long).is_err());
    }

    #[test]
    fn japanese_mobile_numbers_are_normalised_to_e164() {
        for (input, expected) in [
            ("090-1234-5678", "+819012345678"),
            ("09012345678", "+819012345678"),
            ("080 1234 5678", "+818012345678"),
            ("070-1234-5678", "+817012345678"),
            ("+819012345678", "+819012345678"),
            ("+81-90-1234-5678", "+819012345678"),
            ("+14155552671", "+14155552671"),
        ] {
            assert_eq!(PhoneNumber::parse(input).unwrap().as_str(), expected, "{input}");
        }
    }

    #[test]
    fn landlines_short_numbers_and_garbage_are_refused() {
        for bad in [
            "",
            "03-1234-5678",
            "0312345678",
            "090-1234-567",
            "090-1234-56789",
            "050-1234-5678",
            "+81312345678",
            "+8190123456789",
            "+0123456789",
            "+123",
            "090-1234-567a",
            "tel:09012345678",
            "-09012345678",
            "090--12345678",
            "+",
            " 09012345678",
            "090- 1234-5678",
            "090  1234 5678",
        ] {
            assert!(PhoneNumber::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    /// The documents' pattern says yes exactly where `parse` does.
    #[test]
    fn the_documented_pattern_agrees_with_the_rule() {
        let pattern = regex::Regex::new(PhoneNumber::PATTERN).unwrap();
        let samples = [
            "090-1234-5678",
            "09012345678",
            "080 1234 5678",
            "070-1234-5678",
            "+819012345678",
            "+81-90-1234-5678",
            "+81 90 1234 5678",
            "+14155552671",
            "+1 415 555 2671",
            "+8612345678",
            "+82-10-1234-5678",
            "+12345678",
            "+123456789012345",
            "+1234567890123456",
            "+1234567",
            "03-1234-5678",
            "+81312345678",
            "+8190123456789",
            "+0123456789",
            "090--12345678",
            "090 -1234-5678",
            " 09012345678",
            "09012345678 ",
            "+-819012345678",
            "060-1234-5678",
            "+81 7012345678",
            "+8 1 9012345678",
            "+80123456789",
            "+8-0123456789",
            "０９０１２３４５６７８",
        ];
        for sample in samples {
            assert_eq!(pattern.is_match(sample), PhoneNumber::parse(sample).is_ok(), "{sample:?}");
        }
    }
}
