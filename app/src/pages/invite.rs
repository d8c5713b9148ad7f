//! `/invite?token=…`: where an invited person sets their password (the link an administrator
//! hands them). The password rule is the Order Service's own (`check_password`), checked here
//! first; once set, the person signs in.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};
use platform::api::auth::{check_password, AcceptInvitation, MIN_PASSWORD_CHARS};

use crate::api::{self, ServiceError, ServiceUrls};

#[component]
pub fn InvitePage() -> impl IntoView {
    let urls = ServiceUrls::current();
    let navigate = use_navigate();
    let token = use_query_map().with_untracked(|p| p.get_str("token").unwrap_or_default().to_owned());
    let password = RwSignal::new(String::new());
    let repeated = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);

    let accept = Action::new(move |acceptance: &AcceptInvitation| {
        let (urls, acceptance) = (urls.clone(), acceptance.clone());
        async move { api::users::accept_invitation(&urls, &acceptance).await }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = accept.value().get() {
            navigate("/login?password_set=1", Default::default());
        }
    });
    let submit = {
        let token = token.clone();
        move |event: SubmitEvent| {
            event.prevent_default();
            let chosen = password.get_untracked();
            let check = check_password(&chosen).and_then(|()| {
                if chosen == repeated.get_untracked() {
                    Ok(())
                } else {
                    Err("the two passwords differ".to_owned())
                }
            });
            match check {
                Ok(()) => {
                    problem.set(None);
                    accept.dispatch(AcceptInvitation { token: token.clone(), password: chosen });
                }
                Err(why) => problem.set(Some(why)),
            }
        }
    };
    let refused = move || match accept.value().get() {
        Some(Err(ServiceError::Refused { detail, .. })) => Some(detail),
        Some(Err(error)) => Some(error.to_string()),
        _ => problem.get(),
    };
    let input = "mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 text-sm";
    view! {
        <Title text="Set your password" />
        <div class="mx-auto mt-10 max-w-sm rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
            <h1 class="text-2xl font-semibold">"Set your password"</h1>
            <p class="mt-1 text-sm text-slate-600">
                {format!("You were invited to Order Management. Choose a password of at least {MIN_PASSWORD_CHARS} characters.")}
            </p>
            {token.is_empty().then(|| view! {
                <p class="mt-4 text-sm text-rose-900" role="alert">"This link has no invitation in it: ask for a new one."</p>
            })}
            <form class="mt-4 space-y-4" on:submit=submit>
                <div>
                    <label for="new-password" class="block text-sm font-medium text-slate-700">"New password"</label>
                    <input id="new-password" type="password" required autocomplete="new-password" class=input
                        bind:value=password />
                </div>
                <div>
                    <label for="repeat-password" class="block text-sm font-medium text-slate-700">"The same again"</label>
                    <input id="repeat-password" type="password" required autocomplete="new-password" class=input
                        bind:value=repeated />
                </div>
                {move || refused().map(|why| view! {
                    <p class="rounded-md border border-rose-200 bg-rose-50 px-3 py-2 text-sm text-rose-900" role="alert">{why}</p>
                })}
                <button type="submit" disabled=move || accept.pending().get()
                    class="w-full rounded-md bg-indigo-600 px-3 py-2 text-sm font-semibold text-white hover:bg-indigo-500 disabled:opacity-50">
                    "Set password"
                </button>
            </form>
        </div>
    }
}
