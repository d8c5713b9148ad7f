//! Rendering the three templates (FR-021) for each channel with askama: Japanese text with
//! the customer's name, the order number, the items and the total in yen; and the digest of a
//! bulk import (`ORDER_DIGEST`, e-mail only), which lists several orders of one customer.
//!
//! Message bodies live in `templates/*.txt` at the crate root; the one-line e-mail subjects
//! are inline below. Both are plain text, so nothing is HTML-escaped (`escape = "none"`).

use askama::Template;
use platform::api::notifications::{Channel, TemplateName};
use platform::{ApiError, ApiResult};

use super::digest::DigestDetails;
use super::order::{LineItem, OrderDetails};

/// A rendered message: stored as is, and later sent exactly as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedMessage {
    /// `Some` for e-mail, `None` for SMS.
    pub subject: Option<String>,
    pub body: String,
}

/// The order with its amounts already written the way people read them (`¥179,600`),
/// so the templates need no filters.
struct OrderView<'a> {
    order_id: i64,
    customer_name: &'a str,
    lines: Vec<LineView<'a>>,
    total: String,
}

struct LineView<'a> {
    product_name: &'a str,
    quantity: i64,
    unit_price: String,
}

impl<'a> OrderView<'a> {
    fn new(order: &'a OrderDetails) -> Self {
        OrderView {
            order_id: order.order_id(),
            customer_name: order.customer_name(),
            lines: LineView::all(order.lines()),
            total: order.total().display_jpy(),
        }
    }
}

impl<'a> LineView<'a> {
    fn all(lines: &'a [LineItem]) -> Vec<LineView<'a>> {
        lines
            .iter()
            .map(|line| LineView {
                product_name: line.product_name.as_str(),
                quantity: line.quantity,
                unit_price: line.unit_price.display_jpy(),
            })
            .collect()
    }
}

/// The digest, written the same way.
struct DigestView<'a> {
    customer_name: &'a str,
    batch_id: &'a str,
    order_count: usize,
    orders: Vec<DigestOrderView<'a>>,
    grand_total: String,
}

struct DigestOrderView<'a> {
    order_id: i64,
    order_ref: &'a str,
    lines: Vec<LineView<'a>>,
    total: String,
}

impl<'a> DigestView<'a> {
    fn new(digest: &'a DigestDetails) -> Self {
        DigestView {
            customer_name: digest.customer_name(),
            batch_id: digest.batch_id(),
            order_count: digest.orders().len(),
            orders: digest
                .orders()
                .iter()
                .map(|order| DigestOrderView {
                    order_id: order.order_id,
                    order_ref: order.order_ref.as_str(),
                    lines: LineView::all(&order.lines),
                    total: order.total.display_jpy(),
                })
                .collect(),
            grand_total: digest.grand_total().display_jpy(),
        }
    }
}

macro_rules! body_template {
    ($name:ident, $path:literal) => {
        #[derive(Template)]
        #[template(path = $path, escape = "none")]
        struct $name<'a> {
            order: &'a OrderView<'a>,
        }
    };
}

body_template!(ConfirmationEmail, "order_confirmation.email.txt");
body_template!(ShippedEmail, "order_shipped.email.txt");
body_template!(CancelledEmail, "order_cancelled.email.txt");
body_template!(ConfirmationSms, "order_confirmation.sms.txt");
body_template!(ShippedSms, "order_shipped.sms.txt");
body_template!(CancelledSms, "order_cancelled.sms.txt");

#[derive(Template)]
#[template(path = "order_digest.email.txt", escape = "none")]
struct DigestEmail<'a> {
    digest: &'a DigestView<'a>,
}

// These texts are also listed in the `notification_templates` catalogue (seeded by the
// migrations: sqlite/0001_initial.sql and 0002_digest.sql, postgres/0001_initial.sql); an
// integration test keeps the two in step.
#[derive(Template)]
#[template(
    source = "【ご注文確認】ご注文ありがとうございます（注文番号: #{{ order_id }}）",
    ext = "txt",
    escape = "none"
)]
struct ConfirmationSubject {
    order_id: i64,
}

#[derive(Template)]
#[template(
    source = "【発送のお知らせ】ご注文の商品を発送しました（注文番号: #{{ order_id }}）",
    ext = "txt",
    escape = "none"
)]
struct ShippedSubject {
    order_id: i64,
}

