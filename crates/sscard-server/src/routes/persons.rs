//! /persons: registration (with newborns) and look-ups.

use super::{idempotent, to_json};
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::extract::{IdemKey, JsonBody};
use crate::state::AppState;
use crate::views::{ApplicationJson, CardJson, PersonJson};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use sscard_app::fields;
use sscard_app::persons::{self, NewbornInput, NewbornResult};
use sscard_domain::document::{DocType, Sex};
use sscard_domain::ids::{BankCode, BranchCode, RegionCode};
use sscard_domain::person::{Person, RegistrationInput};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterPerson {
    /// resident_id | residence_permit | foreign_permanent_id | passport | hk_macau_travel_permit | taiwan_travel_permit | foreign_work_permit
    pub doc_type: String,
    pub doc_number: String,
    pub name: String,
    /// male | female; required when the document does not carry it.
    pub sex: Option<String>,
    /// YYYY-MM-DD; required when the document does not carry it.
    pub birth_date: Option<String>,
    /// 6-digit insured region code.
    pub region: String,
    pub guardian_id: Option<String>,
    /// Household register or birth certificate number proving the guardian relationship.
    pub relationship_proof: Option<String>,
}

pub(crate) fn parse_registration(r: &RegisterPerson) -> ApiResult<RegistrationInput> {
    let doc_type =
        DocType::parse(&r.doc_type).map_err(|e| ApiError::bad_request("bad_doc_type", "doc_type", e.to_string()))?;
    let sex = r
        .sex
        .as_deref()
        .map(Sex::parse)
        .transpose()
        .map_err(|e| ApiError::bad_request("bad_sex", "sex", e.to_string()))?;
    let birth_date = r
        .birth_date
        .as_deref()
        .map(parse_date)
        .transpose()
        .map_err(|detail| ApiError::bad_request("bad_birth_date", "birth_date", detail))?;
    let region =
        RegionCode::parse(&r.region).map_err(|e| ApiError::bad_request("bad_region", "region", e.to_string()))?;
    Ok(RegistrationInput {
        doc_type,
        doc_number: r.doc_number.clone(),
        name: r.name.clone(),
        sex,
        birth_date,
        region,
        guardian_id: r.guardian_id.clone(),
        relationship_proof: r.relationship_proof.clone(),
    })
}

/// Parses YYYY-MM-DD.
pub fn parse_date(s: &str) -> Result<time::Date, String> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s.trim(), format).map_err(|_| format!("{s:?} is not a date of the form YYYY-MM-DD"))
}

