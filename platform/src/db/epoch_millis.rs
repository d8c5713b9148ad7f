//! `EpochMillis`: an instant the queues schedule by (when an outbox row or a notification is
//! next due, when a lease or a session ends), stored as each backend keeps such an instant
//! best — an `INTEGER` of milliseconds in SQLite, where a datetime would be text that compares
//! slowly, and a `TIMESTAMPTZ` in PostgreSQL. The SQL that binds or reads it is the same text
//! on both.

use chrono::{DateTime, Utc};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgTypeInfo, PgValueRef};
use sqlx::sqlite::{SqliteArgumentValue, SqliteTypeInfo, SqliteValueRef};
use sqlx::{Decode, Encode, Postgres, Sqlite, Type};

/// Milliseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EpochMillis(pub i64);

impl EpochMillis {
    pub fn now() -> EpochMillis {
        EpochMillis(Utc::now().timestamp_millis())
    }

    fn to_datetime(self) -> Result<DateTime<Utc>, BoxDynError> {
        DateTime::from_timestamp_millis(self.0).ok_or_else(|| format!("{} ms is out of range", self.0).into())
    }
}

impl From<i64> for EpochMillis {
    fn from(millis: i64) -> Self {
        EpochMillis(millis)
    }
}

impl From<EpochMillis> for i64 {
    fn from(at: EpochMillis) -> Self {
        at.0
    }
}

impl Type<Sqlite> for EpochMillis {
    fn type_info() -> SqliteTypeInfo {
        <i64 as Type<Sqlite>>::type_info()
    }

    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <i64 as Type<Sqlite>>::compatible(ty)
    }
}

impl<'q> Encode<'q, Sqlite> for EpochMillis {
    fn encode_by_ref(&self, buf: &mut Vec<SqliteArgumentValue<'q>>) -> Result<IsNull, BoxDynError> {
        <i64 as Encode<'q, Sqlite>>::encode_by_ref(&self.0, buf)
    }
}

impl<'r> Decode<'r, Sqlite> for EpochMillis {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(EpochMillis(<i64 as Decode<'r, Sqlite>>::decode(value)?))
    }
}

impl Type<Postgres> for EpochMillis {
    fn type_info() -> PgTypeInfo {
        <DateTime<Utc> as Type<Postgres>>::type_info()
    }

    fn compatible(ty: &PgTypeInfo) -> bool {
        <DateTime<Utc> as Type<Postgres>>::compatible(ty)
    }
}

impl<'q> Encode<'q, Postgres> for EpochMillis {
    fn encode_by_ref(&self, buf: &mut sqlx::postgres::PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <DateTime<Utc> as Encode<'q, Postgres>>::encode_by_ref(&self.to_datetime()?, buf)
    }
}

impl<'r> Decode<'r, Postgres> for EpochMillis {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(EpochMillis(<DateTime<Utc> as Decode<'r, Postgres>>::decode(value)?.timestamp_millis()))
    }
}
