//! Integration tests of the Payment Service over real HTTP, one module per resource.

mod auth;
mod bad_input;
mod batch;
mod helpers;
mod payments;
mod probes;
mod refunds;
mod sweep;
mod webhooks;
