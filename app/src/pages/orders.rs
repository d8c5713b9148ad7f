//! `/orders`: the orders table, newest first, 20 to a page, with a status filter, a search
//! by customer e-mail and, coming from an import, only that import's orders. Page, filters
//! and search live in the query string (`page`, `status`, `q`, `batch_id`), so a view can be
//! bookmarked and back / forward move between views.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};
use platform::api::orders::OrderStatus;

use crate::api::orders::{OrderQuery, PAGE_SIZE};
use crate::api::{self, ServiceUrls};
use crate::components::{order_status_label, Empty, Loading, OrderStatusBadge, Pager, ServiceProblem};
use crate::format;

#[component]
pub fn OrdersPage() -> impl IntoView {
    let urls = ServiceUrls::current();
    let params = use_query_map();
    let query = Memo::new(move |_| {
        params.with(|p| {
            OrderQuery::from_params(p.get_str("page"), p.get_str("status"), p.get_str("q"), p.get_str("batch_id"))
        })
    });
    let search_input = NodeRef::<leptos::html::Input>::new();
    let navigate = use_navigate();
    let search = move |event: SubmitEvent| {
        event.prevent_default();
        let q = search_input.get().map(|input| input.value()).unwrap_or_default();
        let target = OrderQuery { q: q.trim().to_owned(), page: 1, ..query.get_untracked() };
        navigate(&target.href(), Default::default());
    };
    let orders = Resource::new(
        move || query.get(),
        move |query| {
            let urls = urls.clone();
            async move { api::orders::list(&urls, &query).await }
        },
    );

    view! {
        <Title text="Orders" />
        <div class="flex flex-wrap items-center justify-between gap-3">
            <h1 class="text-2xl font-semibold">"Orders"</h1>
            {crate::api::session::may(platform::api::auth::Permission::ManageOrders).then(|| view! {
                <A href="/orders/new" attr:class="rounded-md bg-indigo-600 px-3 py-2 text-sm font-semibold text-white hover:bg-indigo-500">
                    "New order"
                </A>
            })}
        </div>

        <StatusFilter query />
        <ImportChip query />

        // A plain GET form, so the search works before hydration too; once hydrated, it
        // navigates in place (page 1, keeping the status filter).
        <form action="/orders" method="get" class="mt-3 flex flex-wrap items-end gap-2" role="search" on:submit=search>
            {move || query.get().status.map(|status| view! { <input type="hidden" name="status" value=status.as_str() /> })}
            {move || query.get().batch_id.map(|batch_id| view! { <input type="hidden" name="batch_id" value=batch_id /> })}
            <div>
                <label for="order-search" class="block text-sm font-medium text-slate-700">"Customer e-mail"</label>
                <input
                    id="order-search"
                    node_ref=search_input
                    name="q"
                    type="search"
                    placeholder="e.g. tanaka@"
                    prop:value=move || query.get().q
                    class="mt-1 w-72 rounded-md border border-slate-300 px-3 py-1.5 text-sm"
                />
            </div>
            <button type="submit" class="rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium hover:bg-slate-50">
                "Search"
            </button>
            {move || {
                let query = query.get();
                (!query.q.is_empty()).then(|| {
                    let href = OrderQuery { q: String::new(), page: 1, ..query }.href();
                    view! { <A href=href attr:class="py-1.5 text-sm text-indigo-700 underline">"Clear search"</A> }
                })
            }}
        </form>

        <Transition fallback=|| view! { <Loading what="orders" /> }>
            {move || Suspend::new(async move {
                let query = query.get_untracked();
                match orders.await {
                    Ok(page) if page.items.is_empty() => view! {
                        <div class="mt-4">
                            <Empty>
                                {if query == OrderQuery::from_params(None, None, None, None) {
                                    view! { "No orders yet. " <A href="/orders/new" attr:class="text-indigo-700 underline">"Create one"</A> }.into_any()
                                } else {
                                    view! { "No orders match this view. " <A href="/orders" attr:class="text-indigo-700 underline">"Show all orders"</A> }.into_any()
                                }}
                            </Empty>
                        </div>
                    }.into_any(),
                    Ok(page) => {
                        let shown = page.items.len();
                        view! {
                            <div class="mt-4 overflow-x-auto rounded-lg border border-slate-200 bg-white">
                                <table class="min-w-full divide-y divide-slate-200 text-sm">
                                    <caption class="sr-only">"Orders, newest first"</caption>
                                    <thead class="bg-slate-50 text-left text-xs font-semibold uppercase tracking-wide text-slate-600">
                                        <tr>
                                            <th scope="col" class="px-4 py-2">"Order"</th>
                                            <th scope="col" class="px-4 py-2">"Customer"</th>
                                            <th scope="col" class="px-4 py-2 text-right">"Items"</th>
                                            <th scope="col" class="px-4 py-2 text-right">"Total"</th>
                                            <th scope="col" class="px-4 py-2">"Status"</th>
                                            <th scope="col" class="px-4 py-2">"Created (JST)"</th>
                                        </tr>
                                    </thead>
                                    <tbody class="divide-y divide-slate-100">
                                        {page.items.into_iter().map(|order| view! {
                                            <tr class="hover:bg-slate-50" data-order-id=order.id>
                                                <td class="px-4 py-2">
                                                    <A href=format!("/orders/{}", order.id) attr:class="font-medium text-indigo-700 hover:underline">
                                                        {format!("#{}", order.id)}
                                                    </A>
                                                </td>
                                                <td class="px-4 py-2">
                                                    <div class="font-medium">{order.customer_name}</div>
                                                    <div class="text-slate-500">{order.customer_email}</div>
                                                </td>
                                                <td class="px-4 py-2 text-right tabular-nums">{order.items.len()}</td>
                                                <td class="px-4 py-2 text-right tabular-nums">{format::yen(order.total_amount)}</td>
                                                <td class="px-4 py-2"><OrderStatusBadge status=order.status /></td>
                                                <td class="px-4 py-2 whitespace-nowrap text-slate-600">{format::japan_time(order.created_at)}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                            <Pager page=query.page page_size=PAGE_SIZE total=page.total shown href_of=move |n| query.with_page(n).href() />
                        }.into_any()
                    }
                    Err(error) => view! {
                        <div class="mt-4">
                            <ServiceProblem error still_works="Notifications can still be browsed; orders will show again once the Order Service answers." />
                        </div>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

/// Links, one per status, that keep the search and go back to page 1.
#[component]
fn StatusFilter(query: Memo<OrderQuery>) -> impl IntoView {
    let choices: Vec<(Option<OrderStatus>, &'static str)> = std::iter::once((None, "All"))
        .chain(OrderStatus::ALL.into_iter().map(|s| (Some(s), order_status_label(s))))
        .collect();
    view! {
        <nav aria-label="Filter by status" class="mt-4 flex flex-wrap gap-2">
            {choices.into_iter().map(|(status, label)| {
                let href = move || OrderQuery { status, page: 1, ..query.get() }.href();
                let current = move || (query.get().status == status).then_some("page");
                view! {
                    <a
                        href=href
                        aria-current=current
                        class="rounded-full border border-slate-300 bg-white px-3 py-1 text-sm hover:bg-slate-50 aria-[current=page]:border-indigo-600 aria-[current=page]:bg-indigo-600 aria-[current=page]:text-white"
                    >
                        {label}
                    </a>
                }
            }).collect_view()}
        </nav>
    }
}

/// The import filter, when there is one: a chip naming the import (a link to it) with a
/// button that removes the filter and keeps the others.
#[component]
fn ImportChip(query: Memo<OrderQuery>) -> impl IntoView {
    move || {
        query.get().batch_id.map(|batch_id| {
            let without = OrderQuery { batch_id: None, page: 1, ..query.get() }.href();
            let name = format!("Import {}", format::short_id(&batch_id));
            let remove = format!("Remove the filter {name}");
            view! {
                <p class="mt-3 flex items-center gap-2 text-sm" data-batch-filter=batch_id.clone()>
                    <span class="text-slate-600">"Showing only the orders of"</span>
                    <span class="inline-flex items-center gap-1 rounded-full bg-indigo-50 py-0.5 pl-3 pr-1 font-medium text-indigo-800 ring-1 ring-inset ring-indigo-600/30">
                        <A href=format!("/imports/{batch_id}") attr:class="hover:underline" attr:title=batch_id.clone()>{name}</A>
                        <A href=without attr:class="rounded-full px-1.5 leading-5 hover:bg-indigo-100 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-600"
                            attr:aria-label=remove>
                            "×"
                        </A>
                    </span>
                </p>
            }
        })
    }
}
