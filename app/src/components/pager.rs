//! Previous / next links under a list, with where the page sits in the whole.

use leptos::prelude::*;
use leptos_router::components::A;

/// `href_of(page)` builds the URL of another page, so the page number lives in the URL.
#[component]
pub fn Pager(page: i64, page_size: i64, total: i64, shown: usize, href_of: impl Fn(i64) -> String) -> impl IntoView {
    let first = if shown == 0 { 0 } else { (page - 1) * page_size + 1 };
    let last = (page - 1) * page_size + shown as i64;
    let pages = ((total + page_size - 1) / page_size).max(1);
    let link = "rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium hover:bg-slate-50";
    let previous =
        (page > 1).then(|| view! { <A href=href_of(page - 1) attr:class=link attr:rel="prev">"← Previous"</A> });
    let next = (page < pages).then(|| view! { <A href=href_of(page + 1) attr:class=link attr:rel="next">"Next →"</A> });
    view! {
        <nav aria-label="Pages" class="mt-4 flex items-center justify-between gap-4">
            <p class="text-sm text-slate-600" aria-live="polite">
                {format!("Showing {first}–{last} of {total} · page {page} of {pages}")}
            </p>
            <div class="flex gap-2">{previous}{next}</div>
        </nav>
    }
}
