//! "One card for everything" over HTTP (DESIGN §3.5, §3.6): operators and terminals (admin),
//! medical settlement and refunds, e-wallet top-ups, transit taps and offline batches, library
//! loans, park entries and passes, identity verification by scope, the holder's balances and
//! uses, usage statistics and the books check. Terminals authenticate with their own secret
//! ([`crate::terminal_auth`]). A card is presented by `card_no` (read from the chip) or by an
//! e-card QR `token`; the server checks the token's signature and expiry (for offline batch
//! lines: at the line's time) and the use case then applies the same rules to both. A token
//! that fails the check is refused by the use case too, so the refusal is a recorded use.
//!
//! In a nation, a QR code of another deployment (a visitor's, docs/NATION.md) is judged as
//! online verification judges it (`routes::ecard::check_foreign`: the national trust list, then
//! the issuing deployment's live status through the hub) by the uses that move no money and
//! keep nothing of the person (identity checks, library loans, park entries); the uses that
//! move money refuse it (422 `foreign_card_not_payable`) and those that keep a record of the
//! person here refuse it too (422 `foreign_card_local_only`), after the trust list only.

use super::to_json;
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::extract::{IdemKey, JsonBody};
use crate::state::AppState;
use crate::terminal_auth::{Caller, TerminalAuth};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use sscard_app::onecard::terminals::{self, NewTerminal};
use sscard_app::onecard::transit::{self, OfflineItem};
use sscard_app::onecard::{self as ops, Presentation, floats, ledger, library, medical, parks, terminal_actor};
use sscard_domain::error::DomainError;
use sscard_domain::ids::RegionCode;
use sscard_domain::medical::MedicalPolicy;
use sscard_domain::nation::visitor::Visitor;
use sscard_domain::park::ParkRule;
use sscard_domain::refusal::Refusal;
use sscard_domain::terminal::{Operator, Terminal};
use sscard_domain::transit::Fare;
use sscard_gm::offline::Rejection;
use sscard_store::onecard::ParkRow;
use utoipa::{IntoParams, ToSchema};

/// Largest offline batch body: 10,000 lines of up to about 250 bytes each (a QR token line is
/// the longest), with room for spacing.
pub const BATCH_BODY_BYTES: usize = 4 * 1024 * 1024;

/// How a card is presented: exactly one of the two.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Presented {
    /// The card number read from the chip (one letter and 8 digits).
    pub card_no: Option<String>,
    /// An e-card QR token (`SSC1.`...).
    pub token: Option<String>,
}

/// The way a card was presented in a request that names it by its two fields.
macro_rules! presented_by {
    ($request:ty) => {
        impl $request {
            fn card(&self) -> Presented {
                Presented { card_no: self.card_no.clone(), token: self.token.clone() }
            }
        }
    };
}
presented_by!(SettlementRequest);
presented_by!(TopupRequest);
presented_by!(TapRequest);
presented_by!(BatchLine);
presented_by!(CardRequest);
presented_by!(LoanRequest);
presented_by!(ParkCardRequest);

/// What a one-card use does with an e-card QR code of another deployment of the nation.
#[derive(Clone, Copy)]
pub(crate) enum Visitors<'a> {
    /// Served at this terminal (a use that moves no money): the code judged as online
    /// verification judges it, a usable one becoming [`Presentation::Visitor`]; the hub or the
    /// issuing deployment not answering is a 503.
    Served(&'a Terminal),
    /// Refused with this reason once the national trust list shows the code is another
    /// deployment's (its issuer is never asked); the list's own refusal otherwise, and
    /// `unknown_key` as before when the hub cannot give the list (refused either way).
    Refused(Refusal),
}

/// The presentation behind a request. A QR code that fails its check at `at_ms` (format,
/// key, signature, validity) becomes [`Presentation::RefusedQr`] with the reason, which every
/// use case refuses (422) and records as a refused use of the terminal; when the signature
/// verified, the refusal names its e-card so the holder sees it among their uses. A code of
/// another deployment is judged as `visitors` says.
async fn presentation(state: &AppState, p: &Presented, at_ms: i64, visitors: Visitors<'_>) -> ApiResult<Presentation> {
    match (&p.card_no, &p.token) {
        (Some(no), None) => Ok(Presentation::CardNo(no.trim().to_string())),
        (None, Some(token)) => {
            // A failed key reload leaves the verdict of the keys already loaded (unknown key).
            let (verdict, _) = super::ecard::verify_reloading(state, token, at_ms.div_euclid(1000)).await;
            match verdict {
                Ok(v) => Ok(Presentation::Ecard { ecard_id: sscard_gm::offline::hex_ids::encode(&v.claims.ecard_id) }),
                Err(Rejection::UnknownKey { key_id }) => visiting(state, token, key_id, at_ms, visitors).await,
                Err(rej) => Ok(super::ecard::refused_qr(token, &rej)),
            }
        }
        _ => Err(ApiError::bad_request("card_or_token", "card_no", "send exactly one of card_no and token")),
    }
}

