//! A short-lived in-process cache of bearer sessions for the hot verification path: terminals
//! verify QR codes many times a second with one session, and looking the session up in the
//! database on every scan costs more than the SM2 signature check. An entry lives at most
//! [`CACHE_TTL`] and never past its session's end; logging out through this server removes it
//! at once (another server instance may honour a logged-out token for up to [`CACHE_TTL`]).

use crate::error::ApiError;
use crate::state::AppState;
use crate::ttl_cache::TtlCache;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use sscard_domain::access::Actor;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// How long a looked-up session is trusted without asking the database again.
pub const CACHE_TTL: Duration = Duration::from_secs(2);
/// Entries held at most; the cache is emptied when it is full.
const MAX_ENTRIES: usize = 10_000;

/// Sessions by SM3 hash of their bearer token.
pub type SessionCache = TtlCache<Actor>;

impl Default for TtlCache<Actor> {
    fn default() -> Self {
        TtlCache::new(CACHE_TTL, MAX_ENTRIES)
    }
}

/// Forgets the session of `token` (at logout).
pub fn forget_session(cache: &SessionCache, token: &str) {
    cache.remove(&sscard_app::auth::token_hash(token));
}

/// Like [`crate::auth::Auth`], answering from the [`SessionCache`] when it can.
pub struct CachedAuth(pub Actor);

impl FromRequestParts<AppState> for CachedAuth {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = crate::auth::bearer(parts)
            .ok_or_else(|| ApiError::unauthorized("log in first: send Authorization: Bearer TOKEN"))?;
        let key = sscard_app::auth::token_hash(token);
        if let Some(actor) = state.sessions.get(&key) {
            return Ok(CachedAuth(actor));
        }
        let actor = sscard_app::auth::authenticate(state.store.as_ref(), token, state.now_ms())
            .await?
            .ok_or_else(|| ApiError::unauthorized("the token is unknown or expired: log in again"))?;
        state.sessions.put(key, actor.clone());
        Ok(CachedAuth(actor))
    }
}

/// QR tokens already used to log in, so a photographed QR code cannot be replayed within
/// its lifetime. Entries are dropped once their token has expired.
#[derive(Debug, Default)]
pub struct UsedLoginTokens {
    inner: Mutex<HashMap<([u8; 16], u64), i64>>,
}

impl UsedLoginTokens {
    /// Records the token (e-card id, nonce) valid until `until_s`; false if it was used before.
    pub fn first_use(&self, ecard_id: [u8; 16], nonce: u64, until_s: i64, now_s: i64) -> bool {
        let mut map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_ENTRIES {
            map.retain(|_, until| *until >= now_s);
        }
        match map.get(&(ecard_id, nonce)) {
            Some(until) if *until >= now_s => false,
            _ => {
                map.insert((ecard_id, nonce), until_s);
                true
            }
        }
    }
}
