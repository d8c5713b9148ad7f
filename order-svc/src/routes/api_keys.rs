//! `/api/v1/auth/api-keys`: integrators' keys, managed by administrators. A key is exchanged at
//! `POST /api/v1/auth/token` for access tokens with the key's role.

use axum::extract::State;
use axum::http::StatusCode;
use platform::api::auth::{ApiKey, CreatedApiKey, NewApiKey};
use platform::api::ErrorBody;
use platform::auth::{require, Authorized};
use platform::extract::{Json, Path};
use platform::whole_number::WholeNumber;
use platform::ApiResult;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_api_keys, create_api_key)).routes(routes!(revoke_api_key))
}

/// Every key, revoked ones included (never the keys themselves).
#[utoipa::path(
    get,
    path = "/api/v1/auth/api-keys",
    tag = "api keys",
    security(("bearer" = ["administer"])),
    responses(
        (status = 200, body = [ApiKey]),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
    )
)]
pub async fn list_api_keys(
    State(state): State<AppState>,
    _caller: Authorized<require::Administer>,
) -> ApiResult<Json<Vec<ApiKey>>> {
    Ok(Json(state.identity.list_api_keys().await?))
}

/// A new key with a role: the answer is the only time the key (`sk_…`) is shown.
#[utoipa::path(
    post,
    path = "/api/v1/auth/api-keys",
    tag = "api keys",
    security(("bearer" = ["administer"])),
    request_body = NewApiKey,
    responses(
        (status = 201, body = CreatedApiKey),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn create_api_key(
    State(state): State<AppState>,
    caller: Authorized<require::Administer>,
    Json(new): Json<NewApiKey>,
) -> ApiResult<(StatusCode, Json<CreatedApiKey>)> {
    Ok((StatusCode::CREATED, Json(state.identity.create_api_key(new, &caller.principal).await?)))
}

/// Revoke a key: it can no longer be exchanged for tokens (tokens already issued expire within
/// their five minutes). Revoking twice keeps the first date.
#[utoipa::path(
    delete,
    path = "/api/v1/auth/api-keys/{key_id}",
    tag = "api keys",
    security(("bearer" = ["administer"])),
    params(("key_id" = i64, Path, description = "API key id")),
    responses(
        (status = 200, description = "The revoked key", body = ApiKey),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
pub async fn revoke_api_key(
    State(state): State<AppState>,
    _caller: Authorized<require::Administer>,
    Path(WholeNumber(key_id)): Path<WholeNumber>,
) -> ApiResult<Json<ApiKey>> {
    Ok(Json(state.identity.revoke_api_key(key_id).await?))
}
