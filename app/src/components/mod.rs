//! Pieces every page uses: the frame with its navigation, status badges, the loading, empty
//! and error states, the pager, the timer that keeps live pages fresh and the title of a page
//! named by its route; and the import panel that both import pages show.

mod badges;
mod feedback;
mod import_panel;
mod layout;
mod notification_entry;
mod pager;
mod refresh;
mod route_title;

pub use badges::{order_status_label, template_label, ImportStatusBadge, NotificationStatusBadge, OrderStatusBadge};
pub use feedback::{Empty, Loading, ServiceProblem};
pub use import_panel::{notify_mode_label, ImportPanel};
pub use layout::Layout;
pub use notification_entry::NotificationEntry;
pub use pager::Pager;
pub use refresh::use_refresh;
pub use route_title::RouteTitle;
