//! The electronic card over HTTP: issuer keys, QR codes (token, SVG, PNG), online
//! verification, the revocation feed, QR login for staff, and the holder's channel and
//! family authorizations. Rules come from `sscard_domain::ecard`; data from `ops::ecard`.

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::extract::JsonBody;
use crate::keys::KeyRing;
use crate::routes::auth::LoginResponse;
use crate::state::AppState;
use crate::terminal_auth::{CachedCaller, Caller};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use sscard_app::ecard::{self as ops, Grant, MAX_REVOCATIONS};
use sscard_app::onecard::Presentation;
use sscard_domain::access::Actor;
use sscard_domain::ecard::{Attributes, Authorization};
use sscard_domain::nation::forward::{Caller as RemoteCaller, CallerKind};
use sscard_domain::terminal::Terminal;
use sscard_gm::offline::{DEFAULT_CLOCK_SKEW_S, PublishedKey, Rejection, VerifiedToken};
use sscard_gm::token::{DEFAULT_TTL_S, STATUS_ACTIVE, TokenClaims, TokenFlags, decode_token, sign_token};
use utoipa::{IntoParams, ToSchema};

/// Pixels per QR module in the PNG rendering.
const PNG_SCALE: usize = 6;

/// One public issuer key.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuerKeyJson {
    pub key_id: u32,
    /// SubjectPublicKeyInfo PEM of the SM2 public key.
    pub public_key_pem: String,
    /// Unix seconds from which the key signs tokens.
    pub not_before: i64,
    /// Unix seconds after which the key no longer signs nor verifies.
    pub not_after: i64,
}

impl From<&PublishedKey> for IssuerKeyJson {
    fn from(k: &PublishedKey) -> Self {
        IssuerKeyJson {
            key_id: k.key_id,
            public_key_pem: k.public_key_pem.clone(),
            not_before: k.not_before,
            not_after: k.not_after,
        }
    }
}

/// The public QR issuer keys, for offline verifiers. No authentication.
#[utoipa::path(get, path = "/api/v1/ecard/keys", tag = "ecard", security(),
    responses((status = 200, body = Vec<IssuerKeyJson>), (status = 503, body = crate::error::Problem, description = "the QR issuer keys are not available")))]
pub async fn keys(State(state): State<AppState>) -> ApiResult<Json<Vec<IssuerKeyJson>>> {
    let ring = state.keys.ensure(state.store.as_ref(), state.now_ms()).await.map_err(key_error)?;
    Ok(Json(ring.published.iter().map(IssuerKeyJson::from).collect()))
}

fn key_error(e: crate::keys::KeyError) -> ApiError {
    match e {
        crate::keys::KeyError::Store(s) => s.into(),
        other => {
            tracing::error!(error = %other, "issuer keys unavailable");
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "keys_unavailable", "the QR issuer keys are not available")
        }
    }
}

