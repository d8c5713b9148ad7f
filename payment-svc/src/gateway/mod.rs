//! The payment gateway simulator: the card network as seen from this service.
//!
//! It is the outside world, so it is a faithful stand-in with the failure modes a real
//! gateway has: it takes time (`latency`, spent after the charge is decided, as an answer
//! travelling back), an issuer sometimes declines (`decline_rate`), a charge may be left
//! pending and captured a while later (`CaptureMode::Deferred`, `capture_delay`), which the
//! gateway reports through its signed webhook (`capture`), and it remembers every transaction
//! (`ledger`), so that a Payment Service that never heard an answer can ask what happened. Charging the same transaction
//! again is asking: the gateway is idempotent by transaction id. Everything else in the service
//! treats it as opaque.

pub mod capture;
mod ledger;

use std::str::FromStr;
use std::time::Duration;

/// What an issuer says when it refuses a card; the simulator's only decline reason.
pub const DECLINE_REASON: &str = "card declined by issuer";

/// How the simulated gateway captures an accepted charge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureMode {
    /// The charge is captured during the call: the payment completes at once.
    Immediate,
    /// The charge is only authorised; the gateway captures it `capture_delay` later and
    /// reports that through its webhook.
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
    /// The longest a charge may take: a payment pending longer than this without an answer is
    /// asked about again (`sweep`).
    pub timeout: Duration,
    /// How long after it authorised a charge (deferred capture) the gateway captures it.
    pub capture_delay: Duration,
}

impl Default for GatewaySettings {
    fn default() -> Self {
        GatewaySettings {
            latency: Duration::ZERO,
            decline_rate: 0.0,
            capture: CaptureMode::Immediate,
            timeout: Duration::from_secs(30),
            capture_delay: Duration::from_secs(2),
        }
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
    ledger: ledger::Ledger,
}

/// The gateway could not be asked (its ledger failed): the charge's outcome is unknown and the
/// payment stays pending, to be asked about again.
#[derive(Debug, thiserror::Error)]
#[error("the payment gateway did not answer: {0}")]
pub struct Unanswered(#[from] anyhow::Error);

impl Gateway {
    /// The simulator, with its ledger at `ledger_url`.
    pub async fn open(settings: GatewaySettings, ledger_url: &str) -> anyhow::Result<Gateway> {
        Ok(Gateway { settings, ledger: ledger::Ledger::open(ledger_url).await? })
    }

    pub fn timeout(&self) -> Duration {
        self.settings.timeout
    }

    /// Opens a transaction and returns the gateway's reference for it, `txn_<uuid>`.
    ///
    /// Separate from `charge` so the reference can be stored before any money moves: the
    /// payment row then exists (and wins or loses the uniqueness race) before the charge.
    pub fn open_transaction(&self) -> String {
        format!("txn_{}", uuid::Uuid::new_v4().simple())
    }

    /// Charges `amount` yen under `transaction_id` — or, for a transaction charged before,
    /// answers what became of it. The outcome is on record before the answer comes back.
    #[tracing::instrument(skip_all, fields(transaction_id = %transaction_id, amount = amount))]
    pub async fn charge(&self, transaction_id: &str, amount: i64) -> Result<ChargeOutcome, Unanswered> {
        let outcome = self.ledger.record(transaction_id, amount, &self.decide()).await?;
        if !self.settings.latency.is_zero() {
            tokio::time::sleep(self.settings.latency).await;
        }
        Ok(outcome)
    }

    /// What the gateway would do with a new charge.
    fn decide(&self) -> ChargeOutcome {
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

    async fn gateway(dir: &tempfile::TempDir, decline_rate: f64, capture: CaptureMode) -> Gateway {
        let settings = GatewaySettings { decline_rate, capture, ..GatewaySettings::default() };
        Gateway::open(settings, &format!("sqlite://{}/ledger.db", dir.path().display())).await.unwrap()
    }

    #[tokio::test]
    async fn never_declines_at_rate_zero_and_always_at_rate_one() {
        let dir = tempfile::tempdir().unwrap();
        let (accepting, declining) =
            (gateway(&dir, 0.0, CaptureMode::Immediate).await, gateway(&dir, 1.0, CaptureMode::Immediate).await);
        for n in 0..50 {
            assert_eq!(accepting.charge(&format!("a{n}"), 100).await.unwrap(), ChargeOutcome::Captured);
            assert_eq!(
                declining.charge(&format!("d{n}"), 100).await.unwrap(),
                ChargeOutcome::Declined { reason: DECLINE_REASON.into() }
            );
        }
    }

    #[tokio::test]
    async fn deferred_capture_leaves_the_charge_pending() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            gateway(&dir, 0.0, CaptureMode::Deferred).await.charge("t", 100).await.unwrap(),
            ChargeOutcome::Pending
        );
    }

    #[tokio::test]
    async fn a_transaction_charged_before_keeps_its_outcome_even_after_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let declined = gateway(&dir, 1.0, CaptureMode::Immediate).await.charge("t1", 100).await.unwrap();
        // Another process of the simulator, which would capture a new charge: it remembers.
        let reopened = gateway(&dir, 0.0, CaptureMode::Immediate).await;
        assert_eq!(reopened.charge("t1", 100).await.unwrap(), declined);
        assert_eq!(reopened.charge("t2", 100).await.unwrap(), ChargeOutcome::Captured);
    }

    #[tokio::test]
    async fn transaction_ids_are_unique_and_prefixed() {
        let dir = tempfile::tempdir().unwrap();
        let g = gateway(&dir, 0.0, CaptureMode::Immediate).await;
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
