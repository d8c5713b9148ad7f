//! `/api/v1/orders/imports`: uploading an order file, and following what becomes of it —
//! the history, one import, its error report (JSON or CSV) and its progress as server-sent
//! events.

use std::convert::Infallible;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::Utc;
use futures::{Stream, StreamExt};
use platform::api::auth::EventsTicket;
use platform::api::imports::{Import, ImportError, ImportStatus, NotifyMode, MAX_IMPORT_BYTES};
use platform::api::{ErrorBody, TOTAL_COUNT_HEADER};
use platform::auth::{require, Authorized};
use platform::db::Transaction;
use platform::extract::{IdempotencyKey, Json, Path, Query};
use platform::openapi::Alias;
use platform::whole_number::WholeNumber;
use platform::{ApiError, ApiResult};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use crate::db;
use crate::db::imports::NewImport;
use crate::domain::import::final_status;
use crate::domain::import_file::{self, FileEncoding, ImportFile};

const DEFAULT_LIMIT: i64 = 20;
const MAX_LIMIT: i64 = 100;
const DEFAULT_ERROR_LIMIT: i64 = 100;
const MAX_ERROR_LIMIT: i64 = 1_000;
/// How often the event stream looks at the import.
const PROGRESS_POLL: Duration = Duration::from_millis(250);

/// The spellings `router` also answers under, with the trailing slash.
pub const ALIASES: &[Alias] = &[
    Alias { path: "/api/v1/orders/imports/", of: "/api/v1/orders/imports", method: "get" },
    Alias { path: "/api/v1/orders/imports/", of: "/api/v1/orders/imports", method: "post" },
    Alias {
        path: "/api/v1/orders/imports/{import_id}/events/ticket/",
        of: "/api/v1/orders/imports/{import_id}/events/ticket",
        method: "post",
    },
];

pub fn router() -> OpenApiRouter<AppState> {
    // The file may be 20 MB, on this route only; a multipart envelope adds a little, and a
    // file over the limit is refused with a clear 413 by `read_upload` anyway.
    let upload_limit = DefaultBodyLimit::max(MAX_IMPORT_BYTES + 64 * 1024);
    let uploads = OpenApiRouter::new()
        .routes(routes!(list_imports, create_import))
        .route("/api/v1/orders/imports/", get(list_imports).post(create_import))
        .layer(upload_limit);
    OpenApiRouter::new()
        .merge(uploads)
        .routes(routes!(get_import))
        .routes(routes!(get_errors))
        .routes(routes!(events_ticket))
        .routes(routes!(import_events))
        .route("/api/v1/orders/imports/{import_id}/events/ticket/", post(events_ticket))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// Check the whole file and report every error, creating nothing (default false).
    dry_run: Option<bool>,
    /// Who is told about the imported orders (default `per_order`).
    notify: Option<NotifyMode>,
    /// How the file is encoded; detected when absent.
    #[param(schema_with = FileEncoding::param_schema)]
    encoding: Option<String>,
}

