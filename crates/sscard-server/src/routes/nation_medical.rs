//! Cross-province medical settlement over HTTP (跨省异地就医直接结算, docs/NATION.md).
//!
//! - At the hospital's deployment A, the medical terminal's `POST /medical/settlements` and
//!   `POST /medical/settlements/{id}/refund` reach the nation when the card is another
//!   deployment's: a QR signed by a key that is not one of A's, or a card identification code
//!   no card of A has ([`place`]). A asks the hub, then records the self-pay and the receivable.
//! - At the hub, `POST /hub/forward` with `op: medical_settle | medical_refund` passes the bill
//!   to the card's deployment and keeps the clearing entry on the way back ([`at_hub`]);
//!   `GET /hub/clearing?day=` nets a day ([`clearing`]).
//! - At the card's deployment B, `POST /hub-inbound` decides the bill under B's policy
//!   ([`at_decider`]), the QR checked against B's own keys.
//!
//! A refusal of the far side comes back to the terminal as it was given (status and problem).

use super::onecard::Presented;
use crate::error::{ApiError, ApiResult};
use crate::medical_hops::{HttpDecider, HttpMedicalHub, Refusal};
use crate::routes::national::NationalLink;
use crate::state::AppState;
use axum::Json;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sscard_app::nation_medical::{self as nm, ClearingDay, RemoteView};
use sscard_app::onecard::terminal_actor;
use sscard_domain::access::{Actor, Role};
use sscard_domain::error::DomainError;
use sscard_domain::ids::CardIdCode;
use sscard_domain::nation::forward::{self, Caller, CallerKind, ForwardOp, ForwardRequest, Inbound};
use sscard_domain::nation::medical::{self as rules, RemoteBill};
use sscard_domain::nation::wire::DeploymentCode;
use sscard_domain::terminal::Terminal;
use sscard_store::StoreError;
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};

fn national(state: &AppState) -> Option<Arc<NationalLink>> {
    state.national.read().unwrap_or_else(|p| p.into_inner()).clone()
}

/// Where a medical bill's card is decided.
pub(crate) enum Place {
    /// This deployment's own card: the local settlement.
    Here(Presented),
    /// Another deployment's: through the hub.
    Elsewhere(rules::Presented),
}

/// Where the card presented at a medical terminal is decided: a card number is always this
/// deployment's; a QR is another deployment's when a deployment of the nation meets a key id
/// it does not have (after a reload); a card identification code when no card here has it.
pub(crate) async fn place(state: &AppState, p: &Presented, card_id_code: Option<&str>) -> ApiResult<Place> {
    let link = national(state);
    match (&p.card_no, &p.token, card_id_code) {
        (None, Some(token), None) if link.is_some() => Ok(match foreign_key(state, token).await {
            Some(key_id) => Place::Elsewhere(rules::Presented::Qr { token: token.clone(), key_id }),
            None => Place::Here(p.clone()),
        }),
        // The local settlement checks that exactly one of the two was sent.
        (_, _, None) => Ok(Place::Here(p.clone())),
        (None, None, Some(code)) => {
            let code = CardIdCode::parse(code).map_err(|e| DomainError::from(e).with_field("card_id_code"))?;
            match nm::own_card_by_id_code(state.store.as_ref(), &code).await? {
                Some(card_no) => Ok(Place::Here(Presented { card_no: Some(card_no), token: None })),
                None if link.is_some() => Ok(Place::Elsewhere(rules::Presented::CardIdCode { code })),
                None => Err(unknown_card().into()),
            }
        }
        _ => Err(ApiError::bad_request(
            "card_or_token",
            "card_no",
            "send exactly one of card_no, token and card_id_code",
        )),
    }
}

fn unknown_card() -> DomainError {
    DomainError::refused("unknown_card", "no card here has this identification code").with_field("card_id_code")
}

/// The key id of a QR token when it is not one of this deployment's keys (reloaded once).
async fn foreign_key(state: &AppState, token: &str) -> Option<i64> {
    let key_id = sscard_gm::token::decode_token(token).ok()?.claims().key_id;
    if state.keys.ring().key(key_id).is_some() {
        return None;
    }
    let ring = state.keys.reload_throttled(state.store.as_ref(), state.now_ms(), 1000).await.ok()?;
    ring.key(key_id).is_none().then_some(i64::from(key_id))
}

fn hub_for(state: &AppState, t: &Terminal) -> ApiResult<HttpMedicalHub> {
    let link = national(state)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not_in_a_nation", "this deployment is not in a nation"))?;
    let caller = Caller { username: terminal_actor(t).name, kind: CallerKind::Terminal };
    Ok(HttpMedicalHub {
        hub_url: link.hub_url.clone(),
        secret: link.secret.clone(),
        caller,
        refusal: Refusal::default(),
    })
}

