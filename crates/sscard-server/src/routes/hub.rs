//! The national hub's HTTP (docs/NATION.md), mounted only when the server runs as the hub
//! (`sscard serve --hub`): the public list of deployments, the national trust list (every
//! deployment's issuer keys and the merged revocation feed), and, for deployments
//! authenticated by `Authorization: Bearer <CODE>.<secret>`, the national index key, claims
//! and the publication of their keys.

use crate::auth::bearer;
use crate::error::{ApiError, ApiResult};
use crate::extract::JsonBody;
use crate::routes::ecard::RevocationQuery;
use crate::state::AppState;
use axum::Json;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use sscard_app::hub::{self as ops, ClaimInput, ClaimOutcome, NewHubKey};
use sscard_store::ports::{DeploymentRow, HubKeyRow};
use utoipa::ToSchema;

/// Most e-card ids or changes in one page of the merged feed.
const MAX_REVOCATIONS: u32 = 10_000;

/// A deployment authenticated by its bearer secret.
pub struct DeploymentAuth(pub DeploymentRow);

impl FromRequestParts<AppState> for DeploymentAuth {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let secret = bearer(parts).ok_or_else(|| {
            ApiError::unauthorized("deployments send their secret: Authorization: Bearer CODE.SECRET")
        })?;
        let found = ops::authenticate(state.store.as_ref(), secret).await?;
        found.map(DeploymentAuth).ok_or_else(|| ApiError::unauthorized("unknown deployment secret"))
    }
}

/// A deployment as the hub lists it (never its secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct DeploymentJson {
    pub code: String,
    pub name: String,
    /// Region prefixes it serves.
    pub regions: Vec<String>,
    pub url: String,
}

/// The deployments registered at this hub (public).
#[utoipa::path(get, path = "/api/v1/deployments", tag = "hub", security(),
    responses((status = 200, body = Vec<DeploymentJson>), (status = 404, body = crate::error::Problem, description = "this server is not a hub")))]
pub async fn deployments(State(state): State<AppState>) -> ApiResult<Json<Vec<DeploymentJson>>> {
    let all = ops::deployments(state.store.as_ref()).await?;
    Ok(Json(
        all.into_iter()
            .map(|d| DeploymentJson {
                code: d.info.code.to_string(),
                name: d.info.name,
                regions: d.info.regions,
                url: d.info.url,
            })
            .collect(),
    ))
}

/// The key of the national blind index.
#[derive(Debug, Serialize, ToSchema)]
pub struct IndexKeyJson {
    /// HMAC-SM3 key, hex: a person's index is HMAC-SM3(key, SSN) in lowercase hex.
    pub key_hex: String,
}

/// The national blind-index key (deployments only).
#[utoipa::path(get, path = "/api/v1/hub/index-key", tag = "hub",
    responses((status = 200, body = IndexKeyJson), (status = 401, body = crate::error::Problem), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem, description = "this server is not a hub")))]
pub async fn index_key(
    State(state): State<AppState>,
    DeploymentAuth(_): DeploymentAuth,
) -> ApiResult<Json<IndexKeyJson>> {
    let key = state.hub.as_ref().ok_or_else(|| ApiError::not_found("this server is not a hub"))?;
    Ok(Json(IndexKeyJson { key_hex: key.hex() }))
}

/// The QR issuer key ids a deployment signs with (unique in the nation).
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyIdsJson {
    pub deployment: String,
    /// Its place in the order of registration.
    pub ordinal: u32,
    /// The first and last key id of its range, both included.
    pub first: u32,
    pub last: u32,
}

/// The calling deployment's key id range (deployments only): it makes its QR issuer keys
/// inside it, and the hub takes no other id from it.
#[utoipa::path(get, path = "/api/v1/hub/key-ids", tag = "hub",
    responses((status = 200, body = KeyIdsJson), (status = 401, body = crate::error::Problem), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem, description = "this server is not a hub"), (status = 422, body = crate::error::Problem, description = "no_key_ids_left")))]
pub async fn key_ids(DeploymentAuth(d): DeploymentAuth) -> ApiResult<Json<KeyIdsJson>> {
    let range = ops::key_ids(&d)?;
    Ok(Json(KeyIdsJson {
        deployment: d.info.code.to_string(),
        ordinal: d.ordinal,
        first: range.first,
        last: range.last,
    }))
}

/// A claim: may the calling deployment take this person on?
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimBody {
    /// The national blind index of the person's SSN (lowercase hex).
    pub person_index: String,
    /// The deployment's own id of the person.
    pub person_id: String,
    /// The application waiting for the answer.
    pub application_id: String,
}

/// The hub's answer to a claim.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClaimJson {
    /// go | wait
    pub decision: String,
    /// wait: the remote stop the application waits for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_stop_id: Option<String>,
    /// wait: the deployment that holds the person and was told to release them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held_by: Option<String>,
}

/// Asks to take a person on (before approving a first, upgrade or replacement application).
#[utoipa::path(post, path = "/api/v1/hub/claims", tag = "hub", request_body = ClaimBody,
    responses((status = 200, body = ClaimJson), (status = 400, body = crate::error::Problem), (status = 401, body = crate::error::Problem), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem, description = "this server is not a hub"), (status = 413, body = crate::error::Problem), (status = 415, body = crate::error::Problem)))]