/// A multipart upload: the file in the field `file` (other fields are ignored).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // Documents the form; `read_upload` reads it.
pub struct UploadForm {
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// Upload an order file: CSV, one row per item, rows of one order sharing `order_ref`.
///
/// Answers 202 with the new import, which then runs in the background (follow it through
/// `/events`) — at once, or `queued` while `IMPORT_CONCURRENCY` imports run; a dry run's answer
/// is already final. The same file (same bytes, same kind of run) or the same
/// `Idempotency-Key` again answers 200 with the existing import and creates nothing — unless
/// that import failed: the same bytes without that key are a new run.
#[utoipa::path(
    post,
    path = "/api/v1/orders/imports",
    tag = "imports",
    security(("bearer" = ["manage_orders"])),
    params(UploadQuery, ("Idempotency-Key" = Option<String>, Header, description = "Makes a retried upload safe")),
    request_body(
        description = "The file: the body itself (as CSV, or as what spreadsheets and tools call it), or the field `file` of a multipart form",
        content(
            (String = "text/csv"),
            (String = "application/csv"),
            (String = "text/plain"),
            (String = "application/vnd.ms-excel"),
            (String = "application/octet-stream"),
            (UploadForm = "multipart/form-data"),
        ),
    ),
    responses(
        (status = 202, description = "Accepted", body = Import),
        (status = 200, description = "This file or key was uploaded before: that import", body = Import),
        (status = 400, description = "A multipart body that cannot be read", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The caller may not run imports", body = ErrorBody),
        (status = 409, description = "The Idempotency-Key was used for another file", body = ErrorBody),
        (status = 413, description = "Larger than 20 MB", body = ErrorBody),
        (status = 415, description = "Neither multipart nor CSV", body = ErrorBody),
        (status = 422, description = "The file cannot be read at all (encoding, header, more than 10,000 orders, no rows), or a bad parameter", body = ErrorBody),
    )
)]
pub async fn create_import(
    State(state): State<AppState>,
    _caller: Authorized<require::ManageOrders>,
    Query(query): Query<UploadQuery>,
    headers: HeaderMap,
    request: Request,
) -> ApiResult<Response> {
    let key = IdempotencyKey::from_headers(&headers)?;
    let dry_run = query.dry_run.unwrap_or(false);
    let notify = query.notify.unwrap_or_default();
    let encoding =
        query.encoding.as_deref().map(FileEncoding::parse_param).transpose().map_err(ApiError::Unprocessable)?;
    let (file_name, bytes) = read_upload(request).await?;
    let sha256 = hex(&Sha256::digest(&bytes));

    if let Some(existing) = existing_import(&state, key.as_ref(), &sha256, dry_run).await? {
        return Ok(existing);
    }
    let read_bytes = bytes.clone();
    let file = tokio::task::spawn_blocking(move || import_file::read(&read_bytes, encoding))
        .await
        .map_err(|err| anyhow::anyhow!("reading the import file panicked: {err}"))?
        .map_err(|problem| ApiError::Unprocessable(problem.to_string()))?;

    let id = uuid::Uuid::new_v4().to_string();
    let new = NewImport {
        id: &id,
        // A dry run is finished within this request; a real one waits its turn.
        status: if dry_run { ImportStatus::Validating } else { ImportStatus::Queued },
        file_name: file_name.as_deref(),
        file_sha256: &sha256,
        idempotency_key: key.as_ref().map(IdempotencyKey::as_str),
        encoding: file.encoding.as_str(),
        dry_run,
        notify,
        total_rows: file.total_rows,
        total_orders: file.total_orders,
        unknown_columns: &file.unknown_columns,
        created_at: Utc::now(),
    };
    let mut tx = state.core.db.write.begin().await?;
    if !db::imports::insert(&mut tx, &new).await? {
        // A concurrent upload of the same file or key won the insert.
        drop(tx);
        return existing_import(&state, key.as_ref(), &sha256, dry_run)
            .await?
            .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("import conflicts but none holds the file or key")));
    }
    if dry_run {
        record_dry_run(&mut tx, &id, &file).await?;
        tx.commit().await?;
    } else {
        db::imports::store_file(&mut tx, &id, &bytes).await?;
        tx.commit().await?;
        if let Err(err) = state.importer.start_queued(&state.core, Some((id.clone(), file))).await {
            // Accepted and stored: it is started as soon as the database answers again.
            tracing::warn!(import_id = %id, error = ?err, "cannot start the queued imports now");
            state.importer.start_queued_eventually(state.core.clone());
        }
    }
    tracing::info!(import_id = %id, dry_run, notify = notify.as_str(), "import accepted");
    let import = load(&state, &id).await?;
    Ok((StatusCode::ACCEPTED, [(header::LOCATION, format!("/api/v1/orders/imports/{id}"))], Json(import))
        .into_response())
}

/// The outcome of a dry run is known at once: its counts, its errors and its final status.
async fn record_dry_run(tx: &mut Transaction, id: &str, file: &ImportFile) -> ApiResult<()> {
    let valid = file.orders.len() as i64;
    db::imports::insert_errors(&mut *tx, id, &file.errors).await?;
    db::imports::count_outcomes(&mut *tx, id, valid, file.failed_orders).await?;
    db::imports::finish(&mut *tx, id, final_status(valid, file.failed_orders), None, Utc::now()).await?;
    Ok(())
}

