//! The dashboard server's own side of signing in (server only): the session cookie, the three
//! endpoints that use it, and the guard in front of every page.
//!
//! - `POST /session/login` (the sign-in form): signs in at the Order Service, sets the session
//!   cookie — the refresh token, `HttpOnly`, `SameSite=Strict`, on this origin only — and goes
//!   back to the page that asked for it.
//! - `POST /session/token`: an access token for the browser's memory, from the cookie.
//! - `POST /session/logout` (the sign-out button): ends the session and clears the cookie.
//!
//! All three refuse a request whose `Origin` is not this site (the cookie would otherwise be
//! usable by another site's form). The services themselves never see the cookie: they accept
//! only the `Authorization` header.
//!
//! Every page render first turns the cookie into an access token (a refresh at the Order
//! Service, so that a session ended elsewhere ends here at the next page) and puts it into the
//! request as `SignedIn`; without a session the browser is sent to `/login`. While the Order
//! Service cannot be reached, the last access token of the session is used until it expires.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Form, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Json, Router};
use platform::api::auth::{AccessGrant, LoginRequest, RefreshRequest, SessionGrant};
use platform::api::ErrorBody;
use serde::Deserialize;

use crate::api::orders::encode;
use crate::api::session::{safe_next, SignedIn};

/// The session cookie.
const COOKIE: &str = "om_session";
/// How long before its expiry a remembered access token is no longer handed out.
const EXPIRY_MARGIN: Duration = Duration::from_secs(5);
/// Remembered access tokens at most (one per live session of this server).
const REMEMBERED_LIMIT: usize = 10_000;

/// The paths a request without a session may see.
fn is_public(path: &str) -> bool {
    path == "/login" || path == "/invite" || path.starts_with("/session/") || path.starts_with("/pkg/")
}

#[derive(Clone)]
pub struct SessionSettings {
    inner: Arc<Inner>,
}

struct Inner {
    auth_url: String,
    http: reqwest::Client,
    /// `Secure` on the cookie: required when the dashboard is served over HTTPS.
    secure_cookie: bool,
    /// The last access token of each session (by cookie), for when the Order Service is down.
    remembered: Mutex<HashMap<String, (AccessGrant, Instant)>>,
}

/// How a session could not be turned into an access token.
enum Refusal {
    /// The session has ended (signed out, expired, disabled).
    Ended,
    /// The Order Service did not answer.
    Unreachable,
}

