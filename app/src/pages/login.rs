//! `/login`: the sign-in form. A plain HTML form posted to the dashboard's own
//! `/session/login` (so it works before, and without, the WASM), which signs in at the Order
//! Service, sets the session cookie and goes back to `next`; a refusal comes back here with
//! `error=…`, which the page explains.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::session::safe_next;

/// What the query string says happened before this page.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Notice {
    WrongCredentials,
    Throttled { retry_after_secs: String },
    Unavailable,
    SessionEnded,
    SignedOut,
    PasswordSet,
}

impl Notice {
    fn from_params(
        error: Option<&str>,
        retry: Option<&str>,
        expired: bool,
        signed_out: bool,
        password_set: bool,
    ) -> Option<Notice> {
        match error {
            Some("invalid") => Some(Notice::WrongCredentials),
            Some("throttled") => Some(Notice::Throttled {
                retry_after_secs: retry.filter(|r| r.chars().all(|c| c.is_ascii_digit())).unwrap_or("60").to_owned(),
            }),
            Some(_) => Some(Notice::Unavailable),
            None if expired => Some(Notice::SessionEnded),
            None if signed_out => Some(Notice::SignedOut),
            None if password_set => Some(Notice::PasswordSet),
            None => None,
        }
    }

    fn is_problem(&self) -> bool {
        matches!(self, Notice::WrongCredentials | Notice::Throttled { .. } | Notice::Unavailable)
    }

    fn text(&self) -> String {
        match self {
            Notice::WrongCredentials => "The e-mail address or the password is not right.".to_owned(),
            Notice::Throttled { retry_after_secs } => {
                format!("Too many failed sign-ins. Try again in {retry_after_secs} seconds.")
            }
            Notice::Unavailable => {
                "Signing in is not possible right now: the Order Service is not answering.".to_owned()
            }
            Notice::SessionEnded => "Your session has ended. Sign in again to go on where you were.".to_owned(),
            Notice::SignedOut => "You have signed out.".to_owned(),
            Notice::PasswordSet => "Your password is set. Sign in with it.".to_owned(),
        }
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let params = use_query_map();
    let (notice, next) = params.with_untracked(|p| {
        let notice = Notice::from_params(
            p.get_str("error"),
            p.get_str("retry"),
            p.get_str("expired").is_some(),
            p.get_str("signed_out").is_some(),
            p.get_str("password_set").is_some(),
        );
        (notice, safe_next(p.get_str("next")))
    });
    let notice = notice.map(|notice| {
        let class = if notice.is_problem() {
            "mt-4 rounded-md border border-rose-200 bg-rose-50 px-3 py-2 text-sm text-rose-900"
        } else {
            "mt-4 rounded-md border border-slate-200 bg-slate-100 px-3 py-2 text-sm text-slate-800"
        };
        let role = if notice.is_problem() { "alert" } else { "status" };
        view! { <p class=class role=role data-notice="">{notice.text()}</p> }
    });
    let input = "mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 text-sm";
    view! {
        <Title text="Sign in" />
        <div class="mx-auto mt-10 max-w-sm rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
            <h1 class="text-2xl font-semibold">"Sign in"</h1>
            <p class="mt-1 text-sm text-slate-600">"Order Management for operations and finance."</p>
            {notice}
            <form method="post" action="/session/login" class="mt-4 space-y-4">
                <input type="hidden" name="next" value=next />
                <div>
                    <label for="email" class="block text-sm font-medium text-slate-700">"E-mail address"</label>
                    <input id="email" name="email" type="email" required autocomplete="username" autofocus class=input />
                </div>
                <div>
                    <label for="password" class="block text-sm font-medium text-slate-700">"Password"</label>
                    <input id="password" name="password" type="password" required autocomplete="current-password" class=input />
                </div>
                <button type="submit" class="w-full rounded-md bg-indigo-600 px-3 py-2 text-sm font-semibold text-white hover:bg-indigo-500">
                    "Sign in"
                </button>
            </form>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::Notice;

    #[test]
    fn the_query_string_says_what_happened() {
        assert_eq!(Notice::from_params(Some("invalid"), None, false, false, false), Some(Notice::WrongCredentials));
        assert_eq!(
            Notice::from_params(Some("throttled"), Some("42"), false, false, false),
            Some(Notice::Throttled { retry_after_secs: "42".into() })
        );
        assert_eq!(
            Notice::from_params(Some("throttled"), Some("<script>"), false, false, false),
            Some(Notice::Throttled { retry_after_secs: "60".into() })
        );
        assert_eq!(Notice::from_params(None, None, true, false, false), Some(Notice::SessionEnded));
        assert_eq!(Notice::from_params(None, None, false, false, false), None);
        assert!(Notice::WrongCredentials.is_problem() && !Notice::SignedOut.is_problem());
    }
}