/// The caller's (or a person's) e-card.
#[derive(Debug, Serialize, ToSchema)]
pub struct EcardJson {
    /// 32 hex characters; never the SSN.
    pub id: String,
    pub person_id: String,
    pub card_no: String,
    /// active | stopped
    pub status: String,
    pub usable: bool,
    pub region: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PersonQuery {
    /// Whose e-card (staff, or a relative); default: the caller's own.
    pub person_id: Option<String>,
}

fn whose(actor: &Actor, person_id: Option<String>) -> ApiResult<String> {
    person_id.or_else(|| actor.person_id.clone()).ok_or_else(|| {
        ApiError::bad_request("person_required", "person_id", "this account is not linked to a person: give person_id")
    })
}

/// An e-card: the holder's own, or (staff) anyone's by `person_id`.
#[utoipa::path(get, path = "/api/v1/ecard", tag = "ecard", params(PersonQuery),
    responses((status = 200, body = EcardJson), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem), (status = 400, body = crate::error::Problem, description = "a malformed or invalid field, named in `field`"), (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one")))]
pub async fn get(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Query(q): Query<PersonQuery>,
) -> ApiResult<Json<EcardJson>> {
    let person_id = whose(&actor, q.person_id)?;
    let ctx = state.ctx(actor, None);
    let e = ops::of_person(state.store.as_ref(), &ctx, &person_id).await?;
    Ok(Json(EcardJson {
        usable: e.usable(),
        id: e.id,
        person_id: e.person_id,
        card_no: e.card_no.as_str().to_string(),
        status: e.status.as_str().to_string(),
        region: e.region.to_string(),
    }))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QrRequest {
    /// A relative's person id (they must have authorized the caller); default: the caller.
    pub person_id: Option<String>,
}

/// A fresh QR code.
#[derive(Debug, Serialize, ToSchema)]
pub struct QrResponse {
    /// Token v1 text form (`SSC1.` + base64url of 109 bytes).
    pub token: String,
    /// Unix seconds after which the token is expired.
    pub expires_at: i64,
    pub ttl_s: u16,
    /// The QR code as an SVG document.
    pub svg: String,
    /// The QR code as a PNG image (no authentication needed for the image).
    pub png_url: String,
}

/// Produce a QR code of the caller's e-card, or of a relative who authorized the caller.
/// Refused with 409 (and the card's state as reason) when the card is not active.
#[utoipa::path(post, path = "/api/v1/ecard/qr", tag = "ecard", request_body = Option<QrRequest>,
    responses((status = 200, body = QrResponse), (status = 403, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem), (status = 400, body = crate::error::Problem, description = "a malformed or invalid field, named in `field`"), (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one"), (status = 404, body = crate::error::Problem, description = "no such thing"), (status = 413, body = crate::error::Problem, description = "the body is over the limit"), (status = 503, body = crate::error::Problem, description = "the QR issuer keys are not available")))]
pub async fn qr(State(state): State<AppState>, Auth(actor): Auth, raw: Bytes) -> ApiResult<Json<QrResponse>> {
    let req: QrRequest = if raw.iter().all(u8::is_ascii_whitespace) {
        QrRequest::default()
    } else {
        JsonBody::<QrRequest>::parse(&raw)?
    };
    let person_id = whose(&actor, req.person_id)?;
    let ctx = state.ctx(actor, None);
    let subject = ops::qr_subject(state.store.as_ref(), &ctx, &person_id).await?;
    let now_s = ctx.now_ms.div_euclid(1000);
    let mut ring = state.keys.ring();
    if ring.signer_at(now_s).is_none() {
        ring = state.keys.ensure(state.store.as_ref(), ctx.now_ms).await.map_err(key_error)?;
    }
    let (key_id, key) = ring.signer_at(now_s).ok_or_else(|| key_error(crate::keys::KeyError::NoMasterKey))?;
    let ecard_id = sscard_gm::offline::hex_ids::decode(&subject.ecard.id)
        .ok_or_else(|| ApiError::from(sscard_store::StoreError::corrupt("e-card id is not 32 hex characters")))?;
    let (retired, minor, temporary) =
        sscard_domain::ecard::qr_flags(&subject.person, &subject.card, ctx.today(), &ctx.policy);
    let claims = TokenClaims {
        key_id,
        ecard_id,
        status: STATUS_ACTIVE,
        flags: TokenFlags { retired, minor, temporary },
        region: subject.person.region.code(),
        issued_at: now_s,
        ttl_s: DEFAULT_TTL_S,
        nonce: u64::from_be_bytes(sscard_gm::rand::random_bytes()),
    };
    let token = sign_token(&claims, key);
    let svg = qr_code(&token)?.render::<qrcode::render::svg::Color>().min_dimensions(240, 240).quiet_zone(true).build();
    Ok(Json(QrResponse {
        png_url: format!("/api/v1/ecard/qr.png?token={token}"),
        expires_at: claims.expires_at(),
        ttl_s: claims.ttl_s,
        svg,
        token,
    }))
}

fn qr_code(text: &str) -> ApiResult<qrcode::QrCode> {
    qrcode::QrCode::new(text.as_bytes())
        .map_err(|e| ApiError::bad_request("bad_token", "token", format!("cannot encode as a QR code: {e}")))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TokenQuery {
    /// The token text (`SSC1.…`).
    pub token: String,
}

/// The QR code of a token as a PNG image. The token must be well-formed (not checked further:
/// the image shows only what the token already says).
#[utoipa::path(get, path = "/api/v1/ecard/qr.png", tag = "ecard", security(), params(TokenQuery),
    responses((status = 200, content_type = "image/png", body = Vec<u8>), (status = 400, body = crate::error::Problem)))]
pub async fn qr_png(Query(q): Query<TokenQuery>) -> ApiResult<Response> {
    decode_token(&q.token).map_err(|e| ApiError::bad_request("bad_token", "token", e.to_string()))?;
    let code = qr_code(q.token.trim())?;
    let dark: Vec<bool> = code.to_colors().iter().map(|c| *c == qrcode::Color::Dark).collect();
    let png = crate::png::encode_modules(&dark, code.width(), PNG_SCALE, 4);
    let mut resp = (StatusCode::OK, png).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// The token text read from the QR code.
    pub token: String,
}

/// What a verification discloses: by the caller's role (staff sessions), or the terminal's scope.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Disclosed {
    ByRole(Attributes),
    Scoped(serde_json::Map<String, serde_json::Value>),
}

/// The verdict on a QR token.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerifyResponse {
    pub valid: bool,
    /// Why not: malformed | unknown_key | key_not_valid | bad_signature | expired | not_yet_valid |
    /// revoked | not_active | card_suspended | card_lost | card_stopped | card_cancelled |
    /// card_replaced | card_dormant | card_not_active
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// What the caller's role may know of the holder (only when valid): ssn_masked (staff),
    /// name (masked for terminals), region, retired, minor, temporary.
    #[schema(value_type = Option<Object>)]
    pub attributes: Option<Disclosed>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ecard_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// The deployment of the nation that issued the e-card, when it is not this one (its QR
    /// code checked against the national trust list, its status asked through the hub).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployment: Option<String>,
}

impl VerifyResponse {
    fn refused(reason: &str) -> Self {
        VerifyResponse {
            valid: false,
            reason: Some(reason.to_string()),
            attributes: None,
            ecard_id: None,
            expires_at: None,
            deployment: None,
        }
    }
}

/// The loaded keys' verdict on a token at `at_s` (signature, expiry with the clock-skew
/// allowance, and the key still in service then: a key verifies only until its not_after, so
/// rotated-out keys stop at once when retired); an unknown key id makes the server look for
/// new keys (at most once a second). A failed reload is handed back with the verdict of the
/// keys already loaded. Every QR check (staff, terminals, one-card uses) goes through here.
pub(crate) async fn verify_reloading(
    state: &AppState,
    token: &str,
    at_s: i64,
) -> (Result<VerifiedToken, Rejection>, Option<crate::keys::KeyError>) {
    let ring = state.keys.ring();
    let verdict = in_service(&ring, ring.verifier.verify(token, at_s), at_s);
    if !matches!(verdict, Err(Rejection::UnknownKey { .. })) {
        return (verdict, None);
    }
    match state.keys.reload_throttled(state.store.as_ref(), state.now_ms(), 1000).await {
        Ok(ring) => (in_service(&ring, ring.verifier.verify(token, at_s), at_s), None),
        Err(e) => (verdict, Some(e)),
    }
}

/// A verified token is refused when its key was out of service at `at_s`.
fn in_service(
    ring: &KeyRing,
    verdict: Result<VerifiedToken, Rejection>,
    at_s: i64,
) -> Result<VerifiedToken, Rejection> {
    let ok = verdict?;
    match ring.key(ok.claims.key_id) {
        Some(k) if at_s <= k.not_after.saturating_add(DEFAULT_CLOCK_SKEW_S) => Ok(ok),
        _ => Err(Rejection::KeyNotValid { key_id: ok.claims.key_id, issued_at: ok.claims.issued_at }),
    }
}

/// A token refused by the keys as a presentation: past the signature check under a key valid
/// at issue time (expired, not yet valid, key retired, revoked, not active) the claims are the
/// issuer's, so the refusal names its e-card and the holder sees it among their uses.
pub(crate) fn refused_qr(token: &str, rej: &Rejection) -> Presentation {
    let signed = matches!(
        rej,
        Rejection::NotYetValid { .. }
            | Rejection::Expired { .. }
            | Rejection::KeyNotValid { .. }
            | Rejection::Revoked
            | Rejection::NotActive { .. }
    );
    let ecard_id = signed
        .then(|| decode_token(token).ok())
        .flatten()
        .map(|t| sscard_gm::offline::hex_ids::encode(&t.claims().ecard_id));
    Presentation::RefusedQr { reason: rej.code(), ecard_id }
}

/// Signature, key validity, expiry (with the clock-skew allowance) against the loaded keys;
/// a failed key reload is an error.
async fn check_token(state: &AppState, token: &str, now_ms: i64) -> ApiResult<Result<VerifiedToken, Rejection>> {
    let (verdict, reload_failed) = verify_reloading(state, token, now_ms.div_euclid(1000)).await;
    match reload_failed {
        Some(e) => Err(key_error(e)),
        None => Ok(verdict),
    }
}

/// Verify a QR token online (staff and terminals): signature, expiry with 30 s clock skew,
/// and the live state of the e-card and its card. Always 200 with `valid` and a `reason`.
/// A terminal sending its own secret gets only the attributes of its scope, and the
/// verification is recorded as a use of the e-card (the holder sees it). In a nation, a QR
/// code of another deployment is checked against the national trust list and its status
/// asked of that deployment through the hub (`deployment` names it; 503 when neither the hub
/// nor that deployment can be asked).
#[utoipa::path(post, path = "/api/v1/ecard/verify", tag = "ecard", request_body = TokenRequest,
    responses((status = 200, body = VerifyResponse), (status = 400, body = crate::error::Problem),
        (status = 401, body = crate::error::Problem), (status = 403, body = crate::error::Problem), (status = 413, body = crate::error::Problem, description = "the body is over the limit"), (status = 415, body = crate::error::Problem, description = "the body is not application/json"), (status = 503, body = crate::error::Problem, description = "the QR issuer keys are not available, or (another deployment's QR code) hub_unavailable or deployment_unavailable")))]
