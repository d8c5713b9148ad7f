//! One module per page of the dashboard (the routes are in `App`).

mod new_order;
mod not_found;
mod notifications;
mod order_detail;
mod orders;
mod overview;

pub use new_order::NewOrderPage;
pub use not_found::NotFound;
pub use notifications::NotificationsPage;
pub use order_detail::OrderDetailPage;
pub use orders::OrdersPage;
pub use overview::Overview;