/// Register a person. Replays with the same Idempotency-Key answer the first result.
#[utoipa::path(post, path = "/api/v1/persons", request_body = RegisterPerson, tag = "persons",
    params(crate::openapi::IdempotencyKey),
    responses((status = 201, body = PersonJson), (status = 400, body = crate::error::Problem), (status = 409, body = crate::error::Problem), (status = 403, body = crate::error::Problem), (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one"), (status = 413, body = crate::error::Problem, description = "the body is over the limit"), (status = 415, body = crate::error::Problem, description = "the body is not application/json"), (status = 422, body = crate::error::Problem, description = "refused by a rule")))]
pub async fn register(
    State(state): State<AppState>,
    Auth(actor): Auth,
    key: IdemKey,
    body: JsonBody<RegisterPerson>,
) -> ApiResult<Response> {
    let input = parse_registration(&body.value)?;
    let policy = state.policy.clone();
    let render = move |p: &Person, at_ms: i64| to_json(&PersonJson::new(p, at_ms, &policy));
    let store = state.store.clone();
    let run = |ctx| async move { persons::register(store.as_ref(), &ctx, input).await };
    idempotent(&state, actor, &key, &body.raw, StatusCode::CREATED, run, render).await
}

/// The child's registration (the resident ID number from household registration, name,
/// region, guardian_id, and the birth certificate number (出生医学证明) as relationship_proof)
/// and the first card application's bank, in one flat body. Spelled out rather than
/// flattened, so an unknown field is refused like everywhere else.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterNewborn {
    pub doc_type: String,
    pub doc_number: String,
    pub name: String,
    pub sex: Option<String>,
    pub birth_date: Option<String>,
    pub region: String,
    pub guardian_id: Option<String>,
    pub relationship_proof: Option<String>,
    pub bank_code: String,
    pub branch_code: Option<String>,
    pub mail_address: Option<String>,
}

impl RegisterNewborn {
    fn child(&self) -> RegisterPerson {
        RegisterPerson {
            doc_type: self.doc_type.clone(),
            doc_number: self.doc_number.clone(),
            name: self.name.clone(),
            sex: self.sex.clone(),
            birth_date: self.birth_date.clone(),
            region: self.region.clone(),
            guardian_id: self.guardian_id.clone(),
            relationship_proof: self.relationship_proof.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NewbornJson {
    pub person: PersonJson,
    pub application: ApplicationJson,
}

/// Newborn registration (新生儿出生一件事): the person and a first card application in one step.
#[utoipa::path(post, path = "/api/v1/persons/newborn", request_body = RegisterNewborn, tag = "persons", params(crate::openapi::IdempotencyKey),
    responses((status = 201, body = NewbornJson), (status = 400, body = crate::error::Problem), (status = 409, body = crate::error::Problem), (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one"), (status = 403, body = crate::error::Problem, description = "the caller may not do this"), (status = 404, body = crate::error::Problem, description = "no such thing"), (status = 413, body = crate::error::Problem, description = "the body is over the limit"), (status = 415, body = crate::error::Problem, description = "the body is not application/json"), (status = 422, body = crate::error::Problem, description = "refused by a rule")))]
pub async fn register_newborn(
    State(state): State<AppState>,
    Auth(actor): Auth,
    key: IdemKey,
    body: JsonBody<RegisterNewborn>,
) -> ApiResult<Response> {
    let req = &body.value;
    let input = NewbornInput {
        child: parse_registration(&req.child())?,
        bank_code: BankCode::parse(&req.bank_code)
            .map_err(|e| ApiError::bad_request("bad_bank_code", "bank_code", e.to_string()))?,
        branch_code: req
            .branch_code
            .as_deref()
            .map(BranchCode::parse)
            .transpose()
            .map_err(|e| ApiError::bad_request("bad_branch_code", "branch_code", e.to_string()))?,
        mail_address: req.mail_address.clone(),
    };
    let policy = state.policy.clone();
    let render = move |r: &NewbornResult, at_ms: i64| {
        to_json(&NewbornJson {
            person: PersonJson::new(&r.person, at_ms, &policy),
            application: ApplicationJson::from(&r.application),
        })
    };
    let store = state.store.clone();
    let run = |ctx| async move { persons::register_newborn(store.as_ref(), &ctx, input).await };
    idempotent(&state, actor, &key, &body.raw, StatusCode::CREATED, run, render).await
}

/// A person by id.
#[utoipa::path(get, path = "/api/v1/persons/{id}", tag = "persons", params(("id" = String, Path)),
    responses((status = 200, body = PersonJson), (status = 404, body = crate::error::Problem), (status = 403, body = crate::error::Problem), (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one")))]
pub async fn get(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<PersonJson>> {
    let ctx = state.ctx(actor, None);
    let seen = persons::get(state.store.as_ref(), &ctx, &id).await?;
    Ok(Json(PersonJson::seen(&seen, ctx.now_ms, &ctx.policy)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FindQuery {
    /// Social security number or resident ID number.
    pub ssn: String,
}

/// Find a person by social security number: `GET /persons?ssn=`.
#[utoipa::path(get, path = "/api/v1/persons", tag = "persons", params(FindQuery),
    responses((status = 200, body = PersonJson), (status = 400, body = crate::error::Problem), (status = 404, body = crate::error::Problem), (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one"), (status = 403, body = crate::error::Problem, description = "the caller may not do this")))]
pub async fn find(
    State(state): State<AppState>,
    Auth(actor): Auth,
    query: Result<Query<FindQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<PersonJson>> {
    let Query(q) = query.map_err(|_| ApiError::bad_request("ssn_required", "ssn", "give ?ssn=NUMBER"))?;
    let ssn = fields::ssn(&q.ssn, "ssn")?;
    let ctx = state.ctx(actor, None);
    let seen = persons::find_by_ssn(state.store.as_ref(), &ctx, &ssn).await?;
    Ok(Json(PersonJson::seen(&seen, ctx.now_ms, &ctx.policy)))
}

/// The cards of a person, oldest first.
#[utoipa::path(get, path = "/api/v1/persons/{id}/cards", tag = "cards", params(("id" = String, Path)),
    responses((status = 200, body = [CardJson]), (status = 404, body = crate::error::Problem), (status = 403, body = crate::error::Problem), (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one")))]
pub async fn cards(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<CardJson>>> {
    let ctx = state.ctx(actor, None);
    let cards = sscard_app::cards::of_person(state.store.as_ref(), &ctx, &id).await?;
    Ok(Json(cards.iter().map(CardJson::from).collect()))
}

/// One staff look at a person's unmasked data.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadJson {
    /// When, RFC 3339.
    pub at: String,
    /// The staff member's login.
    pub actor: String,
    /// admin | clerk | teller
    pub role: String,
    /// The teller's bank.
    pub bank_code: Option<String>,
    /// person (looked up by id) | person_by_number (found by their SSN or document number)
    pub what: String,
}

/// Who saw the person's full SSN and document number, newest first (at most 200): for the
/// holder, their guardian, clerks and admins.
#[utoipa::path(get, path = "/api/v1/persons/{id}/reads", tag = "persons", params(("id" = String, Path)),
    responses((status = 200, body = [ReadJson]), (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one"),
        (status = 403, body = crate::error::Problem, description = "the caller may not do this"), (status = 404, body = crate::error::Problem, description = "no such person")))]
pub async fn reads(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<ReadJson>>> {
    let ctx = state.ctx(actor, None);
    let found = persons::reads(state.store.as_ref(), &ctx, &id, 200).await?;
    Ok(Json(
        found
            .into_iter()
            .map(|r| ReadJson {
                at: crate::views::iso(r.at_ms),
                actor: r.actor,
                role: r.role,
                bank_code: r.bank_code,
                what: r.what,
            })
            .collect(),
    ))
}

/// Download my data (PIPL): everything sscard holds about the logged-in holder as one JSON
/// document, as an attachment `sscard-export-<date>.json`, never cached. Their person in full
/// (SSN, document number, name, guardian link), their cards (full bank account number; never
/// the PIN hash), applications with their timelines, e-card and its authorizations, uses of
/// their cards, accounts and transfers, staff looks at their data, and `benefits` (received
/// benefit payments: empty until benefit payments are recorded here). Only for a holder,
/// about themself: staff and terminals get 403.
#[utoipa::path(get, path = "/api/v1/me/export", tag = "persons",
    responses((status = 200, body = Object, description = "the document (application/json), with Content-Disposition: attachment; filename=\"sscard-export-YYYY-MM-DD.json\" and Cache-Control: no-store",
            headers(("content-disposition" = String, description = "attachment; filename=\"sscard-export-YYYY-MM-DD.json\""), ("cache-control" = String, description = "no-store"))),
        (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one"),
        (status = 403, body = crate::error::Problem, description = "not a holder: staff and terminals do not download a holder's data")))]
pub async fn export_me(State(state): State<AppState>, caller: crate::terminal_auth::Caller) -> ApiResult<Response> {
    let actor = match caller {
        crate::terminal_auth::Caller::Terminal(t) => sscard_app::onecard::terminal_actor(&t),
        crate::terminal_auth::Caller::User(actor) => actor,
    };
    let ctx = state.ctx(actor, None);
    let data = sscard_app::export::export_me(state.store.as_ref(), &ctx).await?;
    let body = export_document(&data);
    let name = format!("attachment; filename=\"sscard-export-{}.json\"", ctx.today());
    let mut resp = super::json_response(StatusCode::OK, to_json(&body));
    let headers = resp.headers_mut();
    headers.insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
    if let Ok(v) = axum::http::HeaderValue::from_str(&name) {
        headers.insert(axum::http::header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

/// The export as a document: the rows as stored (times as unix milliseconds, money in fen),
/// with a format tag, and the cards without a PIN hash.
fn export_document(d: &sscard_app::export::PersonalData) -> serde_json::Value {
    let cards: Vec<serde_json::Value> = d
        .cards
        .iter()
        .map(|c| {
            let mut v = serde_json::to_value(c).unwrap_or_default();
            if let Some(o) = v.as_object_mut() {
                o.remove("pin_hash");
            }
            v
        })
        .collect();
    serde_json::json!({
        "format": "sscard-export/1",
        "exported_at": crate::views::iso(d.exported_at_ms),
        "exported_at_ms": d.exported_at_ms,
        "person": d.person,
        "cards": cards,
        "applications": d.applications,
        "ecard": d.ecard,
        "authorizations": d.authorizations,
        "uses": d.uses,
        "accounts": d.accounts,
        "transfers": d.transfers,
        "staff_reads": d.staff_reads,
        "benefits": d.benefits,
        "last_certified_at_ms": d.last_certified_at_ms,
        "truncated": d.truncated,
    })
}