pub async fn verify(
    State(state): State<AppState>,
    CachedCaller(caller): CachedCaller,
    body: JsonBody<TokenRequest>,
) -> ApiResult<Json<VerifyResponse>> {
    let actor = match caller {
        Caller::User(actor) => actor,
        Caller::Terminal(t) => return verify_at_terminal(&state, &t, &body.value.token).await,
    };
    sscard_domain::ecard::may_verify(&actor)?;
    let ctx = state.ctx(actor, None);
    let checked = match check_token(&state, &body.value.token, ctx.now_ms).await? {
        Ok(v) => v,
        Err(Rejection::UnknownKey { key_id }) => {
            let caller = RemoteCaller { username: ctx.actor.name.clone(), kind: CallerKind::Staff };
            let foreign = verify_foreign(&state, &body.value.token, key_id, caller, None).await?;
            return Ok(Json(foreign.unwrap_or_else(|| VerifyResponse::refused("unknown_key"))));
        }
        Err(rej) => return Ok(Json(VerifyResponse::refused(rej.code()))),
    };
    let ecard_id = sscard_gm::offline::hex_ids::encode(&checked.claims.ecard_id);
    let live = ops::verify_live(state.store.as_ref(), &state.live, &ctx, &ecard_id).await?;
    Ok(Json(match live {
        Ok(attributes) => VerifyResponse {
            valid: true,
            reason: None,
            attributes: Some(Disclosed::ByRole(attributes)),
            ecard_id: Some(ecard_id),
            expires_at: Some(checked.expires_at),
            deployment: None,
        },
        Err(code) => VerifyResponse { ecard_id: Some(ecard_id), ..VerifyResponse::refused(code) },
    }))
}