/// The answer to an upload seen before: 200 with its import, or 409 if the key was used for
/// another file.
async fn existing_import(
    state: &AppState,
    key: Option<&IdempotencyKey>,
    sha256: &str,
    dry_run: bool,
) -> ApiResult<Option<Response>> {
    // Asked of the writer, which has seen every committed import.
    let Some((row, same_file)) =
        db::imports::find_existing(&state.core.db.write, key.map(IdempotencyKey::as_str), sha256, dry_run).await?
    else {
        return Ok(None);
    };
    if !same_file {
        return Err(ApiError::Conflict(format!(
            "this Idempotency-Key was already used for import {} of another file",
            row.id
        )));
    }
    Ok(Some((StatusCode::OK, Json(row.into_import()?)).into_response()))
}

/// The file of a multipart upload (field `file`) or of a plain CSV body, with its name when
/// the upload gives one. Larger than `MAX_IMPORT_BYTES` is a 413.
async fn read_upload(request: Request) -> ApiResult<(Option<String>, Bytes)> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let too_large = || {
        ApiError::Status(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the file is larger than {} MB; split it into smaller files", MAX_IMPORT_BYTES / (1024 * 1024)),
        )
    };
    let (file_name, bytes) = if content_type.starts_with("multipart/form-data") {
        let mut multipart = Multipart::from_request(request, &())
            .await
            .map_err(|rejection| ApiError::Status(rejection.status(), rejection.body_text()))?;
        let mut file = None;
        loop {
            let unreadable = |err: axum::extract::multipart::MultipartError| match err.status() {
                StatusCode::PAYLOAD_TOO_LARGE => too_large(),
                status => ApiError::Status(status, format!("unreadable multipart body: {}", err.body_text())),
            };
            let field = multipart.next_field().await.map_err(unreadable)?;
            let Some(field) = field else { break };
            if field.name() != Some("file") {
                continue;
            }
            let name = field.file_name().map(str::to_owned);
            let bytes = field.bytes().await.map_err(unreadable)?;
            file = Some((name, bytes));
            break;
        }
        file.ok_or_else(|| ApiError::Unprocessable("the multipart body has no field named file".into()))?
    } else if ["text/csv", "application/csv", "text/plain", "application/octet-stream", "application/vnd.ms-excel"]
        .iter()
        .any(|accepted| content_type.starts_with(accepted))
    {
        let bytes = Bytes::from_request(request, &()).await.map_err(|rejection| match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => too_large(),
            status => ApiError::Status(status, rejection.body_text()),
        })?;
        (None, bytes)
    } else {
        return Err(ApiError::Status(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the file as multipart/form-data (field file) or as a text/csv body".into(),
        ));
    };
    if bytes.len() > MAX_IMPORT_BYTES {
        return Err(too_large());
    }
    Ok((file_name, bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn load(state: &AppState, id: &str) -> ApiResult<Import> {
    let row = db::imports::fetch(&state.core.db.write, id).await?.ok_or_else(|| ApiError::not_found("Import", id))?;
    Ok(row.into_import()?)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Imports to skip (default 0).
    #[param(value_type = Option<i64>, minimum = 0)]
    skip: Option<WholeNumber>,
    /// Page size, 1 ..= 100 (default 20).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    limit: Option<WholeNumber>,
}

/// The history of imports, newest first; the total is in `X-Total-Count`.
#[utoipa::path(
    get,
    path = "/api/v1/orders/imports",
    tag = "imports",
    security(("bearer" = ["read"])),
    params(ListQuery),
    responses(
        (status = 200, body = [Import], headers(("x-total-count" = i64, description = "Number of imports"))),
        (status = 401, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn list_imports(
    State(state): State<AppState>,
    _caller: Authorized<require::Read>,
    Query(query): Query<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    let (skip, limit) = super::page(query.skip, query.limit, DEFAULT_LIMIT, MAX_LIMIT)?;
    let total = db::imports::count(&state.core.db.read).await?;
    let imports = db::imports::list(&state.core.db.read, skip, limit)
        .await?
        .into_iter()
        .map(db::imports::ImportRow::into_import)
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(([(TOTAL_COUNT_HEADER, total.to_string())], Json(imports)))
}

/// One import with its progress.
#[utoipa::path(
    get,
    path = "/api/v1/orders/imports/{import_id}",
    tag = "imports",
    security(("bearer" = ["read"])),
    params(("import_id" = String, Path, description = "Import id (the batch_id of its orders)")),
    responses((status = 200, body = Import), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody))
)]
pub async fn get_import(
    State(state): State<AppState>,
    _caller: Authorized<require::Read>,
    Path(import_id): Path<String>,
) -> ApiResult<Json<Import>> {
    let row = db::imports::fetch(&state.core.db.read, &import_id)
        .await?
        .ok_or_else(|| ApiError::not_found("Import", &import_id))?;
    Ok(Json(row.into_import()?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ErrorsQuery {
    /// Lines to skip (default 0; JSON only).
    #[param(value_type = Option<i64>, minimum = 0)]
    skip: Option<WholeNumber>,
    /// Page size, 1 ..= 1000 (default 100; JSON only).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 1000)]
    limit: Option<WholeNumber>,
    /// `json` (default) or `csv`: the whole report as a download.
    #[param(inline)]
    format: Option<ReportFormat>,
}

/// How `GET …/errors` answers.
#[derive(Debug, Clone, Copy, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReportFormat {
    #[default]
    Json,
    Csv,
}

/// The import's error report, by line: JSON pages (total in `X-Total-Count`), or with
/// `?format=csv` the whole report as a CSV file (UTF-8 with a BOM, so that Excel reads the
/// Japanese right).
#[utoipa::path(
    get,
    path = "/api/v1/orders/imports/{import_id}/errors",
    tag = "imports",
    security(("bearer" = ["read"])),
    params(("import_id" = String, Path, description = "Import id"), ErrorsQuery),
    responses(
        (status = 200, description = "A page of the report (JSON), or the whole report as a CSV download (`?format=csv`)",
            content((Vec<ImportError> = "application/json"), (String = "text/csv")),
            headers(("x-total-count" = i64, description = "Lines in the report (JSON only)"))),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn get_errors(
    State(state): State<AppState>,
    _caller: Authorized<require::Read>,
    Path(import_id): Path<String>,
    Query(query): Query<ErrorsQuery>,
) -> ApiResult<Response> {
    let row = db::imports::fetch(&state.core.db.read, &import_id)
        .await?
        .ok_or_else(|| ApiError::not_found("Import", &import_id))?;
    match query.format.unwrap_or_default() {
        ReportFormat::Json => {
            let (skip, limit) = super::page(query.skip, query.limit, DEFAULT_ERROR_LIMIT, MAX_ERROR_LIMIT)?;
            let errors = db::imports::errors(&state.core.db.read, &import_id, skip, limit).await?;
            Ok(([(TOTAL_COUNT_HEADER, row.error_count.to_string())], Json(errors)).into_response())
        }
        ReportFormat::Csv => {
            let errors = db::imports::errors(&state.core.db.read, &import_id, 0, i64::MAX).await?;
            let csv = errors_csv(&errors)?;
            let disposition = format!("attachment; filename=\"import-{import_id}-errors.csv\"");
            Ok((
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                    (header::CONTENT_DISPOSITION, disposition),
                ],
                csv,
            )
                .into_response())
        }
    }
}

fn errors_csv(errors: &[ImportError]) -> anyhow::Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    writer.write_record(["line", "order_ref", "column", "message"])?;
    for error in errors {
        writer.write_record([
            error.line.to_string().as_str(),
            &spreadsheet_safe(error.order_ref.as_deref().unwrap_or("")),
            &spreadsheet_safe(error.column.as_deref().unwrap_or("")),
            &spreadsheet_safe(&error.message),
        ])?;
    }
    Ok(writer.into_inner()?)
}

/// Text from the uploaded file as a spreadsheet shows it, never runs it: a cell that starts
/// like a formula (`=`, `+`, `-`, `@`) gets a leading apostrophe.
fn spreadsheet_safe(text: &str) -> std::borrow::Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}").into()
    } else {
        text.into()
    }
}

