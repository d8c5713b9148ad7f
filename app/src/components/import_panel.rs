//! One import as the Imports page (right after an upload) and the import's own page show it:
//! its figures; while it runs, a progress bar fed by the Order Service's server-sent events,
//! with the rate and the time left measured here from those events; once it is final, its
//! outcome, its error report and the way to its orders.

use std::collections::VecDeque;

use leptos::prelude::*;
use leptos_router::components::A;
use platform::api::imports::{Import, ImportError, ImportStatus, NotifyMode};

use super::{ImportStatusBadge, Loading, Pager, ServiceProblem};
use crate::api::imports::{self as imports_api, ERRORS_PAGE_SIZE};
use crate::api::orders::OrderQuery;
use crate::api::{Page, ServiceResult, ServiceUrls};
use crate::format;

/// A page of an import's error report, as the pages read it (`None`: no import to read it for).
pub type ErrorReportResource = Resource<ServiceResult<Option<Page<ImportError>>>>;

/// `/imports/{id}`, at a page of its error report.
pub fn import_href(id: &str, errors_page: i64) -> String {
    if errors_page > 1 {
        format!("/imports/{id}?page={errors_page}")
    } else {
        format!("/imports/{id}")
    }
}

pub fn notify_mode_label(mode: NotifyMode) -> &'static str {
    match mode {
        NotifyMode::PerOrder => "One e-mail per order",
        NotifyMode::Digest => "One digest per customer",
        NotifyMode::None => "No e-mails",
    }
}

/// The import's figures, live while it runs, and its error report.
///
/// `errors` is read again by the caller when `on_final` reports that the import is done;
/// `errors_page` is the page of the report it reads. `page_heading` makes the title the
/// page's `<h1>`.
#[component]
pub fn ImportPanel(
    import: Import,
    errors: ErrorReportResource,
    #[prop(into)] errors_page: Signal<i64>,
    #[prop(optional)] on_final: Option<Callback<Import>>,
    #[prop(optional)] page_heading: bool,
) -> impl IntoView {
    let id = import.id.clone();
    let dry_run = import.dry_run;
    let state = RwSignal::new(import);
    let rate = RwSignal::new(None::<f64>);
    let trouble = RwSignal::new(None::<StreamTrouble>);
    // Not on the server: effects do not run there, so no stream would open, and the value
    // that holds one may only be touched on the thread that made it, where the server ends
    // the page on whichever thread finishes the response.
    if !cfg!(feature = "ssr") {
        follow_live(Live { id: id.clone(), state, rate, trouble, on_final });
    }

    let title = {
        let id = id.clone();
        move || {
            let import = state.get();
            let what = if import.dry_run { "Dry run" } else { "Import" };
            let name = match &import.file_name {
                Some(file) => format!("{what} {} · {file}", format::short_id(&id)),
                None => format!("{what} {}", format::short_id(&id)),
            };
            view! { {name} " " <ImportStatusBadge status=import.status /> }
        }
    };
    let heading = if page_heading {
        view! { <h1 class="text-2xl font-semibold" id="import-heading">{title}</h1> }.into_any()
    } else {
        view! { <h2 class="text-lg font-semibold" id="import-heading">{title}</h2> }.into_any()
    };
    let orders_href = OrderQuery::of_import(&id).href();

    view! {
        <section
            aria-labelledby="import-heading"
            class="rounded-lg border border-slate-200 bg-white p-4"
            data-import-id=id.clone()
            data-import-status=move || state.get().status.as_str()
        >
            {heading}
            <p class="mt-1 text-sm text-slate-500">
                {move || {
                    let import = state.get();
                    let finished = import.finished_at.map(|at| format!(" · finished {} JST", format::japan_time_precise(at)));
                    format!(
                        "Uploaded {} JST{} · read as {} · {}",
                        format::japan_time_precise(import.created_at),
                        finished.unwrap_or_default(),
                        import.encoding,
                        notify_mode_label(import.notify),
                    )
                }}
            </p>
            {move || state.get().failure.map(|failure| view! {
                <p class="mt-3 rounded-md border border-rose-200 bg-rose-50 px-3 py-2 text-sm text-rose-900" role="alert">{failure}</p>
            })}
            {if dry_run {
                view! { <DryRunFigures state /> }.into_any()
            } else {
                view! { <Progress state rate trouble /> }.into_any()
            }}
            <Outcome state orders_href />
            <ErrorReport state errors errors_page />
        </section>
    }
}

