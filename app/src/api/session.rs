//! Who is signed in, and the access token every call to a service carries.
//!
//! The session itself is the dashboard's HttpOnly refresh cookie, which only the dashboard's
//! server reads (`sign_in`). While a page is rendered, the server has exchanged it for an
//! access token and put both into the request (`SignedIn`); in the browser, the access token
//! lives in memory only, fetched from the dashboard's own `POST /session/token` when there is
//! none or it is about to expire, and forgotten when a service refuses it. A session that has
//! ended sends the browser to the sign-in page, which brings it back afterwards.

use platform::api::auth::{Identity, Permission};
use serde::{Deserialize, Serialize};

/// The `<meta name=…>` carrying the signed-in user from the server's render to the browser.
pub const USER_META: &str = "signed-in-user";
/// The dashboard's own endpoint that turns the session cookie into an access token.
pub const TOKEN_PATH: &str = "/session/token";

/// What a signed-in request carries while the server renders its page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedIn {
    pub access_token: String,
    pub identity: Identity,
}

/// The person (or key) signed in on this page, if any.
pub fn current_user() -> Option<Identity> {
    #[cfg(feature = "ssr")]
    {
        signed_in().map(|signed_in| signed_in.identity)
    }
    #[cfg(not(feature = "ssr"))]
    {
        let meta = leptos::prelude::document().query_selector(&format!("meta[name=\"{USER_META}\"]")).ok().flatten()?;
        serde_json::from_str(&meta.get_attribute("content")?).ok()
    }
}

/// Whether the signed-in user may do `permission` (the services refuse it otherwise anyway:
/// this only decides which buttons the page offers).
pub fn may(permission: Permission) -> bool {
    current_user().is_some_and(|user| user.may(permission))
}

/// The request's sign-in, while the server renders (leptos_axum provides the request).
#[cfg(feature = "ssr")]
pub fn signed_in() -> Option<SignedIn> {
    let parts = leptos::prelude::use_context::<axum::http::request::Parts>()?;
    parts.extensions.get::<SignedIn>().cloned()
}

/// Where the sign-in page sends the browser back to: `next` if it is a path of this site.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        // Only a local path: `//host` or `/\host` would leave the site.
        Some(next) if next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\") => next.to_owned(),
        _ => "/".to_owned(),
    }
}

/// The browser's access token, kept in memory only.
#[cfg(not(feature = "ssr"))]
pub mod browser {
    use std::cell::RefCell;

    use gloo_net::http::Request;
    use platform::api::auth::AccessGrant;

    use super::TOKEN_PATH;

    thread_local! {
        /// The token and when to stop using it (milliseconds on the wall clock).
        static TOKEN: RefCell<Option<(String, f64)>> = const { RefCell::new(None) };
    }

    /// Why no token could be had.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum NoToken {
        /// The session is over; the browser is on its way to the sign-in page.
        SessionEnded,
        /// Neither the dashboard's server nor, behind it, the Order Service answered.
        Unreachable,
    }

    /// A token that is good for a while yet, asking for a new one when needed.
    pub async fn bearer() -> Result<String, NoToken> {
        let now = web_sys::js_sys::Date::now();
        if let Some(token) =
            TOKEN.with_borrow(|held| held.as_ref().filter(|(_, until)| *until > now).map(|(t, _)| t.clone()))
        {
            return Ok(token);
        }
        renew().await
    }

    /// Forgets the token (a service refused it) and asks for a new one.
    pub async fn renew() -> Result<String, NoToken> {
        TOKEN.with_borrow_mut(|held| *held = None);
        let response = Request::post(TOKEN_PATH).send().await.map_err(|_| NoToken::Unreachable)?;
        match response.status() {
            200 => {
                let grant: AccessGrant = response.json().await.map_err(|_| NoToken::Unreachable)?;
                // Renewed once half its life has passed, so a token is never used at its edge.
                let until = web_sys::js_sys::Date::now() + grant.expires_in as f64 * 500.0;
                TOKEN.with_borrow_mut(|held| *held = Some((grant.access_token.clone(), until)));
                Ok(grant.access_token)
            }
            401 => {
                session_ended();
                Err(NoToken::SessionEnded)
            }
            _ => Err(NoToken::Unreachable),
        }
    }

    /// Sends the browser to the sign-in page, which returns here once signed in again.
    pub fn session_ended() {
        let window = leptos::prelude::window();
        let location = window.location();
        let here = format!("{}{}", location.pathname().unwrap_or_default(), location.search().unwrap_or_default());
        let next = crate::api::orders::encode(&here);
        let _ = location.assign(&format!("/login?expired=1&next={next}"));
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_returned_to() {
        assert_eq!(safe_next(Some("/orders?page=2")), "/orders?page=2");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }
}
