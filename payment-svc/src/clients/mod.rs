//! Typed clients for the peers this service calls (only the Order Service).

pub mod orders;

pub use orders::OrderClient;
