//! The JSON contracts between the services, and between the services and the dashboard.
//!
//! One definition per shape: the Payment Service's handler and the Order Service's payment
//! client read and write the very same struct, so the two cannot drift apart.

pub mod auth;
pub mod imports;
pub mod notifications;
pub mod orders;
pub mod payments;

use serde::{Deserialize, Serialize};

/// The error body of every 4xx and 5xx answer (000 §7.2).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub detail: String,
}

/// Name of the header that carries the request id across services.
pub const REQUEST_ID_HEADER: &str = "x-request-id";
/// Name of the header that makes a POST safe to retry.
pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";
/// Name of the header that carries the total of a paginated list.
pub const TOTAL_COUNT_HEADER: &str = "x-total-count";
