//! The routes of /api/v1, one module per resource, and the idempotent-POST helper.

pub mod admin;
pub mod applications;
pub mod auth;
pub mod cards;
pub mod ecard;
pub mod onecard;
pub mod persons;

use crate::error::ApiResult;
use crate::extract::IdemKey;
use crate::state::AppState;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sscard_app::Ctx;
use sscard_domain::access::Actor;
use sscard_store::StoreError;
use std::future::Future;

/// A JSON answer from an already-serialised body.
pub fn json_response(status: StatusCode, body: String) -> Response {
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

/// Runs a creating or state-changing operation so that a request repeated with the same
/// Idempotency-Key gets the first answer (status and body) and changes nothing more.
/// `run` gets the context (carrying the key) and returns the rendered body.
pub async fn idempotent<F, Fut>(
    state: &AppState,
    actor: Actor,
    key: &IdemKey,
    raw_body: &[u8],
    status: StatusCode,
    run: F,
) -> ApiResult<Response>
where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = Result<String, StoreError>>,
{
    let idem = key.for_actor(&actor.name, raw_body);
    if let Some(idem) = &idem
        && let Some(first) = sscard_app::idem::replay(state.store.as_ref(), idem).await?
    {
        return Ok(replayed(first));
    }
    match run(state.ctx(actor, idem.clone())).await {
        Ok(body) => Ok(json_response(status, body)),
        // Two requests with one key raced: the loser failed on what the winner wrote (the key
        // itself, or the thing it created, e.g. the person: person_exists), so it answers with
        // the winner's result.
        Err(e) => {
            if let Some(idem) = &idem
                && let Some(first) = sscard_app::idem::replay(state.store.as_ref(), idem).await?
            {
                return Ok(replayed(first));
            }
            match e {
                StoreError::Duplicate { what: "idempotency key", .. } => {
                    Err(StoreError::Backend("idempotency record vanished".into()).into())
                }
                e => Err(e.into()),
            }
        }
    }
}

fn replayed(first: sscard_store::IdemRecord) -> Response {
    let status = StatusCode::from_u16(first.status).unwrap_or(StatusCode::OK);
    let mut resp = json_response(status, first.body);
    resp.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    resp
}

/// Serialises a view; views are plain data, so this cannot fail in practice.
pub fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "{}".to_string())
}
