//! /applications: intake, the step routes, the timeline and the review queue.

use super::{idempotent, to_json};
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::extract::{IdemKey, JsonBody};
use crate::state::AppState;
use crate::views::ApplicationJson;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use sscard_app::applications::{self, ApplicationView, StepInput};
use sscard_domain::application::{AppKind, AppStep, ApplicationInput, Channel, ReplacementReason};
use sscard_domain::handover::StaffReason;
use sscard_domain::ids::{BankCode, BranchCode};
use sscard_store::{AppFilter, Page};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApplication {
    pub person_id: String,
    /// first | upgrade | replacement | temporary
    pub kind: String,
    /// branch | branch_instant | kiosk | online | door_to_door | employer_batch | newborn | cross_province
    pub channel: String,
    pub bank_code: String,
    pub branch_code: Option<String>,
    /// Required for online applications.
    pub mail_address: Option<String>,
    /// Replacements: lost | damaged | change_of_bank
    pub reason: Option<String>,
}

fn parse_input(r: &NewApplication) -> ApiResult<ApplicationInput> {
    let kind = AppKind::parse(&r.kind).ok_or_else(|| {
        ApiError::bad_request(
            "bad_kind",
            "kind",
            format!("unknown kind {:?}: first, upgrade, replacement or temporary", r.kind),
        )
    })?;
    let channel = Channel::parse(&r.channel)
        .ok_or_else(|| ApiError::bad_request("bad_channel", "channel", format!("unknown channel {:?}", r.channel)))?;
    let reason = match &r.reason {
        None => None,
        Some(s) => Some(ReplacementReason::parse(s).ok_or_else(|| {
            ApiError::bad_request("bad_reason", "reason", "reason is lost, damaged or change_of_bank")
        })?),
    };
    Ok(ApplicationInput {
        kind,
        channel,
        bank_code: BankCode::parse(&r.bank_code)
            .map_err(|e| ApiError::bad_request("bad_bank_code", "bank_code", e.to_string()))?,
        branch_code: r
            .branch_code
            .as_deref()
            .map(BranchCode::parse)
            .transpose()
            .map_err(|e| ApiError::bad_request("bad_branch_code", "branch_code", e.to_string()))?,
        mail_address: r.mail_address.clone(),
        reason,
    })
}

fn render(v: &ApplicationView, _at_ms: i64) -> String {
    to_json(&ApplicationJson::from(v))
}

