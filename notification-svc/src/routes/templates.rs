//! `GET /api/v1/notifications/templates`: the template catalogue.

use axum::extract::State;
use axum::routing::get;
use platform::api::notifications::Template;
use platform::api::ErrorBody;
use platform::auth::{require, Authorized};
use platform::extract::Json;
use platform::openapi::Alias;
use platform::ApiResult;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use crate::db;

/// The spelling `router` also answers under, with the trailing slash.
pub const ALIASES: &[Alias] =
    &[Alias { path: "/api/v1/notifications/templates/", of: "/api/v1/notifications/templates", method: "get" }];

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list)).route("/api/v1/notifications/templates/", get(list))
}

/// Lists the templates, one row per template and channel.
#[utoipa::path(
    get,
    path = "/api/v1/notifications/templates",
    tag = "notifications",
    security(("bearer" = ["read"])),
    responses(
        (status = 200, description = "The templates", body = [Template]),
        (status = 401, description = "No valid token", body = ErrorBody),
    )
)]
pub async fn list(State(state): State<AppState>, _caller: Authorized<require::Read>) -> ApiResult<Json<Vec<Template>>> {
    let rows = db::templates::list(&state.db.read).await?;
    let templates = rows.into_iter().map(Template::try_from).collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Json(templates))
}
