//! `Authorized<P>`: the one extractor every secured handler of every service starts with.
//!
//! It reads `Authorization: Bearer <token>`, verifies the token with the service's
//! `TokenVerifier` (taken from the router's state), and checks that the caller holds the
//! permission `P`: a missing or invalid token is 401, a valid one without the permission 403.
//! As the first argument of a handler it runs before the body is read, so an unauthorised
//! caller learns nothing about what the body should have been.

use std::marker::PhantomData;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::claims::Principal;
use super::verifier::{TokenError, TokenVerifier};
use crate::api::auth::Permission;
use crate::error::ApiError;

/// A permission as a type, so that a handler's signature says what it needs.
pub trait Requirement: Send + Sync + 'static {
    const PERMISSION: Permission;
}

/// The permissions of `platform::api::auth::Permission`, one type each.
pub mod require {
    use super::Requirement;
    use crate::api::auth::Permission;

    macro_rules! requirement {
        ($($(#[$doc:meta])* $name:ident => $permission:ident),* $(,)?) => {$(
            $(#[$doc])*
            #[derive(Debug, Clone, Copy)]
            pub struct $name;
            impl Requirement for $name {
                const PERMISSION: Permission = Permission::$permission;
            }
        )*};
    }

    requirement! {
        /// Read anything.
        Read => Read,
        /// Create, ship, deliver, cancel orders; run imports.
        ManageOrders => ManageOrders,
        /// Queue notifications.
        SendNotifications => SendNotifications,
        /// Take a payment directly.
        TakePayments => TakePayments,
        /// Refund a payment.
        Refund => Refund,
        /// Users, API keys, signing keys.
        Administer => Administer,
    }
}

/// A caller holding the permission `P`.
#[derive(Debug, Clone)]
pub struct Authorized<P> {
    pub principal: Principal,
    permission: PhantomData<P>,
}

impl<S, P> FromRequestParts<S> for Authorized<P>
where
    S: Send + Sync,
    TokenVerifier: FromRef<S>,
    P: Requirement,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let token = bearer_token(parts)?;
        let verifier = TokenVerifier::from_ref(state);
        let claims = verifier.verify(token).await.map_err(rejection)?;
        let principal = Principal::from_claims(&claims)
            .ok_or_else(|| ApiError::Unauthorized("access token is not valid: unknown subject or role".into()))?;
        if !principal.may(P::PERMISSION) {
            return Err(ApiError::Forbidden(format!(
                "{} does not have the '{}' permission this needs",
                principal.describe(),
                P::PERMISSION.as_str()
            )));
        }
        Ok(Authorized { principal, permission: PhantomData })
    }
}

/// The token of `Authorization: Bearer <token>` (the scheme in any case, as RFC 9110 allows).
pub fn bearer_token(parts: &Parts) -> Result<&str, ApiError> {
    let missing = || ApiError::Unauthorized("missing credentials: send Authorization: Bearer <access token>".into());
    let value = parts.headers.get(AUTHORIZATION).ok_or_else(missing)?;
    let text = value.to_str().map_err(|_| missing())?;
    let (scheme, token) = text.split_once(' ').ok_or_else(missing)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(missing());
    }
    Ok(token.trim())
}

/// How a refused token is answered.
pub fn rejection(err: TokenError) -> ApiError {
    match err {
        TokenError::KeysUnavailable => ApiError::Unavailable(err.to_string()),
        other => ApiError::Unauthorized(other.to_string()),
    }
}
