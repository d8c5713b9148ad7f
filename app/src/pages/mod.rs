//! One module per page of the dashboard (the routes are in `App`).

mod admin;
mod import_detail;
mod imports;
mod invite;
mod login;
mod new_order;
mod not_found;
mod notifications;
mod order_detail;
mod orders;
mod overview;

pub use admin::AdminPage;
pub use import_detail::ImportDetailPage;
pub use imports::ImportsPage;
pub use invite::InvitePage;
pub use login::LoginPage;
pub use new_order::NewOrderPage;
pub use not_found::NotFound;
pub use notifications::NotificationsPage;
pub use order_detail::OrderDetailPage;
pub use orders::OrdersPage;
pub use overview::Overview;
