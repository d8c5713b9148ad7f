//! Drop-in replacements for axum's `Json`, `Query` and `Path` whose rejections are
//! `ApiError`s, so a malformed request gets the same `{"detail": ...}` body as every other
//! error instead of axum's plain text.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

#[derive(Debug, Clone, Copy, Default, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

impl<T: serde::Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

#[derive(Debug, Clone, Copy, Default, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

#[derive(Debug, Clone, Copy, Default, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::MissingJsonContentType(_) => ApiError::Status(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "expected a request body with Content-Type: application/json".into(),
            ),
            JsonRejection::JsonSyntaxError(err) => {
                ApiError::Unprocessable(format!("malformed JSON: {}", source_text(&err)))
            }
            JsonRejection::JsonDataError(err) => {
                ApiError::Unprocessable(format!("invalid request body: {}", source_text(&err)))
            }
            JsonRejection::BytesRejection(err) => ApiError::Status(err.status(), err.body_text()),
            other => ApiError::Status(other.status(), other.body_text()),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        let text = match &rejection {
            QueryRejection::FailedToDeserializeQueryString(err) => source_text(err),
            other => other.body_text(),
        };
        ApiError::Unprocessable(format!("invalid query string: {text}"))
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        match rejection {
            PathRejection::FailedToDeserializePathParams(err) => {
                ApiError::Unprocessable(format!("invalid path: {}", err.body_text()))
            }
            other => ApiError::Status(other.status(), other.body_text()),
        }
    }
}

/// axum's own text starts with a generic prefix; the innermost cause is what a client needs.
fn source_text(err: &dyn std::error::Error) -> String {
    let mut cause = err;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    cause.to_string()
}
