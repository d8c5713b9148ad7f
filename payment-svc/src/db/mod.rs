//! The SQL of the service, one function per query. Rows are mapped to the wire types here so
//! the handlers never see a column.

pub mod gateway_events;
pub mod payments;
pub mod refunds;

/// Whether `err` is SQLite refusing a row that breaks a UNIQUE constraint: that is how the
/// database arbitrates concurrent duplicates, and it is a 409, not a 500.
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}
