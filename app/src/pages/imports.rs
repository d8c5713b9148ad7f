//! `/imports`: bulk import of orders from a CSV file. The upload panel takes a file (picked,
//! or dropped on its zone), the notification mode and the encoding, and either checks the
//! file (a dry run: counts and error report, nothing created) or imports it, following the
//! import live to its outcome. Below it, the history of imports, newest first, 20 a page,
//! with the page in the query string.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;
use platform::api::imports::{Import, NotifyMode, MAX_IMPORT_BYTES, MAX_IMPORT_ORDERS};
use send_wrapper::SendWrapper;

use crate::api::imports::{FileEncoding, UploadOptions, Uploaded, PAGE_SIZE};
use crate::api::orders::OrderQuery;
use crate::api::{self, ServiceError, ServiceResult, ServiceUrls};
use crate::components::{notify_mode_label, Empty, ImportPanel, ImportStatusBadge, Loading, Pager, ServiceProblem};
use crate::format;

/// `/imports?page=2`.
fn href(page: i64) -> String {
    if page > 1 {
        format!("/imports?page={page}")
    } else {
        "/imports".to_owned()
    }
}

/// The file the user picked or dropped. It lives only in the browser.
type PickedFile = SendWrapper<web_sys::File>;

#[component]
pub fn ImportsPage() -> impl IntoView {
    let urls = ServiceUrls::current();
    let params = use_query_map();
    let page = Memo::new(move |_| {
        params.with(|p| p.get_str("page").and_then(|n| n.parse().ok()).filter(|n: &i64| *n >= 1).unwrap_or(1))
    });
    // Bumped whenever an import the history shows may have changed.
    let history_version = RwSignal::new(0u32);
    let history = Resource::new(move || (page.get(), history_version.get()), {
        let urls = urls.clone();
        move |(page, _)| {
            let urls = urls.clone();
            async move { api::imports::list(&urls, page).await }
        }
    });

    let upload = Action::new({
        let urls = urls.clone();
        move |(file, options): &(PickedFile, UploadOptions)| api::imports::upload(&urls, file.clone(), *options)
    });
    let uploaded = Memo::new(move |_| upload.value().get().and_then(Result::ok));
    Effect::new(move |_| {
        if upload.value().with(Option::is_some) {
            history_version.update(|v| *v += 1);
        }
    });
    // The first page of the latest upload's error report, read again once the import is final.
    let report_version = RwSignal::new(0u32);
    let errors = Resource::new(move || (uploaded.get().map(|u| u.import.id), report_version.get()), {
        move |(id, _): (Option<String>, u32)| {
            let urls = urls.clone();
            async move {
                match id {
                    Some(id) => api::imports::errors(&urls, &id, 1).await.map(Some),
                    None => Ok(None),
                }
            }
        }
    });
    let on_final = Callback::new(move |_: Import| {
        report_version.update(|v| *v += 1);
        history_version.update(|v| *v += 1);
    });

    view! {
        <Title text="Imports" />
        <h1 class="text-2xl font-semibold">"Imports"</h1>
        {if crate::api::session::may(platform::api::auth::Permission::ManageOrders) {
            view! { <UploadPanel upload /> }.into_any()
        } else {
            view! { <p class="mt-3 text-sm text-slate-600">"Your role can follow imports but not start them."</p> }.into_any()
        }}
        {move || upload.value().get().and_then(Result::err).map(|error| view! { <UploadProblem error /> })}
        {move || uploaded.get().map(|Uploaded { import, existing }| {
            let notice = existing.then(|| view! {
                <p class="mt-4 rounded-md bg-sky-50 px-3 py-2 text-sm text-sky-900" role="status" data-existing-import="">
                    {format!(
                        "This file was already uploaded{} on {} JST: nothing new was started, here is that import.",
                        if import.dry_run { " for a check" } else { "" },
                        format::japan_time(import.created_at),
                    )}
                </p>
            });
            view! {
                {notice}
                <div class="mt-4">
                    <ImportPanel import errors errors_page=Signal::stored(1) on_final />
                </div>
            }
        })}

        <section aria-labelledby="history-heading" class="mt-8">
            <h2 id="history-heading" class="text-lg font-semibold">"Import history"</h2>
            <Transition fallback=|| view! { <Loading what="the import history" /> }>
                {move || Suspend::new(async move {
                    let page_number = page.get_untracked();
                    match history.await {
                        Ok(list) if list.items.is_empty() => view! {
                            <div class="mt-3"><Empty>"No imports yet. Upload a CSV file above."</Empty></div>
                        }.into_any(),
                        Ok(list) => {
                            let shown = list.items.len();
                            view! {
                                <div class="mt-3 overflow-x-auto rounded-lg border border-slate-200 bg-white">
                                    <table class="min-w-full divide-y divide-slate-200 text-sm">
                                        <caption class="sr-only">"Imports, newest first"</caption>
                                        <thead class="bg-slate-50 text-left text-xs font-semibold uppercase tracking-wide text-slate-600">
                                            <tr>
                                                <th scope="col" class="px-4 py-2">"Import"</th>
                                                <th scope="col" class="px-4 py-2">"Status"</th>
                                                <th scope="col" class="px-4 py-2 text-right">"Orders"</th>
                                                <th scope="col" class="px-4 py-2 text-right">"Succeeded"</th>
                                                <th scope="col" class="px-4 py-2 text-right">"Failed"</th>
                                                <th scope="col" class="px-4 py-2">"Created (JST)"</th>
                                                <th scope="col" class="px-4 py-2"><span class="sr-only">"Its orders"</span></th>
                                            </tr>
                                        </thead>
                                        <tbody class="divide-y divide-slate-100">
                                            {list.items.into_iter().map(|import| {
                                                let short = format::short_id(&import.id);
                                                let orders = (!import.dry_run).then(|| view! {
                                                    <A href=OrderQuery::of_import(&import.id).href() attr:class="text-indigo-700 hover:underline">"Orders"</A>
                                                });
                                                view! {
                                                    <tr class="hover:bg-slate-50" data-import-id=import.id.clone()>
                                                        <td class="px-4 py-2">
                                                            <A href=format!("/imports/{}", import.id) attr:class="font-mono font-medium text-indigo-700 hover:underline" attr:title=import.id.clone()>
                                                                {short}
                                                            </A>
                                                            <div class="text-slate-500">
                                                                {import.file_name.clone().unwrap_or_else(|| "(no file name)".to_owned())}
                                                                {import.dry_run.then_some(" · dry run")}
                                                            </div>
                                                        </td>
                                                        <td class="px-4 py-2"><ImportStatusBadge status=import.status /></td>
                                                        <td class="px-4 py-2 text-right tabular-nums">{format::number(import.total_orders)}</td>
                                                        <td class="px-4 py-2 text-right tabular-nums">{format::number(import.succeeded_orders)}</td>
                                                        <td class="px-4 py-2 text-right tabular-nums">{format::number(import.failed_orders)}</td>
                                                        <td class="px-4 py-2 whitespace-nowrap text-slate-600">{format::japan_time(import.created_at)}</td>
                                                        <td class="px-4 py-2">{orders}</td>
                                                    </tr>
                                                }
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                </div>
                                <Pager page=page_number page_size=PAGE_SIZE total=list.total shown href_of=href />
                            }.into_any()
                        }
                        Err(error) => view! {
                            <div class="mt-3">
                                <ServiceProblem error still_works="Orders and notifications can still be browsed; the imports show again once the Order Service answers." />
                            </div>
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// The file (picked or dropped), the options and the two actions.
#[component]
fn UploadPanel(upload: Action<(PickedFile, UploadOptions), ServiceResult<Uploaded>>) -> impl IntoView {
    let file = RwSignal::new(None::<PickedFile>);
    let dragging = RwSignal::new(false);
    let notify = RwSignal::new(NotifyMode::PerOrder);
    let encoding = RwSignal::new(None::<FileEncoding>);
    // What keeps the file from being sent, found before sending it.
    let problem = RwSignal::new(None::<String>);
    let input = NodeRef::<leptos::html::Input>::new();
    let pending = upload.pending();

    let pick = move |picked: Option<web_sys::File>| {
        problem.set(None);
        if let Some(picked) = picked {
            file.set(Some(SendWrapper::new(picked)));
        }
    };
    let start = move |dry_run: bool| {
        let Some(picked) = file.get_untracked() else {
            problem.set(Some("Choose a CSV file first: drop it on the zone above, or pick it from your files.".into()));
            return;
        };
        if picked.size() > MAX_IMPORT_BYTES as f64 {
            problem.set(Some(format!(
                "{} is {}: a file may be at most {} MB. Split it into smaller files.",
                picked.name(),
                file_size(picked.size()),
                MAX_IMPORT_BYTES / (1024 * 1024)
            )));
            return;
        }
        problem.set(None);
        let options = UploadOptions { dry_run, notify: notify.get_untracked(), encoding: encoding.get_untracked() };
        upload.dispatch((picked, options));
    };

    let zone_class = move || {
        let state = if dragging.get() {
            "border-indigo-500 bg-indigo-50 ring-2 ring-indigo-500"
        } else {
            "border-slate-300 bg-slate-50 hover:border-indigo-400"
        };
        format!(
            "relative mt-3 flex flex-col items-center justify-center gap-1 rounded-lg border-2 border-dashed px-4 py-8 \
             text-center text-sm transition-colors focus-within:ring-2 focus-within:ring-indigo-600 {state}"
        )
    };
    let chosen = move || {
        file.with(|picked| match picked {
            Some(picked) => format!("Chosen: {} ({})", picked.name(), file_size(picked.size())),
            None => "No file chosen yet.".to_owned(),
        })
    };
    let notify_choices = [
        (NotifyMode::PerOrder, "Each order gets its own confirmation e-mail, as an order created by hand does."),
        (NotifyMode::Digest, "Each customer gets one e-mail listing all of their orders in this file."),
        (NotifyMode::None, "Nothing is sent for these orders; later status changes still send their e-mails."),
    ];

    view! {
        <section aria-labelledby="upload-heading" class="mt-4 rounded-lg border border-slate-200 bg-white p-4">
            <h2 id="upload-heading" class="text-lg font-semibold">"Upload orders"</h2>
            <p class="mt-1 text-sm text-slate-600">
                "A CSV file with a header row and one row per item: "
                <code class="text-xs">"order_ref, customer_email, customer_name, product_name, quantity, unit_price"</code>
                " (or in Japanese: "
                <code class="text-xs">"注文番号, メールアドレス, 顧客名, 商品名, 数量, 単価"</code>
                {format!(
                    "). Rows with the same order_ref make one order, wherever they are in the file. At most {} orders and {} MB;                      UTF-8 or Shift_JIS.",
                    format::number(MAX_IMPORT_ORDERS as i64),
                    MAX_IMPORT_BYTES / (1024 * 1024)
                )}
            </p>

            <div
                class=zone_class
                data-drop-zone=""
                data-dragging=move || dragging.get().then_some("true")
                on:dragenter=move |ev| {
                    ev.prevent_default();
                    dragging.set(true);
                }
                on:dragover=move |ev| {
                    // Without this the browser would open the file instead of dropping it here.
                    ev.prevent_default();
                    dragging.set(true);
                }
                on:dragleave=move |_| dragging.set(false)
                on:drop=move |ev| {
                    ev.prevent_default();
                    dragging.set(false);
                    pick(ev.data_transfer().and_then(|data| data.files()).and_then(|files| files.get(0)));
                }
            >
                // The input is the keyboard's way in (Tab, then Space or Enter opens the picker);
                // the zone around it shows its focus.
                <input
                    id="import-file"
                    node_ref=input
                    type="file"
                    accept=".csv,text/csv"
                    class="sr-only"
                    aria-describedby="import-file-chosen"
                    on:change=move |_| pick(input.get().and_then(|input| input.files()).and_then(|files| files.get(0)))
                />
                <label for="import-file" class="cursor-pointer">
                    <span class="block font-semibold text-slate-800">"CSV file"</span>
                    <span class="text-slate-600">"Drop it here, or "</span>
                    <span class="font-medium text-indigo-700 underline">"choose a file"</span>
                </label>
                <p id="import-file-chosen" class="text-slate-700" aria-live="polite" data-chosen-file="">{chosen}</p>
            </div>

            <div class="mt-4 grid grid-cols-1 gap-4 md:grid-cols-3">
                <fieldset class="md:col-span-2">
                    <legend class="text-sm font-medium text-slate-700">"Notify customers"</legend>
                    <div class="mt-1 space-y-1">
                        {notify_choices.into_iter().map(|(mode, explanation)| {
                            let id = format!("notify-{}", mode.as_str());
                            view! {
                                <div class="flex items-start gap-2">
                                    <input
                                        type="radio"
                                        name="notify"
                                        id=id.clone()
                                        value=mode.as_str()
                                        class="mt-1"
                                        prop:checked=move || notify.get() == mode
                                        on:change=move |_| notify.set(mode)
                                        aria-describedby=format!("{id}-explanation")
                                    />
                                    <label for=id.clone() class="text-sm">
                                        <span class="font-medium">{notify_mode_label(mode)}</span>
                                        <span class="text-slate-600" id=format!("{id}-explanation")>{format!(" — {explanation}")}</span>
                                    </label>
                                </div>
                            }
                        }).collect_view()}
                    </div>
                </fieldset>
                <div>
                    <label for="import-encoding" class="block text-sm font-medium text-slate-700">"File encoding"</label>
                    <select
                        id="import-encoding"
                        class="mt-1 block w-full rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm"
                        on:change=move |ev| encoding.set(FileEncoding::parse(&event_target_value(&ev)))
                    >
                        <option value="" selected=true>"Detect automatically"</option>
                        {FileEncoding::ALL.into_iter().map(|e| view! { <option value=e.as_str()>{e.label()}</option> }).collect_view()}
                    </select>
                </div>
            </div>

            <div class="mt-4 flex flex-wrap items-center gap-3">
                <button
                    type="button"
                    on:click=move |_| start(true)
                    disabled=move || pending.get()
                    class="rounded-md border border-slate-300 bg-white px-3 py-2 text-sm font-semibold hover:bg-slate-50 disabled:opacity-50"
                >
                    "Check file (dry run)"
                </button>
                <button
                    type="button"
                    on:click=move |_| start(false)
                    disabled=move || pending.get()
                    class="rounded-md bg-indigo-600 px-3 py-2 text-sm font-semibold text-white hover:bg-indigo-500 disabled:opacity-50"
                >
                    "Import"
                </button>
                {move || pending.get().then(|| view! { <p class="text-sm text-slate-500" role="status">"Uploading…"</p> })}
            </div>
            {move || problem.get().map(|problem| view! {
                <p class="mt-3 text-sm text-rose-700" role="alert">{problem}</p>
            })}
        </section>
    }
}

/// What the Order Service refused about the file (or that it did not answer), next to the
/// form, in words for each case.
#[component]
fn UploadProblem(error: ServiceError) -> impl IntoView {
    let (headline, advice) = match &error {
        ServiceError::Refused { status: 413, .. } => (
            "The file is too large",
            format!("A file may be at most {} MB. Split it into smaller files.", MAX_IMPORT_BYTES / (1024 * 1024)),
        ),
        ServiceError::Refused { status: 422, .. } => {
            ("The file cannot be read", "Nothing was imported. Correct the file and upload it again.".to_owned())
        }
        ServiceError::Refused { status: 409, .. } => (
            "This upload was already used for another file",
            "Nothing was imported. Upload the file again as a new import.".to_owned(),
        ),
        _ => {
            return view! {
                <div class="mt-4">
                    <ServiceProblem error still_works="The file may not have been received. Uploading the same file again is safe: the Order Service recognises it and shows the import it already has." />
                </div>
            }
            .into_any()
        }
    };
    view! {
        <div class="mt-4 rounded-lg border border-rose-200 bg-rose-50 px-4 py-3 text-sm text-rose-900" role="alert" data-upload-problem="">
            <p class="font-semibold">{headline}</p>
            <p>{error.to_string()}</p>
            <p class="mt-1 text-rose-800">{advice}</p>
        </div>
    }
    .into_any()
}

/// `1.2 MB`, `830 KB`, `12 bytes`.
fn file_size(bytes: f64) -> String {
    const KB: f64 = 1024.0;
    if bytes >= KB * KB {
        format!("{:.1} MB", bytes / (KB * KB))
    } else if bytes >= KB {
        format!("{:.0} KB", bytes / KB)
    } else {
        format!("{bytes:.0} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_counts_read_naturally() {
        assert_eq!(file_size(12.0), "12 bytes");
        assert_eq!(file_size(2_048.0), "2 KB");
        assert_eq!(file_size(20.0 * 1024.0 * 1024.0), "20.0 MB");
        assert_eq!(href(1), "/imports");
        assert_eq!(href(2), "/imports?page=2");
    }
}
