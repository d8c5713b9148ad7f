//! `/orders/new`: the new-order form. Item rows can be added and removed, the total follows
//! every keystroke, and the Order Service's own rules (`order_form`) mark each wrong field
//! before anything is sent: a field once left, or every field after a submit attempt. What
//! the service still refuses is shown above the button; on success the new order's page opens.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;
use platform::api::orders::NewOrder;
use platform::new_order::MAX_ITEMS;

use crate::api::{self, ServiceError, ServiceUrls};
use crate::components::ServiceProblem;
use crate::format;
use crate::order_form::{self, FormInput, ItemInput};

/// One item row: its key keeps a row's inputs in place when another row is removed.
#[derive(Clone, Copy)]
struct ItemRow {
    key: u64,
    product_name: RwSignal<String>,
    quantity: RwSignal<String>,
    unit_price: RwSignal<String>,
}

impl ItemRow {
    fn new(key: u64) -> ItemRow {
        ItemRow {
            key,
            product_name: RwSignal::new(String::new()),
            quantity: RwSignal::new("1".to_owned()),
            unit_price: RwSignal::new(String::new()),
        }
    }
}

const INPUT: &str = "mt-1 block w-full rounded-md border border-slate-300 px-3 py-1.5 text-sm \
                     aria-[invalid=true]:border-rose-500 aria-[invalid=true]:ring-1 aria-[invalid=true]:ring-rose-500";
const LABEL: &str = "block text-sm font-medium text-slate-700";

#[component]
pub fn NewOrderPage() -> impl IntoView {
    if !crate::api::session::may(platform::api::auth::Permission::ManageOrders) {
        return view! {
            <Title text="New order" />
            <h1 class="text-2xl font-semibold">"New order"</h1>
            <div class="mt-4"><crate::components::Empty>"Your role can look at orders but not create them."</crate::components::Empty></div>
        }
        .into_any();
    }
    let urls = ServiceUrls::current();
    let navigate = use_navigate();

    let email = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let next_key = StoredValue::new(1u64);
    let rows = RwSignal::new(vec![ItemRow::new(0)]);
    // Fields the user has left, by id; all of them count once a submit was attempted.
    let touched = RwSignal::new(Vec::<String>::new());
    let submitted = RwSignal::new(false);
    let shows = move |field: &str| submitted.get() || touched.with(|t| t.iter().any(|f| f == field));
    let leave = move |field: String| {
        touched.update(|t| {
            if !t.contains(&field) {
                t.push(field)
            }
        })
    };

    let check = Memo::new(move |_| {
        order_form::check(&FormInput {
            customer_email: email.get(),
            customer_name: name.get(),
            items: rows
                .get()
                .iter()
                .map(|row| ItemInput {
                    product_name: row.product_name.get(),
                    quantity: row.quantity.get(),
                    unit_price: row.unit_price.get(),
                })
                .collect(),
        })
    });

    let create = Action::new(move |order: &NewOrder| {
        let (urls, order) = (urls.clone(), order.clone());
        async move { api::orders::create(&urls, &order).await }
    });
    Effect::new(move |_| {
        if let Some(Ok(order)) = create.value().get() {
            navigate(&format!("/orders/{}", order.id), Default::default());
        }
    });
    let on_submit = move |event: SubmitEvent| {
        event.prevent_default();
        submitted.set(true);
        if let Some(order) = check.get_untracked().order {
            create.dispatch(order);
        }
    };
    let add_row = move |_| {
        let key = next_key.get_value();
        next_key.set_value(key + 1);
        rows.update(|rows| rows.push(ItemRow::new(key)));
    };

    let field_error = move |field: &'static str, pick: fn(&order_form::FormCheck) -> Option<String>| {
        move || shows(field).then(|| check.with(pick)).flatten()
    };
    let email_error = field_error("customer-email", |c| c.customer_email.clone());
    let name_error = field_error("customer-name", |c| c.customer_name.clone());

    view! {
        <Title text="New order" />
        <h1 class="text-2xl font-semibold">"New order"</h1>
        <form class="mt-4 max-w-3xl space-y-6" on:submit=on_submit novalidate=true>
            <fieldset class="grid grid-cols-1 gap-4 rounded-lg border border-slate-200 bg-white p-4 sm:grid-cols-2">
                <legend class="px-1 text-sm font-semibold">"Customer"</legend>
                <Field id="customer-email" label="E-mail" value=email problem=Signal::derive(email_error) leave
                    input_type="email" autocomplete="email" />
                <Field id="customer-name" label="Customer name" value=name problem=Signal::derive(name_error) leave
                    autocomplete="name" />
            </fieldset>

            <fieldset class="rounded-lg border border-slate-200 bg-white p-4">
                <legend class="px-1 text-sm font-semibold">"Items"</legend>
                <ol class="space-y-3">
                    <For each=move || rows.get() key=|row| row.key let:row>
                        <ItemFields row rows check shows leave />
                    </For>
                </ol>
                <button type="button" on:click=add_row
                    disabled=move || rows.with(|r| r.len() >= MAX_ITEMS)
                    class="mt-3 rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium hover:bg-slate-50 disabled:opacity-50">
                    "+ Add item"
                </button>
                {move || check.with(|c| c.order_problems.clone()).into_iter().filter(|_| submitted.get()).map(|problem| view! {
                    <p class="mt-2 text-sm text-rose-700">{problem}</p>
                }).collect_view()}
            </fieldset>

            <div class="flex flex-wrap items-center justify-between gap-4">
                <p class="text-lg" aria-live="polite">
                    "Total: "
                    <span class="font-semibold tabular-nums" data-live-total="">
                        {move || check.with(|c| c.total.map(format::yen).unwrap_or_else(|| "too large".to_owned()))}
                    </span>
                </p>
                <button type="submit" disabled=move || create.pending().get()
                    class="rounded-md bg-indigo-600 px-4 py-2 text-sm font-semibold text-white hover:bg-indigo-500 disabled:opacity-50">
                    {move || if create.pending().get() { "Creating…" } else { "Create order" }}
                </button>
            </div>
            {move || check.with(|c| c.payment_warning.clone()).map(|warning| view! {
                <p class="rounded-md bg-amber-50 p-3 text-sm text-amber-900" role="note">{warning}</p>
            })}
            {move || (submitted.get() && !check.with(|c| c.is_valid())).then(|| view! {
                <p class="text-sm text-rose-700" role="alert">"Please correct the marked fields; nothing was sent."</p>
            })}
            {move || create.value().get().and_then(Result::err).map(|error: ServiceError| {
                let still_works = if error.is_unreachable() {
                    "The order may not have been created: look for it in the orders list before trying again."
                } else {
                    "Nothing was created. Correct the order and submit it again."
                };
                view! { <ServiceProblem error still_works /> }
            })}
        </form>
    }
    .into_any()
}

