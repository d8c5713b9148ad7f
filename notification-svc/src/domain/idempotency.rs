//! The `Idempotency-Key` a caller sends so that its retries create nothing new.

use axum::http::HeaderMap;
use platform::api::IDEMPOTENCY_KEY_HEADER;
use platform::{ApiError, ApiResult};

const MAX_LEN: usize = 200;

/// A key of 1..=200 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// `None` when the header is absent; a present but unusable header is refused rather
    /// than ignored, because ignoring it would silently turn a retry into a duplicate.
    pub fn from_headers(headers: &HeaderMap) -> ApiResult<Option<IdempotencyKey>> {
        match headers.get(IDEMPOTENCY_KEY_HEADER) {
            None => Ok(None),
            Some(value) => {
                let text = value
                    .to_str()
                    .map_err(|_| ApiError::Unprocessable("Idempotency-Key must be visible ASCII text".into()))?;
                IdempotencyKey::parse(text).map(Some)
            }
        }
    }

    pub fn parse(text: &str) -> ApiResult<IdempotencyKey> {
        let text = text.trim();
        if text.is_empty() {
            return Err(ApiError::Unprocessable("Idempotency-Key must not be empty".into()));
        }
        if text.len() > MAX_LEN {
            return Err(ApiError::Unprocessable(format!("Idempotency-Key must be at most {MAX_LEN} characters")));
        }
        if !text.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
            return Err(ApiError::Unprocessable("Idempotency-Key must be visible ASCII text".into()));
        }
        Ok(IdempotencyKey(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_keys_and_refuses_empty_or_overlong_ones() {
        assert_eq!(IdempotencyKey::parse("order-1-confirmation").unwrap().as_str(), "order-1-confirmation");
        assert!(IdempotencyKey::parse("   ").is_err());
        assert!(IdempotencyKey::parse(&"k".repeat(200)).is_ok());
        assert!(IdempotencyKey::parse(&"k".repeat(201)).is_err());
    }
}
