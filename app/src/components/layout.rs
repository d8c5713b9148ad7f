//! The frame around every page: the header with the navigation and the main area.

use leptos::prelude::*;
use leptos_router::components::A;

/// Marks `<main data-hydrated="true">` once the WASM has taken over the page: effects run
/// only in the browser. The end-to-end tests wait for it before they click anything.
#[component]
pub fn Layout(children: Children) -> impl IntoView {
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
                <A href="/" exact=true attr:class=link>"Overview"</A>
                <A href="/orders" exact=true attr:class=link>"Orders"</A>
                <A href="/orders/new" attr:class=link>"New order"</A>
                <A href="/imports" attr:class=link>"Imports"</A>
                <A href="/notifications" attr:class=link>"Notifications"</A>
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
