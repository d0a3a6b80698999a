//! Cross-province services (跨省通办, DESIGN §7.1, docs/NATION.md).
//!
//! At a deployment, `/national/...` takes a request of staff serving a walk-in or of the
//! holder, computes the person's national index and posts a typed operation to the hub's
//! `POST /hub/forward`; the hub picks the deciding deployment and calls its
//! `POST /hub-inbound` presenting that deployment's own secret; the decider runs it with its
//! own use cases and the answer (or its problem) comes back unchanged, status included.

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use sscard_app::nation::NationalIndexKey;
use sscard_domain::access::{Actor, Role};
use sscard_domain::nation::forward::{
    Caller, CallerKind, ForwardOp, ForwardRequest, Inbound, MAX_FORWARD_BYTES, MailedApplication, RemoteCardAction,
};
use sscard_domain::nation::wire::DeploymentCode;
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;
use utoipa::ToSchema;

/// How long a hop (deployment → hub, hub → deployment) may take.
const HOP_TIMEOUT: Duration = Duration::from_secs(10);

/// This deployment's way to the hub for the national services.
#[derive(Clone)]
pub struct NationalLink {
    pub deployment: DeploymentCode,
    /// The hub's base URL.
    pub hub_url: String,
    /// This deployment's own secret (`SSCARD_HUB_SECRET`): its bearer at the hub, and what the
    /// hub presents when it calls this deployment.
    pub secret: String,
    pub index_key: NationalIndexKey,
}

impl std::fmt::Debug for NationalLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NationalLink").field("deployment", &self.deployment).field("hub_url", &self.hub_url).finish()
    }
}

/// Filled once the deployment knows its hub (at start, or in tests once the hub is up).
pub type NationalSlot = Arc<RwLock<Option<Arc<NationalLink>>>>;

fn link(state: &AppState) -> ApiResult<Arc<NationalLink>> {
    state.national.read().unwrap_or_else(|p| p.into_inner()).clone().ok_or_else(|| {
        // A deployment on its own has no national services: nothing is down, there is none.
        ApiError::new(StatusCode::NOT_FOUND, "not_in_a_nation", "this deployment is not in a nation")
    })
}

fn client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .timeout(HOP_TIMEOUT)
            .connect_timeout(Duration::from_secs(3))
            .build()
            .unwrap_or_default()
    })
}

/// Equal in time independent of where they differ (the length is no secret).
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Posts `body` to `url` with `secret` and answers what came back, status and type included;
/// no answer is a 503 `code`.
async fn relay(url: &str, secret: &str, body: Vec<u8>, code: &str) -> ApiResult<Response> {
    let sent = client()
        .post(url)
        .bearer_auth(secret)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await
        .map_err(|e| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, code, format!("no answer from {url}: {e}")))?;
    let status = StatusCode::from_u16(sent.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let ctype = sent.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_string);
    if sent.content_length().is_some_and(|n| n > MAX_FORWARD_BYTES as u64) {
        return Err(ApiError::new(StatusCode::BAD_GATEWAY, "answer_too_large", "the answer is over the limit"));
    }
    let bytes = sent
        .bytes()
        .await
        .map_err(|e| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, code, format!("the answer broke off: {e}")))?;
    if bytes.len() > MAX_FORWARD_BYTES {
        return Err(ApiError::new(StatusCode::BAD_GATEWAY, "answer_too_large", "the answer is over the limit"));
    }
    let mut out = (status, bytes).into_response();
    if let Some(t) = ctype.and_then(|t| HeaderValue::from_str(&t).ok()) {
        out.headers_mut().insert(header::CONTENT_TYPE, t);
    }
    Ok(out)
}

/// At the hub: a deployment's forwarded request, routed to the deployment that decides.
#[utoipa::path(post, path = "/api/v1/hub/forward", tag = "nation",
    responses((status = 200, description = "the deciding deployment's answer, unchanged"), (status = 401, body = crate::error::Problem, description = "not a registered deployment's secret"), (status = 404, body = crate::error::Problem, description = "no deployment holds the person"), (status = 422, body = crate::error::Problem), (status = 503, body = crate::error::Problem, description = "deployment_unavailable")))]
