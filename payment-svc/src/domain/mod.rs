//! The payment rules, free of SQL and of request handling: which inputs are acceptable
//! (parsed into types that cannot hold a bad value), what a payment request comes to, and
//! which status changes are allowed. A refusal is an `ApiError`, because which status it
//! answers is itself one of the rules the single and the batch endpoint share.

pub mod gateway_signature;
pub mod input;
pub mod payment;
pub mod status;

pub use input::{Note, OrderId, PaymentAmount};
pub use payment::{check_batch_size, verdict_of, PaymentOutcome, PaymentRequest};
pub use status::{refundable, settle, Settlement, Verdict};
