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
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use sscard_domain::access::Actor;
use sscard_domain::terminal::Terminal;
use sscard_store::ops::onecard::terminals::{self, SECRET_PREFIX};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long an authenticated terminal is trusted without reading it again.
pub const TERMINAL_CACHE_TTL: Duration = Duration::from_secs(2);
/// Terminals held at most; the cache is emptied when it is full.
const MAX_TERMINALS: usize = 10_000;

/// Terminals by the SM3 hash of their secret, each with the time it was read.
#[derive(Debug, Default)]
pub struct TerminalCache {
    inner: Mutex<HashMap<String, (Terminal, Instant)>>,
}

impl TerminalCache {
    fn get(&self, key: &str) -> Option<Terminal> {
        let map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        map.get(key).filter(|(_, at)| at.elapsed() < TERMINAL_CACHE_TTL).map(|(t, _)| t.clone())
    }
    fn put(&self, key: String, t: Terminal) {
        let mut map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_TERMINALS {
            map.clear();
        }
        map.insert(key, (t, Instant::now()));
    }
    /// Forgets a terminal (disabled or enabled through this server).
    pub fn forget(&self, terminal_id: &str) {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).retain(|_, (t, _)| t.id != terminal_id);
    }
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