#[derive(Template)]
#[template(
    source = "【キャンセル完了】ご注文をキャンセルしました（注文番号: #{{ order_id }}）",
    ext = "txt",
    escape = "none"
)]
struct CancelledSubject {
    order_id: i64,
}

#[derive(Template)]
#[template(source = "【ご注文確認】{{ order_count }}件のご注文を承りました", ext = "txt", escape = "none")]
struct DigestSubject {
    order_count: usize,
}

/// Renders `template` for `channel` about one order. Rendering only fails on a bug in a
/// template, which is an internal error, never the caller's; but the digest cannot be
/// rendered from one order, so asking for it here is the caller's mistake (422).
pub fn render(template: TemplateName, channel: Channel, order: &OrderDetails) -> ApiResult<RenderedMessage> {
    let view = OrderView::new(order);
    let order_id = order.order_id();
    let rendered = match (template, channel) {
        (TemplateName::OrderConfirmation, Channel::Email) => {
            email(ConfirmationSubject { order_id }.render(), ConfirmationEmail { order: &view }.render())
        }
        (TemplateName::OrderShipped, Channel::Email) => {
            email(ShippedSubject { order_id }.render(), ShippedEmail { order: &view }.render())
        }
        (TemplateName::OrderCancelled, Channel::Email) => {
            email(CancelledSubject { order_id }.render(), CancelledEmail { order: &view }.render())
        }
        (TemplateName::OrderConfirmation, Channel::Sms) => sms(ConfirmationSms { order: &view }.render()),
        (TemplateName::OrderShipped, Channel::Sms) => sms(ShippedSms { order: &view }.render()),
        (TemplateName::OrderCancelled, Channel::Sms) => sms(CancelledSms { order: &view }.render()),
        (TemplateName::OrderDigest, Channel::Email) => {
            return Err(ApiError::Unprocessable(
                "template ORDER_DIGEST lists the orders of an import: send it as a `digest` item of \
                 POST /api/v1/notifications/batch"
                    .into(),
            ))
        }
        (TemplateName::OrderDigest, Channel::Sms) => {
            return Err(ApiError::Unprocessable("template ORDER_DIGEST is sent by e-mail only".into()))
        }
    };
    rendered.map_err(|err| internal(err, template, channel))
}

/// Renders the digest e-mail (`ORDER_DIGEST`).
pub fn render_digest(digest: &DigestDetails) -> ApiResult<RenderedMessage> {
    let view = DigestView::new(digest);
    email(DigestSubject { order_count: view.order_count }.render(), DigestEmail { digest: &view }.render())
        .map_err(|err| internal(err, TemplateName::OrderDigest, Channel::Email))
}

fn internal(err: askama::Error, template: TemplateName, channel: Channel) -> ApiError {
    ApiError::Internal(anyhow::Error::new(err).context(format!(
        "rendering {} for {}",
        template.as_str(),
        channel.as_str()
    )))
}

fn email(subject: askama::Result<String>, body: askama::Result<String>) -> askama::Result<RenderedMessage> {
    Ok(RenderedMessage { subject: Some(subject?.trim().to_owned()), body: format!("{}\n", body?.trim_end()) })
}

