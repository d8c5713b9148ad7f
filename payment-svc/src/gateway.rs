//! The payment gateway simulator: the card network as seen from this service.
//!
//! It is the outside world, so it is a faithful stand-in with the failure modes a real
//! gateway has: it takes time (`latency`), an issuer sometimes declines (`decline_rate`),
//! and a charge may be left pending and settled later through the webhook
//! (`CaptureMode::Deferred`), whose deliveries the gateway signs as
//! `domain::gateway_signature` describes (the tests play the gateway with its `header_value`).
//! Everything else in the service treats it as opaque.

use std::str::FromStr;
use std::time::Duration;

/// What an issuer says when it refuses a card; the simulator's only decline reason.
pub const DECLINE_REASON: &str = "card declined by issuer";

/// How the simulated gateway captures an accepted charge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureMode {
    /// The charge is captured during the call: the payment completes at once.
    Immediate,
    /// The charge is only authorised; the gateway reports the outcome later via the webhook.
    Deferred,
}

impl FromStr for CaptureMode {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "immediate" => Ok(CaptureMode::Immediate),
            "deferred" => Ok(CaptureMode::Deferred),
            other => Err(format!("unknown capture mode '{other}': expected immediate or deferred")),
        }
    }
}

#[derive(Debug, Clone)]
pub struct GatewaySettings {
    /// How long every charge takes.
    pub latency: Duration,
    /// Probability (0.0 ..= 1.0) that the issuer declines a charge.
    pub decline_rate: f64,
    pub capture: CaptureMode,
}

impl Default for GatewaySettings {
    fn default() -> Self {
        GatewaySettings { latency: Duration::ZERO, decline_rate: 0.0, capture: CaptureMode::Immediate }
    }
}

/// What the gateway did with a charge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChargeOutcome {
    /// Captured: the money moved.
    Captured,
    /// Authorised but not captured yet; the final word comes through the webhook.
    Pending,
    Declined {
        reason: String,
    },
}

#[derive(Debug, Clone)]
pub struct Gateway {
    settings: GatewaySettings,
}

impl Gateway {
    pub fn new(settings: GatewaySettings) -> Self {
        Gateway { settings }
    }

    /// Opens a transaction and returns the gateway's reference for it, `txn_<uuid>`.
    ///
    /// Separate from `charge` so the reference can be stored before any money moves: the
    /// payment row then exists (and wins or loses the uniqueness race) before the charge.
    pub fn open_transaction(&self) -> String {
        format!("txn_{}", uuid::Uuid::new_v4().simple())
    }

    /// Charges `amount` yen under `transaction_id`.
    #[tracing::instrument(skip_all, fields(transaction_id = %transaction_id, amount = amount))]
    pub async fn charge(&self, transaction_id: &str, amount: i64) -> ChargeOutcome {
        if !self.settings.latency.is_zero() {
            tokio::time::sleep(self.settings.latency).await;
        }
        // `random::<f64>()` is in [0, 1): a rate of 0.0 never declines and 1.0 always does.
        if rand::random::<f64>() < self.settings.decline_rate {
            return ChargeOutcome::Declined { reason: DECLINE_REASON.to_owned() };
        }
        match self.settings.capture {
            CaptureMode::Immediate => ChargeOutcome::Captured,
            CaptureMode::Deferred => ChargeOutcome::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gateway(decline_rate: f64, capture: CaptureMode) -> Gateway {
        Gateway::new(GatewaySettings { latency: Duration::ZERO, decline_rate, capture })
    }

    #[tokio::test]
    async fn never_declines_at_rate_zero_and_always_at_rate_one() {
        for _ in 0..50 {
            assert_eq!(gateway(0.0, CaptureMode::Immediate).charge("t", 100).await, ChargeOutcome::Captured);
            assert_eq!(
                gateway(1.0, CaptureMode::Immediate).charge("t", 100).await,
                ChargeOutcome::Declined { reason: DECLINE_REASON.into() }
            );
        }
    }

    #[tokio::test]
    async fn deferred_capture_leaves_the_charge_pending() {
        assert_eq!(gateway(0.0, CaptureMode::Deferred).charge("t", 100).await, ChargeOutcome::Pending);
    }

    #[test]
    fn transaction_ids_are_unique_and_prefixed() {
        let g = gateway(0.0, CaptureMode::Immediate);
        let (a, b) = (g.open_transaction(), g.open_transaction());
        assert!(a.starts_with("txn_") && a.len() == 36, "{a}");
        assert_ne!(a, b);
    }

    #[test]
    fn capture_mode_parses_case_insensitively() {
        assert_eq!("Deferred".parse::<CaptureMode>(), Ok(CaptureMode::Deferred));
        assert_eq!("immediate".parse::<CaptureMode>(), Ok(CaptureMode::Immediate));
        assert!("later".parse::<CaptureMode>().is_err());
    }
}