/// The terminal path of [`verify`]: the token's verdict becomes a presentation (refused ones
/// keep the e-card when the signature held), the use case answers and records the use.
async fn verify_at_terminal(state: &AppState, t: &Terminal, token: &str) -> ApiResult<Json<VerifyResponse>> {
    let ctx = state.ctx(sscard_app::onecard::terminal_actor(t), None);
    let (presentation, expires_at) = match check_token(state, token, ctx.now_ms).await? {
        Err(Rejection::UnknownKey { key_id }) if state.national.read().is_ok_and(|l| l.is_some()) => {
            sscard_domain::terminal::check_enabled(t)?;
            if let Some(answer) = verify_foreign(state, token, key_id, terminal_caller(t), Some(&t.scope)).await? {
                return Ok(Json(answer));
            }
            (refused_qr(token, &Rejection::UnknownKey { key_id }), None)
        }
        Ok(v) => {
            let ecard_id = sscard_gm::offline::hex_ids::encode(&v.claims.ecard_id);
            (Presentation::Ecard { ecard_id }, Some(v.expires_at))
        }
        Err(rej) => (refused_qr(token, &rej), None),
    };
    let verdict =
        sscard_app::onecard::verify::verify_qr(state.store.as_ref(), &state.live, &ctx, t, &presentation).await?;
    let ecard_id = match &presentation {
        Presentation::Ecard { ecard_id } => Some(ecard_id.clone()),
        Presentation::RefusedQr { ecard_id, .. } => ecard_id.clone(),
        Presentation::CardNo(_) => None,
        Presentation::Visitor(v) => Some(v.ecard_id.clone()),
    };
    Ok(Json(match verdict {
        Ok(scoped) => VerifyResponse {
            valid: true,
            reason: None,
            attributes: Some(Disclosed::Scoped(scoped)),
            ecard_id,
            expires_at,
            deployment: None,
        },
        Err(code) => VerifyResponse { ecard_id, ..VerifyResponse::refused(code) },
    }))
}