fn sms(body: askama::Result<String>) -> askama::Result<RenderedMessage> {
    Ok(RenderedMessage { subject: None, body: body?.trim().to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::digest::tests::digest;
    use crate::domain::order::tests::summary;

    const TEMPLATES: [TemplateName; 3] =
        [TemplateName::OrderConfirmation, TemplateName::OrderShipped, TemplateName::OrderCancelled];

    #[test]
    fn every_template_and_channel_shows_name_order_number_items_and_total() {
        let order = OrderDetails::parse(1234, &summary()).unwrap();
        for template in TEMPLATES {
            for channel in [Channel::Email, Channel::Sms] {
                let message = render(template, channel, &order).unwrap();
                let body = &message.body;
                let context = format!("{template:?}/{channel:?}:\n{body}");
                assert!(body.contains("田中 太郎様") || body.contains("田中 太郎 様"), "{context}");
                assert!(body.contains("注文番号: #1234"), "{context}");
                assert!(body.contains("ワイヤレスイヤホン"), "{context}");
                assert!(body.contains("×2") || body.contains("× 2"), "{context}");
                assert!(body.contains("¥89,800"), "{context}");
                assert!(body.contains("充電ケーブル"), "{context}");
                assert!(body.contains("¥0"), "{context}");
                assert!(body.contains("¥179,600"), "{context}");
                assert!(body.contains("注文サービス"), "closing line missing: {context}");
                assert!(!body.contains("{{") && !body.contains("{%"), "{context}");
                match channel {
                    Channel::Email => {
                        let subject = message.subject.as_deref().unwrap();
                        assert!(subject.contains("#1234"), "{subject}");
                        assert!(!subject.contains('\n'), "{subject}");
                    }
                    Channel::Sms => assert_eq!(message.subject, None),
                }
            }
        }
    }

    #[test]
    fn templates_say_different_things() {
        let order = OrderDetails::parse(7, &summary()).unwrap();
        let subjects: Vec<_> =
            TEMPLATES.iter().map(|t| render(*t, Channel::Email, &order).unwrap().subject.unwrap()).collect();
        assert!(subjects[0].contains("ご注文確認"));
        assert!(subjects[1].contains("発送"));
        assert!(subjects[2].contains("キャンセル"));
        let sms: Vec<_> = TEMPLATES.iter().map(|t| render(*t, Channel::Sms, &order).unwrap().body).collect();
        assert_ne!(sms[0], sms[1]);
        assert_ne!(sms[1], sms[2]);
    }

    #[test]
    fn text_is_not_html_escaped() {
        let mut order = summary();
        order.customer_name = "O'Brien & <Sons>".into();
        let order = OrderDetails::parse(1, &order).unwrap();
        let message = render(TemplateName::OrderConfirmation, Channel::Email, &order).unwrap();
        assert!(message.body.contains("O'Brien & <Sons> 様"), "{}", message.body);
    }

    #[test]
    fn sms_is_one_short_line() {
        let order = OrderDetails::parse(1, &summary()).unwrap();
        let message = render(TemplateName::OrderShipped, Channel::Sms, &order).unwrap();
        assert!(!message.body.contains('\n'), "{}", message.body);
        assert!(message.body.chars().count() < 200, "{}", message.body);
    }

    #[test]
    fn the_digest_cannot_be_rendered_from_one_order() {
        let order = OrderDetails::parse(1, &summary()).unwrap();
        for channel in [Channel::Email, Channel::Sms] {
            match render(TemplateName::OrderDigest, channel, &order) {
                Err(ApiError::Unprocessable(detail)) => assert!(detail.contains("ORDER_DIGEST"), "{detail}"),
                other => panic!("expected a 422 for {channel:?}, got {other:?}"),
            }
        }
    }

    #[test]
    fn the_digest_lists_every_order_with_its_items_and_the_grand_total() {
        let digest = DigestDetails::parse(&digest()).unwrap();
        let message = render_digest(&digest).unwrap();
        assert_eq!(message.subject.as_deref(), Some("【ご注文確認】2件のご注文を承りました"));
        let body = &message.body;
        for expected in [
            "田中 太郎 様",
            "取込ID: imp-20261122-01",
            "以下の2件のご注文",
            "■ ご注文 PO-0001（注文番号: #101）",
            "・ワイヤレスイヤホン × 2（単価 ¥89,800）",
            "・充電ケーブル × 1（単価 ¥0）",
            "ご注文金額: ¥179,600",
            "■ ご注文 PO-0002（注文番号: #102）",
            "・マウスパッド × 3（単価 ¥1,000）",
            "ご注文金額: ¥3,000",
            "合計金額（2件）: ¥182,600",
            "注文サービス",
        ] {
            assert!(body.contains(expected), "{expected:?} missing from:\n{body}");
        }
        // Each order's lines come under that order, in order.
        let first = body.find("PO-0001").unwrap();
        let cable = body.find("充電ケーブル").unwrap();
        let second = body.find("PO-0002").unwrap();
        let pad = body.find("マウスパッド").unwrap();
        assert!(first < cable && cable < second && second < pad, "{body}");
        assert!(!body.contains("{{") && !body.contains("{%"), "{body}");
        assert!(!body.contains("\n\n\n"), "no runs of blank lines:\n{body}");
        assert!(body.ends_with("注文サービス\n"), "{body}");
    }

    #[test]
    fn the_digest_is_not_html_escaped() {
        let mut request = digest();
        request.customer_name = "O'Brien & <Sons>".into();
        request.orders[0].order_ref = "A&B<1>".into();
        let message = render_digest(&DigestDetails::parse(&request).unwrap()).unwrap();
        assert!(message.body.contains("O'Brien & <Sons> 様"), "{}", message.body);
        assert!(message.body.contains("■ ご注文 A&B<1>"), "{}", message.body);
    }
}
