//! What a repeated `Idempotency-Key` on order creation means, free of I/O: the same key and
//! body as an answered request is that answer again; with another body, a client error; while
//! the first request may still be running, a conflict; and a first request that can no
//! longer be running (its process died) is finished by the retry: its order, if it made one,
//! is the answer, else the retry makes it.

use sha2::{Digest, Sha256};

/// How long keys are kept (the README documents it).
pub const RETENTION_MS: i64 = 24 * 60 * 60 * 1000;

/// The fingerprint of a request body, as stored with its key.
pub fn fingerprint(canonical_body: &[u8]) -> String {
    format!("{:x}", Sha256::digest(canonical_body))
}

/// An earlier request under the same caller and key, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Earlier {
    pub request_hash: String,
    pub order_id: Option<i64>,
    pub response: Option<(u16, String)>,
    /// When it was claimed (milliseconds since the epoch): what a take-over is guarded by.
    pub claimed_at_ms: i64,
    /// Milliseconds since it was claimed.
    pub age_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Repeat {
    /// The first answer, again.
    Replay { status: u16, body: String },
    /// The key was used with another body (422).
    OtherBody,
    /// The first request may still be running (409).
    InProgress,
    /// The first request died after creating this order: answer with it as it is now.
    OrderOf(i64),
    /// The first request died before creating anything: this one takes the key over.
    TakeOver,
}

/// What a request with `request_hash` does, given the earlier request under its key, when a
/// request can run at most `longest_ms`.
pub fn judge(earlier: &Earlier, request_hash: &str, longest_ms: i64) -> Repeat {
    if earlier.request_hash != request_hash {
        return Repeat::OtherBody;
    }
    if let Some((status, body)) = &earlier.response {
        return Repeat::Replay { status: *status, body: body.clone() };
    }
    if earlier.age_ms < longest_ms {
        return Repeat::InProgress;
    }
    match earlier.order_id {
        Some(order_id) => Repeat::OrderOf(order_id),
        None => Repeat::TakeOver,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn earlier(hash: &str, order_id: Option<i64>, response: Option<(u16, &str)>, age_ms: i64) -> Earlier {
        Earlier {
            request_hash: hash.into(),
            order_id,
            response: response.map(|(status, body)| (status, body.to_owned())),
            claimed_at_ms: 1_000_000 - age_ms,
            age_ms,
        }
    }

    #[test]
    fn an_answered_request_is_answered_again_and_only_for_the_same_body() {
        let answered = earlier("h", Some(7), Some((201, "{}")), 10);
        assert_eq!(judge(&answered, "h", 40_000), Repeat::Replay { status: 201, body: "{}".into() });
        assert_eq!(judge(&answered, "other", 40_000), Repeat::OtherBody);
    }

    #[test]
    fn an_unanswered_request_is_in_progress_until_it_cannot_be_any_more() {
        assert_eq!(judge(&earlier("h", None, None, 39_999), "h", 40_000), Repeat::InProgress);
        assert_eq!(judge(&earlier("h", Some(7), None, 39_999), "h", 40_000), Repeat::InProgress);
        assert_eq!(judge(&earlier("h", Some(7), None, 40_000), "h", 40_000), Repeat::OrderOf(7));
        assert_eq!(judge(&earlier("h", None, None, 40_000), "h", 40_000), Repeat::TakeOver);
        assert_eq!(judge(&earlier("h", None, None, 0), "x", 40_000), Repeat::OtherBody);
    }

    #[test]
    fn fingerprints_tell_bodies_apart() {
        assert_eq!(fingerprint(b"{}"), fingerprint(b"{}"));
        assert_ne!(fingerprint(b"{}"), fingerprint(b"{ }"));
        assert_eq!(fingerprint(b"").len(), 64);
    }
}
