//! The order status machine of 002 §4, the effects each transition sets in motion, and how a
//! payment event from the Payment Service maps onto it.

use platform::api::notifications::TemplateName;
use platform::api::orders::OrderStatus;
use platform::api::payments::PaymentStatus;

/// History reasons written by the service itself, so every flow words them the same way.
pub const REASON_CREATED: &str = "order created";
pub const REASON_PAYMENT_INITIATED: &str = "payment initiated";
pub const REASON_PAYMENT_COMPLETED: &str = "payment completed";
pub const REASON_CANCELLED_BY_REQUEST: &str = "cancelled by request";

pub fn payment_failed_reason(detail: &str) -> String {
    format!("payment failed: {detail}")
}

/// Something a status change must make happen in another service. It is written to the
/// outbox in the same transaction as the change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Email(TemplateName),
    Refund,
}

/// A status change the machine does not allow (409).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cannot change order status from '{from}' to '{to}'")]
pub struct IllegalTransition {
    pub from: OrderStatus,
    pub to: OrderStatus,
}

const CONFIRMATION: &[Effect] = &[Effect::Email(TemplateName::OrderConfirmation)];
const SHIPPED: &[Effect] = &[Effect::Email(TemplateName::OrderShipped)];
const CANCELLED: &[Effect] = &[Effect::Email(TemplateName::OrderCancelled)];
// The refund comes first in the list only for readability; the outbox delivers both
// independently.
const CANCELLED_AFTER_PAYMENT: &[Effect] = &[Effect::Refund, Effect::Email(TemplateName::OrderCancelled)];

/// Checks `from → to` against the machine (`OrderStatus::can_become`, shared with the
/// dashboard) and returns the effects of the change.
pub fn transition(from: OrderStatus, to: OrderStatus) -> Result<&'static [Effect], IllegalTransition> {
    use OrderStatus::*;
    if !from.can_become(to) {
        return Err(IllegalTransition { from, to });
    }
    Ok(match (from, to) {
        (PaymentProcessing, Paid) => CONFIRMATION,
        (Paid, Shipped) => SHIPPED,
        (Pending, Cancelled) => CANCELLED,
        (Paid, Cancelled) => CANCELLED_AFTER_PAYMENT,
        _ => &[],
    })
}

/// What a payment event (the Payment Service's webhook) does to an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentEventAction {
    Transition {
        to: OrderStatus,
        reason: String,
    },
    /// The order already reflects the event. Webhooks are retried, so a repeat is normal.
    NoChange,
}

/// A payment event that contradicts the order's status (409).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a '{}' payment event does not apply to an order in status '{order}'", payment.as_str())]
pub struct PaymentEventConflict {
    pub order: OrderStatus,
    pub payment: PaymentStatus,
}

