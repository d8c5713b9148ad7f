//! The idempotency keys of the effects this service asks of its peers: the same effect of the
//! same order always has the same key, whichever path (a request, the outbox, an import)
//! asks for it, so the peer does it once.

use platform::api::notifications::TemplateName;

pub fn payment_key(order_id: i64) -> String {
    format!("order-{order_id}-payment")
}

pub fn email_key(order_id: i64, template: TemplateName) -> String {
    format!("order-{order_id}-email-{}", template.as_str())
}

pub fn refund_key(order_id: i64) -> String {
    format!("order-{order_id}-refund")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotency_keys_follow_the_documented_shape() {
        assert_eq!(payment_key(7), "order-7-payment");
        assert_eq!(refund_key(7), "order-7-refund");
        assert_eq!(email_key(7, TemplateName::OrderShipped), "order-7-email-ORDER_SHIPPED");
    }
}