/// Take an application. Instant channels (branch_instant, kiosk) answer with the card already issued.
#[utoipa::path(post, path = "/api/v1/applications", request_body = NewApplication, tag = "applications",
    params(crate::openapi::IdempotencyKey),
    responses((status = 201, body = ApplicationJson), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem), (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one"), (status = 413, body = crate::error::Problem, description = "the body is over the limit"), (status = 415, body = crate::error::Problem, description = "the body is not application/json")))]
pub async fn create(
    State(state): State<AppState>,
    Auth(actor): Auth,
    key: IdemKey,
    body: JsonBody<NewApplication>,
) -> ApiResult<Response> {
    let input = parse_input(&body.value)?;
    let person_id = body.value.person_id.clone();
    let store = state.store.clone();
    let run = |ctx| async move { applications::apply(store.as_ref(), &ctx, &person_id, input).await };
    idempotent(&state, actor, &key, &body.raw, StatusCode::CREATED, run, render).await
}

/// An application with its timeline ("where is my card").
#[utoipa::path(get, path = "/api/v1/applications/{id}", tag = "applications", params(("id" = String, Path)),
    responses((status = 200, body = ApplicationJson), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem), (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one")))]
pub async fn get(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<ApplicationJson>> {
    let ctx = state.ctx(actor, None);
    let view = applications::get(state.store.as_ref(), &ctx, &id).await?;
    Ok(Json(ApplicationJson::from(&view)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    pub status: Option<String>,
    pub bank_code: Option<String>,
    pub person_id: Option<String>,
    /// The last id of the previous page.
    pub after: Option<String>,
    /// At most 500; default 50.
    pub limit: Option<u32>,
}

/// A page of applications (tellers: their bank's; holders: their own).
#[utoipa::path(get, path = "/api/v1/applications", tag = "applications", params(ListQuery),
    responses((status = 200, body = [ApplicationJson]), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem), (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one")))]
pub async fn list(
    State(state): State<AppState>,
    Auth(actor): Auth,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Vec<ApplicationJson>>> {
    let Query(q) = query.map_err(|e| ApiError::bad_request("bad_query", "query", e.body_text()))?;
    if let Some(s) = &q.status
        && sscard_domain::application::AppStatus::parse(s).is_none()
    {
        return Err(ApiError::bad_request("bad_status", "status", format!("unknown status {s:?}")));
    }
    let filter = AppFilter {
        status: q.status,
        bank_code: q.bank_code,
        person_id: q.person_id,
        page: Page { after: q.after, limit: q.limit.unwrap_or(50) },
    };
    let ctx = state.ctx(actor, None);
    let apps = applications::list(state.store.as_ref(), &ctx, filter).await?;
    Ok(Json(apps.iter().map(ApplicationJson::summary).collect()))
}

/// What a step may carry. Every field is optional; the body itself may be absent.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepRequest {
    /// reject: why (required, 1-200 characters; the holder is told). Other steps take none.
    pub reason: Option<String>,
    /// collect / deliver: the document number of the person taking the card, as typed from their
    /// document; compared with the registered one (case and spaces ignored), 422
    /// `holder_mismatch` if it differs.
    pub holder_doc_number: Option<String>,
}

/// The body's fields, parsed; a bad reason is a 400 naming `reason`.
fn step_input(req: &StepRequest) -> ApiResult<StepInput> {
    let reason = req.reason.as_deref().map(|r| StaffReason::parse(r, "reason")).transpose()?;
    if req.holder_doc_number.as_deref().is_some_and(|d| d.chars().count() > 64) {
        return Err(ApiError::bad_request(
            "bad_document",
            "holder_doc_number",
            "a document number is at most 64 characters",
        ));
    }
    Ok(StepInput { reason, holder_doc_number: req.holder_doc_number.clone(), require_holder_check: false })
}

/// Move an application: approve | reject | produce | ready | ship | deliver | collect | withdraw.
/// Reject needs a reason; collect and deliver need the fee paid or waived (422 `fee_unpaid`) and
/// check the holder's document number when given (422 `holder_mismatch`).
#[utoipa::path(post, path = "/api/v1/applications/{id}/{step}", tag = "applications",
    params(("id" = String, Path), ("step" = String, Path, description = "approve | reject | produce | ready | ship | deliver | collect | withdraw"),
        crate::openapi::IdempotencyKey),
    request_body(content = Option<StepRequest>, description = "optional; reject needs `reason`"),
    responses((status = 200, body = ApplicationJson), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem), (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one"), (status = 413, body = crate::error::Problem, description = "the body is over the limit"),
        (status = 503, body = crate::error::Problem, description = "hub_unavailable: a deployment of the nation could not ask the national hub before approving; nothing was changed")))]
pub async fn step(
    State(state): State<AppState>,
    Auth(actor): Auth,
    key: IdemKey,
    Path((id, step)): Path<(String, String)>,
    raw: Bytes,
) -> ApiResult<Response> {
    let step = AppStep::parse(&step).ok_or_else(|| {
        ApiError::not_found(format!(
            "no step {step:?}: approve, reject, produce, ready, ship, deliver, collect or withdraw"
        ))
    })?;
    let req: StepRequest = if raw.iter().all(u8::is_ascii_whitespace) {
        StepRequest::default()
    } else {
        JsonBody::<StepRequest>::parse(&raw)?
    };
    let input = step_input(&req)?;
    let store = state.store.clone();
    let run = |ctx| async move { applications::step_with(store.as_ref(), &ctx, &id, step, &input).await };
    idempotent(&state, actor, &key, &raw, StatusCode::OK, run, render).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeeWaiverRequest {
    /// Why the fee is waived (1-200 characters).
    pub reason: String,
}

/// The card office (clerk, admin) waives an application's unpaid fee, with a reason: the card
/// may then be handed over without it. 409 if already paid or waived or the application ended.
#[utoipa::path(post, path = "/api/v1/applications/{id}/fee-waiver", request_body = FeeWaiverRequest, tag = "applications",
    params(("id" = String, Path), crate::openapi::IdempotencyKey),
    responses((status = 200, body = ApplicationJson), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem), (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one"), (status = 413, body = crate::error::Problem, description = "the body is over the limit"), (status = 415, body = crate::error::Problem, description = "the body is not application/json")))]
pub async fn waive_fee(
    State(state): State<AppState>,
    Auth(actor): Auth,
    key: IdemKey,
    Path(id): Path<String>,
    body: JsonBody<FeeWaiverRequest>,
) -> ApiResult<Response> {
    let reason = StaffReason::parse(&body.value.reason, "reason")?;
    let store = state.store.clone();
    let run = |ctx| async move { applications::waive_fee(store.as_ref(), &ctx, &id, &reason).await };
    idempotent(&state, actor, &key, &body.raw, StatusCode::OK, run, render).await
}
