//! The Order Service's bulk imports, as the dashboard uses them: the history, one import, its
//! error report (a page of it, or the whole of it as a CSV download), the live progress
//! stream, and the upload itself, which only the browser makes: the file is the user's.

use std::future::Future;

use platform::api::auth::EventsTicket;
use platform::api::imports::{Import, ImportError, NotifyMode};
use send_wrapper::SendWrapper;

use super::fetch::{self, Method};
use super::orders::encode;
use super::{Page, Service, ServiceResult, ServiceUrls};

/// Imports per page of the history.
pub const PAGE_SIZE: i64 = 20;
/// Lines per page of an error report.
pub const ERRORS_PAGE_SIZE: i64 = 50;

/// How the Order Service should read the file's text; without one it detects it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileEncoding {
    Utf8,
    /// Shift_JIS as Windows writes it (CP932): what Excel saves a Japanese CSV in.
    ShiftJis,
}

impl FileEncoding {
    pub const ALL: [FileEncoding; 2] = [FileEncoding::Utf8, FileEncoding::ShiftJis];

    pub fn as_str(self) -> &'static str {
        match self {
            FileEncoding::Utf8 => "utf-8",
            FileEncoding::ShiftJis => "shift_jis",
        }
    }

    pub fn parse(text: &str) -> Option<FileEncoding> {
        FileEncoding::ALL.into_iter().find(|e| e.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            FileEncoding::Utf8 => "UTF-8",
            FileEncoding::ShiftJis => "Shift_JIS (Excel, Japanese Windows)",
        }
    }
}

/// The choices that go with an upload, as the endpoint's query string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UploadOptions {
    /// Only check the file: nothing is created, and the answer already has the counts.
    pub dry_run: bool,
    pub notify: NotifyMode,
    /// `None`: detected by the Order Service.
    pub encoding: Option<FileEncoding>,
}

impl UploadOptions {
    fn query(&self) -> String {
        let mut query = format!("dry_run={}&notify={}", self.dry_run, self.notify.as_str());
        if let Some(encoding) = self.encoding {
            query.push_str(&format!("&encoding={}", encoding.as_str()));
        }
        query
    }
}

/// What an upload gave: the import, and whether the Order Service already had it (the same
/// file, or the same idempotency key, uploaded before) instead of starting a new one.
#[derive(Clone, Debug, PartialEq)]
pub struct Uploaded {
    pub import: Import,
    pub existing: bool,
}

/// One page of the history, newest first.
pub async fn list(urls: &ServiceUrls, page: i64) -> ServiceResult<Page<Import>> {
    let query = format!("skip={}&limit={PAGE_SIZE}", (page - 1) * PAGE_SIZE);
    fetch::get_page(Service::Orders, urls.url(Service::Orders, &format!("/api/v1/orders/imports?{query}"))).await
}

pub async fn get(urls: &ServiceUrls, id: &str) -> ServiceResult<Import> {
    fetch::get_json(Service::Orders, urls.url(Service::Orders, &format!("/api/v1/orders/imports/{}", encode(id)))).await
}

/// One page of the import's error report, by line.
pub async fn errors(urls: &ServiceUrls, id: &str, page: i64) -> ServiceResult<Page<ImportError>> {
    let query = format!("skip={}&limit={ERRORS_PAGE_SIZE}", (page - 1) * ERRORS_PAGE_SIZE);
    let url = urls.url(Service::Orders, &format!("/api/v1/orders/imports/{}/errors?{query}", encode(id)));
    fetch::get_page(Service::Orders, url).await
}

/// The whole error report as CSV text, for the browser to save: UTF-8 with a byte-order mark,
/// by which Excel knows the encoding (reading the answer as text drops the service's own).
pub async fn errors_csv(urls: &ServiceUrls, id: &str) -> ServiceResult<String> {
    let text = fetch::get_text(Service::Orders, errors_csv_url(urls, id)).await?;
    Ok(if text.starts_with('\u{feff}') { text } else { format!("\u{feff}{text}") })
}

fn errors_csv_url(urls: &ServiceUrls, id: &str) -> String {
    urls.url(Service::Orders, &format!("/api/v1/orders/imports/{}/errors?format=csv", encode(id)))
}

/// The server-sent events of the import's progress — `progress` events carrying the import,
/// at once and on every change, until it is final — opened with a fresh ticket, for an
/// `EventSource` cannot send the bearer token.
pub async fn events_url(urls: &ServiceUrls, id: &str) -> ServiceResult<String> {
    let ticket_url = urls.url(Service::Orders, &format!("/api/v1/orders/imports/{}/events/ticket", encode(id)));
    let ticket: EventsTicket = fetch::send_json::<(), _>(Service::Orders, Method::Post, ticket_url, None).await?;
    Ok(format!("{}?ticket={}", plain_events_url(urls, id), encode(&ticket.ticket)))
}

fn plain_events_url(urls: &ServiceUrls, id: &str) -> String {
    urls.url(Service::Orders, &format!("/api/v1/orders/imports/{}/events", encode(id)))
}

/// Uploads a file picked or dropped in the browser. 202 is a new import; 200 the one the
/// Order Service already had for this file.
pub fn upload(
    urls: &ServiceUrls,
    file: SendWrapper<web_sys::File>,
    options: UploadOptions,
) -> impl Future<Output = ServiceResult<Uploaded>> + Send {
    let url = urls.url(Service::Orders, &format!("/api/v1/orders/imports?{}", options.query()));
    async move {
        let (status, import) = fetch::post_file(Service::Orders, url, "file", file).await?;
        Ok(Uploaded { import, existing: status == 200 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_options_become_the_query_string() {
        let options = UploadOptions { dry_run: true, notify: NotifyMode::Digest, encoding: None };
        assert_eq!(options.query(), "dry_run=true&notify=digest");
        let options =
            UploadOptions { dry_run: false, notify: NotifyMode::None, encoding: Some(FileEncoding::ShiftJis) };
        assert_eq!(options.query(), "dry_run=false&notify=none&encoding=shift_jis");
    }

    #[test]
    fn import_urls_escape_the_id() {
        let urls = ServiceUrls::default();
        assert_eq!(
            errors_csv_url(&urls, "ab/c"),
            "http://127.0.0.1:8000/api/v1/orders/imports/ab%2Fc/errors?format=csv"
        );
        assert_eq!(plain_events_url(&urls, "01J"), "http://127.0.0.1:8000/api/v1/orders/imports/01J/events");
    }
}