pub fn on_payment_event(
    order: OrderStatus,
    payment: PaymentStatus,
    reason: Option<&str>,
) -> Result<PaymentEventAction, PaymentEventConflict> {
    use OrderStatus as O;
    use PaymentStatus as P;
    match (payment, order) {
        (P::Completed, O::PaymentProcessing) => {
            Ok(PaymentEventAction::Transition { to: O::Paid, reason: REASON_PAYMENT_COMPLETED.to_owned() })
        }
        (P::Failed, O::PaymentProcessing) => Ok(PaymentEventAction::Transition {
            to: O::Pending,
            reason: payment_failed_reason(reason.map(str::trim).filter(|r| !r.is_empty()).unwrap_or("no reason given")),
        }),
        // A refund is started by this service (on cancellation); its echo changes nothing.
        (P::Refunded, _) => Ok(PaymentEventAction::NoChange),
        (P::Completed, O::Paid | O::Shipped | O::Delivered | O::Cancelled) => Ok(PaymentEventAction::NoChange),
        (P::Failed, O::Pending | O::Cancelled) => Ok(PaymentEventAction::NoChange),
        // The order is waiting for exactly this outcome to be decided.
        (P::Pending, O::PaymentProcessing) => Ok(PaymentEventAction::NoChange),
        _ => Err(PaymentEventConflict { order, payment }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use OrderStatus::*;

    fn expected_effects(from: OrderStatus, to: OrderStatus) -> Option<Vec<Effect>> {
        let effects = match (from, to) {
            (Pending, PaymentProcessing) => vec![],
            (PaymentProcessing, Paid) => vec![Effect::Email(TemplateName::OrderConfirmation)],
            (PaymentProcessing, Pending) => vec![],
            (Paid, Shipped) => vec![Effect::Email(TemplateName::OrderShipped)],
            (Shipped, Delivered) => vec![],
            (Pending, Cancelled) => vec![Effect::Email(TemplateName::OrderCancelled)],
            (Paid, Cancelled) => vec![Effect::Refund, Effect::Email(TemplateName::OrderCancelled)],
            _ => return None,
        };
        Some(effects)
    }

    #[test]
    fn every_one_of_the_36_pairs_is_legal_exactly_when_the_design_says_so() {
        let mut checked = 0;
        let mut legal = 0;
        for from in OrderStatus::ALL {
            for to in OrderStatus::ALL {
                checked += 1;
                match (transition(from, to), expected_effects(from, to)) {
                    (Ok(effects), Some(expected)) => {
                        legal += 1;
                        assert_eq!(effects, expected.as_slice(), "{from} -> {to}");
                    }
                    (Err(err), None) => assert_eq!(err, IllegalTransition { from, to }),
                    (got, expected) => panic!("{from} -> {to}: got {got:?}, expected {expected:?}"),
                }
            }
        }
        assert_eq!(checked, 36);
        assert_eq!(legal, 7);
    }

    #[test]
    fn staying_in_the_same_status_is_illegal() {
        for status in OrderStatus::ALL {
            assert!(transition(status, status).is_err(), "{status}");
        }
    }

    #[test]
    fn terminal_states_have_no_way_out() {
        for to in OrderStatus::ALL {
            assert!(transition(Delivered, to).is_err());
            assert!(transition(Cancelled, to).is_err());
        }
    }

    #[test]
    fn illegal_transition_names_both_states() {
        let err = transition(Delivered, Shipped).unwrap_err();
        assert_eq!(err.to_string(), "cannot change order status from 'delivered' to 'shipped'");
        let err = transition(PaymentProcessing, Cancelled).unwrap_err();
        assert_eq!(err.to_string(), "cannot change order status from 'payment_processing' to 'cancelled'");
    }

    #[test]
    fn paying_sends_the_confirmation() {
        assert_eq!(transition(PaymentProcessing, Paid).unwrap(), &[Effect::Email(TemplateName::OrderConfirmation)]);
    }

    #[test]
    fn shipping_sends_the_shipped_email() {
        assert_eq!(transition(Paid, Shipped).unwrap(), &[Effect::Email(TemplateName::OrderShipped)]);
    }

    #[test]
    fn cancelling_a_paid_order_refunds_it_and_tells_the_customer() {
        let effects = transition(Paid, Cancelled).unwrap();
        assert!(effects.contains(&Effect::Refund));
        assert!(effects.contains(&Effect::Email(TemplateName::OrderCancelled)));
        assert_eq!(effects.len(), 2);
    }

    #[test]
    fn cancelling_an_unpaid_order_only_tells_the_customer() {
        assert_eq!(transition(Pending, Cancelled).unwrap(), &[Effect::Email(TemplateName::OrderCancelled)]);
    }

    #[test]
    fn payment_bookkeeping_and_delivery_have_no_effects() {
        assert!(transition(Pending, PaymentProcessing).unwrap().is_empty());
        assert!(transition(PaymentProcessing, Pending).unwrap().is_empty());
        assert!(transition(Shipped, Delivered).unwrap().is_empty());
    }

    #[test]
    fn a_completed_payment_pays_a_processing_order() {
        assert_eq!(
            on_payment_event(PaymentProcessing, PaymentStatus::Completed, None),
            Ok(PaymentEventAction::Transition { to: Paid, reason: "payment completed".into() })
        );
    }

    #[test]
    fn a_failed_payment_returns_a_processing_order_to_pending_with_the_reason() {
        assert_eq!(
            on_payment_event(PaymentProcessing, PaymentStatus::Failed, Some("card declined")),
            Ok(PaymentEventAction::Transition { to: Pending, reason: "payment failed: card declined".into() })
        );
        assert_eq!(
            on_payment_event(PaymentProcessing, PaymentStatus::Failed, Some("  ")),
            Ok(PaymentEventAction::Transition { to: Pending, reason: "payment failed: no reason given".into() })
        );
    }

    #[test]
    fn repeated_payment_events_are_no_ops() {
        for order in [Paid, Shipped, Delivered, Cancelled] {
            assert_eq!(on_payment_event(order, PaymentStatus::Completed, None), Ok(PaymentEventAction::NoChange));
        }
        for order in [Pending, Cancelled] {
            assert_eq!(on_payment_event(order, PaymentStatus::Failed, None), Ok(PaymentEventAction::NoChange));
        }
        for order in OrderStatus::ALL {
            assert_eq!(on_payment_event(order, PaymentStatus::Refunded, None), Ok(PaymentEventAction::NoChange));
        }
    }

    #[test]
    fn contradicting_payment_events_conflict() {
        assert!(on_payment_event(Pending, PaymentStatus::Completed, None).is_err());
        for order in [Paid, Shipped, Delivered] {
            assert!(on_payment_event(order, PaymentStatus::Failed, None).is_err());
        }
        let err = on_payment_event(Shipped, PaymentStatus::Failed, None).unwrap_err();
        assert_eq!(err.to_string(), "a 'failed' payment event does not apply to an order in status 'shipped'");
    }
}