/// What a dry run found: nothing was created.
#[component]
fn DryRunFigures(state: RwSignal<Import>) -> impl IntoView {
    move || {
        let import = state.get();
        let unknown =
            if import.unknown_columns.is_empty() { "none".to_owned() } else { import.unknown_columns.join(", ") };
        view! {
            <dl class="mt-4 grid grid-cols-2 gap-3 sm:grid-cols-3 lg:grid-cols-6">
                <Figure label="Rows" value=format::number(import.total_rows) id="rows" />
                <Figure label="Orders" value=format::number(import.total_orders) id="orders" />
                <Figure label="Would succeed" value=format::number(import.succeeded_orders) id="succeeded" />
                <Figure label="Would fail" value=format::number(import.failed_orders) id="failed" />
                <Figure label="Unknown columns" value=unknown id="unknown-columns" />
                <Figure label="Encoding" value=import.encoding.clone() id="encoding" />
            </dl>
        }
    }
}

/// Why the live figures may be stale.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum StreamTrouble {
    /// The browser lost the stream and is opening it again by itself.
    Reconnecting,
    /// The stream was refused; only a reload reads the import again.
    Stopped,
}

/// The progress bar with processed / total, succeeded, failed, rate and time left.
#[component]
fn Progress(
    state: RwSignal<Import>,
    rate: RwSignal<Option<f64>>,
    trouble: RwSignal<Option<StreamTrouble>>,
) -> impl IntoView {
    let percent = move || {
        let import = state.get();
        if import.status.is_final() {
            100.0
        } else if import.total_orders > 0 {
            import.processed_orders as f64 * 100.0 / import.total_orders as f64
        } else {
            0.0
        }
    };
    let label = move || {
        let import = state.get();
        match import.status {
            ImportStatus::Queued => "Waiting for the imports running now to finish…".to_owned(),
            ImportStatus::Validating => "Checking the file…".to_owned(),
            _ => format!(
                "{} of {} orders processed",
                format::number(import.processed_orders),
                format::number(import.total_orders)
            ),
        }
    };
    let bar_class = move || {
        let colour = match state.get().status {
            ImportStatus::Queued => "bg-slate-400",
            ImportStatus::Validating | ImportStatus::Processing => "bg-indigo-600",
            ImportStatus::Completed => "bg-emerald-600",
            ImportStatus::CompletedWithErrors => "bg-amber-500",
            ImportStatus::Failed => "bg-rose-600",
        };
        format!("h-full rounded-full transition-[width] duration-300 {colour}")
    };
    let live = move || !state.get().status.is_final();
    // Live: measured from the events. Once final: the whole run's average, from the import's
    // own times, which a page opened after the fact also has.
    let rate_text = move || match rate.get() {
        Some(rate) if live() => format!("{rate:.1} orders/s"),
        _ if live() => "measuring…".to_owned(),
        _ => state.with(average_rate).map_or_else(|| "—".to_owned(), |rate| format!("{rate:.1} orders/s")),
    };
    let eta_text = move || {
        let import = state.get();
        match rate.get() {
            _ if import.status.is_final() => "done".to_owned(),
            Some(rate) if rate > 0.0 => {
                let remaining = (import.total_orders - import.processed_orders).max(0) as f64;
                format!("about {}", format::duration(remaining / rate))
            }
            _ => "—".to_owned(),
        }
    };

    view! {
        <div class="mt-4">
            <div class="flex items-baseline justify-between gap-3 text-sm">
                <span id="import-progress-label" class="font-medium">{label}</span>
                <span class="tabular-nums text-slate-600">{move || format!("{:.0} %", percent())}</span>
            </div>
            <div
                role="progressbar"
                aria-labelledby="import-progress-label"
                aria-valuemin="0"
                aria-valuemax=move || state.get().total_orders.to_string()
                aria-valuenow=move || state.get().processed_orders.to_string()
                class="mt-1 h-3 w-full overflow-hidden rounded-full bg-slate-200"
            >
                <div class=bar_class style:width=move || format!("{:.1}%", percent())></div>
            </div>
            {move || trouble.get().map(|trouble| {
                let text = match trouble {
                    StreamTrouble::Reconnecting => "Live progress interrupted: reconnecting to the Order Service…",
                    StreamTrouble::Stopped => "Live progress stopped: reload the page to see the latest figures.",
                };
                view! { <p class="mt-2 text-sm text-amber-800" role="status">{text}</p> }
            })}
            <dl class="mt-4 grid grid-cols-2 gap-3 sm:grid-cols-3 lg:grid-cols-6">
                <Figure label="Processed" value=Signal::derive(move || format::number(state.get().processed_orders)) id="processed" />
                <Figure label="Orders" value=Signal::derive(move || format::number(state.get().total_orders)) id="orders" />
                <Figure label="Succeeded" value=Signal::derive(move || format::number(state.get().succeeded_orders)) id="succeeded" />
                <Figure label="Failed" value=Signal::derive(move || format::number(state.get().failed_orders)) id="failed" />
                <Figure label="Rate" value=Signal::derive(rate_text) id="rate" />
                <Figure label="Time left" value=Signal::derive(eta_text) id="time-left" />
            </dl>
            <p class="mt-2 text-xs text-slate-500">
                {move || {
                    let import = state.get();
                    let unknown = if import.unknown_columns.is_empty() {
                        String::new()
                    } else {
                        format!(" · unknown columns ignored: {}", import.unknown_columns.join(", "))
                    };
                    format!("{} in the file{unknown}", format::count(import.total_rows, "row", "rows"))
                }}
            </p>
        </div>
    }
}

