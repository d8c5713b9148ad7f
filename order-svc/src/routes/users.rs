//! `/api/v1/auth/users`: the people who sign in, managed by administrators — invite, change
//! the name or role, disable or enable, and issue a new invitation link.

use axum::extract::State;
use axum::http::StatusCode;
use platform::api::auth::{InvitedUser, NewUser, User, UserUpdate};
use platform::api::ErrorBody;
use platform::auth::{require, Authorized};
use platform::extract::{Json, Path};
use platform::whole_number::WholeNumber;
use platform::ApiResult;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, invite_user))
        .routes(routes!(update_user))
        .routes(routes!(reinvite_user))
}

/// Every account, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/auth/users",
    tag = "users",
    security(("bearer" = ["administer"])),
    responses(
        (status = 200, body = [User]),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
    )
)]
pub async fn list_users(
    State(state): State<AppState>,
    _caller: Authorized<require::Administer>,
) -> ApiResult<Json<Vec<User>>> {
    Ok(Json(state.identity.list_users().await?))
}

/// Invite a person: the answer holds the invitation's token (shown once), with which they set
/// their password (the dashboard's link `/invite?token=…`).
#[utoipa::path(
    post,
    path = "/api/v1/auth/users",
    tag = "users",
    security(("bearer" = ["administer"])),
    request_body = NewUser,
    responses(
        (status = 201, body = InvitedUser),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 409, description = "The e-mail address has an account already", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn invite_user(
    State(state): State<AppState>,
    _caller: Authorized<require::Administer>,
    Json(new): Json<NewUser>,
) -> ApiResult<(StatusCode, Json<InvitedUser>)> {
    Ok((StatusCode::CREATED, Json(state.identity.invite(new).await?)))
}

/// Change an account's name, role or disabled mark (only the fields given). Disabling ends the
/// account's sessions. Nobody disables their own account, and the last administrator cannot be
/// demoted or disabled (409).
#[utoipa::path(
    patch,
    path = "/api/v1/auth/users/{user_id}",
    tag = "users",
    security(("bearer" = ["administer"])),
    params(("user_id" = i64, Path, description = "User id")),
    request_body = UserUpdate,
    responses(
        (status = 200, body = User),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn update_user(
    State(state): State<AppState>,
    caller: Authorized<require::Administer>,
    Path(WholeNumber(user_id)): Path<WholeNumber>,
    Json(update): Json<UserUpdate>,
) -> ApiResult<Json<User>> {
    Ok(Json(state.identity.update_user(user_id, update, &caller.principal).await?))
}

/// A new invitation link for the account (a lost link, or a reset password): its current
/// password stops working and its sessions end until the new link is used.
#[utoipa::path(
    post,
    path = "/api/v1/auth/users/{user_id}/invitation",
    tag = "users",
    security(("bearer" = ["administer"])),
    params(("user_id" = i64, Path, description = "User id")),
    responses(
        (status = 201, body = InvitedUser),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "The account is disabled", body = ErrorBody),
    )
)]
pub async fn reinvite_user(
    State(state): State<AppState>,
    _caller: Authorized<require::Administer>,
    Path(WholeNumber(user_id)): Path<WholeNumber>,
) -> ApiResult<(StatusCode, Json<InvitedUser>)> {
    Ok((StatusCode::CREATED, Json(state.identity.reinvite(user_id).await?)))
}
