//! `GET /api/v1/notifications/templates`: the template catalogue.

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use platform::api::notifications::Template;
use platform::extract::Json;
use platform::ApiResult;

use super::AppState;
use crate::db;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/notifications/templates", get(list))
        .route("/api/v1/notifications/templates/", get(list))
}

/// Lists the templates, one row per template and channel.
#[utoipa::path(
    get,
    path = "/api/v1/notifications/templates",
    tag = "notifications",
    responses((status = 200, description = "The templates", body = [Template]))
)]
pub async fn list(State(state): State<AppState>) -> ApiResult<Json<Vec<Template>>> {
    let rows = db::templates::list(&state.db.read).await?;
    let templates = rows.into_iter().map(Template::try_from).collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Json(templates))
}
