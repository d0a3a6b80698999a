//! The web pages served by the same binary: login, the holder portal, the bank desk
//! and the clerk console. Pages call the same use cases as the API (`sscard_app`);
//! no rule is repeated here. Forms carry a CSRF token that must match the
//! `sscard_csrf` cookie; the session cookie is HttpOnly, Secure and SameSite=Strict.

pub mod benefit_batches;
pub mod charts;
pub mod console;
pub mod desk;
pub mod errors;
pub mod export;
pub mod flash;
pub mod i18n;
pub mod kiosk;
pub mod national;
pub mod national_pages;
pub mod pages;
pub mod portal;

use crate::state::AppState;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use i18n::{Lang, Tr};
use sscard_domain::access::{Actor, Role};

pub const SESSION_COOKIE: &str = "sscard_session";
pub const CSRF_COOKIE: &str = "sscard_csrf";
pub const LANG_COOKIE: &str = "sscard_lang";
pub const ELDER_COOKIE: &str = "sscard_elder";

const HTMX: &str = include_str!("../../static/htmx-2.0.11.min.js");
const STYLE: &str = include_str!("../../static/style.css");
const SCRIPT: &str = include_str!("../../static/app.js");
const ICON: &str = include_str!("../../static/icon.svg");

/// All page routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(pages::home))
        .route("/login", get(pages::login_form).post(pages::login))
        .route("/logout", post(pages::logout))
        .route("/prefs/lang/{lang}", get(pages::set_lang))
        .route("/prefs/elder/{on}", get(pages::set_elder))
        .route("/portal", get(portal::page))
        .route("/portal/apply", post(portal::apply))
        .route("/portal/cards/{card_no}/{action}", post(portal::card_action))
        .route("/portal/replace", post(portal::replace))
        .route("/portal/qr", get(portal::qr))
        .route("/portal/export", get(export::download))
        .route("/portal/authorizations/channel", post(portal::sign_in_channel))
        .route("/portal/benefits/certify", post(portal::certify))
        .route("/portal/authorizations/family", post(portal::grant_family))
        .route("/portal/authorizations/{id}/revoke", post(portal::revoke_authorization))
        .route("/desk", get(desk::page))
        .route("/desk/register", post(desk::register))
        .route("/desk/apply", post(desk::apply))
        .route("/desk/applications/{id}/fee", post(desk::collect_fee))
        .route("/desk/applications/{id}/{step}", post(desk::step))
        .route("/desk/cards/{card_no}/{action}", post(desk::card_action))
        .route("/desk/pin/{card_no}", get(kiosk::desk_page).post(kiosk::desk_start))
        .route("/desk/pin/{card_no}/state", get(kiosk::desk_state))
        .route("/kiosk/pin", get(kiosk::kiosk_page).post(kiosk::kiosk_submit))
        .route("/desk/national", get(national_pages::desk_page).post(national_pages::desk_lookup))
        .route("/desk/national/done", post(national_pages::desk_done))
        .route("/desk/national/apply", post(national_pages::desk_apply))
        .route("/desk/national/cards/{action}", post(national_pages::desk_act))
        .route("/desk/national/applications/{deployment}/{id}", get(national_pages::desk_progress))
        .route("/portal/national", get(national_pages::portal_page))
        .route("/portal/national/apply", post(national_pages::portal_apply))
        .route("/portal/national/cards/{action}", post(national_pages::portal_act))
        .route("/portal/national/applications/{deployment}/{id}", get(national_pages::portal_progress))
        .route("/console/national/stop", post(national_pages::console_stop))
        .route("/console", get(console::page))
        .route("/console/applications/{id}/fee-waiver", post(console::waive_fee))
        .route("/console/applications/{id}/{step}", post(console::step))
        .route("/console/jobs/{name}", post(console::run_job))
        .route("/console/stop", post(console::stop_card))
        .route("/console/card", get(console::card_audit))
        // The upload has its own body limit: the server's general one (64 KiB) would refuse a
        // file far below MAX_BATCH_ROWS rows.
        .route(
            "/console/batch",
            post(console::batch_upload).layer(axum::extract::DefaultBodyLimit::max(console::MAX_BATCH_BYTES)),
        )
        .route("/console/batch/{id}", get(console::batch_progress))
        .route("/console/benefits", get(benefit_batches::list))
        .route("/console/benefits/{batch_id}", get(benefit_batches::batch))
        .route("/static/htmx.min.js", get(|| async { asset(HTMX, "text/javascript; charset=utf-8") }))
        .route("/static/style.css", get(|| async { asset(STYLE, "text/css; charset=utf-8") }))
        .route("/static/app.js", get(|| async { asset(SCRIPT, "text/javascript; charset=utf-8") }))
        .route("/favicon.ico", get(|| async { asset(ICON, "image/svg+xml") }))
        .layer(axum::middleware::from_fn(errors::html_errors))
        .layer(axum::middleware::from_fn(flash::keep))
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut resp = body.into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=86400"));
    resp
}

/// Reads one cookie from the request headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|kv| {
        let (k, v) = kv.trim().split_once('=')?;
        (k == name).then_some(v)
    })
}

