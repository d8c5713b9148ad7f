//! Bulk imports: an order file uploaded to the Order Service, and what became of it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Most orders (distinct `order_ref`s) one file may hold.
pub const MAX_IMPORT_ORDERS: usize = 10_000;
/// Largest file accepted, in bytes (20 MiB).
pub const MAX_IMPORT_BYTES: usize = 20 * 1024 * 1024;

/// Where an import is. (`queued` →) `validating` → `processing` → one of the three final states.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImportStatus {
    /// Accepted, waiting for one of the imports running now to end (`IMPORT_CONCURRENCY`).
    Queued,
    /// The rows are being checked and staged.
    Validating,
    /// Orders are being created, paid and notified.
    Processing,
    /// Every order of the file was imported (or, for a dry run, would be).
    Completed,
    /// Some orders were imported; the others are in the error report.
    CompletedWithErrors,
    /// No order could be imported; the error report (or `failure`) says why.
    Failed,
}

impl ImportStatus {
    pub const ALL: [ImportStatus; 6] = [
        ImportStatus::Queued,
        ImportStatus::Validating,
        ImportStatus::Processing,
        ImportStatus::Completed,
        ImportStatus::CompletedWithErrors,
        ImportStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ImportStatus::Queued => "queued",
            ImportStatus::Validating => "validating",
            ImportStatus::Processing => "processing",
            ImportStatus::Completed => "completed",
            ImportStatus::CompletedWithErrors => "completed_with_errors",
            ImportStatus::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<ImportStatus> {
        ImportStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Nothing more will change.
    pub fn is_final(self) -> bool {
        matches!(self, ImportStatus::Completed | ImportStatus::CompletedWithErrors | ImportStatus::Failed)
    }
}

/// Who is told about the imported orders.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotifyMode {
    /// Each order gets its own confirmation e-mail, as FR-008 wants for any order.
    #[default]
    PerOrder,
    /// One summary e-mail per customer e-mail listing that customer's orders of the import.
    Digest,
    /// No e-mail for the import's orders (later status changes still send theirs).
    None,
}

impl NotifyMode {
    pub fn as_str(self) -> &'static str {
        match self {
            NotifyMode::PerOrder => "per_order",
            NotifyMode::Digest => "digest",
            NotifyMode::None => "none",
        }
    }

    pub fn parse(text: &str) -> Option<NotifyMode> {
        [NotifyMode::PerOrder, NotifyMode::Digest, NotifyMode::None].into_iter().find(|m| m.as_str() == text)
    }
}

/// One import, as every import endpoint returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Import {
    /// Also the `batch_id` of the orders it created.
    pub id: String,
    pub status: ImportStatus,
    /// The uploaded file's name, when the upload gave one.
    pub file_name: Option<String>,
    /// SHA-256 of the file as uploaded (hex): the same file twice is the same import.
    pub file_sha256: String,
    /// How the file was read: `utf-8`, `utf-8-bom` or `shift_jis`.
    pub encoding: String,
    pub dry_run: bool,
    pub notify: NotifyMode,
    /// Data rows (the header not counted).
    pub total_rows: i64,
    /// Distinct `order_ref`s.
    pub total_orders: i64,
    /// Orders whose outcome is decided (succeeded + failed).
    pub processed_orders: i64,
    /// Created and paid (for a dry run: valid).
    pub succeeded_orders: i64,
    /// Refused by validation, or created but not paid.
    pub failed_orders: i64,
    /// Lines of the error report.
    pub error_count: i64,
    /// Header columns that are not part of the format; their values were ignored.
    pub unknown_columns: Vec<String>,
    /// Why the import as a whole stopped, when it did.
    pub failure: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// One line of an import's error report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ImportError {
    /// Line of the file where the offending row starts (the header is line 1).
    pub line: i64,
    pub order_ref: Option<String>,
    /// The column at fault, as named in the file's header; `null` for a whole-row problem.
    pub column: Option<String>,
    pub message: String,
}
