//! /cards: the card and its actions.

use super::{idempotent, to_json};
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::extract::{IdemKey, JsonBody};
use crate::state::AppState;
use crate::views::CardJson;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use sscard_app::cards::{self, ActionInput};
use sscard_app::fields;
use sscard_domain::card::{CancelReason, Card, CardAction, Pin, StopReason};
use utoipa::ToSchema;

/// A card by number.
#[utoipa::path(get, path = "/api/v1/cards/{card_no}", tag = "cards", params(("card_no" = String, Path)),
    responses((status = 200, body = CardJson), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem), (status = 400, body = crate::error::Problem, description = "a malformed or invalid field, named in `field`"), (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one")))]
pub async fn get(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(card_no): Path<String>,
) -> ApiResult<Json<CardJson>> {
    let card_no = fields::card_no(&card_no, "card_no")?;
    let ctx = state.ctx(actor, None);
    let card = cards::get(state.store.as_ref(), &ctx, &card_no).await?;
    Ok(Json(CardJson::from(&card)))
}

#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CardActionRequest {
    /// activate: the new 6-digit PIN (trivial ones such as 123456 are refused).
    pub pin: Option<String>,
    /// activate: the PIN typed a second time; when given it must equal `pin` (422 `pin_mismatch`
    /// naming `pin_confirmation`).
    pub pin_confirmation: Option<String>,
    /// cancel: death | emigration | holder_request. stop: free text (e.g. the requesting region).
    pub reason: Option<String>,
}

/// Act on a card: activate | suspend | unsuspend | report-lost | stop | cancel. The body is optional.
#[utoipa::path(post, path = "/api/v1/cards/{card_no}/{action}", tag = "cards", request_body = Option<CardActionRequest>,
    params(("card_no" = String, Path), ("action" = String, Path, description = "activate | suspend | unsuspend | report-lost | stop | cancel"),
        crate::openapi::IdempotencyKey),
    responses((status = 200, body = CardJson), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem), (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one"), (status = 413, body = crate::error::Problem, description = "the body is over the limit")))]
pub async fn act(
    State(state): State<AppState>,
    Auth(actor): Auth,
    key: IdemKey,
    Path((card_no, action)): Path<(String, String)>,
    raw: Bytes,
) -> ApiResult<Response> {
    let action = CardAction::parse(&action).ok_or_else(|| {
        ApiError::not_found(format!("no action {action:?}: activate, suspend, unsuspend, report-lost, stop or cancel"))
    })?;
    let card_no = fields::card_no(&card_no, "card_no")?;
    let req: CardActionRequest = if raw.iter().all(u8::is_ascii_whitespace) {
        CardActionRequest::default()
    } else {
        JsonBody::<CardActionRequest>::parse(&raw)?
    };
    let input = action_input(action, &req)?;
    let render = |c: &Card, _at_ms: i64| to_json(&CardJson::from(c));
    let store = state.store.clone();
    let run = |ctx| async move { cards::act(store.as_ref(), &ctx, &card_no, action, input).await };
    idempotent(&state, actor, &key, &raw, StatusCode::OK, run, render).await
}

/// The body's fields this action uses, parsed: the PIN (activate), the cancel reason (cancel),
/// the stop reason (stop). A bad one is a 400 naming `pin` or `reason`.
fn action_input(action: CardAction, req: &CardActionRequest) -> ApiResult<ActionInput> {
    let mut input = ActionInput::default();
    match (action, req.reason.as_deref()) {
        (CardAction::Cancel, Some(r)) => {
            let reason = CancelReason::parse(r)
                .filter(|r| matches!(r, CancelReason::Death | CancelReason::Emigration | CancelReason::HolderRequest))
                .ok_or_else(|| {
                    ApiError::bad_request("bad_reason", "reason", "reason is death, emigration or holder_request")
                })?;
            input.cancel_reason = Some(reason);
        }
        (CardAction::Stop, Some(r)) => input.stop_reason = Some(StopReason::parse(r)?),
        _ => {}
    }
    if action == CardAction::Activate
        && let Some(pin) = req.pin.as_deref()
    {
        input.pin = Some(match req.pin_confirmation.as_deref() {
            Some(again) => Pin::parse_confirmed(pin, again)?,
            None => Pin::parse(pin)?,
        });
    }
    Ok(input)
}
