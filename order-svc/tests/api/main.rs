//! Integration tests of the Order Service, which are also the platform's cross-service tests:
//! every test starts the Order, Payment and Notification services in-process (see `helpers`)
//! and drives them over real HTTP.

mod auth;
mod bad_input;
mod cancellation;
mod contract;
mod helpers;
mod housekeeping;
mod idempotency;
mod imports;
mod listing;
mod migrations;
mod observability;
mod orders;
mod payment_failures;
mod reconciliation;
mod resilience;
mod status;
mod webhook;