/// Orders decided per second over a finished import, when it took long enough to say.
fn average_rate(import: &Import) -> Option<f64> {
    let seconds = (import.finished_at? - import.created_at).num_milliseconds() as f64 / 1000.0;
    (seconds >= 0.5).then(|| import.processed_orders as f64 / seconds)
}

/// Once final: what happened, in a sentence, and the way to the orders.
#[component]
fn Outcome(state: RwSignal<Import>, orders_href: String) -> impl IntoView {
    move || {
        let import = state.get();
        if !import.status.is_final() {
            return None;
        }
        let succeeded = format::count(import.succeeded_orders, "order", "orders");
        let failed = format::count(import.failed_orders, "order", "orders");
        let sentence = match (import.dry_run, import.failed_orders) {
            (true, 0) => format!("Nothing was created. All {succeeded} of the file would be imported."),
            (true, _) => format!(
                "Nothing was created. {succeeded} would be imported; {failed} would not (see the error report). \
                 Correct the file and check it again, or import it as it is: only the valid orders are created."
            ),
            (false, 0) => format!("{succeeded} created and paid."),
            (false, _) => {
                format!("{succeeded} created and paid; {failed} could not be imported (see the error report).")
            }
        };
        let link = (!import.dry_run).then(|| {
            view! {
                <A href=orders_href.clone() attr:class="rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-semibold text-white hover:bg-indigo-500">
                    "View orders"
                </A>
            }
        });
        Some(view! {
            <div class="mt-4 flex flex-wrap items-center justify-between gap-3 rounded-md bg-slate-50 px-3 py-2">
                <p class="text-sm" role="status" data-outcome="">{sentence}</p>
                {link}
            </div>
        })
    }
}