/// The caller a terminal here is to the hub and the issuing deployment (terminal ids are short
/// and plain; the hub takes 1-64 characters without '/').
pub(crate) fn terminal_caller(t: &Terminal) -> RemoteCaller {
    let username: String = format!("terminal:{}", t.id).chars().filter(|c| *c != '/').take(64).collect();
    RemoteCaller { username, kind: CallerKind::Staff }
}

/// What the nation says of a QR code signed by a key this deployment does not have.
pub(crate) struct Foreign {
    /// The e-card, once the signature held.
    pub ecard_id: Option<String>,
    /// The deployment that issued it (its answer's, else the key's owner in the trust list).
    pub deployment: Option<String>,
    /// What that deployment shows a terminal (masked name, region, flags) and the code's
    /// expiry (unix seconds); or why the code is refused.
    pub verdict: Result<(Attributes, i64), &'static str>,
}

/// A QR code's signature against the national trust list at `at_s`: the token and its key's
/// deployment, or the refusal with the key's deployment when the list knows it (a key the list
/// gives to this deployment itself is `unknown_key`). 503 `hub_unavailable` when the hub does
/// not give the list and none held knows the key.
pub(crate) async fn foreign_signature(
    state: &AppState,
    link: &crate::routes::national::NationalLink,
    token: &str,
    key_id: u32,
    at_s: i64,
) -> ApiResult<Result<(VerifiedToken, String), (&'static str, Option<String>)>> {
    let list = state.trust.for_key(&link.hub_url, key_id, state.now_ms()).await.map_err(|e| {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, crate::trust::HUB_UNAVAILABLE, format!("the trust list: {e}"))
    })?;
    let owner = list.owner(key_id).map(str::to_string);
    Ok(match (list.check(token, at_s), owner) {
        (Ok(_), Some(owner)) if owner == link.deployment.as_str() => Err(("unknown_key", None)),
        (Ok(v), Some(owner)) => Ok((v, owner)),
        (Ok(_), None) => Err(("unknown_key", None)),
        (Err(rej), owner) => Err((rej.code(), owner)),
    })
}