pub async fn hub_forward(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> ApiResult<Response> {
    let secret = bearer_of(&headers).ok_or_else(|| ApiError::unauthorized("a deployment's secret is required"))?;
    let from = sscard_app::hub::authenticate(state.store.as_ref(), secret)
        .await?
        .ok_or_else(|| ApiError::unauthorized("not a registered deployment's secret"))?;
    let req: ForwardRequest = parse_body(&body)?;
    if req.op.is_medical() {
        return super::nation_medical::at_hub(&state, &from.info.code, req).await;
    }
    let target = sscard_app::national::forward_target(state.store.as_ref(), &req).await?;
    let inbound =
        Inbound { from: from.info.code, caller: req.caller, person_id: target.route.person_id.clone(), op: req.op };
    let body = serde_json::to_vec(&inbound)
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?;
    let url = format!("{}/api/v1/hub-inbound", target.url.trim_end_matches('/'));
    relay(&url, &target.secret, body, sscard_app::national::DEPLOYMENT_UNAVAILABLE).await
}

fn bearer_of(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let token = value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer "))?.trim();
    (!token.is_empty() && token.len() <= 256).then_some(token)
}

fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    if body.len() > MAX_FORWARD_BYTES {
        return Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", "the body is over the limit"));
    }
    serde_json::from_slice(body).map_err(|e| ApiError::bad_request("bad_json", "body", e.to_string()))
}

/// At a deployment: a request the hub forwards, run under this deployment's rules.
#[utoipa::path(post, path = "/api/v1/hub-inbound", tag = "nation",
    responses((status = 200, description = "what this deployment's own API answers"), (status = 401, body = crate::error::Problem, description = "not the hub"), (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn hub_inbound(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> ApiResult<Response> {
    let link = link(&state)?;
    let given = bearer_of(&headers).ok_or_else(|| ApiError::unauthorized("the hub's credential is required"))?;
    if !same_secret(given, &link.secret) {
        return Err(ApiError::unauthorized("not the hub's credential"));
    }
    let inbound: Inbound = parse_body(&body)?;
    if inbound.op.is_medical() {
        return super::nation_medical::at_decider(&state, &link, &inbound).await;
    }
    let base = state.ctx(Actor::system("hub-inbound"), None);
    let mut answer = sscard_app::national::execute(state.store.as_ref(), &base, &inbound).await?;
    if let Some(o) = answer.as_object_mut() {
        o.insert("deployment".into(), serde_json::Value::from(link.deployment.as_str()));
    }
    Ok(axum::Json(answer).into_response())
}

/// Who asks: staff at a desk serving a walk-in, or a holder for their own SSN only.
async fn caller_for(state: &AppState, actor: &Actor, ssn: Option<&str>) -> ApiResult<Caller> {
    let kind = match actor.role {
        Role::Admin | Role::Clerk | Role::Teller => CallerKind::Staff,
        Role::Holder => CallerKind::Holder,
        _ => return Err(sscard_domain::error::DomainError::forbidden("use the national services").into()),
    };
    if kind == CallerKind::Holder
        && let Some(ssn) = ssn
    {
        let me = actor.person_id.as_deref().unwrap_or_default();
        let own = sscard_app::persons::get(state.store.as_ref(), &state.ctx(actor.clone(), None), me).await?;
        if own.person.ssn.as_str() != ssn {
            return Err(sscard_domain::error::DomainError::forbidden("a holder reaches only their own card").into());
        }
    }
    Ok(Caller { username: actor.name.clone(), kind })
}

async fn to_hub(state: &AppState, caller: Caller, op: ForwardOp) -> ApiResult<Response> {
    let link = link(state)?;
    let body = serde_json::to_vec(&ForwardRequest { caller, op })
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?;
    let url = format!("{}/api/v1/hub/forward", link.hub_url.trim_end_matches('/'));
    relay(&url, &link.secret, body, "hub_unavailable").await
}

fn index(state: &AppState, ssn: &str) -> ApiResult<(String, String)> {
    let ssn = sscard_app::fields::ssn(ssn, "ssn")?;
    Ok((ssn.as_str().to_string(), link(state)?.index_key.person_index(ssn.as_str())))
}

/// Where a person's card is in the nation: the deciding deployment's view, masked.
#[utoipa::path(get, path = "/api/v1/national/persons/{ssn}", tag = "nation", params(("ssn" = String, Path)),
    responses((status = 200, description = "deployment, masked person, cards, applications in flight"), (status = 400, body = crate::error::Problem), (status = 401, body = crate::error::Problem), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem), (status = 503, body = crate::error::Problem)))]
