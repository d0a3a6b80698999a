//! Terminal authentication: a terminal sends its own secret (`sst_...`, shown once when the
//! terminal was registered, stored only as its SM3 hash) as `Authorization: Bearer SECRET`.
//! [`TerminalAuth`] accepts terminals only; [`Caller`] accepts a terminal or a logged-in user.

use crate::auth::{Auth, bearer};
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use sscard_domain::access::Actor;
use sscard_domain::terminal::Terminal;
use sscard_store::ops::onecard::terminals::{self, SECRET_PREFIX};

/// An authenticated terminal. A disabled one still authenticates: the use case answers 403
/// `terminal_disabled`, so the operator learns why.
pub struct TerminalAuth(pub Terminal);

impl FromRequestParts<AppState> for TerminalAuth {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let secret = bearer(parts)
            .filter(|t| t.starts_with(SECRET_PREFIX))
            .ok_or_else(|| ApiError::unauthorized("terminals send their secret: Authorization: Bearer sst_..."))?;
        let t = terminals::authenticate(state.store.as_ref(), secret)
            .await?
            .ok_or_else(|| ApiError::unauthorized("unknown terminal secret"))?;
        Ok(TerminalAuth(t))
    }
}

/// A terminal, or a logged-in user looked up through the session cache (the QR verification
/// hot path).
pub enum VerifyCaller {
    Terminal(Terminal),
    User(Actor),
}

impl FromRequestParts<AppState> for VerifyCaller {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if bearer(parts).is_some_and(|t| t.starts_with(SECRET_PREFIX)) {
            let TerminalAuth(t) = TerminalAuth::from_request_parts(parts, state).await?;
            Ok(VerifyCaller::Terminal(t))
        } else {
            let crate::session_cache::CachedAuth(actor) =
                crate::session_cache::CachedAuth::from_request_parts(parts, state).await?;
            Ok(VerifyCaller::User(actor))
        }
    }
}

/// A terminal or a logged-in user.
pub enum Caller {
    Terminal(Terminal),
    User(Actor),
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if bearer(parts).is_some_and(|t| t.starts_with(SECRET_PREFIX)) {
            let TerminalAuth(t) = TerminalAuth::from_request_parts(parts, state).await?;
            Ok(Caller::Terminal(t))
        } else {
            let Auth(actor) = Auth::from_request_parts(parts, state).await?;
            Ok(Caller::User(actor))
        }
    }
}