/// A QR code whose key this deployment does not have, in a nation (else `None`): checked
/// against the national trust list ([`foreign_signature`]), its live status asked of its own
/// deployment through the hub, which answers the precise refusal or what it shows a terminal.
/// The hub or that deployment not answering is a 503 (`hub_unavailable`,
/// `deployment_unavailable`). Online verification and the one-card uses that serve visitors
/// (`routes::onecard`) judge other deployments' codes here.
pub(crate) async fn check_foreign(
    state: &AppState,
    token: &str,
    key_id: u32,
    caller: RemoteCaller,
) -> ApiResult<Option<Foreign>> {
    let link = state.national.read().unwrap_or_else(|p| p.into_inner()).clone();
    let Some(link) = link else { return Ok(None) };
    let (checked, owner) = match foreign_signature(state, &link, token, key_id, state.now_ms().div_euclid(1000)).await?
    {
        Ok(ok) => ok,
        Err((code, deployment)) => return Ok(Some(Foreign { ecard_id: None, deployment, verdict: Err(code) })),
    };
    let ecard_id = sscard_gm::offline::hex_ids::encode(&checked.claims.ecard_id);
    let status = crate::trust::status_at_owner(&link.hub_url, &link.secret, caller, key_id, &ecard_id).await?;
    let status = match status {
        Ok(s) => s,
        Err(code) => {
            return Ok(Some(Foreign { ecard_id: Some(ecard_id), deployment: Some(owner), verdict: Err(code) }));
        }
    };
    let deployment = status.deployment.clone().or(Some(owner));
    if let Err(reason) = sscard_domain::nation::trust::remote_status(status.usable, status.reason.as_deref()) {
        return Ok(Some(Foreign { ecard_id: Some(ecard_id), deployment, verdict: Err(reason.as_str()) }));
    }
    let c = &checked.claims;
    let attributes = status.attributes.unwrap_or_else(|| Attributes {
        region: c.region.to_string(),
        retired: c.flags.retired,
        minor: c.flags.minor,
        temporary: c.flags.temporary,
        ..Attributes::default()
    });
    Ok(Some(Foreign { ecard_id: Some(ecard_id), deployment, verdict: Ok((attributes, checked.expires_at)) }))
}

/// Online verification of a QR code of another deployment ([`check_foreign`]; `None` when
/// this deployment is in no nation). A terminal here gets only the attributes of its scope.
/// Not recorded as a use here: the e-card and its holder are another deployment's.
async fn verify_foreign(
    state: &AppState,
    token: &str,
    key_id: u32,
    caller: RemoteCaller,
    scope: Option<&sscard_domain::terminal::Scope>,
) -> ApiResult<Option<VerifyResponse>> {
    let Some(f) = check_foreign(state, token, key_id, caller).await? else { return Ok(None) };
    Ok(Some(match f.verdict {
        Ok((attributes, expires_at)) => VerifyResponse {
            valid: true,
            reason: None,
            attributes: Some(match scope {
                Some(scope) => Disclosed::Scoped(sscard_domain::terminal::scoped(scope, &attributes)),
                None => Disclosed::ByRole(attributes),
            }),
            ecard_id: f.ecard_id,
            expires_at: Some(expires_at),
            deployment: f.deployment,
        },
        Err(code) => VerifyResponse { ecard_id: f.ecard_id, deployment: f.deployment, ..VerifyResponse::refused(code) },
    }))
}

