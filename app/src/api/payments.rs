//! The Payment Service, as the dashboard uses it.

use platform::api::payments::Payment;

use super::{fetch, Service, ServiceResult, ServiceUrls};

/// The payment of an order with its refund; `None` when the order has none (yet). Read from
/// the list endpoint, which answers "none" with an empty list: a 404 would be logged as an
/// error in the browser's console every time the order page refreshes.
pub async fn for_order(urls: &ServiceUrls, order_id: i64) -> ServiceResult<Option<Payment>> {
    let url = urls.url(Service::Payments, &format!("/api/v1/payments/?order_id={order_id}"));
    let payments: Vec<Payment> = fetch::get_json(Service::Payments, url).await?;
    Ok(payments.into_iter().next())
}
