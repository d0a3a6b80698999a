//! Authentication: the bearer-token extractor (the login limiter is in `login_limit`).

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use sscard_domain::access::Actor;

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
