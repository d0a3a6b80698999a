//! POST /auth/login, POST /auth/logout, GET /me.

use crate::auth::{Auth, bearer};
use crate::error::{ApiError, ApiResult};
use crate::extract::JsonBody;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    pub token: String,
    pub role: String,
    pub person_id: Option<String>,
    pub bank_code: Option<String>,
    pub expires_at_ms: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeResponse {
    pub username: String,
    pub role: String,
    pub person_id: Option<String>,
    pub bank_code: Option<String>,
}

/// Log in with a username and password; answers a bearer token.
#[utoipa::path(post, path = "/api/v1/auth/login", request_body = LoginRequest, tag = "auth", security(),
    responses((status = 200, body = LoginResponse), (status = 401, body = crate::error::Problem), (status = 429, body = crate::error::Problem), (status = 400, body = crate::error::Problem, description = "a malformed or invalid field, named in `field`"), (status = 413, body = crate::error::Problem, description = "the body is over the limit"), (status = 415, body = crate::error::Problem, description = "the body is not application/json")))]
pub async fn login(
    State(state): State<AppState>,
    client: crate::client::ClientAddr,
    body: JsonBody<LoginRequest>,
) -> ApiResult<Json<LoginResponse>> {
    let req = body.value;
    let now = state.now_ms();
    if req.username.len() > 64 || req.password.len() > 256 {
        return Err(ApiError::unauthorized("wrong username or password"));
    }
    if let Err(wait_s) = state.limiter.check(&req.username, &client.0, now) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            format!("too many failed logins from this address: wait {wait_s} seconds"),
        ));
    }
    match sscard_app::auth::login(state.store.as_ref(), &req.username, &req.password, now).await? {
        Some(ok) => {
            state.limiter.succeeded(&req.username, &client.0);
            Ok(Json(LoginResponse {
                token: ok.token,
                role: ok.actor.role.as_str().to_string(),
                person_id: ok.actor.person_id,
                bank_code: ok.actor.bank_code,
                expires_at_ms: ok.expires_at_ms,
            }))
        }
        None => {
            state.limiter.failed(&req.username, &client.0, now);
            Err(ApiError::unauthorized("wrong username or password"))
        }
    }
}

/// End the session of the presented token.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", responses((status = 204), (status = 401, body = crate::error::Problem)))]
pub async fn logout(State(state): State<AppState>, parts: Parts) -> ApiResult<StatusCode> {
    let token = bearer(&parts).ok_or_else(|| ApiError::unauthorized("no token"))?;
    sscard_app::auth::logout(state.store.as_ref(), token).await?;
    crate::session_cache::forget_session(&state.sessions, token);
    Ok(StatusCode::NO_CONTENT)
}

/// Who the token belongs to.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", responses((status = 200, body = MeResponse), (status = 401, body = crate::error::Problem)))]
pub async fn me(Auth(actor): Auth) -> Json<MeResponse> {
    Json(MeResponse {
        username: actor.name,
        role: actor.role.as_str().to_string(),
        person_id: actor.person_id,
        bank_code: actor.bank_code,
    })
}
