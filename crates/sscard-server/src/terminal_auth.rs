//! Terminal authentication: a terminal sends its own secret (`sst_...`, shown once when the
//! terminal was registered, stored only as its SM3 hash) as `Authorization: Bearer SECRET`.
//! [`TerminalAuth`] accepts terminals only; [`Caller`] accepts a terminal or a logged-in user.
//!
//! Looked-up terminals are held for [`TERMINAL_CACHE_TTL`] ([`TerminalCache`]): every use
//! case that changes something reads the terminal again in its own transaction (a disabled
//! terminal is refused there at once), and disabling through this server forgets it at once
//! for the read-only paths too; another instance may accept it read-only for up to the TTL.

use crate::auth::{Auth, bearer};
use crate::error::ApiError;
use crate::state::AppState;
use crate::ttl_cache::TtlCache;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use sscard_app::onecard::terminals::{self, SECRET_PREFIX};
use sscard_domain::access::Actor;
use sscard_domain::terminal::Terminal;
use std::time::Duration;

/// How long an authenticated terminal is trusted without reading it again.
pub const TERMINAL_CACHE_TTL: Duration = Duration::from_secs(2);
/// Terminals held at most; the cache is emptied when it is full.
const MAX_TERMINALS: usize = 10_000;

/// Terminals by the SM3 hash of their secret.
pub type TerminalCache = TtlCache<Terminal>;

impl Default for TtlCache<Terminal> {
    fn default() -> Self {
        TtlCache::new(TERMINAL_CACHE_TTL, MAX_TERMINALS)
    }
}

/// Forgets a terminal (disabled or enabled through this server).
pub fn forget_terminal(cache: &TerminalCache, terminal_id: &str) {
    cache.retain(|t| t.id != terminal_id);
}

/// An authenticated terminal. A disabled one still authenticates: the use case answers 403
/// `terminal_disabled`, so the operator learns why.
pub struct TerminalAuth(pub Terminal);

impl FromRequestParts<AppState> for TerminalAuth {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let secret = bearer(parts)
            .filter(|t| t.starts_with(SECRET_PREFIX))
            .ok_or_else(|| ApiError::unauthorized("terminals send their secret: Authorization: Bearer sst_..."))?;
        let key = terminals::secret_hash(secret);
        if let Some(t) = state.terminals.get(&key) {
            return Ok(TerminalAuth(t));
        }
        let t = terminals::authenticate(state.store.as_ref(), secret)
            .await?
            .ok_or_else(|| ApiError::unauthorized("unknown terminal secret"))?;
        state.terminals.put(key, t.clone());
        Ok(TerminalAuth(t))
    }
}

/// A [`Caller`] whose user, if any, is looked up through the session cache (the QR
/// verification hot path).
pub struct CachedCaller(pub Caller);

impl FromRequestParts<AppState> for CachedCaller {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if bearer(parts).is_some_and(|t| t.starts_with(SECRET_PREFIX)) {
            let TerminalAuth(t) = TerminalAuth::from_request_parts(parts, state).await?;
            Ok(CachedCaller(Caller::Terminal(t)))
        } else {
            let crate::session_cache::CachedAuth(actor) =
                crate::session_cache::CachedAuth::from_request_parts(parts, state).await?;
            Ok(CachedCaller(Caller::User(actor)))
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
