//! The Notification Service, as the dashboard uses it.

use platform::api::notifications::{Notification, NotificationStats, NotificationStatus};

use super::orders::encode;
use super::{fetch, Page, Service, ServiceResult, ServiceUrls};

/// Notifications per page of the notifications list.
pub const PAGE_SIZE: i64 = 25;

pub async fn for_order(urls: &ServiceUrls, order_id: i64) -> ServiceResult<Vec<Notification>> {
    let url = urls.url(Service::Notifications, &format!("/api/v1/notifications/order/{order_id}"));
    fetch::get_json(Service::Notifications, url).await
}

/// One page, newest first, optionally of one delivery status.
pub async fn list(
    urls: &ServiceUrls,
    status: Option<NotificationStatus>,
    page: i64,
) -> ServiceResult<Page<Notification>> {
    let mut query = format!("skip={}&limit={PAGE_SIZE}", (page - 1) * PAGE_SIZE);
    if let Some(status) = status {
        query.push_str(&format!("&status={}", encode(status.as_str())));
    }
    let url = urls.url(Service::Notifications, &format!("/api/v1/notifications/?{query}"));
    fetch::get_page(Service::Notifications, url).await
}

pub async fn stats(urls: &ServiceUrls) -> ServiceResult<NotificationStats> {
    fetch::get_json(Service::Notifications, urls.url(Service::Notifications, "/api/v1/notifications/stats")).await
}
