//! The payment gateway's webhook signature, in the manner of Stripe's: the header
//! `Gateway-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "{t}.{raw body}">`, with one
//! `v1` per secret while a secret is being rotated.
//!
//! Checked on the raw bytes before anything parses them: the timestamp within `TOLERANCE_SECS`
//! of now (so an old capture is useless), and at least one `v1` computed with one of the
//! Payment Service's secrets, compared in constant time.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The header the gateway signs its webhooks in.
pub const HEADER: &str = "gateway-signature";
/// How far a signature's timestamp may be from now.
pub const TOLERANCE_SECS: i64 = 300;

/// Why a webhook's signature is not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureProblem {
    #[error("unsigned webhook: the Gateway-Signature header is missing")]
    Missing,
    #[error("malformed Gateway-Signature header: expected t=<timestamp>,v1=<signature>")]
    Malformed,
    #[error("stale webhook: its timestamp is more than five minutes from now")]
    Stale,
    #[error("the webhook signature does not verify")]
    Mismatch,
}

/// The header value for `body` signed at `timestamp` with each of `secrets`.
pub fn header_value(secrets: &[String], timestamp: i64, body: &[u8]) -> String {
    let mut value = format!("t={timestamp}");
    for secret in secrets {
        let mac = mac_of(secret, timestamp, body).finalize().into_bytes();
        value.push_str(",v1=");
        value.extend(mac.iter().map(|byte| format!("{byte:02x}")));
    }
    value
}

/// Checks the header against `body` at `now`; on success returns the `v1` that matched (what a
/// replay would carry again).
pub fn verify(secrets: &[String], header: Option<&str>, body: &[u8], now: i64) -> Result<String, SignatureProblem> {
    let header = header.ok_or(SignatureProblem::Missing)?;
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => timestamp = Some(value.parse::<i64>().map_err(|_| SignatureProblem::Malformed)?),
            Some(("v1", value)) => signatures.push(value),
            // Other schemes (a future v2) are for other receivers.
            Some(_) => {}
            None => return Err(SignatureProblem::Malformed),
        }
    }
    let timestamp = timestamp.ok_or(SignatureProblem::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureProblem::Malformed);
    }
    if (now - timestamp).abs() > TOLERANCE_SECS {
        return Err(SignatureProblem::Stale);
    }
    for signature in signatures {
        let Some(bytes) = from_hex(signature) else { continue };
        if secrets.iter().any(|secret| mac_of(secret, timestamp, body).verify_slice(&bytes).is_ok()) {
            return Ok(signature.to_ascii_lowercase());
        }
    }
    Err(SignatureProblem::Mismatch)
}

fn mac_of(secret: &str, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    // HMAC takes a key of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| unreachable!());
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

fn from_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "gwsec_test_secret_of_the_gateway";
    const BODY: &[u8] = br#"{"transaction_id":"txn_1","status":"completed"}"#;

    fn secrets(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_signed_body_verifies_within_the_tolerance() {
        let header = header_value(&secrets(&[SECRET]), 1_000, BODY);
        assert!(header.starts_with("t=1000,v1=") && header.len() == "t=1000,v1=".len() + 64, "{header}");
        assert!(verify(&secrets(&[SECRET]), Some(&header), BODY, 1_000 + TOLERANCE_SECS).is_ok());
        assert_eq!(
            verify(&secrets(&[SECRET]), Some(&header), BODY, 1_000 + TOLERANCE_SECS + 1),
            Err(SignatureProblem::Stale)
        );
    }

    #[test]
    fn a_changed_body_or_another_secret_does_not_verify() {
        let header = header_value(&secrets(&[SECRET]), 1_000, BODY);
        let tampered = br#"{"transaction_id":"txn_2","status":"completed"}"#;
        assert_eq!(verify(&secrets(&[SECRET]), Some(&header), tampered, 1_000), Err(SignatureProblem::Mismatch));
        assert_eq!(verify(&secrets(&["another"]), Some(&header), BODY, 1_000), Err(SignatureProblem::Mismatch));
        // Re-dating a captured signature breaks it: the timestamp is signed too.
        let redated = header.replacen("t=1000", "t=1001", 1);
        assert_eq!(verify(&secrets(&[SECRET]), Some(&redated), BODY, 1_000), Err(SignatureProblem::Mismatch));
    }

    #[test]
    fn during_a_rotation_any_v1_of_any_secret_will_do() {
        let header = header_value(&secrets(&["old-secret", SECRET]), 1_000, BODY);
        assert_eq!(header.matches("v1=").count(), 2);
        assert!(verify(&secrets(&[SECRET]), Some(&header), BODY, 1_000).is_ok());
        assert!(verify(&secrets(&["new-secret", "old-secret"]), Some(&header), BODY, 1_000).is_ok());
    }

    #[test]
    fn missing_and_malformed_headers_are_told_apart() {
        let all = secrets(&[SECRET]);
        assert_eq!(verify(&all, None, BODY, 0), Err(SignatureProblem::Missing));
        for header in ["", "v1=abcd", "t=x,v1=abcd", "t=1000", "garbage"] {
            assert_eq!(verify(&all, Some(header), BODY, 1_000), Err(SignatureProblem::Malformed), "{header}");
        }
        assert_eq!(verify(&all, Some("t=1000,v1=zz"), BODY, 1_000), Err(SignatureProblem::Mismatch));
    }
}