/// Back-office staff log in by showing the QR code of their own e-card (实名制扫码登录).
#[utoipa::path(post, path = "/api/v1/auth/qr-login", tag = "auth", security(), request_body = TokenRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = crate::error::Problem), (status = 400, body = crate::error::Problem, description = "a malformed or invalid field, named in `field`"), (status = 413, body = crate::error::Problem, description = "the body is over the limit"), (status = 415, body = crate::error::Problem, description = "the body is not application/json"), (status = 503, body = crate::error::Problem, description = "the QR issuer keys are not available")))]
pub async fn qr_login(State(state): State<AppState>, body: JsonBody<TokenRequest>) -> ApiResult<Json<LoginResponse>> {
    let now = state.now_ms();
    let refuse = |code: &str| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            code,
            format!(
                "QR login refused ({code}): show the QR code of your own active e-card; only staff accounts log in this way"
            ),
        )
    };
    let checked = check_token(&state, &body.value.token, now).await?.map_err(|r| refuse(r.code()))?;
    let ecard_id = sscard_gm::offline::hex_ids::encode(&checked.claims.ecard_id);
    let user = ops::staff_of_ecard(state.store.as_ref(), &ecard_id).await?.map_err(refuse)?;
    // Each QR code logs in once: a photo of it cannot be replayed while it is still valid.
    let until = checked.expires_at.saturating_add(DEFAULT_CLOCK_SKEW_S);
    if !state.used_login_tokens.first_use(checked.claims.ecard_id, checked.claims.nonce, until, now.div_euclid(1000)) {
        return Err(refuse("replayed"));
    }
    let ok = sscard_app::auth::session_for(state.store.as_ref(), user, now).await?;
    Ok(Json(LoginResponse {
        token: ok.token,
        role: ok.actor.role.as_str().to_string(),
        person_id: ok.actor.person_id,
        bank_code: ok.actor.bank_code,
        expires_at_ms: ok.expires_at_ms,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RevocationQuery {
    /// 0 (or absent): the full list; otherwise the changes after this sequence number.
    pub since: Option<i64>,
    /// At most 10,000 (default 10,000).
    pub limit: Option<u32>,
    /// since=0 paging: the last id of the previous page.
    pub after: Option<String>,
}

/// One change of the revocation list.
#[derive(Debug, Serialize, ToSchema)]
pub struct RevocationChangeJson {
    pub seq: i64,
    pub ecard_id: String,
    /// false: add to the revocation list; true: remove from it.
    pub usable: bool,
}

/// The revocation list or its changes.
#[derive(Debug, Serialize, ToSchema)]
pub struct RevocationsResponse {
    /// true for since=0: `revoked` is the whole list (or this page of it).
    pub full: bool,
    /// E-card ids not usable now (since=0).
    pub revoked: Vec<String>,
    /// Changes after `since` in order (since>0).
    pub changes: Vec<RevocationChangeJson>,
    /// Ask next with since=next_since.
    pub next_since: i64,
    /// since=0 with more ids waiting: ask again with after=next_after (and since=0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_after: Option<String>,
    /// More is waiting: ask again at once.
    pub more: bool,
}

/// The e-card revocation list for offline terminals (public). since=0: the full set of
/// e-card ids not usable now and the sequence number it is current to; since>0: the changes.
#[utoipa::path(get, path = "/api/v1/revocations", tag = "ecard", security(), params(RevocationQuery),
    responses((status = 200, body = RevocationsResponse), (status = 400, body = crate::error::Problem)))]
pub async fn revocations(
    State(state): State<AppState>,
    Query(q): Query<RevocationQuery>,
) -> ApiResult<Json<RevocationsResponse>> {
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
    Ok(Json(RevocationsResponse {
        full: since == 0,
        revoked: page.revoked,
        changes: page
            .changes
            .into_iter()
            .map(|c| RevocationChangeJson { seq: c.seq, ecard_id: c.ecard_id, usable: c.usable })
            .collect(),
        next_since: page.next_since,
        next_after: page.next_after,
        more: page.more,
    }))
}

/// A channel sign-in or family authorization.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorizationJson {
    pub id: String,
    /// channel | family
    pub kind: String,
    pub channel: Option<String>,
    pub grantee_person_id: Option<String>,
    /// active | revoked
    pub status: String,
    pub created_at_ms: i64,
    pub revoked_at_ms: Option<i64>,
}

