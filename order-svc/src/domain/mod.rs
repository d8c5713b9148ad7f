//! The Order Service's rules, free of I/O: what a valid new order is, which status changes
//! are allowed and what each one sets in motion, and the rules of identity (secrets,
//! passwords, sign-in throttling). Everything here is unit-tested in place.

pub mod idempotency;
pub mod identity;
pub mod import;
pub mod import_file;
pub mod keys;
pub mod status;

// The rules of a new order are shared with the dashboard, so they live in `platform`.
pub use platform::new_order::{InvalidOrder, StatusReason, ValidItem, ValidOrder};
pub use status::{Effect, IllegalTransition, PaymentEventAction, PaymentEventConflict};