/// The answer when a hop failed: the far side's refusal as it was given, else the error here.
fn failed(e: StoreError, refusal: &Refusal) -> ApiResult<Response> {
    match refusal.take() {
        Some(p) => Ok(p.into_response()),
        None => Err(e.into()),
    }
}

/// The remote settlement as a terminal reads a local one (the split's fields at the top), with
/// the deciding deployment and its settlement id.
fn view_json(v: &RemoteView) -> Value {
    let d = &v.decision;
    let mut out = json!({
        "id": v.id, "bill_id": v.bill_id, "card_no": d.card_no, "insured_region": d.insured_region,
        "decider": d.decider, "decider_settlement_id": d.settlement_id, "replayed": v.replayed,
        "refunded_at_ms": d.refunded_at_ms,
    });
    if let (Some(o), Ok(Value::Object(split))) = (out.as_object_mut(), serde_json::to_value(d.decided.split)) {
        o.extend(split);
    }
    out
}

/// At the hospital's deployment: a bill of another deployment's card, through the hub.
pub(crate) async fn settle_elsewhere(
    state: &AppState,
    t: &Terminal,
    bill_id: &str,
    amount_fen: i64,
    presented: rules::Presented,
) -> ApiResult<Response> {
    let hub = hub_for(state, t)?;
    let ctx = state.ctx(terminal_actor(t), None);
    let by_code = matches!(presented, rules::Presented::CardIdCode { .. });
    match nm::settle_at_origin(state.store.as_ref(), &ctx, t, bill_id, amount_fen, presented, &hub).await {
        Ok(v) => {
            let status = if v.replayed { StatusCode::OK } else { StatusCode::CREATED };
            Ok((status, Json(view_json(&v))).into_response())
        }
        // The hub names this deployment for the region of a code no card here has.
        Err(_) if by_code && hub.refusal.code().as_deref() == Some("not_remote") => Err(unknown_card().into()),
        Err(e) => failed(e, &hub.refusal),
    }
}

/// At the hospital's deployment: the refund of a remote settlement, through the hub.
pub(crate) async fn refund_elsewhere(state: &AppState, t: &Terminal, bill_id: &str) -> ApiResult<Response> {
    let hub = hub_for(state, t)?;
    let ctx = state.ctx(terminal_actor(t), None);
    match nm::refund_at_origin(state.store.as_ref(), &ctx, t, bill_id, &hub).await {
        Ok(v) => Ok(Json(view_json(&v)).into_response()),
        Err(e) => failed(e, &hub.refusal),
    }
}

/// At the hub: a medical bill (or its refund) of deployment `from`, passed to the card's
/// deployment; the clearing entry is kept on the way back, once per bill.
pub(crate) async fn at_hub(state: &AppState, from: &DeploymentCode, req: ForwardRequest) -> ApiResult<Response> {
    forward::check(&req)?;
    let name = forward::remote_actor_name(from, &req.caller.username);
    let ctx = state.ctx(Actor { name, role: Role::Terminal, person_id: None, bank_code: None }, None);
    let decider = HttpDecider { store: state.store.clone(), caller: req.caller.clone(), refusal: Refusal::default() };
    let store = state.store.as_ref();
    let answer = match &req.op {
        ForwardOp::MedicalSettle { bill } => {
            let target = sscard_app::national::forward_target(store, &req).await?;
            nm::settle_at_hub(store, &ctx, from, &target.route.to, bill, &decider).await
        }
        ForwardOp::MedicalRefund { hospital, bill_id } => {
            nm::refund_at_hub(store, &ctx, from, hospital, bill_id, &decider).await
        }
        _ => return Err(ApiError::bad_request("bad_forward", "op", "not a medical bill")),
    };
    match answer {
        Ok(d) => Ok(Json(d).into_response()),
        Err(e) => failed(e, &decider.refusal),
    }
}

/// At the card's deployment: decides a bill the hub forwarded under this deployment's own
/// policy (a QR checked against its own keys), or refunds one it decided.
pub(crate) async fn at_decider(state: &AppState, link: &NationalLink, inbound: &Inbound) -> ApiResult<Response> {
    let name = forward::remote_actor_name(&inbound.from, &inbound.caller.username);
    let ctx = state.ctx(Actor { name, role: Role::Terminal, person_id: None, bank_code: None }, None);
    let store = state.store.as_ref();
    let d = match &inbound.op {
        ForwardOp::MedicalSettle { bill } => {
            let p = presentation(state, bill).await;
            nm::settle_at_decider(store, &ctx, &link.deployment, &inbound.from, bill, p).await?
        }
        ForwardOp::MedicalRefund { hospital, bill_id } => {
            nm::refund_at_decider(store, &ctx, &inbound.from, hospital, bill_id).await?
        }
        _ => return Err(ApiError::bad_request("bad_forward", "op", "not a medical bill")),
    };
    Ok(Json(d).into_response())
}

