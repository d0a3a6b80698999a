//! sqlx's errors in the ports' terms: a unique violation is a duplicate, the rest a
//! backend failure. (`StoreError` lives in `sscard-store`, which knows no sqlx, so the
//! conversion is a method here rather than a `From`.)

use sscard_domain::error::DomainError;
use sscard_store::StoreError;

pub(crate) fn store_error(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &e
        && db.is_unique_violation()
    {
        return StoreError::Duplicate { what: "row", detail: db.message().to_string() };
    }
    if let sqlx::Error::Database(db) = &e
        && db.code().as_deref() == Some(NOT_IN_REPERTOIRE)
    {
        // PostgreSQL refuses a NUL character in text, which SQLite stores: bad input, not a
        // failure of the service, so it is refused as such on both backends alike.
        return StoreError::Domain(DomainError::invalid("bad_text", "", "text must not contain NUL characters"));
    }
    StoreError::Backend(e.to_string())
}

/// PostgreSQL's SQLSTATE for a character the database encoding cannot hold (a NUL in text).
const NOT_IN_REPERTOIRE: &str = "22021";

/// `.db()?` turns a sqlx result into a store result.
pub(crate) trait Db<T> {
    fn db(self) -> Result<T, StoreError>;
}

impl<T> Db<T> for Result<T, sqlx::Error> {
    fn db(self) -> Result<T, StoreError> {
        self.map_err(store_error)
    }
}
