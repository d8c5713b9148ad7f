//! The states a panel can be in besides showing its data: loading, empty, and a service
//! that failed, named, with what still works.

use leptos::prelude::*;

use crate::api::ServiceError;

#[component]
pub fn Loading(#[prop(into)] what: String) -> impl IntoView {
    view! {
        <p class="animate-pulse py-6 text-sm text-slate-500" role="status" aria-live="polite">
            {format!("Loading {what}…")}
        </p>
    }
}

#[component]
pub fn Empty(children: Children) -> impl IntoView {
    view! {
        <div class="rounded-lg border border-dashed border-slate-300 px-6 py-10 text-center text-sm text-slate-600">
            {children()}
        </div>
    }
}

/// A service did not answer, or refused: which one, why, and what still works without it.
#[component]
pub fn ServiceProblem(error: ServiceError, #[prop(into)] still_works: String) -> impl IntoView {
    let service = error.service().name();
    let headline =
        if error.is_unreachable() { format!("{service} unavailable") } else { format!("{service} could not answer") };
    view! {
        <div
            class="rounded-lg border border-rose-200 bg-rose-50 px-4 py-3 text-sm text-rose-900"
            role="alert"
            data-service-problem=service
        >
            <p class="font-semibold">{headline}</p>
            <p>{error.to_string()}</p>
            <p class="mt-1 text-rose-800">{still_works}</p>
        </div>
    }
}
