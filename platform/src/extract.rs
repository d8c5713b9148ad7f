//! Drop-in replacements for axum's `Json`, `Query` and `Path` whose rejections are
//! `ApiError`s, so a malformed request gets the same `{"detail": ...}` body as every other
//! error instead of axum's plain text.

use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, MissingJsonContentType, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// A JSON request body that must be an object. serde's derived structs would also accept an
/// array of the fields in order (`[1, 1000]` as a payment), which no client means to send.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        if !has_json_content_type(request.headers()) {
            return Err(JsonRejection::from(MissingJsonContentType::default()).into());
        }
        let bytes =
            Bytes::from_request(request, state).await.map_err(|err| ApiError::Status(err.status(), err.body_text()))?;
        object_of(&bytes).map(Json)
    }
}

/// A JSON object read from raw bytes, with the same refusals as `Json` (for a handler that
/// must look at the bytes first, such as a signed webhook).
pub fn json_object<T: serde::de::DeserializeOwned>(
    headers: &axum::http::HeaderMap,
    bytes: &[u8],
) -> Result<T, ApiError> {
    if !has_json_content_type(headers) {
        return Err(JsonRejection::from(MissingJsonContentType::default()).into());
    }
    object_of(bytes)
}

fn object_of<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => {}
        Some(_) => return Err(ApiError::Unprocessable("request body must be a JSON object".into())),
        None => return Err(ApiError::Unprocessable("request body is empty; expected a JSON object".into())),
    }
    let axum::Json(value) = axum::Json::<T>::from_bytes(bytes)?;
    Ok(value)
}

/// Whether the headers say the body is JSON (`application/json` or `application/…+json`).
pub fn has_json_content_type(headers: &axum::http::HeaderMap) -> bool {
    let Some(content_type) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

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

/// The `Idempotency-Key` a caller sends so that its retries create nothing new: 1 ..= 200
/// visible ASCII characters. Every service that honours the header reads it through here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub const MAX_LEN: usize = crate::api::MAX_IDEMPOTENCY_KEY_LEN;

    /// `None` when the header is absent. A present but unusable header is refused rather than
    /// ignored: ignoring it would silently turn a retry into a duplicate.
    pub fn from_headers(headers: &axum::http::HeaderMap) -> Result<Option<IdempotencyKey>, ApiError> {
        let Some(value) = headers.get(crate::api::IDEMPOTENCY_KEY_HEADER) else {
            return Ok(None);
        };
        let text =
            value.to_str().map_err(|_| ApiError::Unprocessable("Idempotency-Key must be visible ASCII text".into()))?;
        IdempotencyKey::parse(text).map(Some)
    }

    pub fn parse(text: &str) -> Result<IdempotencyKey, ApiError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(ApiError::Unprocessable("Idempotency-Key must not be empty".into()));
        }
        if text.len() > Self::MAX_LEN {
            return Err(ApiError::Unprocessable(format!(
                "Idempotency-Key must be at most {} characters",
                Self::MAX_LEN
            )));
        }
        if !text.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
            return Err(ApiError::Unprocessable("Idempotency-Key must be visible ASCII text".into()));
        }
        Ok(IdempotencyKey(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The JSON Schema of the header: `api::idempotency_key_schema` without its `null` (a
    /// header is a string or absent). `openapi::complete` gives it to every `Idempotency-Key`
    /// parameter.
    pub fn schema() -> serde_json::Value {
        let mut schema = serde_json::to_value(crate::api::idempotency_key_schema()).unwrap_or_default();
        schema["type"] = serde_json::json!("string");
        schema
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use axum::routing::post;
    use axum::Router;
    use tower::ServiceExt;

    use super::Json;

    #[derive(serde::Deserialize)]
    struct Pair {
        #[allow(dead_code)]
        a: i64,
        #[allow(dead_code)]
        b: i64,
    }

    async fn status_of(content_type: Option<&str>, body: &'static str) -> StatusCode {
        let app = Router::new().route("/", post(|Json(_): Json<Pair>| async { "ok" }));
        let mut request = Request::post("/");
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        app.oneshot(request.body(Body::from(body)).unwrap()).await.unwrap().status()
    }

    #[tokio::test]
    async fn only_a_json_object_of_the_right_shape_is_accepted() {
        assert_eq!(status_of(Some("application/json"), r#"{"a":1,"b":2}"#).await, StatusCode::OK);
        assert_eq!(status_of(Some("application/json; charset=utf-8"), r#"{"a":1,"b":2}"#).await, StatusCode::OK);
        assert_eq!(status_of(Some("application/json"), "[1, 2]").await, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(status_of(Some("application/json"), "").await, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(status_of(Some("application/json"), r#"{"a":1"#).await, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(status_of(Some("application/json"), r#"{"a":"x","b":2}"#).await, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(status_of(Some("text/plain"), r#"{"a":1,"b":2}"#).await, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(status_of(None, r#"{"a":1,"b":2}"#).await, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }

    #[test]
    fn idempotency_keys_are_one_to_two_hundred_visible_characters() {
        use super::IdempotencyKey;
        assert_eq!(IdempotencyKey::parse(" order-1-payment ").unwrap().as_str(), "order-1-payment");
        assert!(IdempotencyKey::parse(&"k".repeat(200)).is_ok());
        assert!(IdempotencyKey::parse(&"k".repeat(201)).is_err());
        assert!(IdempotencyKey::parse("   ").is_err());
        assert!(IdempotencyKey::parse("tab\there").is_err());
        let mut headers = axum::http::HeaderMap::new();
        assert_eq!(IdempotencyKey::from_headers(&headers).unwrap(), None);
        headers.insert("idempotency-key", "abc".parse().unwrap());
        assert_eq!(IdempotencyKey::from_headers(&headers).unwrap().unwrap().as_str(), "abc");
    }
}
