//! The admin dashboard of the order-management platform (001 §1.2): Leptos components that
//! the `app` binary renders on the server and the `frontend` crate hydrates in the browser.
//!
//! Every page reads the three services' REST APIs directly (`api`), during the server render
//! and again from the browser after hydration; the dashboard keeps no data of its own.

// The type of a large `view!` nests deeply; leptos documents raising the limit for it.
#![recursion_limit = "256"]

pub mod api;
mod components;
mod format;
mod order_form;
mod pages;
#[cfg(feature = "ssr")]
pub mod sign_in;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};

use components::Layout;
use pages::{
    AdminPage, ImportDetailPage, ImportsPage, InvitePage, LoginPage, NewOrderPage, NotFound, NotificationsPage,
    OrderDetailPage, OrdersPage, Overview,
};

/// The HTML document around the app, rendered only on the server. It carries the services'
/// addresses to the browser (see `ServiceUrls::current`).
#[cfg(feature = "ssr")]
pub fn shell(options: LeptosOptions) -> impl IntoView {
    use leptos_meta::MetaTags;

    let urls = api::ServiceUrls::current();
    let [orders, payments, notifications] = api::ServiceUrls::META_NAMES.map(|(service, name)| {
        let content = urls.of(service).to_owned();
        view! { <meta name=name content=content /> }
    });
    // Who is signed in, for the browser to render the same page when it hydrates.
    let user = api::session::current_user()
        .and_then(|user| serde_json::to_string(&user).ok())
        .map(|user| view! { <meta name=api::session::USER_META content=user /> });
    view! {
        <!DOCTYPE html>
        <html lang="ja">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                {orders}
                {payments}
                {notifications}
                {user}
                // No favicon request (a 404 would be an error in the browser's console).
                <link rel="icon" href="data:," />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body class="min-h-screen bg-slate-50 text-slate-900 antialiased">
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Every page waits for its data on the server, so the first paint is the whole page,
    // readable before (and without) the WASM.
    let ssr = SsrMode::Async;
    view! {
        <Stylesheet id="leptos" href="/pkg/dashboard.css" />
        <Title formatter=|page: String| format!("{page} · Order Management") />
        <Router>
            <Layout>
                <Routes fallback=NotFound>
                    <Route path=path!("") view=Overview ssr=ssr.clone() />
                    <Route path=path!("/orders") view=OrdersPage ssr=ssr.clone() />
                    <Route path=path!("/orders/new") view=NewOrderPage ssr=ssr.clone() />
                    <Route path=path!("/orders/:id") view=OrderDetailPage ssr=ssr.clone() />
                    <Route path=path!("/notifications") view=NotificationsPage ssr=ssr.clone() />
                    <Route path=path!("/imports") view=ImportsPage ssr=ssr.clone() />
                    <Route path=path!("/imports/:id") view=ImportDetailPage ssr=ssr.clone() />
                    <Route path=path!("/admin") view=AdminPage ssr=ssr.clone() />
                    <Route path=path!("/login") view=LoginPage ssr=ssr.clone() />
                    <Route path=path!("/invite") view=InvitePage ssr=ssr />
                </Routes>
            </Layout>
        </Router>
    }
}
