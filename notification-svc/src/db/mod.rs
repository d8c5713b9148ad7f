//! The SQL of the Notification Service, one function per query.

pub mod notifications;
pub mod templates;
