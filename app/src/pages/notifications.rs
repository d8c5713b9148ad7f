//! `/notifications`: every notification, newest first, with a delivery-status filter and the
//! rendered message of each. Status and page live in the query string.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use platform::api::notifications::NotificationStatus;

use crate::api::notifications::PAGE_SIZE;
use crate::api::{self, ServiceUrls};
use crate::components::{Empty, Loading, NotificationEntry, Pager, ServiceProblem};

/// `/notifications?status=sent&page=2`; the status is the API's name in lower case.
fn href(status: Option<NotificationStatus>, page: i64) -> String {
    let mut params = Vec::new();
    if let Some(status) = status {
        params.push(format!("status={}", status.as_str().to_ascii_lowercase()));
    }
    if page > 1 {
        params.push(format!("page={page}"));
    }
    if params.is_empty() {
        "/notifications".to_owned()
    } else {
        format!("/notifications?{}", params.join("&"))
    }
}

#[component]
pub fn NotificationsPage() -> impl IntoView {
    let urls = ServiceUrls::current();
    let params = use_query_map();
    let view_of = Memo::new(move |_| {
        params.with(|p| {
            let status = p.get_str("status").and_then(|s| NotificationStatus::parse(&s.to_ascii_uppercase()));
            let page = p.get_str("page").and_then(|n| n.parse().ok()).filter(|n: &i64| *n >= 1).unwrap_or(1);
            (status, page)
        })
    });
    let notifications = Resource::new(
        move || view_of.get(),
        move |(status, page)| {
            let urls = urls.clone();
            async move { api::notifications::list(&urls, status, page).await }
        },
    );

    let tabs = [
        (None, "All"),
        (Some(NotificationStatus::Pending), "Pending"),
        (Some(NotificationStatus::Sent), "Sent"),
        (Some(NotificationStatus::Failed), "Failed"),
    ];
    view! {
        <Title text="Notifications" />
        <h1 class="text-2xl font-semibold">"Notifications"</h1>
        <nav aria-label="Filter by delivery status" class="mt-4 flex flex-wrap gap-2">
            {tabs.into_iter().map(|(status, label)| view! {
                <a
                    href=href(status, 1)
                    aria-current=move || (view_of.get().0 == status).then_some("page")
                    class="rounded-full border border-slate-300 bg-white px-3 py-1 text-sm hover:bg-slate-50 aria-[current=page]:border-indigo-600 aria-[current=page]:bg-indigo-600 aria-[current=page]:text-white"
                >
                    {label}
                </a>
            }).collect_view()}
        </nav>
        <Transition fallback=|| view! { <Loading what="notifications" /> }>
            {move || Suspend::new(async move {
                let (status, page_number) = view_of.get_untracked();
                match notifications.await {
                    Ok(page) if page.items.is_empty() => view! {
                        <div class="mt-4"><Empty>"No notifications here."</Empty></div>
                    }.into_any(),
                    Ok(page) => {
                        let shown = page.items.len();
                        view! {
                            <ul class="mt-4 divide-y divide-slate-100 rounded-lg border border-slate-200 bg-white" aria-label="Notifications, newest first">
                                {page.items.into_iter().map(|n| view! { <NotificationEntry notification=n /> }).collect_view()}
                            </ul>
                            <Pager page=page_number page_size=PAGE_SIZE total=page.total shown href_of=move |n| href(status, n) />
                        }.into_any()
                    }
                    Err(error) => view! {
                        <div class="mt-4">
                            <ServiceProblem error still_works="Orders can still be browsed and created; their notifications are kept by the Order Service until this service is back." />
                        </div>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}
