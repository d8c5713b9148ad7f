//! `/api/v1/auth`: signing in and out, refreshing a session, exchanging an API key for a
//! token, who am I, accepting an invitation, rotating the signing key — and the public keys
//! at `/.well-known/jwks.json`. Sign-in, refresh, logout, token and the invitation are
//! public: they are how a caller gets credentials in the first place.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use platform::api::auth::{
    AcceptInvitation, AccessGrant, Identity, LoginRequest, RefreshRequest, SessionGrant, SigningKeyInfo, TokenRequest,
};
use platform::api::ErrorBody;
use platform::auth::{require, Authorized, JwkSet};
use platform::extract::Json;
use platform::ApiResult;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use crate::domain::identity::client_address;
use crate::identity::keys;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(refresh))
        .routes(routes!(logout))
        .routes(routes!(token))
        .routes(routes!(me))
        .routes(routes!(accept_invitation))
        .routes(routes!(rotate_signing_key))
        .routes(routes!(jwks))
}

/// Sign in with an e-mail address and a password. Opens a session: the refresh token gets new
/// access tokens until the session ends.
///
/// Refused attempts count per account and per client address: past the limit (5 per account,
/// 20 per address in 15 minutes by default), attempts are answered 429 with `Retry-After`
/// until the window ends. The answer takes as long whether or not the account exists.
#[utoipa::path(
    post,
    path = "/api/v1/auth/login",
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = SessionGrant),
        (status = 401, description = "Wrong e-mail address or password", body = ErrorBody),
        (status = 422, description = "Malformed body", body = ErrorBody),
        (status = 429, description = "Too many failed attempts; see Retry-After", body = ErrorBody),
    )
)]
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Json(body): Json<LoginRequest>,
) -> ApiResult<Json<SessionGrant>> {
    let forwarded_for = headers.get("x-forwarded-for").and_then(|value| value.to_str().ok());
    let address = client_address(peer.ip(), forwarded_for, &state.trusted_proxies);
    let identity = state.identity.clone();
    // Detached, so that a client hanging up cannot cut a failure short of being counted.
    let grant =
        platform::telemetry::run_to_completion(
            async move { identity.sign_in(&body.email, &body.password, address).await },
        )
        .await??;
    Ok(Json(grant))
}

/// A new access token for a live session.
#[utoipa::path(
    post,
    path = "/api/v1/auth/refresh",
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new access token", body = AccessGrant),
        (status = 401, description = "The session has ended", body = ErrorBody),
        (status = 422, description = "Malformed body", body = ErrorBody),
    )
)]
pub async fn refresh(State(state): State<AppState>, Json(body): Json<RefreshRequest>) -> ApiResult<Json<AccessGrant>> {
    Ok(Json(state.identity.refresh(&body.refresh_token).await?))
}

/// End a session (sign out). Answers 204 for an unknown or ended session too.
#[utoipa::path(
    post,
    path = "/api/v1/auth/logout",
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 204, description = "The session has ended"),
        (status = 422, description = "Malformed body", body = ErrorBody),
    )
)]
pub async fn logout(State(state): State<AppState>, Json(body): Json<RefreshRequest>) -> ApiResult<StatusCode> {
    state.identity.sign_out(&body.refresh_token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Exchange an integrator's API key for an access token (five minutes; ask again for more).
#[utoipa::path(
    post,
    path = "/api/v1/auth/token",
    tag = "auth",
    request_body = TokenRequest,
    responses(
        (status = 200, description = "An access token with the key's role", body = AccessGrant),
        (status = 401, description = "Unknown or revoked key", body = ErrorBody),
        (status = 422, description = "Malformed body", body = ErrorBody),
    )
)]
pub async fn token(State(state): State<AppState>, Json(body): Json<TokenRequest>) -> ApiResult<Json<AccessGrant>> {
    Ok(Json(state.identity.exchange_api_key(body.api_key.trim()).await?))
}

/// Who the token speaks for.
#[utoipa::path(
    get,
    path = "/api/v1/auth/me",
    tag = "auth",
    security(("bearer" = ["read"])),
    responses(
        (status = 200, description = "The caller", body = Identity),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "A service token", body = ErrorBody),
    )
)]
pub async fn me(State(state): State<AppState>, caller: Authorized<require::Read>) -> ApiResult<Json<Identity>> {
    Ok(Json(state.identity.describe(&caller.principal).await?))
}

/// Set the password of an invited account with the invitation's token. The token is then used
/// up; sign in with the new password.
#[utoipa::path(
    post,
    path = "/api/v1/auth/invitations/accept",
    tag = "auth",
    request_body = AcceptInvitation,
    responses(
        (status = 204, description = "The password is set"),
        (status = 404, description = "No such invitation: unknown, used already or expired", body = ErrorBody),
        (status = 422, description = "Password too short or too long, or a malformed body", body = ErrorBody),
    )
)]
pub async fn accept_invitation(
    State(state): State<AppState>,
    Json(body): Json<AcceptInvitation>,
) -> ApiResult<StatusCode> {
    state.identity.accept_invitation(body.token.trim(), &body.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Rotate the token signing key: new tokens are signed with a new key; tokens signed with the
/// previous one stay valid until they expire, and its public key stays published meanwhile.
#[utoipa::path(
    post,
    path = "/api/v1/auth/signing-keys",
    tag = "auth",
    security(("bearer" = ["administer"])),
    responses(
        (status = 201, description = "The new key", body = SigningKeyInfo),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an administrator", body = ErrorBody),
    )
)]
pub async fn rotate_signing_key(
    State(state): State<AppState>,
    _caller: Authorized<require::Administer>,
) -> ApiResult<(StatusCode, Json<SigningKeyInfo>)> {
    Ok((StatusCode::CREATED, Json(state.identity.rotate_signing_key().await?)))
}

/// The public keys tokens are signed with (a JSON Web Key Set, RFC 7517): what every service
/// verifies tokens with.
#[utoipa::path(
    get,
    path = "/.well-known/jwks.json",
    tag = "auth",
    responses((status = 200, description = "The key set", body = Object))
)]
pub async fn jwks(State(state): State<AppState>) -> ApiResult<Json<JwkSet>> {
    Ok(Json(keys::published(&state.core.db, state.identity.access_ttl()).await?))
}