/// A ticket for the import's event stream, good for this import only and for one minute
/// (reconnections within it included): a browser's `EventSource` cannot send a bearer token.
#[utoipa::path(
    post,
    path = "/api/v1/orders/imports/{import_id}/events/ticket",
    tag = "imports",
    security(("bearer" = ["read"])),
    params(("import_id" = String, Path, description = "Import id")),
    responses(
        (status = 201, body = EventsTicket),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
pub async fn events_ticket(
    State(state): State<AppState>,
    caller: Authorized<require::Read>,
    Path(import_id): Path<String>,
) -> ApiResult<(StatusCode, Json<EventsTicket>)> {
    if db::imports::fetch(&state.core.db.read, &import_id).await?.is_none() {
        return Err(ApiError::not_found("Import", &import_id));
    }
    Ok((StatusCode::CREATED, Json(state.identity.events_ticket(&caller.principal, &import_id)?)))
}

/// `?ticket=`: documented as the `events_ticket` security scheme, the credential it is.
#[derive(Debug, Deserialize)]
pub struct EventsQuery {
    /// A ticket from `POST …/events/ticket`, for clients that cannot send `Authorization`.
    ticket: Option<String>,
}

/// The import's progress as server-sent events: `progress` with the import at once and at
/// every change, the last one in a final status; then the stream ends. Authorised by a bearer
/// token, or by a ticket of this import in `?ticket=` (which the logs never show).
#[utoipa::path(
    get,
    path = "/api/v1/orders/imports/{import_id}/events",
    tag = "imports",
    security(("bearer" = ["read"]), ("events_ticket" = [])),
    params(("import_id" = String, Path, description = "Import id")),
    responses(
        (status = 200, description = "text/event-stream of `progress` events, each an Import", body = Import,
         content_type = "text/event-stream"),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
pub async fn import_events(
    State(state): State<AppState>,
    bearer: Result<Authorized<require::Read>, ApiError>,
    Path(import_id): Path<String>,
    Query(query): Query<EventsQuery>,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    match query.ticket.as_deref().filter(|ticket| !ticket.is_empty()) {
        Some(ticket) => state.identity.check_events_ticket(ticket, &import_id).await?,
        None => drop(bearer?),
    }
    if db::imports::fetch(&state.core.db.read, &import_id).await?.is_none() {
        return Err(ApiError::not_found("Import", &import_id));
    }
    let state_stopping = state.importer.stopping();
    let stream = futures::stream::unfold(Progress::Watching(None), move |progress| {
        let state = state.clone();
        let import_id = import_id.clone();
        async move {
            let Progress::Watching(last) = progress else { return None };
            loop {
                if last.is_some() {
                    tokio::time::sleep(PROGRESS_POLL).await;
                }
                let now = match db::imports::fetch(&state.core.db.read, &import_id).await {
                    Ok(row) => row?.into_import().ok()?,
                    Err(err) => {
                        tracing::warn!(error = %err, "cannot read the import's progress; trying again");
                        tokio::time::sleep(PROGRESS_POLL).await;
                        continue;
                    }
                };
                if last.as_deref() != Some(&now) {
                    let event = progress_event(&now);
                    let next =
                        if now.status.is_final() { Progress::Done } else { Progress::Watching(Some(Box::new(now))) };
                    return Some((Ok(event), next));
                }
            }
        }
    });
    let stream = stream.take_until(state_stopping);
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// Where the event stream is: watching for a change from the last import sent (none yet),
/// or done after sending a final status.
enum Progress {
    Watching(Option<Box<Import>>),
    Done,
}

fn progress_event(import: &Import) -> Event {
    Event::default().event("progress").json_data(import).unwrap_or_else(|_| Event::default().event("progress"))
}