pub async fn person(State(state): State<AppState>, Auth(actor): Auth, Path(ssn): Path<String>) -> ApiResult<Response> {
    let (ssn, person_index) = index(&state, &ssn)?;
    let caller = caller_for(&state, &actor, Some(&ssn)).await?;
    to_hub(&state, caller, ForwardOp::PersonStatus { person_index }).await
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NationalCardAction {
    /// The 6-digit PIN (activate).
    pub pin: Option<String>,
    /// Why (stop).
    pub reason: Option<String>,
}

/// A card action at the deployment holding the person's card.
#[utoipa::path(post, path = "/api/v1/national/persons/{ssn}/cards/{action}", tag = "nation",
    params(("ssn" = String, Path), ("action" = String, Path, description = "suspend | unsuspend | report-lost | activate | stop")),
    request_body = NationalCardAction,
    responses((status = 200, description = "the card as the deciding deployment left it"), (status = 400, body = crate::error::Problem), (status = 413, body = crate::error::Problem), (status = 401, body = crate::error::Problem), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem), (status = 503, body = crate::error::Problem)))]
pub async fn card_action(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path((ssn, action)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<Response> {
    let action = RemoteCardAction::parse(&action).ok_or_else(|| {
        ApiError::not_found(format!("no action {action:?}: suspend, unsuspend, report-lost, activate or stop"))
    })?;
    let req: NationalCardAction =
        if body.iter().all(u8::is_ascii_whitespace) { NationalCardAction::default() } else { parse_body(&body)? };
    let (ssn, person_index) = index(&state, &ssn)?;
    let caller = caller_for(&state, &actor, Some(&ssn)).await?;
    if action == RemoteCardAction::Stop && caller.kind == CallerKind::Holder {
        return Err(sscard_domain::error::DomainError::forbidden("stop a card (staff only)").into());
    }
    let op = ForwardOp::CardAction { person_index, action, pin: req.pin, reason: req.reason };
    to_hub(&state, caller, op).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NationalApplication {
    pub ssn: String,
    /// The insured region (6 digits): its deployment takes a first application.
    pub region: String,
    /// first | replacement
    pub kind: String,
    pub bank_code: String,
    pub mail_address: String,
    /// lost | damaged | change_of_bank (replacement)
    pub reason: Option<String>,
}

/// A mailed first or replacement application, to the deployment of the insured region (or
/// the one holding the person's card).
#[utoipa::path(post, path = "/api/v1/national/applications", tag = "nation", request_body = NationalApplication,
    responses((status = 200, description = "the application as the deciding deployment took it, with its timeline"), (status = 400, body = crate::error::Problem), (status = 413, body = crate::error::Problem), (status = 401, body = crate::error::Problem), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem), (status = 503, body = crate::error::Problem)))]
pub async fn apply(State(state): State<AppState>, Auth(actor): Auth, body: Bytes) -> ApiResult<Response> {
    let req: NationalApplication = parse_body(&body)?;
    let (ssn, person_index) = index(&state, &req.ssn)?;
    let region = sscard_app::fields::region(&req.region, "region")?.to_string();
    let caller = caller_for(&state, &actor, Some(&ssn)).await?;
    let application = MailedApplication {
        ssn,
        kind: req.kind,
        bank_code: req.bank_code,
        mail_address: req.mail_address,
        reason: req.reason,
    };
    let op = ForwardOp::Apply { person_index: Some(person_index), region: Some(region), application };
    to_hub(&state, caller, op).await
}

/// An application's production timeline at another deployment.
#[utoipa::path(get, path = "/api/v1/national/applications/{deployment}/{id}", tag = "nation",
    params(("deployment" = String, Path), ("id" = String, Path)),
    responses((status = 200, description = "the application with its timeline"), (status = 400, body = crate::error::Problem), (status = 401, body = crate::error::Problem), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem), (status = 503, body = crate::error::Problem)))]
pub async fn progress(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path((deployment, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let deployment = DeploymentCode::parse(&deployment)
        .map_err(|e| ApiError::bad_request("bad_code", "deployment", e.to_string()))?;
    let caller = caller_for(&state, &actor, None).await?;
    // A holder's own person index lets the decider show them their own application only.
    let person_index = match caller.kind {
        CallerKind::Holder => {
            let me = actor.person_id.as_deref().unwrap_or_default();
            let own = sscard_app::persons::get(state.store.as_ref(), &state.ctx(actor.clone(), None), me).await?;
            Some(link(&state)?.index_key.person_index(own.person.ssn.as_str()))
        }
        CallerKind::Staff | CallerKind::Terminal => None,
    };
    to_hub(&state, caller, ForwardOp::Progress { deployment, application_id: id, person_index }).await
}
