//! One notification as the order page and the notifications page show it: status, subject,
//! recipient, attempts, the last error, and the rendered message behind a disclosure.

use leptos::prelude::*;
use leptos_router::components::A;
use platform::api::notifications::Notification;

use super::{template_label, NotificationStatusBadge};
use crate::format;

/// One notification with its rendered message behind a disclosure.
#[component]
pub fn NotificationEntry(notification: Notification) -> impl IntoView {
    let n = notification;
    view! {
        <li class="px-4 py-3 text-sm" data-template=n.template.as_str()>
            <div class="flex flex-wrap items-center gap-2">
                <NotificationStatusBadge status=n.status />
                <span class="font-medium">{n.subject.clone().unwrap_or_else(|| "SMS".to_owned())}</span>
                <span class="text-slate-500">{format!("{} {} to {}", template_label(n.template), n.channel.as_str(), n.recipient)}</span>
                <A href=format!("/orders/{}", n.order_id) attr:class="text-indigo-700 hover:underline">{format!("order #{}", n.order_id)}</A>
            </div>
            <p class="mt-1 text-xs text-slate-500">
                {format!("{} · created {} JST", format::count(n.attempts, "attempt", "attempts"), format::japan_time(n.created_at))}
                {n.sent_at.map(|at| format!(" · sent {} JST", format::japan_time(at)))}
            </p>
            {n.error.map(|error| view! { <p class="mt-1 text-xs text-rose-700">{error}</p> })}
            <details class="mt-2">
                <summary class="cursor-pointer text-indigo-700">"Preview message"</summary>
                <pre class="mt-2 whitespace-pre-wrap rounded-md bg-slate-50 p-3 font-sans text-slate-800">{n.body}</pre>
            </details>
        </li>
    }
}
