//! The Order Service, as the dashboard uses it.

use platform::api::orders::{NewOrder, Order, OrderStats, OrderStatus, StatusChange, StatusUpdate};

use super::fetch::{self, Method};
use super::{Page, Service, ServiceResult, ServiceUrls};

/// Orders per page of the orders table.
pub const PAGE_SIZE: i64 = 20;

/// What the orders table shows: it is also the page's query string (`page`, `status`, `q`,
/// `batch_id`), so a view can be bookmarked and the back button returns to it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OrderQuery {
    /// 1-based.
    pub page: i64,
    pub status: Option<OrderStatus>,
    /// Part of the customer's e-mail address.
    pub q: String,
    /// Only the orders one import created.
    pub batch_id: Option<String>,
}

impl OrderQuery {
    /// Reads the page's query string, forgiving anything malformed (a bad `page` is page 1,
    /// an unknown status is no filter): a hand-edited URL still shows a table.
    pub fn from_params(
        page: Option<&str>,
        status: Option<&str>,
        q: Option<&str>,
        batch_id: Option<&str>,
    ) -> OrderQuery {
        OrderQuery {
            page: page.and_then(|p| p.trim().parse().ok()).filter(|p: &i64| *p >= 1).unwrap_or(1),
            status: status.and_then(OrderStatus::parse),
            q: q.map(str::trim).unwrap_or_default().to_owned(),
            batch_id: batch_id.map(str::trim).filter(|b| !b.is_empty()).map(str::to_owned),
        }
    }

    /// The orders of one import.
    pub fn of_import(batch_id: &str) -> OrderQuery {
        OrderQuery { page: 1, batch_id: Some(batch_id.to_owned()), ..OrderQuery::default() }
    }

    /// The dashboard URL of this view.
    pub fn href(&self) -> String {
        let mut params = Vec::new();
        if let Some(status) = self.status {
            params.push(format!("status={}", status.as_str()));
        }
        if !self.q.is_empty() {
            params.push(format!("q={}", encode(&self.q)));
        }
        if let Some(batch_id) = &self.batch_id {
            params.push(format!("batch_id={}", encode(batch_id)));
        }
        if self.page > 1 {
            params.push(format!("page={}", self.page));
        }
        if params.is_empty() {
            "/orders".to_owned()
        } else {
            format!("/orders?{}", params.join("&"))
        }
    }

    pub fn with_page(&self, page: i64) -> OrderQuery {
        OrderQuery { page, ..self.clone() }
    }

    /// The Order Service's query string for this view.
    fn api_query(&self) -> String {
        let mut query = format!("skip={}&limit={PAGE_SIZE}", (self.page - 1) * PAGE_SIZE);
        if let Some(status) = self.status {
            query.push_str(&format!("&status={}", status.as_str()));
        }
        if !self.q.is_empty() {
            query.push_str(&format!("&q={}", encode(&self.q)));
        }
        if let Some(batch_id) = &self.batch_id {
            query.push_str(&format!("&batch_id={}", encode(batch_id)));
        }
        query
    }
}

/// Percent-encodes a query value (UTF-8), keeping only unreserved characters as they are.
pub fn encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => encoded.push(byte as char),
            _ => encoded.push_str(&format!("%{byte:02X}")),
        }
    }
    encoded
}

pub async fn list(urls: &ServiceUrls, query: &OrderQuery) -> ServiceResult<Page<Order>> {
    fetch::get_page(Service::Orders, urls.url(Service::Orders, &format!("/api/v1/orders/?{}", query.api_query()))).await
}

/// The newest orders, for the overview.
pub async fn recent(urls: &ServiceUrls, count: i64) -> ServiceResult<Vec<Order>> {
    let page: Page<Order> =
        fetch::get_page(Service::Orders, urls.url(Service::Orders, &format!("/api/v1/orders/?limit={count}"))).await?;
    Ok(page.items)
}

pub async fn get(urls: &ServiceUrls, id: i64) -> ServiceResult<Order> {
    fetch::get_json(Service::Orders, urls.url(Service::Orders, &format!("/api/v1/orders/{id}"))).await
}

pub async fn history(urls: &ServiceUrls, id: i64) -> ServiceResult<Vec<StatusChange>> {
    fetch::get_json(Service::Orders, urls.url(Service::Orders, &format!("/api/v1/orders/{id}/history"))).await
}

pub async fn stats(urls: &ServiceUrls) -> ServiceResult<OrderStats> {
    fetch::get_json(Service::Orders, urls.url(Service::Orders, "/api/v1/orders/stats")).await
}

pub async fn create(urls: &ServiceUrls, order: &NewOrder) -> ServiceResult<Order> {
    fetch::send_json(Service::Orders, Method::Post, urls.url(Service::Orders, "/api/v1/orders/"), Some(order)).await
}

/// Moves the order along (shipped, delivered). Cancelling goes through `cancel`.
pub async fn set_status(urls: &ServiceUrls, id: i64, status: OrderStatus) -> ServiceResult<Order> {
    let update = StatusUpdate { status, reason: Some("changed in the dashboard".to_owned()) };
    let url = urls.url(Service::Orders, &format!("/api/v1/orders/{id}/status"));
    fetch::send_json(Service::Orders, Method::Put, url, Some(&update)).await
}

/// Cancels the order; the Order Service refunds it if it was paid.
pub async fn cancel(urls: &ServiceUrls, id: i64) -> ServiceResult<Order> {
    let url = urls.url(Service::Orders, &format!("/api/v1/orders/{id}"));
    fetch::send_json::<(), Order>(Service::Orders, Method::Delete, url, None).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_string_round_trips_through_the_url() {
        let query = OrderQuery::from_params(Some("3"), Some("paid"), Some(" 田中@example "), None);
        assert_eq!(
            query,
            OrderQuery { page: 3, status: Some(OrderStatus::Paid), q: "田中@example".into(), batch_id: None }
        );
        assert_eq!(query.href(), "/orders?status=paid&q=%E7%94%B0%E4%B8%AD%40example&page=3");
        assert_eq!(query.api_query(), "skip=40&limit=20&status=paid&q=%E7%94%B0%E4%B8%AD%40example");
    }

    #[test]
    fn the_import_filter_is_kept_with_the_others() {
        let query = OrderQuery::from_params(Some("2"), Some("paid"), None, Some("01JABC"));
        assert_eq!(query.href(), "/orders?status=paid&batch_id=01JABC&page=2");
        assert_eq!(query.api_query(), "skip=20&limit=20&status=paid&batch_id=01JABC");
        assert_eq!(OrderQuery::of_import("01JABC").href(), "/orders?batch_id=01JABC");
        assert_eq!(
            OrderQuery::from_params(None, None, None, Some(" ")),
            OrderQuery::from_params(None, None, None, None)
        );
    }

    #[test]
    fn a_malformed_query_string_still_shows_the_first_page() {
        for page in [None, Some("0"), Some("-2"), Some("abc"), Some("")] {
            let query = OrderQuery::from_params(page, Some("lost"), None, None);
            assert_eq!(query, OrderQuery { page: 1, ..OrderQuery::default() }, "{page:?}");
            assert_eq!(query.href(), "/orders");
        }
    }
}
