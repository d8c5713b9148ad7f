//! The Notification Service's rules, free of HTTP and SQL: what a valid request is (parsed
//! into types that cannot hold a bad value) and how a message is rendered.

pub mod batch;
pub mod digest;
pub mod order;
pub mod recipient;
pub mod templates;

use platform::api::notifications::{Channel, NewDigestEmail, NewEmail, NewSms, TemplateName};
use platform::ApiResult;

pub use digest::DigestDetails;
pub use order::OrderDetails;
pub use recipient::{EmailRecipient, PhoneNumber};
pub use templates::RenderedMessage;

/// A notification request that passed every check and is rendered: ready to be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptedNotification {
    pub order_id: i64,
    pub channel: Channel,
    /// The address or E.164 number, in its canonical form.
    pub recipient: String,
    pub template: TemplateName,
    pub message: RenderedMessage,
}

impl AcceptedNotification {
    pub fn email(request: &NewEmail) -> ApiResult<AcceptedNotification> {
        let recipient = EmailRecipient::parse(&request.recipient)?;
        let order = OrderDetails::parse(request.order_id, &request.order)?;
        let message = templates::render(request.template, Channel::Email, &order)?;
        Ok(AcceptedNotification {
            order_id: order.order_id(),
            channel: Channel::Email,
            recipient: recipient.into_string(),
            template: request.template,
            message,
        })
    }

    pub fn sms(request: &NewSms) -> ApiResult<AcceptedNotification> {
        let recipient = PhoneNumber::parse(&request.recipient)?;
        let order = OrderDetails::parse(request.order_id, &request.order)?;
        let message = templates::render(request.template, Channel::Sms, &order)?;
        Ok(AcceptedNotification {
            order_id: order.order_id(),
            channel: Channel::Sms,
            recipient: recipient.into_string(),
            template: request.template,
            message,
        })
    }

    /// The digest of a bulk import: an e-mail, filed under its first order.
    pub fn digest(request: &NewDigestEmail) -> ApiResult<AcceptedNotification> {
        let recipient = EmailRecipient::parse(&request.recipient)?;
        let digest = DigestDetails::parse(request)?;
        let message = templates::render_digest(&digest)?;
        Ok(AcceptedNotification {
            order_id: digest.order_id(),
            channel: Channel::Email,
            recipient: recipient.into_string(),
            template: TemplateName::OrderDigest,
            message,
        })
    }
}
