//! The refusal every rule can give, with the HTTP-independent kind that decides its status.

use crate::document::DocumentError;
use crate::ids::IdError;
use crate::money::MoneyError;

/// How a refusal should be reported: the server maps each kind to one status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Malformed input (400).
    Invalid,
    /// The action is not allowed in the current state, or a duplicate (409).
    Conflict,
    /// A business rule refused it (422).
    Refused,
    /// The actor may not do this (403).
    Forbidden,
}

/// A domain refusal: a kind, a stable machine code, the field at fault and a message for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DomainError {
    pub kind: ErrorKind,
    pub code: &'static str,
    pub field: Option<&'static str>,
    pub message: String,
    /// The current state of the thing acted on, for 409 answers.
    pub current_state: Option<String>,
}

impl DomainError {
    pub fn invalid(code: &'static str, field: &'static str, message: impl Into<String>) -> Self {
        Self { kind: ErrorKind::Invalid, code, field: Some(field), message: message.into(), current_state: None }
    }
    pub fn conflict(code: &'static str, message: impl Into<String>, current_state: Option<String>) -> Self {
        Self { kind: ErrorKind::Conflict, code, field: None, message: message.into(), current_state }
    }
    pub fn refused(code: &'static str, message: impl Into<String>) -> Self {
        Self { kind: ErrorKind::Refused, code, field: None, message: message.into(), current_state: None }
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Forbidden,
            code: "forbidden",
            field: None,
            message: message.into(),
            current_state: None,
        }
    }
    pub fn with_field(mut self, field: &'static str) -> Self {
        self.field = Some(field);
        self
    }
}

impl From<DocumentError> for DomainError {
    fn from(e: DocumentError) -> Self {
        DomainError::invalid("bad_document", e.field(), e.to_string())
    }
}

impl From<MoneyError> for DomainError {
    fn from(e: MoneyError) -> Self {
        DomainError::invalid("bad_amount", "amount_fen", e.to_string())
    }
}

impl From<IdError> for DomainError {
    fn from(e: IdError) -> Self {
        DomainError::invalid("bad_identifier", "id", e.to_string())
    }
}