/// A QR code signed by a key this deployment does not have: another deployment's, maybe (see
/// [`Visitors`]); outside a nation, `unknown_key` as ever.
async fn visiting(
    state: &AppState,
    token: &str,
    key_id: u32,
    at_ms: i64,
    visitors: Visitors<'_>,
) -> ApiResult<Presentation> {
    let unknown = || super::ecard::refused_qr(token, &Rejection::UnknownKey { key_id });
    let link = state.national.read().unwrap_or_else(|p| p.into_inner()).clone();
    let Some(link) = link else { return Ok(unknown()) };
    match visitors {
        Visitors::Served(t) => {
            // A terminal that serves nobody learns so without a hop to the hub.
            sscard_domain::terminal::check_enabled(t)?;
            let caller = super::ecard::terminal_caller(t);
            let Some(f) = super::ecard::check_foreign(state, token, key_id, caller).await? else {
                return Ok(unknown());
            };
            Ok(match (f.verdict, f.deployment, f.ecard_id) {
                (Ok((attributes, _)), Some(deployment), Some(ecard_id)) => {
                    Presentation::Visitor(Visitor { deployment, ecard_id, attributes })
                }
                // The e-card is the other deployment's: a refusal names no holder here.
                (Err(reason), ..) => Presentation::RefusedQr { reason, ecard_id: None },
                (Ok(_), ..) => unknown(),
            })
        }
        Visitors::Refused(reason) => {
            let signed = super::ecard::foreign_signature(state, &link, token, key_id, at_ms.div_euclid(1000)).await;
            Ok(match signed {
                Ok(Ok(_)) => Presentation::RefusedQr { reason: reason.as_str(), ecard_id: None },
                Ok(Err((code, _))) => Presentation::RefusedQr { reason: code, ecard_id: None },
                Err(_) => unknown(),
            })
        }
    }
}

/// The presentation of an online request of a use that moves money: another deployment's QR
/// code is refused `foreign_card_not_payable`.
pub(crate) async fn present_now(state: &AppState, p: &Presented) -> ApiResult<Presentation> {
    presentation(state, p, state.now_ms(), Visitors::Refused(Refusal::ForeignCardNotPayable)).await
}

/// The presentation of an online request, another deployment's QR code judged as `visitors` says.
async fn present_with(state: &AppState, p: &Presented, visitors: Visitors<'_>) -> ApiResult<Presentation> {
    presentation(state, p, state.now_ms(), visitors).await
}

