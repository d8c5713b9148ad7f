//! `/orders/{id}`: one order with everything the platform knows about it — items and total,
//! the status timeline (Order Service), the payment and its refund (Payment Service), the
//! notifications with their rendered text (Notification Service), the import it came from —
//! and the actions its status allows right now. Each panel reads its own service, so one service down leaves
//! the rest of the page working. Refreshed every 3 seconds while something is still on its
//! way (a payment, a refund, an e-mail), so it shows up without a reload; once everything
//! has settled, the page stops refreshing and nothing the user opened is redrawn under them.

use std::time::Duration;

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use platform::api::notifications::{Notification, NotificationStatus, TemplateName};
use platform::api::orders::{Order, OrderStatus, StatusChange};
use platform::api::payments::{GatewayEventOutcome, GatewayEventRecord, Payment, PaymentStatus};

use crate::api::{self, ServiceError, ServiceResult, ServiceUrls};
use crate::components::{
    order_status_label, use_refresh, Empty, Loading, NotificationEntry, OrderStatusBadge, RouteTitle, ServiceProblem,
};
use crate::format;

/// What an operator can do to an order from this page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OrderAction {
    Ship,
    Deliver,
    Cancel,
}

impl OrderAction {
    const ALL: [OrderAction; 3] = [OrderAction::Ship, OrderAction::Deliver, OrderAction::Cancel];

    fn target(self) -> OrderStatus {
        match self {
            OrderAction::Ship => OrderStatus::Shipped,
            OrderAction::Deliver => OrderStatus::Delivered,
            OrderAction::Cancel => OrderStatus::Cancelled,
        }
    }

    fn label(self) -> &'static str {
        match self {
            OrderAction::Ship => "Mark shipped",
            OrderAction::Deliver => "Mark delivered",
            OrderAction::Cancel => "Cancel order…",
        }
    }

    /// The actions the state machine allows from `status`: only these are offered.
    fn allowed_from(status: OrderStatus) -> Vec<OrderAction> {
        OrderAction::ALL.into_iter().filter(|action| status.can_become(action.target())).collect()
    }
}