impl From<&Authorization> for AuthorizationJson {
    fn from(a: &Authorization) -> Self {
        AuthorizationJson {
            id: a.id.clone(),
            kind: a.kind.as_str().to_string(),
            channel: a.channel.clone(),
            grantee_person_id: a.grantee_person_id.clone(),
            status: a.status.as_str().to_string(),
            created_at_ms: a.created_at_ms,
            revoked_at_ms: a.revoked_at_ms,
        }
    }
}

/// The caller's channel sign-ins and family authorizations, newest first.
#[utoipa::path(get, path = "/api/v1/ecard/authorizations", tag = "ecard", params(PersonQuery),
    responses((status = 200, body = Vec<AuthorizationJson>), (status = 403, body = crate::error::Problem), (status = 400, body = crate::error::Problem, description = "a malformed or invalid field, named in `field`"), (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one"), (status = 404, body = crate::error::Problem, description = "no such thing")))]
pub async fn authorizations(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Query(q): Query<PersonQuery>,
) -> ApiResult<Json<Vec<AuthorizationJson>>> {
    let person_id = whose(&actor, q.person_id)?;
    let ctx = state.ctx(actor, None);
    let found = ops::authorizations(state.store.as_ref(), &ctx, &person_id).await?;
    Ok(Json(found.iter().map(AuthorizationJson::from).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantRequest {
    /// channel (sign the e-card into an app) | family (let a relative show the QR code)
    pub kind: String,
    /// kind=channel: the app's name.
    pub channel: Option<String>,
    /// kind=family: the relative's person id.
    pub grantee_person_id: Option<String>,
    /// Staff acting for a holder; default: the caller.
    pub person_id: Option<String>,
}

/// Sign the e-card into a channel, or authorize a relative to show the QR code.
#[utoipa::path(post, path = "/api/v1/ecard/authorizations", tag = "ecard", request_body = GrantRequest,
    responses((status = 201, body = AuthorizationJson), (status = 400, body = crate::error::Problem),
        (status = 403, body = crate::error::Problem), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem), (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one"), (status = 404, body = crate::error::Problem, description = "no such thing"), (status = 413, body = crate::error::Problem, description = "the body is over the limit"), (status = 415, body = crate::error::Problem, description = "the body is not application/json")))]
pub async fn grant(
    State(state): State<AppState>,
    Auth(actor): Auth,
    body: JsonBody<GrantRequest>,
) -> ApiResult<(StatusCode, Json<AuthorizationJson>)> {
    let req = body.value;
    let what = match req.kind.as_str() {
        "channel" => Grant::Channel(
            req.channel.ok_or_else(|| ApiError::bad_request("channel_required", "channel", "give the channel name"))?,
        ),
        "family" => Grant::Family {
            grantee_person_id: req.grantee_person_id.ok_or_else(|| {
                ApiError::bad_request("grantee_required", "grantee_person_id", "give the relative's person id")
            })?,
        },
        _ => return Err(ApiError::bad_request("bad_kind", "kind", "kind is channel or family")),
    };
    let person_id = whose(&actor, req.person_id)?;
    let ctx = state.ctx(actor, None);
    let auth = ops::grant(state.store.as_ref(), &ctx, &person_id, what).await?;
    Ok((StatusCode::CREATED, Json(AuthorizationJson::from(&auth))))
}

/// Revoke one of the caller's authorizations (a channel sign-out, or a relative's permission).
#[utoipa::path(post, path = "/api/v1/ecard/authorizations/{id}/revoke", tag = "ecard",
    params(("id" = String, Path), PersonQuery),
    responses((status = 200, body = AuthorizationJson), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem), (status = 400, body = crate::error::Problem, description = "a malformed or invalid field, named in `field`"), (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one")))]
pub async fn revoke(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    Query(q): Query<PersonQuery>,
) -> ApiResult<Json<AuthorizationJson>> {
    let person_id = whose(&actor, q.person_id)?;
    let ctx = state.ctx(actor, None);
    let auth = ops::revoke(state.store.as_ref(), &ctx, &person_id, &id).await?;
    Ok(Json(AuthorizationJson::from(&auth)))
}