fn created(body: String) -> Response {
    super::json_response(StatusCode::CREATED, body)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OperatorRequest {
    pub code: String,
    pub name: String,
    /// hospital | pharmacy | transit | library | park | agency
    pub kind: String,
    pub region: String,
}

/// Register an operator (admin).
#[utoipa::path(post, path = "/api/v1/operators", tag = "onecard", request_body = OperatorRequest,
    responses((status = 201, body = Object), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem), (status = 409, body = crate::error::Problem), (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one"), (status = 413, body = crate::error::Problem, description = "the body is over the limit"), (status = 415, body = crate::error::Problem, description = "the body is not application/json")))]
pub async fn add_operator(
    State(state): State<AppState>,
    Auth(actor): Auth,
    body: JsonBody<OperatorRequest>,
) -> ApiResult<Response> {
    let b = body.value;
    let op = Operator {
        kind: terminals::operator_kind(&b.kind)?,
        region: RegionCode::parse(&b.region).map_err(|e| DomainError::from(e).with_field("region"))?,
        code: b.code,
        name: b.name,
    };
    let op = terminals::add_operator(state.store.as_ref(), &state.ctx(actor, None), op).await?;
    Ok(created(to_json(&op)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TerminalRequest {
    /// The operator's code.
    pub operator: String,
    /// identity | medical | transit | library | park
    pub scenario: String,
    pub region: String,
    /// Attributes the terminal may see: name, ssn_masked, region, retired, minor, temporary.
    #[serde(default)]
    pub scope: Vec<String>,
}

/// A new terminal; `secret` is shown only in this answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct TerminalCreated {
    pub id: String,
    pub secret: String,
    pub operator: String,
    pub scenario: String,
    pub region: String,
    pub scope: Vec<String>,
}

/// Register a terminal (admin): its secret is returned once and stored hashed.
#[utoipa::path(post, path = "/api/v1/terminals", tag = "onecard", request_body = TerminalRequest,
    responses((status = 201, body = TerminalCreated), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem), (status = 422, body = crate::error::Problem), (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one"), (status = 404, body = crate::error::Problem, description = "no such thing"), (status = 413, body = crate::error::Problem, description = "the body is over the limit"), (status = 415, body = crate::error::Problem, description = "the body is not application/json")))]
pub async fn add_terminal(
    State(state): State<AppState>,
    Auth(actor): Auth,
    body: JsonBody<TerminalRequest>,
) -> ApiResult<Response> {
    let b = body.value;
    let req = NewTerminal::parse(&b.operator, &b.scenario, &b.region, &b.scope)?;
    let c = terminals::add_terminal(state.store.as_ref(), &state.ctx(actor, None), req).await?;
    let t = c.terminal;
    Ok(created(to_json(&TerminalCreated {
        id: t.id,
        secret: c.secret,
        operator: t.operator_code,
        scenario: t.scenario.as_str().to_string(),
        region: t.region.to_string(),
        scope: t.scope.attrs().iter().map(|a| a.as_str().to_string()).collect(),
    })))
}

/// List terminals (admin); never their secrets.
#[utoipa::path(get, path = "/api/v1/terminals", tag = "onecard", responses((status = 200, body = [Object]), (status = 403, body = crate::error::Problem), (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one")))]
pub async fn list_terminals(State(state): State<AppState>, Auth(actor): Auth) -> ApiResult<Response> {
    let list = terminals::list(state.store.as_ref(), &state.ctx(actor, None), 1000).await?;
    Ok(super::json_response(StatusCode::OK, to_json(&list)))
}

/// Disable a terminal (admin): its secret stops working for every use case at once.
#[utoipa::path(post, path = "/api/v1/terminals/{id}/disable", tag = "onecard", params(("id" = String, Path)),
    responses((status = 200, body = Object), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem), (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one")))]
pub async fn disable_terminal(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let t = terminals::set_disabled(state.store.as_ref(), &state.ctx(actor, None), &id, true).await?;
    crate::terminal_auth::forget_terminal(&state.terminals, &id);
    Ok(super::json_response(StatusCode::OK, to_json(&t)))
}

/// Give a terminal a new secret (admin), shown this once; the old secret stops working.
#[utoipa::path(post, path = "/api/v1/terminals/{id}/rotate-secret", tag = "onecard", params(("id" = String, Path)),
    responses((status = 200, body = Object), (status = 401, body = crate::error::Problem),
        (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)))]
pub async fn rotate_terminal_secret(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let created = terminals::rotate_secret(state.store.as_ref(), &state.ctx(actor, None), &id).await?;
    crate::terminal_auth::forget_terminal(&state.terminals, &id);
    Ok(super::json_response(StatusCode::OK, to_json(&created)))
}

/// Enable a disabled terminal again (admin).
#[utoipa::path(post, path = "/api/v1/terminals/{id}/enable", tag = "onecard", params(("id" = String, Path)),
    responses((status = 200, body = Object), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem), (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one")))]
pub async fn enable_terminal(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let t = terminals::set_disabled(state.store.as_ref(), &state.ctx(actor, None), &id, false).await?;
    crate::terminal_auth::forget_terminal(&state.terminals, &id);
    Ok(super::json_response(StatusCode::OK, to_json(&t)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyRequest {
    pub region: String,
    pub deductible_fen: i64,
    pub ratio_local_bp: u32,
    pub ratio_in_province_bp: u32,
    pub ratio_cross_province_bp: u32,
    pub annual_cap_fen: i64,
}

/// Set a region's medical insurance policy (admin). Ratios in basis points (7000 = 70%).
#[utoipa::path(post, path = "/api/v1/medical/policies", tag = "onecard", request_body = PolicyRequest,
    responses((status = 200, body = Object), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem), (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one"), (status = 413, body = crate::error::Problem, description = "the body is over the limit"), (status = 415, body = crate::error::Problem, description = "the body is not application/json")))]
pub async fn set_policy(
    State(state): State<AppState>,
    Auth(actor): Auth,
    body: JsonBody<PolicyRequest>,
) -> ApiResult<Response> {
    let b = body.value;
    let p = MedicalPolicy {
        region: RegionCode::parse(&b.region).map_err(|e| DomainError::from(e).with_field("region"))?,
        deductible_fen: b.deductible_fen,
        ratio_local_bp: b.ratio_local_bp,
        ratio_in_province_bp: b.ratio_in_province_bp,
        ratio_cross_province_bp: b.ratio_cross_province_bp,
        annual_cap_fen: b.annual_cap_fen,
    };
    let p = medical::set_policy(state.store.as_ref(), &state.ctx(actor, None), p).await?;
    Ok(super::json_response(StatusCode::OK, to_json(&p)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DepositRequest {
    pub person_id: String,
    pub amount_fen: i64,
    /// The payer's reference: the same reference again is a replay.
    pub reference: String,
}

/// Contribute into a person's medical personal account (payer or admin).
#[utoipa::path(post, path = "/api/v1/medical/deposits", tag = "onecard", request_body = DepositRequest,
    responses((status = 201, body = Object), (status = 403, body = crate::error::Problem), (status = 409, body = crate::error::Problem), (status = 400, body = crate::error::Problem, description = "a malformed or invalid field, named in `field`"), (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one"), (status = 404, body = crate::error::Problem, description = "no such thing"), (status = 413, body = crate::error::Problem, description = "the body is over the limit"), (status = 415, body = crate::error::Problem, description = "the body is not application/json"), (status = 422, body = crate::error::Problem, description = "refused by a rule")))]
pub async fn deposit(
    State(state): State<AppState>,
    Auth(actor): Auth,
    body: JsonBody<DepositRequest>,
) -> ApiResult<Response> {
    let b = body.value;
    let cmd = ledger::Deposit::parse(&b.person_id, b.amount_fen, &b.reference)?;
    let t = ledger::deposit_medical(state.store.as_ref(), &state.ctx(actor, None), &cmd).await?;
    Ok(created(to_json(&t)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettlementRequest {
    /// The card number read from the chip (one letter and 8 digits); or send `token`.
    pub card_no: Option<String>,
    /// An e-card QR token (`SSC1.`...); or send `card_no`.
    pub token: Option<String>,
    /// The card identification code (卡识别码, 32 characters, its first six digits the issuing
    /// region); or send `card_no` or `token`.
    pub card_id_code: Option<String>,
    pub amount_fen: i64,
    /// The institution's bill number: one settlement per bill.
    pub bill_id: String,
}

/// Settle a bill at a medical terminal: the answer is the split (pool, personal account,
/// self-pay) whose parts sum to `amount_fen`. The same bill again returns the first split (200).
/// In a nation, the card of another deployment (a QR signed by a key this deployment does not
/// have, or a card identification code no card here has) is settled through the hub by the
/// card's deployment under its policy (跨省异地就医); the answer names the `decider`, a refusal
/// of the card's deployment comes back as it gave it, and nothing moves here when the hub or
/// that deployment does not answer (503).
#[utoipa::path(post, path = "/api/v1/medical/settlements", tag = "onecard", request_body = SettlementRequest,
    responses((status = 201, body = Object), (status = 200, body = Object, description = "the bill was already settled: the first answer"),
        (status = 400, body = crate::error::Problem), (status = 401, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem), (status = 404, body = crate::error::Problem, description = "no such thing"), (status = 413, body = crate::error::Problem, description = "the body is over the limit"), (status = 415, body = crate::error::Problem, description = "the body is not application/json"),
        (status = 503, body = crate::error::Problem, description = "hub_unavailable or deployment_unavailable: another deployment's card, and the hub or that deployment did not answer; nothing changed")))]
pub async fn settle(
    State(state): State<AppState>,
    TerminalAuth(t): TerminalAuth,
    body: JsonBody<SettlementRequest>,
) -> ApiResult<Response> {
    let b = body.value;
    let cmd = medical::Settle::parse(&b.bill_id, b.amount_fen)?;
    let card = match super::nation_medical::place(&state, &b.card(), b.card_id_code.as_deref()).await? {
        super::nation_medical::Place::Here(card) => card,
        super::nation_medical::Place::Elsewhere(p) => {
            return super::nation_medical::settle_elsewhere(&state, &t, &b.bill_id, b.amount_fen, p).await;
        }
    };
    let p = present_now(&state, &card).await?;
    let ctx = state.ctx(terminal_actor(&t), None);
    let s = medical::settle(state.store.as_ref(), &ctx, &t, &p, &cmd).await?;
    let status = if s.replayed { StatusCode::OK } else { StatusCode::CREATED };
    Ok(super::json_response(status, to_json(&s)))
}

/// Refund a settlement in full (a medical terminal of the same operator). A settlement of
/// another deployment's card goes back the same way, through the hub, once.
#[utoipa::path(post, path = "/api/v1/medical/settlements/{id}/refund", tag = "onecard", params(("id" = String, Path)),
    responses((status = 200, body = Object), (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem), (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one"), (status = 403, body = crate::error::Problem, description = "the caller may not do this"), (status = 422, body = crate::error::Problem, description = "refused by a rule"),
        (status = 503, body = crate::error::Problem, description = "a remote settlement, and the hub or the card's deployment did not answer; nothing changed")))]
pub async fn refund(
    State(state): State<AppState>,
    TerminalAuth(t): TerminalAuth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    if let Some(bill_id) =
        sscard_app::nation_medical::remote_bill_id(state.store.as_ref(), &t.operator_code, &id).await?
    {
        return super::nation_medical::refund_elsewhere(&state, &t, &bill_id).await;
    }
    let ctx = state.ctx(terminal_actor(&t), None);
    let s = medical::refund(state.store.as_ref(), &ctx, &t, &id).await?;
    Ok(super::json_response(StatusCode::OK, to_json(&s)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TopupRequest {
    /// The card number read from the chip (one letter and 8 digits); or send `token`.
    pub card_no: Option<String>,
    /// An e-card QR token (`SSC1.`...); or send `card_no`.
    pub token: Option<String>,
    pub amount_fen: i64,
    /// bank (the card's bank account) | cash (at a service point)
    pub source: String,
}

/// Top up a card's e-wallet: the holder or staff (bank or cash), or a transit service-point
/// terminal (cash). An Idempotency-Key makes a repeat return the first answer; the same key
/// with another body is a 409.
#[utoipa::path(post, path = "/api/v1/ewallet/topups", tag = "onecard", request_body = TopupRequest, params(crate::openapi::IdempotencyKey),
    responses((status = 201, body = Object), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem), (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one"), (status = 404, body = crate::error::Problem, description = "no such thing"), (status = 413, body = crate::error::Problem, description = "the body is over the limit"), (status = 415, body = crate::error::Problem, description = "the body is not application/json")))]
pub async fn topup(
    State(state): State<AppState>,
    caller: Caller,
    key: IdemKey,
    body: JsonBody<TopupRequest>,
) -> ApiResult<Response> {
    let b = body.value;
    let cmd = transit::Topup::parse(b.amount_fen, &b.source, key.key.as_deref())?;
    let p = present_now(&state, &b.card()).await?;
    let (ctx, terminal) = match caller {
        Caller::Terminal(t) => (state.ctx(terminal_actor(&t), None), Some(t)),
        Caller::User(actor) => (state.ctx(actor, None), None),
    };
    let v = transit::topup(state.store.as_ref(), &ctx, terminal.as_ref(), &p, &cmd).await?;
    let status = if v.replayed { StatusCode::OK } else { StatusCode::CREATED };
    Ok(super::json_response(status, to_json(&v)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TapRequest {
    /// The card number read from the chip (one letter and 8 digits); or send `token`.
    pub card_no: Option<String>,
    /// An e-card QR token (`SSC1.`...); or send `card_no`.
    pub token: Option<String>,
    pub fare_fen: i64,
    /// The fare for holders insured in the operator's city, if there is one.
    pub resident_fare_fen: Option<i64>,
    /// The gate's own id of this transaction: a retry with the same id (or the same
    /// Idempotency-Key header) answers the first tap and charges nothing more.
    #[schema(max_length = 128)]
    pub txn_id: Option<String>,
}

/// Online fare debit at a gate: `{fare_fen, balance_fen}`; an overdraft is a 422, and so is
/// another deployment's QR code (`foreign_card_not_payable`).
#[utoipa::path(post, path = "/api/v1/transit/taps", tag = "onecard", request_body = TapRequest, params(crate::openapi::IdempotencyKey),
    responses((status = 200, body = Object), (status = 403, body = crate::error::Problem), (status = 422, body = crate::error::Problem), (status = 400, body = crate::error::Problem, description = "a malformed or invalid field, named in `field`"), (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one"), (status = 404, body = crate::error::Problem, description = "no such thing"), (status = 413, body = crate::error::Problem, description = "the body is over the limit"), (status = 415, body = crate::error::Problem, description = "the body is not application/json"), (status = 409, body = crate::error::Problem, description = "a conflict with the current state (in `current_state`) or an Idempotency-Key reused with another body")))]
pub async fn tap(
    State(state): State<AppState>,
    TerminalAuth(t): TerminalAuth,
    key: IdemKey,
    body: JsonBody<TapRequest>,
) -> ApiResult<Response> {
    let b = &body.value;
    let fare = Fare::parse(b.fare_fen, b.resident_fare_fen)?;
    let key = key.or_transaction_id(b.txn_id.as_deref(), "txn_id")?;
    let p = present_now(&state, &b.card()).await?;
    let store = state.store.clone();
    let terminal = t.clone();
    let run = |ctx| async move { transit::tap(store.as_ref(), &ctx, &terminal, &p, &fare).await };
    let render = |v: &transit::TapView, _at_ms: i64| to_json(v);
    super::idempotent(&state, terminal_actor(&t), &key, &body.raw, StatusCode::OK, run, render).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchLine {
    /// The gate's sequence number: each (gate, seq) is applied once.
    pub seq: i64,
    /// The card number read from the chip (one letter and 8 digits); or send `token`.
    pub card_no: Option<String>,
    /// An e-card QR token (`SSC1.`...); or send `card_no`.
    pub token: Option<String>,
    pub fare_fen: i64,
    pub resident_fare_fen: Option<i64>,
    /// When the gate accepted the card, unix milliseconds.
    pub at: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    /// 1 to 10,000 lines (`sscard_domain::transit::MAX_BATCH`).
    #[schema(min_items = 1, max_items = 10000)]
    pub transactions: Vec<BatchLine>,
}

/// Upload an offline batch of 1 to 10,000 lines: `{results: [{seq, status, reason?}]}` with
/// status applied, refused (with the reason) or duplicate (already uploaded).
#[utoipa::path(post, path = "/api/v1/transit/batches", tag = "onecard", request_body = BatchRequest,
    responses((status = 200, body = Object), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem), (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one"), (status = 413, body = crate::error::Problem, description = "the body is over the limit"), (status = 415, body = crate::error::Problem, description = "the body is not application/json")))]
pub async fn batch(
    State(state): State<AppState>,
    TerminalAuth(t): TerminalAuth,
    body: JsonBody<BatchRequest>,
) -> ApiResult<Response> {
    let lines = body.value.transactions;
    if lines.len() > sscard_domain::transit::MAX_BATCH {
        return Err(ApiError::bad_request(
            "bad_batch",
            "transactions",
            format!("a batch holds at most {} transactions", sscard_domain::transit::MAX_BATCH),
        ));
    }
    let mut items = Vec::with_capacity(lines.len());
    for l in lines {
        let visitors = Visitors::Refused(Refusal::ForeignCardNotPayable);
        let presentation = presentation(&state, &l.card(), l.at, visitors).await.map_err(|_| "card_or_token");
        items.push(OfflineItem {
            seq: l.seq,
            presentation,
            fare_fen: l.fare_fen,
            resident_fare_fen: l.resident_fare_fen,
            at_ms: l.at,
        });
    }
    let ctx = state.ctx(terminal_actor(&t), None);
    let results = transit::batch(state.store.as_ref(), &ctx, &t, items).await?;
    Ok(super::json_response(StatusCode::OK, to_json(&serde_json::json!({ "results": results }))))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CardRequest {
    /// The card number read from the chip (one letter and 8 digits); or send `token`.
    pub card_no: Option<String>,
    /// An e-card QR token (`SSC1.`...); or send `card_no`.
    pub token: Option<String>,
}

/// Register the holder as a patron of the terminal's library network, with no deposit.
#[utoipa::path(post, path = "/api/v1/library/patrons", tag = "onecard", request_body = CardRequest,
    responses((status = 201, body = Object), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem), (status = 400, body = crate::error::Problem, description = "a malformed or invalid field, named in `field`"), (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one"), (status = 403, body = crate::error::Problem, description = "the caller may not do this"), (status = 404, body = crate::error::Problem, description = "no such thing"), (status = 413, body = crate::error::Problem, description = "the body is over the limit"), (status = 415, body = crate::error::Problem, description = "the body is not application/json")))]
pub async fn register_patron(
    State(state): State<AppState>,
    TerminalAuth(t): TerminalAuth,
    body: JsonBody<CardRequest>,
) -> ApiResult<Response> {
    // A visitor borrows without registering: this deployment keeps no person for them.
    let p = present_with(&state, &body.value.card(), Visitors::Refused(Refusal::ForeignCardLocalOnly)).await?;
    let ctx = state.ctx(terminal_actor(&t), None);
    let person_id = library::register(state.store.as_ref(), &ctx, &t, &p).await?;
    Ok(created(to_json(&serde_json::json!({ "person_id": person_id, "operator": t.operator_code, "deposit_fen": 0 }))))
}

/// The holder certifies their eligibility for benefits (待遇资格认证) by presenting the card
/// or the e-card QR at an identity terminal of an `agency` operator; recorded with channel
/// `terminal` and the terminal's id. A card that cannot be used now is refused (422, its reason).
#[utoipa::path(post, path = "/api/v1/benefits/certifications/terminal", tag = "benefits", request_body = CardRequest,
    responses((status = 201, body = Object, description = "person_id, at_ms, valid_until_ms, channel (terminal), terminal_id"), (status = 422, body = crate::error::Problem, description = "the card or QR code cannot be used (its reason as code)"), (status = 400, body = crate::error::Problem, description = "a malformed or invalid field, named in `field`"), (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one"), (status = 403, body = crate::error::Problem, description = "not an identity terminal of an agency, or a disabled one"), (status = 404, body = crate::error::Problem, description = "no such thing"), (status = 413, body = crate::error::Problem, description = "the body is over the limit"), (status = 415, body = crate::error::Problem, description = "the body is not application/json")))]
pub async fn certify_at_terminal(
    State(state): State<AppState>,
    TerminalAuth(t): TerminalAuth,
    body: JsonBody<CardRequest>,
) -> ApiResult<Response> {
    // The holder's benefits are their own deployment's to certify.
    let p = present_with(&state, &body.value.card(), Visitors::Refused(Refusal::ForeignCardLocalOnly)).await?;
    let ctx = state.ctx(terminal_actor(&t), None);
    let out = sscard_app::benefits::certify_at_terminal(state.store.as_ref(), &ctx, &t, &p).await?;
    Ok(created(to_json(&out)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoanRequest {
    /// The card number read from the chip (one letter and 8 digits); or send `token`.
    pub card_no: Option<String>,
    /// An e-card QR token (`SSC1.`...); or send `card_no`.
    pub token: Option<String>,
    pub item_id: String,
}

/// Lend an item to the presented patron, within the network's loan limit and for its loan
/// period (see `POST /api/v1/library/policies`; 10 items for 30 days when unset). A visitor's
/// QR code (another deployment's) borrows without registering, recorded with its deployment
/// and e-card (`deployment`, `ecard_id`).
#[utoipa::path(post, path = "/api/v1/library/loans", tag = "onecard", request_body = LoanRequest,
    responses((status = 201, body = Object), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem), (status = 400, body = crate::error::Problem, description = "a malformed or invalid field, named in `field`"), (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one"), (status = 403, body = crate::error::Problem, description = "the caller may not do this"), (status = 404, body = crate::error::Problem, description = "no such thing"), (status = 413, body = crate::error::Problem, description = "the body is over the limit"), (status = 415, body = crate::error::Problem, description = "the body is not application/json"), (status = 503, body = crate::error::Problem, description = "another deployment's QR code, and the hub (hub_unavailable) or the card's deployment (deployment_unavailable) did not answer; nothing recorded")))]
pub async fn borrow(
    State(state): State<AppState>,
    TerminalAuth(t): TerminalAuth,
    body: JsonBody<LoanRequest>,
) -> ApiResult<Response> {
    let b = body.value;
    let p = present_with(&state, &b.card(), Visitors::Served(&t)).await?;
    let ctx = state.ctx(terminal_actor(&t), None);
    let loan = library::borrow(state.store.as_ref(), &ctx, &t, &p, &b.item_id).await?;
    Ok(created(to_json(&loan)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LibraryPolicyRequest {
    /// The library network's operator code.
    pub operator: String,
    /// Items one patron may hold at once: 1..=100.
    pub loan_limit: i64,
    /// Days an item may be kept: 1..=365.
    pub loan_days: i64,
}

/// Set a library network's loan limit and loan period (admin). Out-of-range values are a 422
/// naming the field; a network that never set them lends 10 items for 30 days.
#[utoipa::path(post, path = "/api/v1/library/policies", tag = "onecard", request_body = LibraryPolicyRequest,
    responses((status = 200, body = Object), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem), (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one"), (status = 413, body = crate::error::Problem, description = "the body is over the limit"), (status = 415, body = crate::error::Problem, description = "the body is not application/json")))]
pub async fn set_library_policy(
    State(state): State<AppState>,
    Auth(actor): Auth,
    body: JsonBody<LibraryPolicyRequest>,
) -> ApiResult<Response> {
    let b = body.value;
    let ctx = state.ctx(actor, None);
    let policy = sscard_domain::library::LibraryPolicy::new(b.loan_limit, b.loan_days)?;
    let p = library::set_policy(state.store.as_ref(), &ctx, &b.operator, policy).await?;
    Ok(super::json_response(StatusCode::OK, to_json(&p)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnRequest {
    pub item_id: String,
}

/// Take an item back at any library of the network.
#[utoipa::path(post, path = "/api/v1/library/returns", tag = "onecard", request_body = ReturnRequest,
    responses((status = 200, body = Object), (status = 409, body = crate::error::Problem), (status = 400, body = crate::error::Problem, description = "a malformed or invalid field, named in `field`"), (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one"), (status = 403, body = crate::error::Problem, description = "the caller may not do this"), (status = 404, body = crate::error::Problem, description = "no such thing"), (status = 413, body = crate::error::Problem, description = "the body is over the limit"), (status = 415, body = crate::error::Problem, description = "the body is not application/json"), (status = 422, body = crate::error::Problem, description = "refused by a rule")))]
pub async fn give_back(
    State(state): State<AppState>,
    TerminalAuth(t): TerminalAuth,
    body: JsonBody<ReturnRequest>,
) -> ApiResult<Response> {
    let ctx = state.ctx(terminal_actor(&t), None);
    let loan = library::give_back(state.store.as_ref(), &ctx, &t, &body.value.item_id).await?;
    Ok(super::json_response(StatusCode::OK, to_json(&loan)))
}

/// Overdue loans of the terminal's library network.
#[utoipa::path(get, path = "/api/v1/library/overdue", tag = "onecard", responses((status = 200, body = [Object]), (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one"), (status = 403, body = crate::error::Problem, description = "the caller may not do this")))]
pub async fn overdue(State(state): State<AppState>, TerminalAuth(t): TerminalAuth) -> ApiResult<Response> {
    let ctx = state.ctx(terminal_actor(&t), None);
    let list = library::overdue(state.store.as_ref(), &ctx, &t, 1000).await?;
    Ok(super::json_response(StatusCode::OK, to_json(&list)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ParkRequest {
    pub code: String,
    pub operator: String,
    pub name: String,
    pub price_fen: i64,
    #[serde(default)]
    pub free_for_retirees: bool,
    #[serde(default)]
    pub accepts_annual_pass: bool,
    pub annual_pass_fen: Option<i64>,
}

/// Create or change a park's entry rules (admin).
#[utoipa::path(post, path = "/api/v1/parks", tag = "onecard", request_body = ParkRequest,
    responses((status = 200, body = Object), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem), (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one"), (status = 413, body = crate::error::Problem, description = "the body is over the limit"), (status = 415, body = crate::error::Problem, description = "the body is not application/json")))]
pub async fn put_park(
    State(state): State<AppState>,
    Auth(actor): Auth,
    body: JsonBody<ParkRequest>,
) -> ApiResult<Response> {
    let b = body.value;
    let row = ParkRow {
        operator_code: b.operator,
        rule: ParkRule::parse(
            &b.code,
            &b.name,
            b.price_fen,
            b.free_for_retirees,
            b.accepts_annual_pass,
            b.annual_pass_fen,
        )?,
    };
    let row = parks::put_park(state.store.as_ref(), &state.ctx(actor, None), row).await?;
    Ok(super::json_response(StatusCode::OK, to_json(&row)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ParkCardRequest {
    /// The card number read from the chip (one letter and 8 digits); or send `token`.
    pub card_no: Option<String>,
    /// An e-card QR token (`SSC1.`...); or send `card_no`.
    pub token: Option<String>,
    pub park_code: String,
}

/// An entry at a park gate: `{admitted, price_fen, reason}`. A visitor's QR code (another
/// deployment's) enters free parks, and as a retiree where retirees go free; a paid entry is
/// 422 `foreign_card_not_payable`.
#[utoipa::path(post, path = "/api/v1/parks/entries", tag = "onecard", request_body = ParkCardRequest,
    responses((status = 200, body = Object), (status = 403, body = crate::error::Problem), (status = 422, body = crate::error::Problem), (status = 400, body = crate::error::Problem, description = "a malformed or invalid field, named in `field`"), (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one"), (status = 404, body = crate::error::Problem, description = "no such thing"), (status = 409, body = crate::error::Problem, description = "a conflict with the current state (in `current_state`) or an Idempotency-Key reused with another body"), (status = 413, body = crate::error::Problem, description = "the body is over the limit"), (status = 415, body = crate::error::Problem, description = "the body is not application/json"), (status = 503, body = crate::error::Problem, description = "another deployment's QR code, and the hub (hub_unavailable) or the card's deployment (deployment_unavailable) did not answer; nothing recorded")))]
pub async fn park_entry(
    State(state): State<AppState>,
    TerminalAuth(t): TerminalAuth,
    body: JsonBody<ParkCardRequest>,
) -> ApiResult<Response> {
    let b = body.value;
    let p = present_with(&state, &b.card(), Visitors::Served(&t)).await?;
    let ctx = state.ctx(terminal_actor(&t), None);
    let e = parks::entry(state.store.as_ref(), &ctx, &t, &p, &b.park_code).await?;
    Ok(super::json_response(StatusCode::OK, to_json(&e)))
}

/// Buy an annual pass onto the presented card, paid from its e-wallet.
#[utoipa::path(post, path = "/api/v1/parks/passes", tag = "onecard", request_body = ParkCardRequest,
    responses((status = 201, body = Object), (status = 422, body = crate::error::Problem), (status = 400, body = crate::error::Problem, description = "a malformed or invalid field, named in `field`"), (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one"), (status = 403, body = crate::error::Problem, description = "the caller may not do this"), (status = 404, body = crate::error::Problem, description = "no such thing"), (status = 409, body = crate::error::Problem, description = "a conflict with the current state (in `current_state`) or an Idempotency-Key reused with another body"), (status = 413, body = crate::error::Problem, description = "the body is over the limit"), (status = 415, body = crate::error::Problem, description = "the body is not application/json")))]
pub async fn buy_pass(
    State(state): State<AppState>,
    TerminalAuth(t): TerminalAuth,
    body: JsonBody<ParkCardRequest>,
) -> ApiResult<Response> {
    let b = body.value;
    let p = present_now(&state, &b.card()).await?;
    let ctx = state.ctx(terminal_actor(&t), None);
    let pass = parks::buy_pass(state.store.as_ref(), &ctx, &t, &p, &b.park_code).await?;
    Ok(created(to_json(&pass)))
}

/// Verify the holder at an identity terminal: only the attributes of the terminal's scope (of
/// a visitor's QR code, another deployment's, those its deployment shows a terminal).
#[utoipa::path(post, path = "/api/v1/identity/verify", tag = "onecard", request_body = CardRequest,
    responses((status = 200, body = Object), (status = 403, body = crate::error::Problem), (status = 422, body = crate::error::Problem), (status = 400, body = crate::error::Problem, description = "a malformed or invalid field, named in `field`"), (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one"), (status = 404, body = crate::error::Problem, description = "no such thing"), (status = 413, body = crate::error::Problem, description = "the body is over the limit"), (status = 415, body = crate::error::Problem, description = "the body is not application/json"), (status = 503, body = crate::error::Problem, description = "another deployment's QR code, and the hub (hub_unavailable) or the card's deployment (deployment_unavailable) did not answer; nothing recorded")))]
pub async fn identify(
    State(state): State<AppState>,
    TerminalAuth(t): TerminalAuth,
    body: JsonBody<CardRequest>,
) -> ApiResult<Response> {
    let p = present_with(&state, &body.value.card(), Visitors::Served(&t)).await?;
    let ctx = state.ctx(terminal_actor(&t), None);
    let attrs = ops::identify(state.store.as_ref(), &ctx, &t, &p).await?;
    Ok(super::json_response(StatusCode::OK, to_json(&serde_json::json!({ "valid": true, "attributes": attrs }))))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// At most 500 (default 100).
    pub limit: Option<u32>,
    /// Uses before this time (unix milliseconds), for paging.
    pub before: Option<i64>,
}

/// Every use of the person's cards, newest first (the holder or staff).
#[utoipa::path(get, path = "/api/v1/persons/{id}/uses", tag = "onecard", params(("id" = String, Path), ListQuery),
    responses((status = 200, body = [Object]), (status = 403, body = crate::error::Problem), (status = 400, body = crate::error::Problem, description = "a malformed or invalid field, named in `field`"), (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one"), (status = 404, body = crate::error::Problem, description = "no such thing")))]
pub async fn uses(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Response> {
    let list = ops::uses(state.store.as_ref(), &state.ctx(actor, None), &id, q.before, q.limit.unwrap_or(100)).await?;
    Ok(super::json_response(StatusCode::OK, to_json(&list)))
}

/// The person's accounts (e-wallet and bank mirror per card, medical account) and their latest movements.
#[utoipa::path(get, path = "/api/v1/persons/{id}/balances", tag = "onecard", params(("id" = String, Path), ListQuery),
    responses((status = 200, body = Object), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem), (status = 400, body = crate::error::Problem, description = "a malformed or invalid field, named in `field`"), (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one")))]
pub async fn balances(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Response> {
    let b = ledger::balances(state.store.as_ref(), &state.ctx(actor, None), &id, q.limit.unwrap_or(100)).await?;
    Ok(super::json_response(StatusCode::OK, to_json(&b)))
}

/// Card uses by scenario and by physical card vs e-card (staff).
#[utoipa::path(get, path = "/api/v1/stats/usage", tag = "stats", responses((status = 200, body = [Object]), (status = 403, body = crate::error::Problem), (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one")))]
pub async fn usage(State(state): State<AppState>, Auth(actor): Auth) -> ApiResult<Response> {
    let counts = ops::usage(state.store.as_ref(), &state.ctx(actor, None)).await?;
    Ok(super::json_response(StatusCode::OK, to_json(&counts)))
}

/// The `Idempotency-Key` header a float funding must carry (1-128 visible ASCII characters):
/// money recorded as paid in must never be recorded twice by a retry.
#[derive(IntoParams)]
#[into_params(names("Idempotency-Key"), parameter_in = Header)]
pub struct RequiredIdempotencyKey(
    /// Repeat-safe key, required here: 1-128 visible ASCII characters, kept per caller.
    #[param(min_length = 1, max_length = 128)]
    pub String,
);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FloatRequest {
    /// The cash point whose float is funded: `OFFICE` (the card office's desk),
    /// `CASH-<bank code>` (a bank's desks) or a terminal operator's code.
    pub owner: String,
    /// What the point paid in: 1 to 1,000,000,000 fen.
    pub amount_fen: i64,
}

/// Record money a cash point paid into its float (clerk or admin): from the point's float
/// source `clearing:FLOAT-<owner>` into its float `cash:<owner>`, which every cash top-up, fee
/// and self-pay the point takes then draws (refused `float_exhausted` once it is short). The
/// same Idempotency-Key again answers the first funding (200, `replayed`) and moves nothing.
#[utoipa::path(post, path = "/api/v1/ledger/floats", tag = "onecard", request_body = FloatRequest, params(RequiredIdempotencyKey),
    responses((status = 201, body = Object, description = "recorded: the transfer and the float after it"),
        (status = 200, body = Object, description = "the key was used before with the same body: the first funding, nothing moved"),
        (status = 400, body = crate::error::Problem, description = "a malformed or invalid field (owner, amount_fen, Idempotency-Key), named in `field`"),
        (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one"),
        (status = 403, body = crate::error::Problem, description = "only clerks and admins record a funding"),
        (status = 404, body = crate::error::Problem, description = "no such bank or operator"),
        (status = 409, body = crate::error::Problem, description = "an Idempotency-Key reused with another body"),
        (status = 413, body = crate::error::Problem, description = "the body is over the limit"),
        (status = 415, body = crate::error::Problem, description = "the body is not application/json")))]
pub async fn fund_float(
    State(state): State<AppState>,
    caller: Caller,
    key: IdemKey,
    body: JsonBody<FloatRequest>,
) -> ApiResult<Response> {
    let actor = match caller {
        Caller::Terminal(t) => terminal_actor(&t),
        Caller::User(actor) => actor,
    };
    sscard_domain::access::may_fund_float(&actor)?;
    let key = key.key.ok_or_else(|| {
        ApiError::bad_request("idempotency_key_required", "Idempotency-Key", "a float funding needs an Idempotency-Key")
    })?;
    let b = body.value;
    let cmd = floats::FundFloat::parse(&b.owner, b.amount_fen, &key)?;
    let v = floats::fund_float(state.store.as_ref(), &state.ctx(actor, None), &cmd).await?;
    let status = if v.replayed { StatusCode::OK } else { StatusCode::CREATED };
    Ok(super::json_response(status, to_json(&v)))
}

/// The books check (admin): balances sum to zero and match the transfers.
#[utoipa::path(get, path = "/api/v1/ledger/check", tag = "onecard", responses((status = 200, body = Object), (status = 403, body = crate::error::Problem), (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one")))]
pub async fn ledger_check(State(state): State<AppState>, Auth(actor): Auth) -> ApiResult<Json<serde_json::Value>> {
    sscard_domain::access::may_administer(&actor)?;
    let report = ledger::check(state.store.as_ref()).await?;
    Ok(Json(serde_json::json!({ "clean": report.clean(), "report": report })))
}