impl SessionSettings {
    pub fn new(order_service_url: &str, secure_cookie: bool) -> SessionSettings {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(1))
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap_or_default();
        SessionSettings {
            inner: Arc::new(Inner {
                auth_url: format!("{}/api/v1/auth", order_service_url.trim_end_matches('/')),
                http,
                secure_cookie,
                remembered: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// An access token for the session `cookie`: a fresh one from the Order Service, or, if it
    /// cannot be reached, the last one while it lasts.
    async fn access(&self, cookie: &str) -> Result<AccessGrant, Refusal> {
        let answer = self
            .inner
            .http
            .post(format!("{}/refresh", self.inner.auth_url))
            .json(&RefreshRequest { refresh_token: cookie.to_owned() })
            .send()
            .await;
        match answer {
            Ok(response) if response.status().is_success() => {
                let grant: AccessGrant = response.json().await.map_err(|_| Refusal::Unreachable)?;
                self.remember(cookie, &grant);
                Ok(grant)
            }
            Ok(response) if response.status() == StatusCode::UNAUTHORIZED => {
                self.forget(cookie);
                Err(Refusal::Ended)
            }
            _ => {
                let remembered = self.lock().get(cookie).filter(|(_, until)| *until > Instant::now()).cloned();
                remembered.map(|(grant, _)| grant).ok_or(Refusal::Unreachable)
            }
        }
    }

    fn remember(&self, cookie: &str, grant: &AccessGrant) {
        let lifetime = Duration::from_secs(u64::try_from(grant.expires_in).unwrap_or(0));
        let until = Instant::now() + lifetime.saturating_sub(EXPIRY_MARGIN);
        let mut remembered = self.lock();
        if remembered.len() >= REMEMBERED_LIMIT {
            let now = Instant::now();
            remembered.retain(|_, (_, until)| *until > now);
        }
        remembered.insert(cookie.to_owned(), (grant.clone(), until));
    }

    fn forget(&self, cookie: &str) {
        self.lock().remove(cookie);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (AccessGrant, Instant)>> {
        self.inner.remembered.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn session_cookie(&self, value: &str, max_age_secs: i64) -> HeaderValue {
        let secure = if self.inner.secure_cookie { "; Secure" } else { "" };
        let cookie = format!("{COOKIE}={value}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age_secs}{secure}");
        HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static("om_session=; Max-Age=0"))
    }
}

/// The three endpoints under `/session`.
pub fn routes(settings: SessionSettings) -> Router {
    Router::new()
        .route("/session/login", post(login))
        .route("/session/token", post(token))
        .route("/session/logout", post(logout))
        .with_state(settings)
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    email: String,
    password: String,
    next: Option<String>,
}

async fn login(
    State(settings): State<SessionSettings>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    if let Err(refused) = same_origin(&headers) {
        return *refused;
    }
    let next = safe_next(form.next.as_deref());
    let back = |query: &str| Redirect::to(&format!("/login?{query}&next={}", encode(&next))).into_response();
    let answer = settings
        .inner
        .http
        .post(format!("{}/login", settings.inner.auth_url))
        // The Order Service throttles failed sign-ins per address: the browser's, not ours.
        .header("x-forwarded-for", peer.ip().to_string())
        .json(&LoginRequest { email: form.email.trim().to_owned(), password: form.password })
        .send()
        .await;
    let response = match answer {
        Ok(response) => response,
        Err(_) => return back("error=unavailable"),
    };
    match response.status() {
        StatusCode::OK => {}
        StatusCode::TOO_MANY_REQUESTS => {
            let wait = response.headers().get(header::RETRY_AFTER).and_then(|v| v.to_str().ok()).unwrap_or("60");
            return back(&format!("error=throttled&retry={}", encode(wait)));
        }
        status if status.is_client_error() => return back("error=invalid"),
        _ => return back("error=unavailable"),
    }
    let Ok(grant) = response.json::<SessionGrant>().await else {
        return back("error=unavailable");
    };
    settings.remember(&grant.refresh_token, &grant.access);
    let max_age = (grant.refresh_expires_at - chrono::Utc::now()).num_seconds().max(0);
    let mut response = Redirect::to(&next).into_response();
    response.headers_mut().insert(header::SET_COOKIE, settings.session_cookie(&grant.refresh_token, max_age));
    response
}

async fn token(State(settings): State<SessionSettings>, headers: HeaderMap) -> Response {
    if let Err(refused) = same_origin(&headers) {
        return *refused;
    }
    let Some(cookie) = session_cookie(&headers) else {
        return refusal(StatusCode::UNAUTHORIZED, "not signed in");
    };
    match settings.access(&cookie).await {
        Ok(grant) => {
            let mut response = Json(grant).into_response();
            response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(Refusal::Ended) => {
            let mut response = refusal(StatusCode::UNAUTHORIZED, "the session has ended: sign in again");
            response.headers_mut().insert(header::SET_COOKIE, settings.session_cookie("", 0));
            response
        }
        Err(Refusal::Unreachable) => refusal(StatusCode::SERVICE_UNAVAILABLE, "the Order Service is not answering"),
    }
}

async fn logout(State(settings): State<SessionSettings>, headers: HeaderMap) -> Response {
    if let Err(refused) = same_origin(&headers) {
        return *refused;
    }
    if let Some(cookie) = session_cookie(&headers) {
        settings.forget(&cookie);
        let ended = settings
            .inner
            .http
            .post(format!("{}/logout", settings.inner.auth_url))
            .json(&RefreshRequest { refresh_token: cookie })
            .send()
            .await;
        if ended.is_err() {
            // The cookie goes anyway; the session itself ends at its idle timeout.
            tracing::warn!("the Order Service did not answer the sign-out; the session will time out");
        }
    }
    let mut response = Redirect::to("/login?signed_out=1").into_response();
    response.headers_mut().insert(header::SET_COOKIE, settings.session_cookie("", 0));
    response
}

/// Middleware in front of the pages: a signed-in request goes on with `SignedIn`; one without
/// a live session is sent to the sign-in page.
pub async fn guard(State(settings): State<SessionSettings>, mut request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    if is_public(&path) {
        return next.run(request).await;
    }
    let here = request.uri().path_and_query().map_or(path.clone(), |pq| pq.as_str().to_owned());
    let Some(cookie) = session_cookie(request.headers()) else {
        return Redirect::to(&format!("/login?next={}", encode(&here))).into_response();
    };
    match settings.access(&cookie).await {
        Ok(grant) => {
            request.extensions_mut().insert(SignedIn { access_token: grant.access_token, identity: grant.identity });
            let mut response = next.run(request).await;
            // Pages carry the user's data: never kept by a cache.
            response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(Refusal::Ended) => {
            let mut response = Redirect::to(&format!("/login?expired=1&next={}", encode(&here))).into_response();
            response.headers_mut().insert(header::SET_COOKIE, settings.session_cookie("", 0));
            response
        }
        Err(Refusal::Unreachable) => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::RETRY_AFTER, "5")],
            UNAVAILABLE_PAGE,
        )
            .into_response(),
    }
}

/// Shown when a page cannot be rendered because nobody can say who is signed in.
const UNAVAILABLE_PAGE: &str = "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
    <title>Sign-in unavailable · Order Management</title></head><body style=\"font-family:sans-serif;margin:3rem\">\
    <h1>Sign-in is unavailable</h1><p>The Order Service, which checks who is signed in, is not answering. \
    The page will load again once it does.</p><p><a href=\"\">Try again</a></p></body></html>";

fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == COOKIE && !value.is_empty())
        .map(|(_, value)| value.to_owned())
}

/// A request made by a page of this site: its `Origin` is this site's own address, whatever
/// name the site was reached by.
fn same_origin(headers: &HeaderMap) -> Result<(), Box<Response>> {
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    match (origin, host) {
        (Some(origin), Some(host))
            if origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://")) == Some(host) =>
        {
            Ok(())
        }
        _ => Err(Box::new(refusal(StatusCode::FORBIDDEN, "this request did not come from the dashboard's own pages"))),
    }
}

fn refusal(status: StatusCode, detail: &str) -> Response {
    (status, Json(ErrorBody { detail: detail.to_owned() })).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(*name, value.parse().unwrap());
        }
        headers
    }

    #[test]
    fn only_requests_from_this_sites_pages_use_the_cookie() {
        assert!(same_origin(&headers(&[("origin", "http://127.0.0.1:5173"), ("host", "127.0.0.1:5173")])).is_ok());
        assert!(same_origin(&headers(&[("origin", "http://localhost:5173"), ("host", "localhost:5173")])).is_ok());
        assert!(same_origin(&headers(&[("origin", "http://evil.example"), ("host", "127.0.0.1:5173")])).is_err());
        assert!(same_origin(&headers(&[("host", "127.0.0.1:5173")])).is_err(), "no Origin, no cookie");
        assert!(same_origin(&headers(&[("origin", "null"), ("host", "127.0.0.1:5173")])).is_err());
    }

    #[test]
    fn the_session_is_found_among_other_cookies() {
        assert_eq!(session_cookie(&headers(&[("cookie", "a=1; om_session=rt_x; b=2")])), Some("rt_x".into()));
        assert_eq!(session_cookie(&headers(&[("cookie", "a=1"), ("cookie", "om_session=rt_y")])), Some("rt_y".into()));
        assert_eq!(session_cookie(&headers(&[("cookie", "om_session=")])), None);
        assert_eq!(session_cookie(&HeaderMap::new()), None);
    }

    #[test]
    fn sign_in_pages_and_assets_are_public_and_nothing_else() {
        for path in ["/login", "/invite", "/session/login", "/pkg/dashboard.css"] {
            assert!(is_public(path), "{path}");
        }
        for path in ["/", "/orders", "/admin", "/login-as-admin", "/orders/1"] {
            assert!(!is_public(path), "{path}");
        }
    }
}
