//! The routes of /api/v1, one module per resource, and the idempotent-POST helper.

pub mod admin;
pub mod applications;
pub mod auth;
pub mod bank_files;
pub mod benefits;
pub mod cards;
pub mod ecard;
pub mod hub;
pub mod nation_medical;
pub mod national;
pub mod onecard;
pub mod persons;

use crate::error::ApiResult;
use crate::extract::IdemKey;
use crate::state::AppState;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use sscard_app::Ctx;
use sscard_app::idem::Replay;
use sscard_domain::access::Actor;
use sscard_store::{Idem, StoreError};
use std::future::Future;

/// A JSON answer from an already-serialised body.
pub fn json_response(status: StatusCode, body: String) -> Response {
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

/// Runs a creating or state-changing operation so that a request repeated with the same
/// Idempotency-Key gets the first answer and changes nothing more. `run` gets the context
/// (carrying the key) and returns the use case's typed outcome, which the use case keeps
/// with its change; `render` turns an outcome into the body, as of the time the first
/// request ran, for the first answer and for every replay alike (so their bytes are equal).
pub async fn idempotent<T, F, Fut, R>(
    state: &AppState,
    actor: Actor,
    key: &IdemKey,
    raw_body: &[u8],
    status: StatusCode,
    run: F,
    render: R,
) -> ApiResult<Response>
where
    T: DeserializeOwned,
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = Result<T, StoreError>>,
    R: Fn(&T, i64) -> String,
{
    let idem = key.for_actor(&actor.name, raw_body);
    if let Some(first) = replay::<T>(state, idem.as_ref()).await? {
        return replayed(status, first, &render);
    }
    let ctx = state.ctx(actor, idem.clone());
    let at_ms = ctx.now_ms;
    match run(ctx).await {
        Ok(outcome) => Ok(json_response(status, render(&outcome, at_ms))),
        // Two requests with one key raced: the loser failed on what the winner wrote (the key
        // itself, or the thing it created, e.g. the person: person_exists), so it answers with
        // the winner's result.
        Err(e) => {
            if let Some(first) = replay::<T>(state, idem.as_ref()).await? {
                return replayed(status, first, &render);
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

async fn replay<T: DeserializeOwned>(state: &AppState, idem: Option<&Idem>) -> ApiResult<Option<Replay<T>>> {
    match idem {
        Some(idem) => Ok(sscard_app::idem::replay_outcome(state.store.as_ref(), idem).await?),
        None => Ok(None),
    }
}

/// The first answer again: rendered from the typed outcome as of the first request's time, or
/// a record written before typed outcomes sent as it was stored (its status and body).
fn replayed<T>(status: StatusCode, first: Replay<T>, render: impl Fn(&T, i64) -> String) -> ApiResult<Response> {
    let (status, body) = match first {
        Replay::Typed(first) => (status, render(&first.outcome, first.at_ms)),
        Replay::Legacy { status, body } => {
            let status = StatusCode::from_u16(status)
                .map_err(|_| StoreError::corrupt(format!("idempotency record with status {status}")))?;
            (status, body)
        }
    };
    let mut resp = json_response(status, body);
    resp.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    Ok(resp)
}

/// Serialises a view; views are plain data, so this cannot fail in practice.
pub fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "{}".to_string())
}
