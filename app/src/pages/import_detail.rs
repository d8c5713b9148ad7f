//! `/imports/{id}`: one import — its figures, a live progress bar while it runs, its error
//! report a page at a time (the page in the query string) with the whole of it as a CSV
//! download, and the link to the orders it created.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};
use platform::api::imports::Import;

use crate::api::{self, ServiceUrls};
use crate::components::{Empty, ImportPanel, Loading, RouteTitle, ServiceProblem};
use crate::format;

#[component]
pub fn ImportDetailPage() -> impl IntoView {
    let urls = ServiceUrls::current();
    let params = use_params_map();
    let query = use_query_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let errors_page = Memo::new(move |_| {
        query.with(|q| q.get_str("page").and_then(|n| n.parse().ok()).filter(|n: &i64| *n >= 1).unwrap_or(1))
    });
    // Bumped when the import becomes final, so the error report is read once more, complete.
    let report_version = RwSignal::new(0u32);

    let import = Resource::new(move || id.get(), {
        let urls = urls.clone();
        move |id: String| {
            let urls = urls.clone();
            async move { api::imports::get(&urls, &id).await }
        }
    });
    let errors = Resource::new(
        move || (id.get(), errors_page.get(), report_version.get()),
        move |(id, page, _): (String, i64, u32)| {
            let urls = urls.clone();
            async move { api::imports::errors(&urls, &id, page).await.map(Some) }
        },
    );
    let on_final = Callback::new(move |_: Import| report_version.update(|v| *v += 1));

    view! {
        <RouteTitle text=move || format!("Import {}", format::short_id(&id.get())) />
        <p class="text-sm"><A href="/imports" attr:class="text-indigo-700 underline">"← All imports"</A></p>
        <Transition fallback=|| view! { <Loading what="the import" /> }>
            {move || Suspend::new(async move {
                match import.await {
                    Ok(import) => view! {
                        <div class="mt-2">
                            <ImportPanel import errors errors_page on_final page_heading=true />
                        </div>
                    }.into_any(),
                    Err(error) if error.is_not_found() => view! {
                        <div class="mt-4">
                            <Empty>"There is no such import. " <A href="/imports" attr:class="text-indigo-700 underline">"Back to all imports"</A></Empty>
                        </div>
                    }.into_any(),
                    Err(error) => view! {
                        <div class="mt-4">
                            <ServiceProblem error still_works="This import cannot be shown until the Order Service answers; the notifications page still works." />
                        </div>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}