pub async fn claim(
    State(state): State<AppState>,
    DeploymentAuth(d): DeploymentAuth,
    body: JsonBody<ClaimBody>,
) -> ApiResult<Json<ClaimJson>> {
    let b = body.value;
    let input = ClaimInput { person_index: b.person_index, person_id: b.person_id, application_id: b.application_id };
    let answer = match ops::claim(state.store.as_ref(), &d, &input, state.now_ms()).await? {
        ClaimOutcome::Go => ClaimJson { decision: "go".into(), remote_stop_id: None, held_by: None },
        ClaimOutcome::Wait { remote_stop_id, held_by } => {
            ClaimJson { decision: "wait".into(), remote_stop_id: Some(remote_stop_id), held_by: Some(held_by) }
        }
    };
    Ok(Json(answer))
}

/// One issuer key a deployment publishes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyBody {
    pub key_id: u32,
    pub public_key_pem: String,
    /// Seconds since the epoch.
    pub not_before: i64,
    pub not_after: i64,
}

/// An issuer key in the national trust list.
#[derive(Debug, Serialize, ToSchema)]
pub struct NationalKeyJson {
    pub key_id: i64,
    pub public_key_pem: String,
    pub not_before: i64,
    pub not_after: i64,
    /// The deployment that signs with it.
    pub deployment: String,
    /// That deployment's region prefixes, comma separated.
    pub region: String,
}

fn key_json(k: HubKeyRow) -> NationalKeyJson {
    NationalKeyJson {
        key_id: k.key_id,
        public_key_pem: k.public_key_pem,
        not_before: k.not_before,
        not_after: k.not_after,
        deployment: k.deployment,
        region: k.region,
    }
}

/// Publishes the calling deployment's issuer keys; a key id outside its range
/// (`GET /hub/key-ids`) or held by another deployment is 409.
#[utoipa::path(post, path = "/api/v1/hub/keys", tag = "hub", request_body = Vec<KeyBody>,
    responses((status = 200, body = Vec<NationalKeyJson>), (status = 400, body = crate::error::Problem), (status = 401, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem, description = "this server is not a hub"), (status = 409, body = crate::error::Problem, description = "key_id_out_of_range or key_id_taken"),
        (status = 403, body = crate::error::Problem), (status = 413, body = crate::error::Problem), (status = 415, body = crate::error::Problem)))]
pub async fn publish_keys(
    State(state): State<AppState>,
    DeploymentAuth(d): DeploymentAuth,
    body: JsonBody<Vec<KeyBody>>,
) -> ApiResult<Json<Vec<NationalKeyJson>>> {
    let keys: Vec<NewHubKey> = body
        .value
        .into_iter()
        .map(|k| NewHubKey {
            key_id: k.key_id,
            public_key_pem: k.public_key_pem,
            not_before: k.not_before,
            not_after: k.not_after,
        })
        .collect();
    let stored = ops::register_keys(state.store.as_ref(), &d, &keys, state.now_ms()).await?;
    Ok(Json(stored.into_iter().map(key_json).collect()))
}

/// Every deployment's QR issuer keys (public), for offline verifiers anywhere in the nation.
pub async fn national_keys(State(state): State<AppState>) -> ApiResult<Json<Vec<NationalKeyJson>>> {
    Ok(Json(ops::keys(state.store.as_ref()).await?.into_iter().map(key_json).collect()))
}

/// One change of the merged revocation feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct NationalRevocationJson {
    pub seq: i64,
    pub ecard_id: String,
    pub usable: bool,
    /// The deployment whose e-card it is.
    pub deployment: String,
}

/// The merged revocation feed, in the local feed's shape.
#[derive(Debug, Serialize, ToSchema)]
pub struct NationalRevocationsJson {
    pub full: bool,
    pub revoked: Vec<String>,
    pub changes: Vec<NationalRevocationJson>,
    pub next_since: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_after: Option<String>,
    pub more: bool,
}

/// Every deployment's e-card revocations merged (public).
pub async fn national_revocations(
    State(state): State<AppState>,
    Query(q): Query<RevocationQuery>,
) -> ApiResult<Json<NationalRevocationsJson>> {
    let since = q.since.unwrap_or(0);
    if since < 0 {
        return Err(ApiError::bad_request("bad_since", "since", "since is a sequence number >= 0"));
    }
    let limit = q.limit.unwrap_or(MAX_REVOCATIONS);
    if limit == 0 || limit > MAX_REVOCATIONS {
        return Err(ApiError::bad_request("bad_limit", "limit", format!("limit is 1..={MAX_REVOCATIONS}")));
    }
    if let Some(after) = &q.after
        && sscard_gm::offline::hex_ids::decode(after).is_none()
    {
        return Err(ApiError::bad_request("bad_after", "after", "after is an e-card id (32 hex characters)"));
    }
    let page = ops::revocations(state.store.as_ref(), since, q.after.as_deref(), limit).await?;
    Ok(Json(NationalRevocationsJson {
        full: since == 0,
        revoked: page.revoked,
        changes: page
            .changes
            .into_iter()
            .map(|c| NationalRevocationJson {
                seq: c.seq,
                ecard_id: c.ecard_id,
                usable: c.usable,
                deployment: c.deployment,
            })
            .collect(),
        next_since: page.next_since,
        next_after: page.next_after,
        more: page.more,
    }))
}
