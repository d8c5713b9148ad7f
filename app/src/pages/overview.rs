//! `/`: the platform at a glance — orders per status, money taken, orders today, the newest
//! orders, the notification queue and whether each service answers. Each panel reads its
//! own service, so one service down blanks only its own panels. Refreshed every 5 seconds.

use std::time::Duration;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::api::{self, orders::OrderQuery, Service, ServiceUrls};
use crate::components::{order_status_label, use_refresh, Empty, Loading, OrderStatusBadge, ServiceProblem};
use crate::format;

#[component]
pub fn Overview() -> impl IntoView {
    let urls = ServiceUrls::current();
    let tick = use_refresh(Duration::from_secs(5), Signal::stored(true));

    let order_stats = Resource::new(move || tick.get(), {
        let urls = urls.clone();
        move |_| {
            let urls = urls.clone();
            async move { api::orders::stats(&urls).await }
        }
    });
    let recent = Resource::new(move || tick.get(), {
        let urls = urls.clone();
        move |_| {
            let urls = urls.clone();
            async move { api::orders::recent(&urls, 8).await }
        }
    });
    let queue = Resource::new(move || tick.get(), {
        let urls = urls.clone();
        move |_| {
            let urls = urls.clone();
            async move { api::notifications::stats(&urls).await }
        }
    });
    let health = Resource::new(
        move || tick.get(),
        move |_| {
            let urls = urls.clone();
            async move {
                let mut lights = Vec::new();
                for service in Service::ALL {
                    lights.push((service, api::is_healthy(&urls, service).await));
                }
                lights
            }
        },
    );

    view! {
        <Title text="Overview" />
        <h1 class="text-2xl font-semibold">"Overview"</h1>

        <section aria-labelledby="health-heading" class="mt-4">
            <h2 id="health-heading" class="sr-only">"Service health"</h2>
            <Transition fallback=|| view! { <Loading what="service health" /> }>
                {move || Suspend::new(async move {
                    let lights = health.await;
                    view! {
                        <ul class="flex flex-wrap gap-3">
                            {lights.into_iter().map(|(service, up)| view! { <HealthLight service up /> }).collect_view()}
                        </ul>
                    }
                })}
            </Transition>
        </section>

        <section aria-labelledby="orders-heading" class="mt-6">
            <h2 id="orders-heading" class="text-lg font-semibold">"Orders"</h2>
            <Transition fallback=|| view! { <Loading what="order figures" /> }>
                {move || Suspend::new(async move {
                    match order_stats.await {
                        Ok(stats) => view! {
                            <dl class="mt-3 grid grid-cols-1 gap-3 sm:grid-cols-3">
                                <Figure label="Paid revenue" value=format::yen(stats.paid_revenue) id="paid-revenue" />
                                <Figure label="Orders today" value=stats.orders_today.to_string() id="orders-today" />
                                <Figure label="All orders" value=stats.total_orders.to_string() id="orders-total" />
                            </dl>
                            <ul class="mt-3 grid grid-cols-2 gap-3 sm:grid-cols-3 lg:grid-cols-6" aria-label="Orders per status">
                                {stats.by_status.into_iter().map(|entry| {
                                    let href = OrderQuery { page: 1, status: Some(entry.status), ..OrderQuery::default() }.href();
                                    view! {
                                        <li>
                                            <A href=href attr:class="block rounded-lg border border-slate-200 bg-white p-3 hover:border-indigo-400" attr:data-status-count=entry.status.as_str()>
                                                <span class="block text-xs text-slate-500">{order_status_label(entry.status)}</span>
                                                <span class="text-xl font-semibold">{entry.count}</span>
                                            </A>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(error) => view! {
                            <ServiceProblem error still_works="Notifications and service health below are still up to date." />
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>

        <div class="mt-6 grid grid-cols-1 gap-6 lg:grid-cols-3">
            <section aria-labelledby="recent-heading" class="lg:col-span-2">
                <h2 id="recent-heading" class="text-lg font-semibold">"Most recent orders"</h2>
                <Transition fallback=|| view! { <Loading what="recent orders" /> }>
                    {move || Suspend::new(async move {
                        match recent.await {
                            Ok(orders) if orders.is_empty() => view! {
                                <Empty>"No orders yet. " <A href="/orders/new" attr:class="text-indigo-700 underline">"Create the first one"</A></Empty>
                            }.into_any(),
                            Ok(orders) => view! {
                                <ul class="mt-3 divide-y divide-slate-200 rounded-lg border border-slate-200 bg-white">
                                    {orders.into_iter().map(|order| view! {
                                        <li class="flex items-center justify-between gap-3 px-4 py-2 text-sm">
                                            <A href=format!("/orders/{}", order.id) attr:class="font-medium text-indigo-700 hover:underline">
                                                {format!("#{}", order.id)}
                                            </A>
                                            <span class="flex-1 truncate">{order.customer_name}</span>
                                            <span class="tabular-nums">{format::yen(order.total_amount)}</span>
                                            <OrderStatusBadge status=order.status />
                                        </li>
                                    }).collect_view()}
                                </ul>
                            }.into_any(),
                            Err(error) => view! {
                                <ServiceProblem error still_works="The notification queue and service health are still shown." />
                            }.into_any(),
                        }
                    })}
                </Transition>
            </section>

            <section aria-labelledby="queue-heading">
                <h2 id="queue-heading" class="text-lg font-semibold">"Notification queue"</h2>
                <Transition fallback=|| view! { <Loading what="the notification queue" /> }>
                    {move || Suspend::new(async move {
                        match queue.await {
                            Ok(stats) => view! {
                                <dl class="mt-3 grid grid-cols-3 gap-3">
                                    <Figure label="Pending" value=stats.pending.to_string() id="queue-pending" />
                                    <Figure label="Sent" value=stats.sent.to_string() id="queue-sent" />
                                    <Figure label="Failed" value=stats.failed.to_string() id="queue-failed" />
                                </dl>
                                <p class="mt-2 text-xs text-slate-500">{format!("Sent at up to {} per second.", stats.rate_per_second)}</p>
                                <A href="/notifications" attr:class="mt-2 inline-block text-sm text-indigo-700 underline">"All notifications"</A>
                            }.into_any(),
                            Err(error) => view! {
                                <ServiceProblem error still_works="Orders can still be created; their notifications wait in the Order Service until it is back." />
                            }.into_any(),
                        }
                    })}
                </Transition>
            </section>
        </div>
    }
}

#[component]
fn Figure(#[prop(into)] label: String, #[prop(into)] value: String, id: &'static str) -> impl IntoView {
    view! {
        <div class="rounded-lg border border-slate-200 bg-white p-4">
            <dt class="text-sm text-slate-500">{label}</dt>
            <dd class="mt-1 text-2xl font-semibold tabular-nums" data-figure=id>{value}</dd>
        </div>
    }
}

#[component]
fn HealthLight(service: Service, up: bool) -> impl IntoView {
    let (dot, word) = if up { ("bg-emerald-500", "up") } else { ("bg-rose-500", "down") };
    view! {
        <li class="flex items-center gap-2 rounded-full border border-slate-200 bg-white px-3 py-1 text-sm" data-health=service.name() data-up=up.to_string()>
            <span class=format!("h-2.5 w-2.5 rounded-full {dot}") aria-hidden="true"></span>
            {format!("{}: {word}", service.name())}
        </li>
    }
}