/// The import's error report: one page of it, with the whole report as a CSV download.
#[component]
fn ErrorReport(state: RwSignal<Import>, errors: ErrorReportResource, errors_page: Signal<i64>) -> impl IntoView {
    let urls = ServiceUrls::current();
    let id = state.with_untracked(|import| import.id.clone());
    let count = move || state.get().error_count;
    let download = Action::new(move |_: &()| {
        let (urls, id) = (urls.clone(), id.clone());
        async move {
            let csv = imports_api::errors_csv(&urls, &id).await?;
            save_file(&format!("import-{id}-errors.csv"), "text/csv;charset=utf-8", &csv);
            Ok::<(), crate::api::ServiceError>(())
        }
    });

    view! {
        <section aria-labelledby="error-report-heading" class="mt-6">
            <div class="flex flex-wrap items-baseline justify-between gap-3">
                <h3 id="error-report-heading" class="font-semibold">
                    "Error report "
                    <span class="font-normal text-slate-500" data-error-count=move || count().to_string()>
                        {move || format!("({})", format::count(count(), "line", "lines"))}
                    </span>
                </h3>
                {move || (count() > 0).then(|| view! {
                    <button type="button" class="text-sm text-indigo-700 underline disabled:opacity-50" data-error-csv=""
                        on:click=move |_| { download.dispatch(()); } disabled=move || download.pending().get()>
                        "Download the report (CSV)"
                    </button>
                })}
            </div>
            <Transition fallback=|| view! { <Loading what="the error report" /> }>
                {move || Suspend::new(async move {
                    let id = state.with_untracked(|import| import.id.clone());
                    let page_number = errors_page.get_untracked();
                    match errors.await {
                        Ok(Some(page)) if page.items.is_empty() => {
                            let text = if state.get_untracked().status.is_final() {
                                "No errors: every order of the file passed."
                            } else {
                                "No errors so far."
                            };
                            view! { <p class="mt-2 text-sm text-slate-600">{text}</p> }.into_any()
                        }
                        Ok(Some(page)) => {
                            let shown = page.items.len();
                            view! {
                                <div class="mt-2 overflow-x-auto rounded-lg border border-slate-200">
                                    <table class="min-w-full divide-y divide-slate-200 text-sm">
                                        <caption class="sr-only">"Error report"</caption>
                                        <thead class="bg-slate-50 text-left text-xs font-semibold uppercase tracking-wide text-slate-600">
                                            <tr>
                                                <th scope="col" class="px-3 py-2 text-right">"Line"</th>
                                                <th scope="col" class="px-3 py-2">"Order ref"</th>
                                                <th scope="col" class="px-3 py-2">"Column"</th>
                                                <th scope="col" class="px-3 py-2">"Message"</th>
                                            </tr>
                                        </thead>
                                        <tbody class="divide-y divide-slate-100">
                                            {page.items.into_iter().map(|error| view! {
                                                <tr data-line=error.line>
                                                    <td class="px-3 py-1.5 text-right tabular-nums">{error.line}</td>
                                                    <td class="px-3 py-1.5 font-mono text-xs">{error.order_ref.unwrap_or_default()}</td>
                                                    <td class="px-3 py-1.5 font-mono text-xs">{error.column.unwrap_or_default()}</td>
                                                    <td class="px-3 py-1.5">{error.message}</td>
                                                </tr>
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                </div>
                                {(page.total > ERRORS_PAGE_SIZE || page_number > 1).then(|| view! {
                                    <Pager page=page_number page_size=ERRORS_PAGE_SIZE total=page.total shown
                                        href_of=move |n| import_href(&id, n) />
                                })}
                            }
                            .into_any()
                        }
                        Ok(None) => ().into_any(),
                        Err(error) => view! {
                            <div class="mt-2">
                                <ServiceProblem error still_works="The figures above are up to date; the report shows again once the Order Service answers." />
                            </div>
                        }
                        .into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn Figure(#[prop(into)] label: String, #[prop(into)] value: Signal<String>, id: &'static str) -> impl IntoView {
    view! {
        <div class="rounded-lg border border-slate-200 bg-white p-3">
            <dt class="text-xs text-slate-500">{label}</dt>
            <dd class="mt-0.5 text-lg font-semibold tabular-nums" data-figure=id>{move || value.get()}</dd>
        </div>
    }
}

/// Hands `text` to the browser as a file download named `name`: the report needs the bearer
/// token, so it is fetched, then saved from memory rather than followed as a link.
fn save_file(name: &str, mime: &str, text: &str) {
    use leptos::wasm_bindgen::JsCast;

    let parts = web_sys::js_sys::Array::of1(&leptos::wasm_bindgen::JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options) else { return };
    let Ok(href) = web_sys::Url::create_object_url_with_blob(&blob) else { return };
    let document = leptos::prelude::document();
    if let Some(link) = document.create_element("a").ok().and_then(|a| a.dyn_into::<web_sys::HtmlAnchorElement>().ok())
    {
        link.set_href(&href);
        link.set_download(name);
        link.click();
    }
    // The object URL is not revoked: the download reads it after this returns, and the page
    // lets it go when it unloads.
}

/// What a running import's progress updates, as the panel shows it.
struct Live {
    id: String,
    state: RwSignal<Import>,
    rate: RwSignal<Option<f64>>,
    trouble: RwSignal<Option<StreamTrouble>>,
    on_final: Option<Callback<Import>>,
}

/// Follows an import that can still change through its event stream, which sends the state
/// at once, then every change, and stops. The stream opens with a ticket fetched first, so it
/// is held here and closed when the panel goes.
fn follow_live(live: Live) {
    let Live { id, state, rate, trouble, on_final } = live;
    let urls = ServiceUrls::current();
    let meter = StoredValue::new(RateMeter::default());
    let stream = StoredValue::new_local(None::<ProgressStream>);
    on_cleanup(move || {
        if let Some(Some(open)) = stream.try_update_value(Option::take) {
            open.close();
        }
    });
    Effect::new(move |_| {
        if state.get_untracked().status.is_final() {
            return;
        }
        let (urls, id) = (urls.clone(), id.clone());
        leptos::task::spawn_local(async move {
            let url = match imports_api::events_url(&urls, &id).await {
                Ok(url) => url,
                Err(_) => {
                    trouble.set(Some(StreamTrouble::Stopped));
                    return;
                }
            };
            let opened = follow_progress(
                &url,
                move |import: Import| {
                    let measured = meter.try_update_value(|m| m.record(now_ms(), import.processed_orders)).flatten();
                    rate.set(measured);
                    trouble.set(None);
                    let done = import.status.is_final();
                    state.set(import.clone());
                    if done {
                        if let Some(on_final) = on_final {
                            on_final.run(import);
                        }
                    }
                },
                move |closed| {
                    trouble.set(Some(if closed { StreamTrouble::Stopped } else { StreamTrouble::Reconnecting }))
                },
            );
            // The panel may have gone while the ticket was on its way.
            if let Some(Some(Some(orphan))) = opened.map(|open| stream.try_set_value(Some(open))) {
                orphan.close();
            }
        });
    });
}

/// Milliseconds on the browser's monotonic clock.
fn now_ms() -> f64 {
    web_sys::window().and_then(|window| window.performance()).map_or(0.0, |performance| performance.now())
}

/// An open event stream with its listeners (kept alive as long as it is); closed by its owner.
struct ProgressStream {
    source: web_sys::EventSource,
    _on_progress: leptos::wasm_bindgen::closure::Closure<dyn Fn(web_sys::MessageEvent)>,
    _on_error: leptos::wasm_bindgen::closure::Closure<dyn Fn(web_sys::Event)>,
}

impl ProgressStream {
    fn close(self) {
        self.source.close();
    }
}

/// Opens the import's event stream and calls `on_progress` with every `progress` event's
/// import, closing the stream itself once one is final (the server then ends it, and the
/// browser would otherwise reconnect). `on_trouble(closed)` hears of a lost stream: the
/// browser reopens it unless `closed`.
fn follow_progress(
    url: &str,
    on_progress: impl Fn(Import) + 'static,
    on_trouble: impl Fn(bool) + 'static,
) -> Option<ProgressStream> {
    use leptos::wasm_bindgen::closure::Closure;
    use leptos::wasm_bindgen::JsCast;
    use web_sys::{Event, EventSource, MessageEvent};

    let Ok(source) = EventSource::new(url) else {
        on_trouble(true);
        return None;
    };
    let progress = Closure::<dyn Fn(MessageEvent)>::new({
        let source = source.clone();
        move |event: MessageEvent| {
            let Some(import) = event.data().as_string().and_then(|data| serde_json::from_str::<Import>(&data).ok())
            else {
                return;
            };
            if import.status.is_final() {
                source.close();
            }
            on_progress(import);
        }
    });
    let error = Closure::<dyn Fn(Event)>::new({
        let source = source.clone();
        move |_: Event| on_trouble(source.ready_state() == EventSource::CLOSED)
    });
    let _ = source.add_event_listener_with_callback("progress", progress.as_ref().unchecked_ref());
    source.set_onerror(Some(error.as_ref().unchecked_ref()));
    Some(ProgressStream { source, _on_progress: progress, _on_error: error })
}

/// The import's pace, from the progress events' arrival times: orders decided over the last
/// few seconds, so that a slow start or a stall shows up instead of being averaged away.
#[derive(Debug, Default)]
struct RateMeter {
    /// (milliseconds, processed orders), oldest first.
    samples: VecDeque<(f64, i64)>,
}

impl RateMeter {
    const WINDOW_MS: f64 = 10_000.0;
    /// Below this span the rate would be noise.
    const SHORTEST_MS: f64 = 500.0;

    /// Adds a sample; the rate in orders per second once there is enough to tell.
    fn record(&mut self, at_ms: f64, processed: i64) -> Option<f64> {
        self.samples.push_back((at_ms, processed));
        // Keep one sample at or beyond the window's start, so the span covers the window.
        while self.samples.len() > 2 && at_ms - self.samples[1].0 >= Self::WINDOW_MS {
            self.samples.pop_front();
        }
        let (&(first_at, first), &(last_at, last)) = (self.samples.front()?, self.samples.back()?);
        let span = last_at - first_at;
        (span >= Self::SHORTEST_MS).then(|| (last - first).max(0) as f64 * 1000.0 / span)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_needs_half_a_second_of_events() {
        let mut meter = RateMeter::default();
        assert_eq!(meter.record(0.0, 0), None);
        assert_eq!(meter.record(200.0, 10), None);
        assert_eq!(meter.record(1_000.0, 50), Some(50.0));
        assert_eq!(meter.record(2_000.0, 150), Some(75.0));
    }

    #[test]
    fn the_rate_follows_the_last_ten_seconds() {
        let mut meter = RateMeter::default();
        // 10 orders/s for 20 s, then a stall.
        for second in 0..=20 {
            meter.record(second as f64 * 1_000.0, second * 10);
        }
        assert_eq!(meter.record(21_000.0, 210), Some(10.0));
        let mut rate = None;
        for second in 22..=32 {
            rate = meter.record(second as f64 * 1_000.0, 210);
        }
        assert_eq!(rate, Some(0.0), "a stall shows as no progress, not as the old average");
    }

    #[test]
    fn the_error_report_page_is_in_the_import_url_after_the_first() {
        assert_eq!(import_href("01JX", 1), "/imports/01JX");
        assert_eq!(import_href("01JX", 3), "/imports/01JX?page=3");
    }
}
