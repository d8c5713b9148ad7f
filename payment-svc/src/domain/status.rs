//! The payment status rules: what the gateway's final word may change, and what may be
//! refunded.
//!
//! ```text
//! pending ──gateway: completed──▶ completed ──refund──▶ refunded
//!    └─────gateway: failed─────▶ failed
//! ```

use platform::api::payments::PaymentStatus;

/// The gateway's final word on a pending transaction: only these two are outcomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Completed,
    Failed,
}

impl Verdict {
    pub fn parse(status: PaymentStatus) -> Result<Verdict, String> {
        match status {
            PaymentStatus::Completed => Ok(Verdict::Completed),
            PaymentStatus::Failed => Ok(Verdict::Failed),
            other => {
                Err(format!("status must be 'completed' or 'failed'; '{}' is not a gateway outcome", other.as_str()))
            }
        }
    }

    pub fn status(self) -> PaymentStatus {
        match self {
            Verdict::Completed => PaymentStatus::Completed,
            Verdict::Failed => PaymentStatus::Failed,
        }
    }
}

/// What a verdict does to a payment in a given status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settlement {
    /// The payment was pending: it takes the verdict's status.
    Apply,
    /// The gateway repeats what it already said: nothing to do.
    AlreadySettled,
    /// The verdict contradicts what the payment already is.
    Conflict(String),
}

pub fn settle(current: PaymentStatus, verdict: Verdict) -> Settlement {
    match (current, verdict) {
        (PaymentStatus::Pending, _) => Settlement::Apply,
        (current, verdict) if current == verdict.status() => Settlement::AlreadySettled,
        // A refund happens only after completion, so "completed" again is old news.
        (PaymentStatus::Refunded, Verdict::Completed) => Settlement::AlreadySettled,
        (current, verdict) => Settlement::Conflict(format!(
            "cannot mark the transaction {}: the payment is already {}",
            verdict.status().as_str(),
            current.as_str()
        )),
    }
}

/// Only a completed payment may be refunded.
pub fn refundable(status: PaymentStatus) -> Result<(), String> {
    match status {
        PaymentStatus::Completed => Ok(()),
        other => Err(format!("only a completed payment can be refunded; its status is {}", other.as_str())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_completed_and_failed_are_verdicts() {
        assert_eq!(Verdict::parse(PaymentStatus::Completed), Ok(Verdict::Completed));
        assert_eq!(Verdict::parse(PaymentStatus::Failed), Ok(Verdict::Failed));
        assert!(Verdict::parse(PaymentStatus::Pending).is_err());
        assert!(Verdict::parse(PaymentStatus::Refunded).is_err());
    }

    #[test]
    fn a_pending_payment_takes_either_verdict() {
        assert_eq!(settle(PaymentStatus::Pending, Verdict::Completed), Settlement::Apply);
        assert_eq!(settle(PaymentStatus::Pending, Verdict::Failed), Settlement::Apply);
    }

    #[test]
    fn repeating_a_verdict_is_a_no_op() {
        assert_eq!(settle(PaymentStatus::Completed, Verdict::Completed), Settlement::AlreadySettled);
        assert_eq!(settle(PaymentStatus::Failed, Verdict::Failed), Settlement::AlreadySettled);
        assert_eq!(settle(PaymentStatus::Refunded, Verdict::Completed), Settlement::AlreadySettled);
    }

    #[test]
    fn contradicting_a_verdict_is_a_conflict() {
        for (current, verdict) in [
            (PaymentStatus::Completed, Verdict::Failed),
            (PaymentStatus::Failed, Verdict::Completed),
            (PaymentStatus::Refunded, Verdict::Failed),
        ] {
            assert!(matches!(settle(current, verdict), Settlement::Conflict(_)), "{current:?} {verdict:?}");
        }
    }

    #[test]
    fn only_completed_payments_are_refundable() {
        assert!(refundable(PaymentStatus::Completed).is_ok());
        for status in [PaymentStatus::Pending, PaymentStatus::Failed, PaymentStatus::Refunded] {
            let err = refundable(status).unwrap_err();
            assert!(err.contains(status.as_str()), "{err}");
        }
    }
}