/// A Set-Cookie header value with the project's defaults.
pub fn set_cookie(name: &str, value: &str, http_only: bool, max_age_s: i64) -> HeaderValue {
    let http_only = if http_only { "; HttpOnly" } else { "" };
    let value = format!("{name}={value}; Path=/; Max-Age={max_age_s}; SameSite=Strict; Secure{http_only}");
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Who is looking, in which language and type size, with the CSRF token for forms.
#[derive(Clone)]
pub struct Viewer {
    pub actor: Option<Actor>,
    pub t: Tr,
    pub elder: bool,
    /// The CSRF token for this browser (set as a cookie when new).
    pub csrf: String,
    pub new_csrf: bool,
    /// The path the page was requested at (for the language and type-size switches).
    pub path: String,
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let h = &parts.headers;
        let lang = Lang::choose(cookie(h, LANG_COOKIE), h.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()));
        let elder = cookie(h, ELDER_COOKIE) == Some("1");
        let (csrf, new_csrf) = match cookie(h, CSRF_COOKIE).filter(|c| c.len() == 43) {
            Some(c) => (c.to_string(), false),
            None => (sscard_gm::rand::random_token(), true),
        };
        let actor = match cookie(h, SESSION_COOKIE) {
            Some(token) => {
                sscard_app::auth::authenticate(state.store.as_ref(), token, state.now_ms()).await.ok().flatten()
            }
            None => None,
        };
        let path = parts.uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/".into());
        Ok(Viewer { actor, t: Tr { lang }, elder, csrf, new_csrf, path })
    }
}

impl Viewer {
    /// The actor, or a redirect to the login page.
    // The error is the page the handler answers with, so it is returned whole.
    #[allow(clippy::result_large_err)]
    pub fn require(&self, roles: &[Role]) -> Result<Actor, Response> {
        match &self.actor {
            Some(a) if roles.contains(&a.role) => Ok(a.clone()),
            Some(_) => Err(errors::page(self, errors::PageError::Forbidden)),
            None => Err(Redirect::to("/login").into_response()),
        }
    }
    /// Checks a submitted form's CSRF token against the cookie.
    #[allow(clippy::result_large_err)]
    pub fn check_csrf(&self, submitted: &str) -> Result<(), Response> {
        if !self.new_csrf && sscard_gm_eq(submitted, &self.csrf) {
            Ok(())
        } else {
            Err(errors::page(self, errors::PageError::Expired))
        }
    }
    /// A form post: the CSRF token must match and the actor must have one of `roles`.
    #[allow(clippy::result_large_err)]
    pub fn post_as(&self, submitted_csrf: &str, roles: &[Role]) -> Result<Actor, Response> {
        self.check_csrf(submitted_csrf)?;
        self.require(roles)
    }
    /// Adds the CSRF cookie to a response when this browser had none.
    pub fn finish(&self, mut resp: Response) -> Response {
        if self.new_csrf {
            resp.headers_mut().append(header::SET_COOKIE, set_cookie(CSRF_COOKIE, &self.csrf, true, 86_400 * 30));
        }
        resp
    }
    pub fn home(&self) -> &'static str {
        match self.actor.as_ref().map(|a| a.role) {
            Some(Role::Holder) => "/portal",
            Some(Role::Teller) => "/desk",
            Some(Role::Clerk | Role::Admin) => "/console",
            Some(Role::Payer) => "/console/benefits",
            _ => "/login",
        }
    }
}

/// Constant-time string comparison for tokens.
fn sscard_gm_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Redirects back to `to`; the message is kept server-side for the next page (see [`flash`]).
pub fn back(to: &str, result: Result<String, String>) -> Response {
    let mut resp = Redirect::to(to).into_response();
    resp.extensions_mut().insert(flash::Flash(result));
    resp
}

/// Percent-encodes a query value.
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A refusal as the page shows it, from the catalog by the rule's stable code; a rule
/// without a catalog message shows its own (English) message on English pages and a
/// general message on Chinese ones.
pub fn err_text(t: &Tr, e: &sscard_store::StoreError) -> String {
    use sscard_store::StoreError;
    let key = match e {
        StoreError::Domain(d) => match t.get(&format!("err_{}", d.code)) {
            Some(text) => return text.to_string(),
            None if t.is_en() => return d.message.clone(),
            None => "err_other",
        },
        StoreError::NotFound { .. } => "err_not_found",
        StoreError::Duplicate { .. } => "err_duplicate",
        StoreError::IdempotencyMismatch { .. } => "err_idempotency_key_reused",
        StoreError::Unavailable { code, .. } => match t.get(&format!("err_{code}")) {
            Some(text) => return text.to_string(),
            None => "err_internal",
        },
        StoreError::Corrupt(_) | StoreError::Backend(_) => "err_internal",
    };
    t.s(key).to_string()
}

/// Why a document number was refused, in the page's language.
pub fn doc_err_text(t: &Tr, e: &sscard_domain::document::DocumentError) -> String {
    use sscard_domain::document::DocumentError as D;
    match e {
        D::BadCheckChar { expected, got } => {
            t.f("err_doc_check_char", &[("expected", expected.to_string()), ("got", got.to_string())])
        }
        D::WrongLength { expected, got } => {
            t.f("err_doc_length", &[("expected", (*expected).to_string()), ("got", got.to_string())])
        }
        D::BadChar { position, .. } => t.f("err_doc_char", &[("position", position.to_string())]),
        D::Empty => t.s("err_doc_empty").to_string(),
        D::BadBirthDate { .. } | D::BirthDateInFuture { .. } => t.s("err_doc_birth").to_string(),
        D::WrongRegion { .. } | D::UnknownNationality { .. } => t.s("err_doc_region").to_string(),
        D::UnknownDocType { .. } => t.s("err_bad_doc_type").to_string(),
        D::UnknownSex { .. } => t.s("err_sex_required").to_string(),
        D::BadShape { .. } => t.s("err_bad_document").to_string(),
    }
}
