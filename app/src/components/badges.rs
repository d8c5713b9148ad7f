//! Coloured status labels. The colour only repeats the word, so nothing depends on seeing it.

use leptos::prelude::*;
use platform::api::imports::ImportStatus;
use platform::api::notifications::{NotificationStatus, TemplateName};
use platform::api::orders::OrderStatus;

const BADGE: &str = "inline-flex items-center rounded-full px-2.5 py-0.5 text-xs font-medium ring-1 ring-inset";

pub fn order_status_label(status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::Pending => "Pending",
        OrderStatus::PaymentProcessing => "Payment processing",
        OrderStatus::Paid => "Paid",
        OrderStatus::Shipped => "Shipped",
        OrderStatus::Delivered => "Delivered",
        OrderStatus::Cancelled => "Cancelled",
    }
}

#[component]
pub fn OrderStatusBadge(status: OrderStatus) -> impl IntoView {
    let colour = match status {
        OrderStatus::Pending => "bg-amber-50 text-amber-800 ring-amber-600/30",
        OrderStatus::PaymentProcessing => "bg-sky-50 text-sky-800 ring-sky-600/30",
        OrderStatus::Paid => "bg-emerald-50 text-emerald-800 ring-emerald-600/30",
        OrderStatus::Shipped => "bg-indigo-50 text-indigo-800 ring-indigo-600/30",
        OrderStatus::Delivered => "bg-slate-100 text-slate-800 ring-slate-600/30",
        OrderStatus::Cancelled => "bg-rose-50 text-rose-800 ring-rose-600/30",
    };
    view! {
        <span class=format!("{BADGE} {colour}") data-status=status.as_str()>
            {order_status_label(status)}
        </span>
    }
}

#[component]
pub fn NotificationStatusBadge(status: NotificationStatus) -> impl IntoView {
    let (colour, label) = match status {
        NotificationStatus::Pending => ("bg-amber-50 text-amber-800 ring-amber-600/30", "Pending"),
        NotificationStatus::Sent => ("bg-emerald-50 text-emerald-800 ring-emerald-600/30", "Sent"),
        NotificationStatus::Failed => ("bg-rose-50 text-rose-800 ring-rose-600/30", "Failed"),
    };
    view! {
        <span class=format!("{BADGE} {colour}") data-status=status.as_str()>
            {label}
        </span>
    }
}

pub fn import_status_label(status: ImportStatus) -> &'static str {
    match status {
        ImportStatus::Queued => "Queued",
        ImportStatus::Validating => "Checking",
        ImportStatus::Processing => "Importing",
        ImportStatus::Completed => "Completed",
        ImportStatus::CompletedWithErrors => "Completed with errors",
        ImportStatus::Failed => "Failed",
    }
}

#[component]
pub fn ImportStatusBadge(status: ImportStatus) -> impl IntoView {
    let colour = match status {
        ImportStatus::Queued => "bg-slate-50 text-slate-700 ring-slate-500/30",
        ImportStatus::Validating | ImportStatus::Processing => "bg-sky-50 text-sky-800 ring-sky-600/30",
        ImportStatus::Completed => "bg-emerald-50 text-emerald-800 ring-emerald-600/30",
        ImportStatus::CompletedWithErrors => "bg-amber-50 text-amber-800 ring-amber-600/30",
        ImportStatus::Failed => "bg-rose-50 text-rose-800 ring-rose-600/30",
    };
    view! {
        <span class=format!("{BADGE} {colour}") data-status=status.as_str()>
            {import_status_label(status)}
        </span>
    }
}

/// What a notification's template is, in words.
pub fn template_label(template: TemplateName) -> &'static str {
    match template {
        TemplateName::OrderConfirmation => "Order confirmation",
        TemplateName::OrderShipped => "Order shipped",
        TemplateName::OrderCancelled => "Order cancelled",
        TemplateName::OrderDigest => "Order digest",
    }
}
