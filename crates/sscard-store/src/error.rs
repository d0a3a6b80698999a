//! The store's error type: not found, duplicates, domain refusals and backend failures.

use sscard_domain::error::DomainError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{what} {id} does not exist")]
    NotFound { what: &'static str, id: String },
    #[error("{what} already exists: {detail}")]
    Duplicate { what: &'static str, detail: String },
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// The same Idempotency-Key was used with a different request.
    #[error("the Idempotency-Key {key} was already used with a different request")]
    IdempotencyMismatch { key: String },
    /// A stored value no longer parses: the database was edited outside sscard.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Backend(String),
    /// A service the operation needs (the national hub) gave no answer; nothing was changed.
    /// `code` names it for the caller (`hub_unavailable`).
    #[error("{detail}")]
    Unavailable { code: &'static str, detail: String },
}

impl StoreError {
    pub fn not_found(what: &'static str, id: impl Into<String>) -> Self {
        StoreError::NotFound { what, id: id.into() }
    }
    pub fn corrupt(what: impl std::fmt::Display) -> Self {
        StoreError::Corrupt(what.to_string())
    }
}

impl From<sscard_domain::ids::IdError> for StoreError {
    fn from(e: sscard_domain::ids::IdError) -> Self {
        StoreError::Domain(e.into())
    }
}
