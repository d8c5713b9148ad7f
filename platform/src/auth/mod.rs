//! Who is calling, and may they: the bearer tokens of the platform, checked the same way in
//! all three services.
//!
//! The Order Service is the one issuer (`issuer`, behind the `issuer` feature, which only it
//! enables): it signs short-lived EdDSA tokens and publishes its public keys. Every service
//! checks tokens with those public keys only (`verifier`), so the Payment and Notification
//! Services can verify but never mint. A handler states what it needs with one extractor,
//! `Authorized<P>` (`extract`), whose permission `P` is also what its OpenAPI operation
//! declares; the route-table tests hold the two together.
//!
//! Tokens are read from the `Authorization` header only — never from a cookie, so the
//! services have no cross-site request forgery surface.

mod claims;
mod extract;
#[cfg(feature = "issuer")]
pub mod issuer;
mod verifier;

pub use claims::{Claims, Principal, ROLE_SERVICE};
pub use extract::{bearer_token, rejection, require, Authorized, Requirement};
pub use jsonwebtoken::jwk::JwkSet;
pub use verifier::{JwksEndpoint, KeySource, PublicKeys, StaticKeys, TokenError, TokenVerifier};
