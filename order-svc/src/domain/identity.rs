//! The rules of identity, free of I/O: the secrets handed to clients and how they are stored,
//! password hashing, and when failed sign-ins close the door for a while.

use std::net::IpAddr;
use std::time::Duration;

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Prefix of an integrator's API key.
pub const API_KEY_PREFIX: &str = "sk_";
/// Prefix of a refresh token (a session).
pub const REFRESH_TOKEN_PREFIX: &str = "rt_";
/// Prefix of an invitation's token.
pub const INVITATION_PREFIX: &str = "inv_";
/// Characters of an API key shown in lists.
const SHOWN_KEY_CHARS: usize = 10;

/// A new secret: `prefix` and 32 random bytes in base64url (256 bits: guessing is hopeless,
/// so a fast hash is enough to store it).
pub fn new_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// What is stored of a secret: its SHA-256, in hex.
pub fn fingerprint(secret: &str) -> String {
    format!("{:x}", Sha256::digest(secret.as_bytes()))
}

/// The part of an API key that lists show.
pub fn shown_prefix(key: &str) -> String {
    key.chars().take(SHOWN_KEY_CHARS).collect()
}

/// Argon2id with the crate's defaults (19 MiB, 2 passes, 1 lane), as a PHC string. CPU-bound
/// for tens of milliseconds: callers run it on a blocking thread.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|err| anyhow::anyhow!("cannot hash a password: {err}"))
}

/// Whether `password` matches the PHC string `hash` (an unreadable hash matches nothing).
pub fn verify_password(password: &str, hash: &str) -> bool {
    Argon2::default().verify_password(password.as_bytes(), hash).is_ok()
}

/// How many failed sign-ins a subject (an account, or a client address) may have within one
/// window before further attempts are refused until the window ends. Every attempt is counted
/// before its password is checked (a success gives its count back), so attempts made at the
/// same moment — on one replica or several — cannot all slip past the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    pub max_failures: i64,
    pub window: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Throttle {
    Open,
    /// Refused; try again in this many seconds.
    Closed {
        retry_after_secs: u64,
    },
}

impl ThrottlePolicy {
    /// The verdict on an attempt at `now`, the `attempts`-th (this one included) counted in the
    /// window that began at `window_started_at` (milliseconds since the epoch): the first
    /// `max_failures` go on to have their password checked.
    pub fn check(&self, attempts: i64, window_started_at: i64, now: i64) -> Throttle {
        let window_ends_at = window_started_at.saturating_add(millis(self.window));
        if now >= window_ends_at || attempts <= self.max_failures {
            return Throttle::Open;
        }
        let remaining_ms = u64::try_from(window_ends_at - now).unwrap_or(0);
        Throttle::Closed { retry_after_secs: remaining_ms.div_ceil(1000).max(1) }
    }

    /// Whether a failure at `now` belongs to the window that began at `window_started_at`,
    /// or starts a new one.
    pub fn in_window(&self, window_started_at: i64, now: i64) -> bool {
        now < window_started_at.saturating_add(millis(self.window))
    }
}

/// The address a request comes from, for throttling: the connection's peer, unless that peer
/// is a trusted proxy (the dashboard's server, a load balancer), in which case the right-most
/// address of `X-Forwarded-For` that is not itself a trusted proxy. Addresses further left
/// were written by the client and prove nothing.
pub fn client_address(peer: IpAddr, forwarded_for: Option<&str>, trusted_proxies: &[IpAddr]) -> IpAddr {
    if !trusted_proxies.contains(&peer) {
        return peer;
    }
    let Some(forwarded_for) = forwarded_for else {
        return peer;
    };
    let mut last = peer;
    for hop in forwarded_for.rsplit(',') {
        match hop.trim().parse::<IpAddr>() {
            Ok(address) if trusted_proxies.contains(&address) => last = address,
            Ok(address) => return address,
            Err(_) => return last,
        }
    }
    last
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_long_random_and_stored_only_as_a_fingerprint() {
        let key = new_secret(API_KEY_PREFIX);
        assert!(key.starts_with("sk_") && key.len() == 3 + 43, "{key}");
        assert_ne!(key, new_secret(API_KEY_PREFIX));
        let stored = fingerprint(&key);
        assert_eq!(stored.len(), 64);
        assert_eq!(stored, fingerprint(&key));
        assert!(!stored.contains(&key[3..]));
        assert_eq!(shown_prefix(&key), key[..10]);
    }

    #[test]
    fn a_password_verifies_against_its_own_hash_only() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse battery!", &hash));
        assert!(!verify_password("correct horse battery", "not a hash"));
        // Salted: the same password hashes differently each time.
        assert_ne!(hash, hash_password("correct horse battery").unwrap());
    }

    #[test]
    fn only_a_trusted_proxy_may_say_who_the_client_is() {
        let ip = |text: &str| text.parse::<IpAddr>().unwrap();
        let trusted = [ip("127.0.0.1")];
        // Straight from the client: its claims are ignored.
        assert_eq!(client_address(ip("203.0.113.9"), Some("198.51.100.1"), &trusted), ip("203.0.113.9"));
        // Through the proxy: the address the proxy saw.
        assert_eq!(client_address(ip("127.0.0.1"), Some("198.51.100.1"), &trusted), ip("198.51.100.1"));
        // A client that sends its own header through the proxy cannot hide behind it.
        assert_eq!(client_address(ip("127.0.0.1"), Some("10.9.9.9, 198.51.100.1"), &trusted), ip("198.51.100.1"));
        assert_eq!(client_address(ip("127.0.0.1"), None, &trusted), ip("127.0.0.1"));
        assert_eq!(client_address(ip("127.0.0.1"), Some("garbage"), &trusted), ip("127.0.0.1"));
    }

    #[test]
    fn the_door_closes_at_the_limit_until_the_window_ends() {
        let policy = ThrottlePolicy { max_failures: 5, window: Duration::from_secs(900) };
        let start = 1_000_000;
        assert_eq!(policy.check(5, start, start + 1), Throttle::Open);
        assert_eq!(policy.check(6, start, start + 1_000), Throttle::Closed { retry_after_secs: 899 });
        assert_eq!(policy.check(9, start, start + 899_500), Throttle::Closed { retry_after_secs: 1 });
        assert_eq!(policy.check(9, start, start + 900_000), Throttle::Open);
        assert!(policy.in_window(start, start + 899_999));
        assert!(!policy.in_window(start, start + 900_000));
    }
}
