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
/// Longest `Idempotency-Key`, in characters.
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 200;

/// The rule of an `Idempotency-Key` (`extract::IdempotencyKey`): 1 ..= 200 visible ASCII
/// characters and spaces, not only spaces; `null` or left out where it is optional in a body.
pub fn idempotency_key_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
            utoipa::openapi::schema::Type::String,
            utoipa::openapi::schema::Type::Null,
        ]))
        .min_length(Some(1))
        .max_length(Some(MAX_IDEMPOTENCY_KEY_LEN))
        .pattern(Some("^[ -~]*[!-~][ -~]*$"))
        .build()
}

/// The items of a batch body, 1 ..= `max`: each is read and checked on its own, as the single
/// request it stands for would be, and refused in its own result if it breaks a rule — so an
/// item is "a `component`, or any other object" (only an item that is no object at all, or a
/// wrong number of items, refuses the whole batch).
pub fn batch_items_schema(component: &str, max: usize) -> utoipa::openapi::Array {
    use utoipa::openapi::schema::{AnyOfBuilder, ArrayBuilder, ObjectBuilder, Type};
    let item = AnyOfBuilder::new()
        .item(utoipa::openapi::Ref::from_schema_name(component))
        .item(ObjectBuilder::new().schema_type(Type::Object))
        .description(Some(format!("A {component}; another object is refused in its own result")));
    ArrayBuilder::new().items(item).min_items(Some(1)).max_items(Some(max)).build()
}
