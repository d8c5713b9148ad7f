//! The payment rules, free of HTTP and SQL: which inputs are acceptable (parsed into types
//! that cannot hold a bad value) and which status changes are allowed.

pub mod input;
pub mod status;

pub use input::{Note, OrderId, PaymentAmount};
pub use status::{refundable, settle, Settlement, Verdict};
