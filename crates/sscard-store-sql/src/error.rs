//! sqlx's errors in the ports' terms: a unique violation is a duplicate, the rest a
//! backend failure. (`StoreError` lives in `sscard-store`, which knows no sqlx, so the
//! conversion is a method here rather than a `From`.)

use sscard_store::StoreError;

pub(crate) fn store_error(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &e
        && db.is_unique_violation()
    {
        return StoreError::Duplicate { what: "row", detail: db.message().to_string() };
    }
    StoreError::Backend(e.to_string())
}

/// `.db()?` turns a sqlx result into a store result.
pub(crate) trait Db<T> {
    fn db(self) -> Result<T, StoreError>;
}

impl<T> Db<T> for Result<T, sqlx::Error> {
    fn db(self) -> Result<T, StoreError> {
        self.map_err(store_error)
    }
}
