//! `ApiError`: the one error type of every service's HTTP layer.
//!
//! It decides, in one place, the status and the `{"detail": ...}` body of every failure.
//! Internal causes (SQL, I/O, a peer's garbage) are logged with their context and never sent
//! to the client, who gets a 500 with a generic detail instead.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::api::ErrorBody;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is well-formed JSON of the wrong shape or with invalid fields (422).
    #[error("{0}")]
    Unprocessable(String),
    /// A business rule refuses the request (400).
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    /// The request conflicts with the current state: duplicate, illegal transition (409).
    #[error("{0}")]
    Conflict(String),
    /// No usable credentials (401): sent with `WWW-Authenticate: Bearer`.
    #[error("{0}")]
    Unauthorized(String),
    /// Valid credentials without the permission this needs (403).
    #[error("{0}")]
    Forbidden(String),
    /// Too many attempts (429): sent with `Retry-After`.
    #[error("{detail}")]
    TooManyRequests { detail: String, retry_after_secs: u64 },
    /// Any other 4xx with its own status (415 wrong content type, 413 too large, 405 …).
    #[error("{1}")]
    Status(StatusCode, String),
    /// A dependency (database, peer service) is unavailable right now (503).
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Status(status, _) => *status,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn not_found(what: &str, id: impl std::fmt::Display) -> ApiError {
        ApiError::NotFound(format!("{what} {id} not found"))
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::PoolTimedOut => ApiError::Unavailable("database is busy, try again".into()),
            _ => ApiError::Internal(anyhow::Error::new(err).context("database error")),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let detail = match &self {
            ApiError::Internal(cause) => {
                tracing::error!(error = ?cause, "internal error");
                "internal server error".to_owned()
            }
            other => {
                if status.is_server_error() {
                    tracing::warn!(%status, detail = %other, "request failed");
                }
                other.to_string()
            }
        };
        let mut response = (status, axum::Json(ErrorBody { detail })).into_response();
        match &self {
            ApiError::Unauthorized(_) => {
                response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            ApiError::TooManyRequests { retry_after_secs, .. } => {
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            }
            _ => {}
        }
        response
    }
}

/// `Result` with the service error.
pub type ApiResult<T> = Result<T, ApiError>;