/// The QR of a forwarded bill as this deployment's keys judge it (a card identification code
/// is looked up by the use case).
async fn presentation(state: &AppState, bill: &RemoteBill) -> Option<sscard_app::onecard::Presentation> {
    let rules::Presented::Qr { token, .. } = &bill.presented else { return None };
    let p = Presented { card_no: None, token: Some(token.clone()) };
    super::onecard::present_now(state, &p).await.ok()
}

/// Who reads the hub's clearing ledger: the hub's admin (the whole day) or a deployment with
/// its secret (the pairs it is in and its own position).
pub enum ClearingReader {
    Admin,
    Deployment(DeploymentCode),
}

/// The reader of `GET /hub/clearing`, by its bearer (a deployment's secret or a session).
pub struct ReaderAuth(pub ClearingReader);

impl FromRequestParts<AppState> for ReaderAuth {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = crate::auth::bearer(parts)
            .ok_or_else(|| ApiError::unauthorized("send a deployment's secret or an admin's token"))?;
        if let Some(d) = sscard_app::hub::authenticate(state.store.as_ref(), token).await? {
            return Ok(ReaderAuth(ClearingReader::Deployment(d.info.code)));
        }
        let actor = sscard_app::auth::authenticate(state.store.as_ref(), token, state.now_ms())
            .await?
            .ok_or_else(|| ApiError::unauthorized("the token is unknown or expired: log in again"))?;
        sscard_domain::access::may_administer(&actor)?;
        Ok(ReaderAuth(ClearingReader::Admin))
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClearingQuery {
    /// The hub's calendar day (China time), `YYYY-MM-DD`.
    pub day: String,
}

/// One pair of deployments over the day: `debtor` owes `creditor` `net_fen`.
#[derive(Debug, Serialize, ToSchema)]
pub struct PairJson {
    pub debtor: String,
    pub creditor: String,
    pub net_fen: i64,
    /// Everything that moved between the two, either way.
    pub gross_fen: i64,
    /// What the debtor's entries owed the creditor (`net_fen` = this minus `creditor_owed_fen`).
    pub debtor_owed_fen: i64,
    /// What the creditor's entries owed the debtor.
    pub creditor_owed_fen: i64,
    pub entries: usize,
}

/// A day of the hub's clearing ledger.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClearingJson {
    pub day: String,
    pub pairs: Vec<PairJson>,
    /// Each deployment's position (positive: it is owed); over the whole day they sum to zero.
    pub positions: std::collections::BTreeMap<String, i64>,
    pub entries: usize,
}

fn clearing_json(d: ClearingDay) -> ClearingJson {
    let pairs = d
        .pairs
        .into_iter()
        .map(|p| PairJson {
            debtor: p.debtor.to_string(),
            creditor: p.creditor.to_string(),
            net_fen: p.net_fen,
            gross_fen: p.gross_fen,
            debtor_owed_fen: p.debtor_owed_fen,
            creditor_owed_fen: p.creditor_owed_fen,
            entries: p.entries,
        })
        .collect();
    let positions = d.positions.into_iter().map(|(c, v)| (c.to_string(), v)).collect();
    ClearingJson { day: d.day, pairs, positions, entries: d.entries }
}

/// The hub's inter-deployment clearing of a day, netted per pair of deployments: the hub's
/// admin sees the whole day (positions summing to zero), a deployment (its secret as bearer)
/// the pairs it is in and its own position.
#[utoipa::path(get, path = "/api/v1/hub/clearing", tag = "hub", params(ClearingQuery),
    responses((status = 200, body = ClearingJson), (status = 400, body = crate::error::Problem, description = "not a day YYYY-MM-DD"), (status = 401, body = crate::error::Problem), (status = 403, body = crate::error::Problem, description = "a session that is not an admin's"), (status = 404, body = crate::error::Problem, description = "this server is not a hub")))]
pub async fn clearing(
    State(state): State<AppState>,
    ReaderAuth(reader): ReaderAuth,
    Query(q): Query<ClearingQuery>,
) -> ApiResult<Json<ClearingJson>> {
    let day = nm::clearing_day(state.store.as_ref(), q.day.trim()).await?;
    Ok(Json(clearing_json(match reader {
        ClearingReader::Admin => day,
        ClearingReader::Deployment(code) => day.seen_by(&code),
    })))
}
