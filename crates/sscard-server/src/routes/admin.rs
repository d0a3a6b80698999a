//! Banks and branches, users, jobs, the audit chain and statistics.

use super::to_json;
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::extract::JsonBody;
use crate::routes::persons::parse_date;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use sscard_app::{admin, audit, fields, jobs};
use sscard_domain::access::{self, Role};
use sscard_domain::clock::start_of_day_ms;
use sscard_domain::ids::{BankCode, Bin, BranchCode, RegionCode};
use sscard_store::{Bank, Branch, Overview};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
pub struct BankJson {
    pub code: String,
    pub name: String,
    pub bin: String,
    pub branches: Vec<BranchJson>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BranchJson {
    pub bank_code: String,
    pub code: String,
    pub name: String,
    pub region: String,
    pub has_printer: bool,
}

impl From<&Branch> for BranchJson {
    fn from(b: &Branch) -> Self {
        BranchJson {
            bank_code: b.bank_code.to_string(),
            code: b.code.to_string(),
            name: b.name.clone(),
            region: b.region.to_string(),
            has_printer: b.has_printer,
        }
    }
}

/// Partner banks with their branches.
#[utoipa::path(get, path = "/api/v1/banks", tag = "banks", responses((status = 200, body = [BankJson]), (status = 401, body = crate::error::Problem)))]
pub async fn banks(State(state): State<AppState>, Auth(_actor): Auth) -> ApiResult<Json<Vec<BankJson>>> {
    let (banks, branches) = admin::banks(state.store.as_ref()).await?;
    let json = banks
        .iter()
        .map(|b| BankJson {
            code: b.code.to_string(),
            name: b.name.clone(),
            bin: b.bin.as_str().to_string(),
            branches: branches.iter().filter(|br| br.bank_code == b.code).map(BranchJson::from).collect(),
        })
        .collect();
    Ok(Json(json))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBank {
    pub code: String,
    pub name: String,
    /// 6-8 digit card BIN of the bank.
    pub bin: String,
}

/// Add a partner bank (admin).
#[utoipa::path(post, path = "/api/v1/banks", tag = "banks", request_body = NewBank,
    responses((status = 201, body = BankJson), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem), (status = 409, body = crate::error::Problem), (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one"), (status = 413, body = crate::error::Problem, description = "the body is over the limit"), (status = 415, body = crate::error::Problem, description = "the body is not application/json")))]
pub async fn add_bank(
    State(state): State<AppState>,
    Auth(actor): Auth,
    body: JsonBody<NewBank>,
) -> ApiResult<(StatusCode, Json<BankJson>)> {
    let r = body.value;
    let bank = Bank {
        code: BankCode::parse(&r.code).map_err(|e| ApiError::bad_request("bad_bank_code", "code", e.to_string()))?,
        name: r.name,
        bin: Bin::parse(&r.bin).map_err(|e| ApiError::bad_request("bad_bin", "bin", e.to_string()))?,
    };
    let bank = admin::add_bank(state.store.as_ref(), &state.ctx(actor, None), bank).await?;
    Ok((
        StatusCode::CREATED,
        Json(BankJson {
            code: bank.code.to_string(),
            name: bank.name,
            bin: bank.bin.as_str().to_string(),
            branches: vec![],
        }),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBranch {
    pub code: String,
    pub name: String,
    pub region: String,
    /// The branch has a card printer (instant issuance, 立等可取).
    #[serde(default)]
    pub has_printer: bool,
}

/// Add a branch to a bank (admin).
#[utoipa::path(post, path = "/api/v1/banks/{code}/branches", tag = "banks", request_body = NewBranch, params(("code" = String, Path)),
    responses((status = 201, body = BranchJson), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem), (status = 409, body = crate::error::Problem), (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one"), (status = 404, body = crate::error::Problem, description = "no such thing"), (status = 413, body = crate::error::Problem, description = "the body is over the limit"), (status = 415, body = crate::error::Problem, description = "the body is not application/json")))]
pub async fn add_branch(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(code): Path<String>,
    body: JsonBody<NewBranch>,
) -> ApiResult<(StatusCode, Json<BranchJson>)> {
    let r = body.value;
    let branch = Branch {
        bank_code: BankCode::parse(&code).map_err(|e| ApiError::bad_request("bad_bank_code", "code", e.to_string()))?,
        code: BranchCode::parse(&r.code)
            .map_err(|e| ApiError::bad_request("bad_branch_code", "code", e.to_string()))?,
        name: r.name,
        region: RegionCode::parse(&r.region)
            .map_err(|e| ApiError::bad_request("bad_region", "region", e.to_string()))?,
        has_printer: r.has_printer,
    };
    let branch = admin::add_branch(state.store.as_ref(), &state.ctx(actor, None), branch).await?;
    Ok((StatusCode::CREATED, Json(BranchJson::from(&branch))))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub username: String,
    pub password: String,
    /// admin | clerk | teller | holder | terminal | payer
    pub role: String,
    pub person_id: Option<String>,
    pub bank_code: Option<String>,
    /// A teller's own branch (of `bank_code`): the desk starts from it.
    pub branch_code: Option<String>,
    /// The payer a `payer` login works for.
    pub payer_code: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserJson {
    pub username: String,
    pub role: String,
    pub person_id: Option<String>,
    pub bank_code: Option<String>,
    /// A teller's own branch.
    pub branch_code: Option<String>,
}

/// Create a login (admin).
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = NewUser,
    responses((status = 201, body = UserJson), (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem), (status = 409, body = crate::error::Problem), (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one"), (status = 404, body = crate::error::Problem, description = "no such thing"), (status = 413, body = crate::error::Problem, description = "the body is over the limit"), (status = 415, body = crate::error::Problem, description = "the body is not application/json")))]
pub async fn add_user(
    State(state): State<AppState>,
    Auth(actor): Auth,
    body: JsonBody<NewUser>,
) -> ApiResult<(StatusCode, Json<UserJson>)> {
    let r = body.value;
    let role = Role::parse(&r.role)
        .ok_or_else(|| ApiError::bad_request("bad_role", "role", format!("unknown role {:?}", r.role)))?;
    let bank_code = r.bank_code.as_deref().map(|b| fields::bank_code(b, "bank_code")).transpose()?;
    let branch_code = r.branch_code.as_deref().map(|b| fields::branch_code(b, "branch_code")).transpose()?;
    let ctx = state.ctx(actor, None);
    let store = state.store.as_ref();
    // A payer login is made apart; the branch rule holds for it too.
    sscard_domain::access::check_user_branch(role, branch_code.is_some())?;
    let user = match (role, r.payer_code.as_deref()) {
        (Role::Payer, Some(payer)) => {
            sscard_app::benefits::add_payer_user(store, &ctx, &r.username, &r.password, payer).await?
        }
        (Role::Payer, None) => {
            return Err(ApiError::bad_request("payer_required", "payer_code", "a payer login works for a payer"));
        }
        _ => {
            let links = admin::UserLinks { person_id: r.person_id, bank_code, branch_code };
            admin::add_user_with(store, &ctx, &r.username, &r.password, role, links).await?
        }
    };
    Ok((
        StatusCode::CREATED,
        Json(UserJson {
            username: user.username,
            role: user.role.as_str().to_string(),
            person_id: user.person_id,
            bank_code: user.bank_code,
            branch_code: user.branch_code,
        }),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobQuery {
    /// Run as of this date (YYYY-MM-DD, China time) instead of now.
    pub as_of: Option<String>,
}

/// Run a job now: auto_lift | dormant_sweep | temporary_expiry (admin, clerk).
#[utoipa::path(post, path = "/api/v1/jobs/{name}/run", tag = "jobs", params(("name" = String, Path), JobQuery),
    responses((status = 200, body = Object), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem), (status = 400, body = crate::error::Problem, description = "a malformed or invalid field, named in `field`"), (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one")))]
pub async fn run_job(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(name): Path<String>,
    Query(q): Query<JobQuery>,
) -> ApiResult<Response> {
    access::may_read_stats(&actor)?;
    let job = jobs::Job::parse(&name)
        .ok_or_else(|| ApiError::not_found(format!("no job {name:?}: auto_lift, dormant_sweep or temporary_expiry")))?;
    let mut ctx = state.ctx(actor, None);
    if let Some(as_of) = q.as_of {
        let date = parse_date(&as_of).map_err(|d| ApiError::bad_request("bad_date", "as_of", d))?;
        ctx.now_ms = start_of_day_ms(date) + 12 * 3_600_000;
    }
    ctx.actor = sscard_domain::access::Actor { name: format!("{}:{}", ctx.actor.name, job.name()), ..ctx.actor };
    let report = jobs::run(state.store.as_ref(), &ctx, job, &|_| {}).await?;
    Ok(super::json_response(StatusCode::OK, to_json(&report)))
}

/// Verify the audit chain (admin): seals pending records, then recomputes every link.
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit", responses((status = 200, body = Object), (status = 403, body = crate::error::Problem), (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one")))]
pub async fn verify_audit(State(state): State<AppState>, Auth(actor): Auth) -> ApiResult<Response> {
    access::may_administer(&actor)?;
    let report = audit::verify(state.store.as_ref()).await?;
    Ok(super::json_response(StatusCode::OK, to_json(&report)))
}

/// Counts of persons, applications by channel and status, cards by status, generation and bank,
/// and card uses by scenario (`usage_by_scenario`) and by physical card vs e-card QR
/// (`usage_by_presentation`, keys `card` and `qr`), refusals included; the refused ones by
/// scenario in `usage_refused_by_scenario`.
#[utoipa::path(get, path = "/api/v1/stats/overview", tag = "stats", responses((status = 200, body = Object), (status = 403, body = crate::error::Problem), (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one")))]
pub async fn overview(State(state): State<AppState>, Auth(actor): Auth) -> ApiResult<Json<serde_json::Value>> {
    let ctx = state.ctx(actor, None);
    let overview: Overview = admin::overview(state.store.as_ref(), &ctx).await?;
    let usage = sscard_app::onecard::usage(state.store.as_ref(), &ctx).await?;
    let mut by_scenario = std::collections::BTreeMap::<&str, i64>::new();
    let mut by_presentation = std::collections::BTreeMap::<&str, i64>::new();
    let mut refused = std::collections::BTreeMap::<&str, i64>::new();
    for u in &usage {
        *by_scenario.entry(u.scenario.as_str()).or_default() += u.count;
        *by_presentation.entry(u.presented.as_str()).or_default() += u.count;
        *refused.entry(u.scenario.as_str()).or_default() += u.refused;
    }
    let buckets = |m: std::collections::BTreeMap<&str, i64>| -> Vec<serde_json::Value> {
        m.into_iter().map(|(key, count)| serde_json::json!({ "key": key, "count": count })).collect()
    };
    let mut v = serde_json::to_value(&overview).map_err(|e| sscard_store::StoreError::Backend(e.to_string()))?;
    v["usage_by_scenario"] = serde_json::Value::Array(buckets(by_scenario));
    v["usage_by_presentation"] = serde_json::Value::Array(buckets(by_presentation));
    v["usage_refused_by_scenario"] = serde_json::Value::Array(buckets(refused));
    Ok(Json(v))
}
