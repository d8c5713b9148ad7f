//! The SQL of the service, one function per query. Rows are mapped to the wire types here so
//! the handlers never see a column.

pub mod gateway_events;
pub mod payments;
pub mod refunds;

pub use platform::db::is_unique_violation;