/// A labelled text input with the problem of its value below it, announced to screen
/// readers through `aria-describedby`. `leave(id)` is called when focus leaves it.
#[component]
fn Field(
    #[prop(into)] id: String,
    #[prop(into)] label: Signal<String>,
    value: RwSignal<String>,
    problem: Signal<Option<String>>,
    leave: impl Fn(String) + Copy + Send + Sync + 'static,
    #[prop(default = "text")] input_type: &'static str,
    #[prop(optional)] inputmode: Option<&'static str>,
    #[prop(optional)] autocomplete: Option<&'static str>,
) -> impl IntoView {
    let error_id = format!("{id}-error");
    let left = id.clone();
    view! {
        <div>
            <label for=id.clone() class=LABEL>{move || label.get()}</label>
            <input id=id type=input_type inputmode=inputmode autocomplete=autocomplete class=INPUT
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
                on:blur=move |_| leave(left.clone())
                aria-invalid=move || problem.with(Option::is_some).to_string()
                aria-describedby=error_id.clone() />
            <p id=error_id class="mt-1 min-h-5 text-sm text-rose-700">{move || problem.get()}</p>
        </div>
    }
}

/// One item row of the form, with its own errors and a remove button.
#[component]
fn ItemFields(
    row: ItemRow,
    rows: RwSignal<Vec<ItemRow>>,
    check: Memo<order_form::FormCheck>,
    shows: impl Fn(&str) -> bool + Copy + Send + Sync + 'static,
    leave: impl Fn(String) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let key = row.key;
    let position = move || rows.with(|r| r.iter().position(|other| other.key == key).unwrap_or(0));
    let ids = ["product", "quantity", "price"].map(|what| format!("item-{key}-{what}"));
    let [product_id, quantity_id, price_id] = ids.clone();
    let problem = move |field: usize| {
        let id = ids[field].clone();
        move || {
            shows(&id)
                .then(|| {
                    check.with(|c| {
                        c.items.get(position()).and_then(|p| match field {
                            0 => p.product_name.clone(),
                            1 => p.quantity.clone(),
                            _ => p.unit_price.clone(),
                        })
                    })
                })
                .flatten()
        }
    };
    let [product_error, quantity_error, price_error] = [0, 1, 2].map(|field| Signal::derive(problem(field)));
    let remove = move |_| rows.update(|r| r.retain(|other| other.key != key));

    view! {
        <li class="grid grid-cols-12 items-start gap-2" data-item-row="">
            <div class="col-span-12 sm:col-span-6">
                <Field id=product_id label=Signal::derive(move || format!("Product {}", position() + 1))
                    value=row.product_name problem=product_error leave />
            </div>
            <div class="col-span-4 sm:col-span-2">
                <Field id=quantity_id label="Quantity" value=row.quantity problem=quantity_error leave
                    input_type="number" inputmode="numeric" />
            </div>
            <div class="col-span-6 sm:col-span-3">
                <Field id=price_id label="Unit price (¥)" value=row.unit_price problem=price_error leave
                    inputmode="numeric" />
            </div>
            <div class="col-span-2 sm:col-span-1 pt-6">
                <button type="button" on:click=remove
                    disabled=move || rows.with(|r| r.len() <= 1)
                    aria-label=move || format!("Remove item {}", position() + 1)
                    class="rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm hover:bg-rose-50 disabled:opacity-40">
                    "✕"
                </button>
            </div>
        </li>
    }
}