#[component]
pub fn OrderDetailPage() -> impl IntoView {
    let params = use_params_map();
    let order_id = Memo::new(move |_| params.with(|p| p.get_str("id").and_then(|id| id.parse::<i64>().ok())));
    let urls = ServiceUrls::current();
    let settling = RwSignal::new(true);
    let tick = use_refresh(Duration::from_secs(3), settling.into());

    let act = Action::new({
        let urls = urls.clone();
        move |(id, action): &(i64, OrderAction)| {
            let (urls, id, action) = (urls.clone(), *id, *action);
            async move {
                match action {
                    OrderAction::Cancel => api::orders::cancel(&urls, id).await,
                    other => api::orders::set_status(&urls, id, other.target()).await,
                }
            }
        }
    });
    // Everything is read again after an action, as well as on every tick.
    let source = move || (order_id.get(), act.version().get(), tick.get());

    let order = Resource::new(source, {
        let urls = urls.clone();
        move |(id, ..)| {
            let urls = urls.clone();
            async move { by_id(id, |id| async move { api::orders::get(&urls, id).await }).await }
        }
    });
    let history = Resource::new(source, {
        let urls = urls.clone();
        move |(id, ..)| {
            let urls = urls.clone();
            async move { by_id(id, |id| async move { api::orders::history(&urls, id).await }).await }
        }
    });
    let payment = Resource::new(source, {
        let urls = urls.clone();
        move |(id, ..)| {
            let urls = urls.clone();
            async move { by_id(id, |id| async move { api::payments::for_order(&urls, id).await }).await }
        }
    });
    let notifications = Resource::new(source, move |(id, ..)| {
        let urls = urls.clone();
        async move { by_id(id, |id| async move { api::notifications::for_order(&urls, id).await }).await }
    });

    Effect::new(move |_| {
        let still = match (order.get(), payment.get(), notifications.get()) {
            (Some(Ok(Some(order))), Some(Ok(Some(payment))), Some(Ok(Some(notifications)))) => {
                still_settling(&order, payment.as_ref(), &notifications)
            }
            // Not loaded yet, or a service is down: keep trying.
            _ => true,
        };
        settling.set(still);
    });
    // Lives here rather than in the header, which is redrawn whenever the order is read again.
    let confirming = RwSignal::new(false);

    view! {
        <RouteTitle text=move || order_id.get().map_or("Order".to_owned(), |id| format!("Order #{id}")) />
        <p class="text-sm"><A href="/orders" attr:class="text-indigo-700 underline">"← All orders"</A></p>
        <Transition fallback=|| view! { <Loading what="the order" /> }>
            {move || Suspend::new(async move {
                match order.await {
                    Ok(Some(order)) => view! {
                        <OrderHeader order=order.clone() act confirming />
                        <div class="mt-6 grid grid-cols-1 gap-6 lg:grid-cols-3">
                            <div class="space-y-6 lg:col-span-2">
                                <Items order=order.clone() />
                                <Transition fallback=|| view! { <Loading what="notifications" /> }>
                                    {move || Suspend::new(async move {
                                        view! { <NotificationLog notifications=notifications.await /> }
                                    })}
                                </Transition>
                            </div>
                            <div class="space-y-6">
                                <Transition fallback=|| view! { <Loading what="the payment" /> }>
                                    {move || Suspend::new(async move {
                                        view! { <PaymentPanel payment=payment.await /> }
                                    })}
                                </Transition>
                                <Transition fallback=|| view! { <Loading what="the history" /> }>
                                    {move || Suspend::new(async move {
                                        view! { <Timeline history=history.await /> }
                                    })}
                                </Transition>
                            </div>
                        </div>
                    }.into_any(),
                    Ok(None) => view! { <NoSuchOrder /> }.into_any(),
                    Err(error) if error.is_not_found() => view! { <NoSuchOrder /> }.into_any(),
                    Err(error) => view! {
                        <div class="mt-4">
                            <ServiceProblem error still_works="This order cannot be shown until the Order Service answers; the notifications page still works." />
                        </div>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

/// Whether something the page shows is still on its way: a payment being decided, a refund
/// or an e-mail the order's status calls for that has not been recorded or sent yet.
fn still_settling(order: &Order, payment: Option<&Payment>, notifications: &[Notification]) -> bool {
    let expected_email = match order.status {
        // An imported order is confirmed as its import chose: its own e-mail, a digest filed
        // under another order of the same customer, or nothing at all.
        OrderStatus::Paid if order.batch_id.is_some() => None,
        OrderStatus::Paid => Some(TemplateName::OrderConfirmation),
        OrderStatus::Shipped | OrderStatus::Delivered => Some(TemplateName::OrderShipped),
        OrderStatus::Cancelled => Some(TemplateName::OrderCancelled),
        OrderStatus::Pending | OrderStatus::PaymentProcessing => None,
    };
    let payment_open =
        order.status == OrderStatus::PaymentProcessing || payment.is_some_and(|p| p.status == PaymentStatus::Pending);
    let refund_due =
        order.status == OrderStatus::Cancelled && payment.is_some_and(|p| p.status == PaymentStatus::Completed);
    let email_missing = expected_email.is_some_and(|template| !notifications.iter().any(|n| n.template == template));
    let email_unsent = notifications.iter().any(|n| n.status == NotificationStatus::Pending);
    payment_open || refund_due || email_missing || email_unsent
}

/// Runs `fetch` for a numeric id; a malformed id is simply no order.
async fn by_id<T, F, Fut>(id: Option<i64>, fetch: F) -> ServiceResult<Option<T>>
where
    F: FnOnce(i64) -> Fut,
    Fut: std::future::Future<Output = ServiceResult<T>>,
{
    match id {
        Some(id) => fetch(id).await.map(Some),
        None => Ok(None),
    }
}

#[component]
fn NoSuchOrder() -> impl IntoView {
    view! {
        <div class="mt-4">
            <Empty>"There is no such order. " <A href="/orders" attr:class="text-indigo-700 underline">"Back to all orders"</A></Empty>
        </div>
    }
}

#[component]
fn OrderHeader(
    order: Order,
    act: Action<(i64, OrderAction), ServiceResult<Order>>,
    confirming: RwSignal<bool>,
) -> impl IntoView {
    let id = order.id;
    let pending = act.pending();
    let paid = order.status == OrderStatus::Paid;
    let refund_note = if paid {
        format!(
            "The payment of {} will be refunded to the customer in full, and they will be told by e-mail.",
            format::yen(order.total_amount)
        )
    } else {
        "No payment was taken, so there is nothing to refund; the customer will be told by e-mail.".to_owned()
    };
    // Only what the role may do: the Order Service refuses the rest anyway.
    let actions = if crate::api::session::may(platform::api::auth::Permission::ManageOrders) {
        OrderAction::allowed_from(order.status)
    } else {
        Vec::new()
    };
    let buttons = actions
        .into_iter()
        .map(|action| {
            let style = if action == OrderAction::Cancel {
                "rounded-md border border-rose-300 bg-white px-3 py-2 text-sm font-semibold text-rose-700 hover:bg-rose-50 disabled:opacity-50"
            } else {
                "rounded-md bg-indigo-600 px-3 py-2 text-sm font-semibold text-white hover:bg-indigo-500 disabled:opacity-50"
            };
            let on_click = move |_| {
                if action == OrderAction::Cancel {
                    confirming.set(true);
                } else {
                    act.dispatch((id, action));
                }
            };
            view! { <button type="button" class=style on:click=on_click disabled=move || pending.get()>{action.label()}</button> }
        })
        .collect_view();
    let error = move || act.value().get().and_then(Result::err);

    view! {
        <div class="mt-2 flex flex-wrap items-start justify-between gap-4">
            <div>
                <h1 class="text-2xl font-semibold">
                    {format!("Order #{id} ")}
                    <OrderStatusBadge status=order.status />
                </h1>
                <p class="mt-1 text-slate-700">
                    <span class="font-medium">{order.customer_name.clone()}</span>
                    " · "
                    <a class="text-indigo-700 underline" href=format!("mailto:{}", order.customer_email)>{order.customer_email.clone()}</a>
                </p>
                <p class="text-sm text-slate-500">{format!("Created {} JST · updated {} JST", format::japan_time(order.created_at), format::japan_time(order.updated_at))}</p>
                <ImportOrigin batch_id=order.batch_id.clone() order_ref=order.order_ref.clone() />
            </div>
            <div class="flex flex-col items-end gap-2">
                <div class="flex gap-2" role="group" aria-label="Order actions">{buttons}</div>
                {move || pending.get().then(|| view! { <p class="text-sm text-slate-500" role="status">"Working…"</p> })}
            </div>
        </div>
        {move || confirming.get().then(|| {
            let note = refund_note.clone();
            view! {
                <div role="alertdialog" aria-labelledby="cancel-title" aria-describedby="cancel-note"
                     class="mt-4 rounded-lg border border-rose-300 bg-rose-50 p-4">
                    <h2 id="cancel-title" class="font-semibold text-rose-900">{format!("Cancel order #{id}?")}</h2>
                    <p id="cancel-note" class="mt-1 text-sm text-rose-900">{note}</p>
                    <div class="mt-3 flex gap-2">
                        <button type="button" autofocus
                            class="rounded-md bg-rose-600 px-3 py-2 text-sm font-semibold text-white hover:bg-rose-500"
                            on:click=move |_| { confirming.set(false); act.dispatch((id, OrderAction::Cancel)); }>
                            "Yes, cancel the order"
                        </button>
                        <button type="button"
                            class="rounded-md border border-slate-300 bg-white px-3 py-2 text-sm font-medium hover:bg-slate-50"
                            on:click=move |_| confirming.set(false)>
                            "Keep the order"
                        </button>
                    </div>
                </div>
            }
        })}
        {move || error().map(|error: ServiceError| view! {
            <div class="mt-4"><ServiceProblem error still_works="Nothing was changed; the order is shown as it is now." /></div>
        })}
    }
}

/// Where an imported order came from: its import (a link) and its reference in the file.
#[component]
fn ImportOrigin(batch_id: Option<String>, order_ref: Option<String>) -> impl IntoView {
    if batch_id.is_none() && order_ref.is_none() {
        return None;
    }
    let import = batch_id.map(|batch_id| {
        view! {
            "Imported by "
            <A href=format!("/imports/{batch_id}") attr:class="text-indigo-700 underline" attr:title=batch_id.clone()>
                {format!("Import {}", format::short_id(&batch_id))}
            </A>
        }
    });
    let reference = order_ref.map(|order_ref| {
        view! { " · reference " <span class="font-mono" data-order-ref="">{order_ref}</span> }
    });
    Some(view! { <p class="text-sm text-slate-600" data-order-import="">{import}{reference}</p> })
}

#[component]
fn Items(order: Order) -> impl IntoView {
    view! {
        <section aria-labelledby="items-heading" class="rounded-lg border border-slate-200 bg-white">
            <h2 id="items-heading" class="border-b border-slate-200 px-4 py-2 font-semibold">"Items"</h2>
            <table class="min-w-full text-sm">
                <thead class="text-left text-xs uppercase tracking-wide text-slate-500">
                    <tr>
                        <th scope="col" class="px-4 py-2">"Product"</th>
                        <th scope="col" class="px-4 py-2 text-right">"Quantity"</th>
                        <th scope="col" class="px-4 py-2 text-right">"Unit price"</th>
                        <th scope="col" class="px-4 py-2 text-right">"Subtotal"</th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100">
                    {order.items.into_iter().map(|item| {
                        let subtotal = item.unit_price.checked_mul(item.quantity).map(format::yen).unwrap_or_default();
                        view! {
                            <tr>
                                <td class="px-4 py-2">{item.product_name}</td>
                                <td class="px-4 py-2 text-right tabular-nums">{item.quantity}</td>
                                <td class="px-4 py-2 text-right tabular-nums">{format::yen(item.unit_price)}</td>
                                <td class="px-4 py-2 text-right tabular-nums">{subtotal}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
                <tfoot>
                    <tr class="border-t border-slate-200 font-semibold">
                        <th scope="row" colspan="3" class="px-4 py-2 text-right">"Total"</th>
                        <td class="px-4 py-2 text-right tabular-nums" data-total="">{format::yen(order.total_amount)}</td>
                    </tr>
                </tfoot>
            </table>
        </section>
    }
}

#[component]
fn PaymentPanel(payment: ServiceResult<Option<Option<Payment>>>) -> impl IntoView {
    let body = match payment {
        Err(error) => view! {
            <ServiceProblem error still_works="The order, its history and its notifications are shown; shipping and cancelling still work (a refund waits until the Payment Service is back)." />
        }.into_any(),
        Ok(None) | Ok(Some(None)) => view! { <p class="text-sm text-slate-600">"No payment has been recorded for this order."</p> }.into_any(),
        Ok(Some(Some(payment))) => {
            let status = match payment.status {
                PaymentStatus::Pending => "Pending (waiting for the gateway)",
                PaymentStatus::Completed => "Completed",
                PaymentStatus::Failed => "Failed",
                PaymentStatus::Refunded => "Refunded",
            };
            view! {
                <dl class="grid grid-cols-2 gap-x-3 gap-y-1 text-sm">
                    <dt class="text-slate-500">"Status"</dt>
                    <dd data-payment-status=payment.status.as_str()>{status}</dd>
                    <dt class="text-slate-500">"Amount"</dt>
                    <dd class="tabular-nums">{format::yen(payment.amount)}</dd>
                    <dt class="text-slate-500">"Transaction"</dt>
                    <dd class="break-all font-mono text-xs">{payment.transaction_id}</dd>
                    <dt class="text-slate-500">"Taken"</dt>
                    <dd>{format::japan_time(payment.created_at)}</dd>
                    {payment.failure_reason.map(|reason| view! { <dt class="text-slate-500">"Declined"</dt><dd>{reason}</dd> })}
                </dl>
                <IgnoredGatewayEvents events=payment.gateway_events />
                {payment.refund.map(|refund| view! {
                    <div class="mt-3 rounded-md bg-amber-50 p-3 text-sm" data-refund="">
                        <p class="font-semibold">{format!("Refunded {}", format::yen(refund.amount))}</p>
                        <p class="text-slate-700">{format!("{} JST", format::japan_time(refund.created_at))}</p>
                        {refund.reason.map(|reason| view! { <p class="text-slate-700">{reason}</p> })}
                    </div>
                })}
            }.into_any()
        }
    };
    view! {
        <section aria-labelledby="payment-heading" class="rounded-lg border border-slate-200 bg-white p-4">
            <h2 id="payment-heading" class="mb-2 font-semibold">"Payment"</h2>
            {body}
        </section>
    }
}

/// What the gateway reported that contradicted the recorded outcome: acknowledged, kept, and
/// shown, so that finance sees it rather than losing it.
#[component]
fn IgnoredGatewayEvents(events: Vec<GatewayEventRecord>) -> impl IntoView {
    let ignored: Vec<GatewayEventRecord> =
        events.into_iter().filter(|event| event.outcome == GatewayEventOutcome::Ignored).collect();
    (!ignored.is_empty()).then(|| {
        let items = ignored
            .into_iter()
            .map(|event| {
                let said = format!(
                    "{} JST: the gateway reported \"{}\"{}",
                    format::japan_time(event.received_at),
                    event.status.as_str(),
                    event.reason.map(|reason| format!(" ({reason})")).unwrap_or_default()
                );
                view! { <li>{said}<span class="text-slate-600">{event.detail.map(|why| format!(" — ignored: {why}"))}</span></li> }
            })
            .collect_view();
        view! {
            <div class="mt-3 rounded-md border border-amber-200 bg-amber-50 p-3 text-sm" data-ignored-gateway-events="">
                <p class="font-semibold">"Gateway events ignored"</p>
                <ul class="mt-1 list-disc pl-5">{items}</ul>
            </div>
        }
    })
}

#[component]
fn Timeline(history: ServiceResult<Option<Vec<StatusChange>>>) -> impl IntoView {
    let body = match history {
        Err(error) => view! { <ServiceProblem error still_works="The rest of the order is shown." /> }.into_any(),
        Ok(history) => view! {
            <ol class="relative space-y-3 border-l border-slate-200 pl-4 text-sm">
                {history.unwrap_or_default().into_iter().map(|change| view! {
                    <li>
                        <p class="font-medium" data-step="">{order_status_label(change.to_status)}</p>
                        <p class="text-slate-500">{format!("{} JST", format::japan_time_precise(change.created_at))}</p>
                        {change.reason.map(|reason| view! { <p class="text-slate-700">{reason}</p> })}
                    </li>
                }).collect_view()}
            </ol>
        }
        .into_any(),
    };
    view! {
        <section aria-labelledby="history-heading" class="rounded-lg border border-slate-200 bg-white p-4">
            <h2 id="history-heading" class="mb-2 font-semibold">"Status timeline"</h2>
            {body}
        </section>
    }
}

#[component]
fn NotificationLog(notifications: ServiceResult<Option<Vec<Notification>>>) -> impl IntoView {
    let body = match notifications {
        Err(error) => view! {
            <ServiceProblem error still_works="Nothing is lost: the Order Service keeps the customer's messages and delivers them once the Notification Service is back." />
        }.into_any(),
        Ok(list) => {
            let list = list.unwrap_or_default();
            if list.is_empty() {
                view! { <p class="px-4 py-3 text-sm text-slate-600">"No notifications for this order yet."</p> }.into_any()
            } else {
                view! {
                    <ul class="divide-y divide-slate-100">
                        {list.into_iter().map(|n| view! { <NotificationEntry notification=n /> }).collect_view()}
                    </ul>
                }.into_any()
            }
        }
    };
    view! {
        <section aria-labelledby="notifications-heading" class="rounded-lg border border-slate-200 bg-white">
            <h2 id="notifications-heading" class="border-b border-slate-200 px-4 py-2 font-semibold">"Notifications"</h2>
            {body}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use platform::api::notifications::Channel;
    use platform::{Currency, Yen};

    use super::*;

    fn order(status: OrderStatus) -> Order {
        Order {
            id: 1,
            customer_email: "a@example.jp".into(),
            customer_name: "田中".into(),
            status,
            total_amount: Yen::new(1_000),
            currency: Currency::JPY,
            items: vec![],
            batch_id: None,
            order_ref: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    fn payment(status: PaymentStatus) -> Payment {
        Payment {
            id: 1,
            order_id: 1,
            amount: Yen::new(1_000),
            currency: Currency::JPY,
            status,
            transaction_id: "txn".into(),
            failure_reason: None,
            refund: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
            gateway_events: Vec::new(),
        }
    }

    fn email(template: TemplateName, status: NotificationStatus) -> Notification {
        Notification {
            id: 1,
            order_id: 1,
            channel: Channel::Email,
            recipient: "a@example.jp".into(),
            template,
            subject: None,
            body: String::new(),
            status,
            attempts: 1,
            error: None,
            created_at: Utc::now(),
            sent_at: None,
        }
    }

    #[test]
    fn the_page_keeps_refreshing_until_payment_refund_and_emails_are_done() {
        use NotificationStatus::{Pending, Sent};
        use TemplateName::*;
        let completed = payment(PaymentStatus::Completed);
        assert!(still_settling(&order(OrderStatus::PaymentProcessing), None, &[]));
        assert!(still_settling(&order(OrderStatus::Paid), Some(&completed), &[]), "confirmation not there yet");
        assert!(still_settling(&order(OrderStatus::Paid), Some(&completed), &[email(OrderConfirmation, Pending)]));
        assert!(!still_settling(&order(OrderStatus::Paid), Some(&completed), &[email(OrderConfirmation, Sent)]));
        assert!(still_settling(&order(OrderStatus::Shipped), Some(&completed), &[email(OrderConfirmation, Sent)]));
        let cancelled = [email(OrderConfirmation, Sent), email(OrderCancelled, Sent)];
        assert!(still_settling(&order(OrderStatus::Cancelled), Some(&completed), &cancelled), "refund due");
        assert!(!still_settling(&order(OrderStatus::Cancelled), Some(&payment(PaymentStatus::Refunded)), &cancelled));
        assert!(!still_settling(&order(OrderStatus::Pending), None, &[]), "a refused payment is final");
    }

    #[test]
    fn an_imported_order_does_not_wait_for_a_confirmation_its_import_may_not_send() {
        let imported =
            Order { batch_id: Some("01JX".into()), order_ref: Some("A-1".into()), ..order(OrderStatus::Paid) };
        let completed = payment(PaymentStatus::Completed);
        assert!(!still_settling(&imported, Some(&completed), &[]), "notify = none, or a digest filed elsewhere");
        assert!(still_settling(
            &imported,
            Some(&completed),
            &[email(TemplateName::OrderDigest, NotificationStatus::Pending)]
        ));
        assert!(!still_settling(
            &imported,
            Some(&completed),
            &[email(TemplateName::OrderDigest, NotificationStatus::Sent)]
        ));
    }
}
