//! The frame around every page: the header with the navigation — only what the signed-in
//! role may use — the user's name and role with the sign-out button, and the main area.

use leptos::prelude::*;
use leptos_router::components::A;
use platform::api::auth::Permission;

use crate::api::session;

/// Marks `<main data-hydrated="true">` once the WASM has taken over the page: effects run
/// only in the browser. The end-to-end tests wait for it before they click anything.
#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let user = session::current_user();
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let link = "rounded-md px-3 py-2 text-sm font-medium text-slate-300 hover:bg-slate-700 hover:text-white \
                aria-[current=page]:bg-slate-900 aria-[current=page]:text-white";
    view! {
        <a href="#main" class="sr-only focus:not-sr-only focus:absolute focus:m-2 focus:rounded focus:bg-white focus:p-2">
            "Skip to content"
        </a>
        <header class="bg-slate-800">
            <nav aria-label="Main" class="mx-auto flex max-w-6xl flex-wrap items-center gap-2 px-4 py-3">
                <span class="mr-4 text-base font-semibold text-white">"Order Management"</span>
                {user.is_some().then(|| view! {
                    <A href="/" exact=true attr:class=link>"Overview"</A>
                    <A href="/orders" exact=true attr:class=link>"Orders"</A>
                    {session::may(Permission::ManageOrders).then(|| view! { <A href="/orders/new" attr:class=link>"New order"</A> })}
                    <A href="/imports" attr:class=link>"Imports"</A>
                    <A href="/notifications" attr:class=link>"Notifications"</A>
                    {session::may(Permission::Administer).then(|| view! { <A href="/admin" attr:class=link>"Admin"</A> })}
                })}
                {user.map(|user| view! {
                    // A plain form: signing out works before hydration too, and the dashboard's
                    // server clears the HttpOnly cookie the page cannot touch.
                    <form method="post" action="/session/logout" class="ml-auto flex items-center gap-3">
                        <span class="text-sm text-slate-200" data-signed-in=user.email.clone().unwrap_or_default()>
                            <span class="font-medium text-white">{user.name.clone()}</span>
                            " · "
                            <span data-role=user.role.as_str()>{user.role.label()}</span>
                        </span>
                        <button type="submit" class="rounded-md border border-slate-500 px-3 py-1.5 text-sm text-slate-100 hover:bg-slate-700">
                            "Sign out"
                        </button>
                    </form>
                })}
            </nav>
        </header>
        <main
            id="main"
            class="mx-auto max-w-6xl px-4 py-6"
            data-hydrated=move || hydrated.get().then_some("true")
        >
            {children()}
        </main>
    }
}
