//! Authentication: the bearer-token extractor and the login rate limiter.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use sscard_domain::access::Actor;
use std::collections::HashMap;
use std::sync::Mutex;

/// The authenticated caller.
pub struct Auth(pub Actor);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token =
            bearer(parts).ok_or_else(|| ApiError::unauthorized("log in first: send Authorization: Bearer TOKEN"))?;
        let actor = sscard_app::auth::authenticate(state.store.as_ref(), token, state.now_ms())
            .await?
            .ok_or_else(|| ApiError::unauthorized("the token is unknown or expired: log in again"))?;
        Ok(Auth(actor))
    }
}

/// The bearer token of a request, if any.
pub fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
    let token = value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer "))?.trim();
    (!token.is_empty() && token.len() <= 256).then_some(token)
}

/// Failed logins allowed per username within the window before refusing with 429.
pub const MAX_FAILURES: u32 = 5;
/// The window, in milliseconds.
pub const WINDOW_MS: i64 = 5 * 60_000;
/// Usernames tracked at most; the oldest entries are dropped beyond this.
const MAX_TRACKED: usize = 100_000;

/// Counts failed logins per username in memory (per server process).
#[derive(Debug, Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, (u32, i64)>>,
}

impl LoginLimiter {
    /// Whether `username` may try now.
    pub fn allowed(&self, username: &str, now_ms: i64) -> bool {
        let map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(username) {
            Some((count, since)) => *count < MAX_FAILURES || now_ms - since > WINDOW_MS,
            None => true,
        }
    }
    pub fn failed(&self, username: &str, now_ms: i64) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_TRACKED {
            map.retain(|_, (_, since)| now_ms - *since <= WINDOW_MS);
        }
        let entry = map.entry(username.to_string()).or_insert((0, now_ms));
        if now_ms - entry.1 > WINDOW_MS {
            *entry = (0, now_ms);
        }
        entry.0 += 1;
    }
    pub fn succeeded(&self, username: &str) {
        self.failures.lock().unwrap_or_else(|p| p.into_inner()).remove(username);
    }
}
