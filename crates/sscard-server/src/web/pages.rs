//! Login, logout, the language and type-size switches, and the layout every page shares.

use super::i18n::Tr;
use super::{ELDER_COOKIE, LANG_COOKIE, SESSION_COOKIE, Viewer, back, cookie, set_cookie, urlencode};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use sscard_domain::access::Role;

/// What the shared layout shows.
pub struct Layout {
    pub t: Tr,
    pub elder: bool,
    pub csrf: String,
    pub user: Option<String>,
    pub role_key: &'static str,
    /// The current path, url-encoded, for the switches to come back to.
    pub back: String,
    pub ok: Option<String>,
    pub err: Option<String>,
}

impl Layout {
    /// The layout of a page for `v`; takes the one-time message kept for this browser.
    pub fn new(v: &Viewer) -> Self {
        let (ok, err) = match super::flash::take(&v.csrf) {
            Some(Ok(m)) => (Some(m), None),
            Some(Err(m)) => (None, Some(m)),
            None => (None, None),
        };
        Layout {
            t: v.t,
            elder: v.elder,
            csrf: v.csrf.clone(),
            user: v.actor.as_ref().map(|a| a.name.clone()),
            role_key: v.actor.as_ref().map(|a| role_key(a.role)).unwrap_or("role_admin"),
            // The whole address with its query, so a switch comes back to the same page.
            back: urlencode(&v.path),
            ok,
            err,
        }
    }
}

/// Decodes a percent-encoded query value (and + as space).
pub fn urldecode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"), 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Renders a template into an HTML answer (with the CSRF cookie when new).
pub fn render<T: Template>(v: &Viewer, page: &T) -> Response {
    match page.render() {
        Ok(html) => v.finish(Html(html).into_response()),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "the page could not be shown").into_response()
        }
    }
}

pub async fn home(v: Viewer) -> Response {
    v.finish(Redirect::to(v.home()).into_response())
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    l: Layout,
    /// The demo logins (username, role key) when the server runs `--demo`, and their password.
    demo: Vec<(String, &'static str)>,
    demo_password: String,
}

pub async fn login_form(State(state): State<AppState>, v: Viewer) -> Response {
    if v.actor.is_some() {
        return Redirect::to(v.home()).into_response();
    }
    let demo = state.demo_logins.iter().map(|(user, role)| (user.clone(), role_key(*role))).collect();
    render(&v, &LoginPage { l: Layout::new(&v), demo, demo_password: state.demo_password.to_string() })
}

/// The catalog key naming a role.
pub fn role_key(role: Role) -> &'static str {
    match role {
        Role::Holder => "role_holder",
        Role::Teller => "role_teller",
        Role::Clerk => "role_clerk",
        Role::Payer => "role_payer",
        _ => "role_admin",
    }
}

#[derive(Deserialize)]
pub struct LoginForm {
    csrf: String,
    username: String,
    password: String,
}

pub async fn login(
    State(state): State<AppState>,
    client: crate::client::ClientAddr,
    v: Viewer,
    Form(f): Form<LoginForm>,
) -> Response {
    if let Err(r) = v.check_csrf(&f.csrf) {
        return r;
    }
    let now = state.now_ms();
    let t = v.t;
    if state.limiter.check(&f.username, &client.0, now).is_err() {
        return back("/login", Err(t.s("too_many").to_string()));
    }
    match sscard_app::auth::login(state.store.as_ref(), &f.username, &f.password, now).await {
        Ok(Some(ok)) => {
            state.limiter.succeeded(&f.username, &client.0);
            let home = match ok.actor.role {
                Role::Holder => "/portal",
                Role::Teller => "/desk",
                Role::Payer => "/console/benefits",
                _ => "/console",
            };
            let mut resp = Redirect::to(home).into_response();
            let max_age = (ok.expires_at_ms - now) / 1000;
            resp.headers_mut().append(header::SET_COOKIE, set_cookie(SESSION_COOKIE, &ok.token, true, max_age));
            resp
        }
        Ok(None) => {
            state.limiter.failed(&f.username, &client.0, now);
            back("/login", Err(t.s("login_failed").to_string()))
        }
        Err(e) => back("/login", Err(e.to_string())),
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

pub async fn logout(State(state): State<AppState>, v: Viewer, headers: HeaderMap, Form(f): Form<CsrfForm>) -> Response {
    if let Err(r) = v.check_csrf(&f.csrf) {
        return r;
    }
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        let _ = sscard_app::auth::logout(state.store.as_ref(), token).await;
    }
    let mut resp = Redirect::to("/login").into_response();
    resp.headers_mut().append(header::SET_COOKIE, set_cookie(SESSION_COOKIE, "", true, 0));
    resp
}

#[derive(Deserialize)]
pub struct BackQuery {
    back: Option<String>,
}

/// Only local paths are followed back, never another site.
fn safe_back(q: &BackQuery) -> String {
    match q.back.as_deref() {
        Some(p) if p.starts_with('/') && !p.starts_with("//") => p.to_string(),
        _ => "/".to_string(),
    }
}

pub async fn set_lang(Path(lang): Path<String>, Query(q): Query<BackQuery>) -> Response {
    let value = if lang == "en" { "en" } else { "zh" };
    let mut resp = Redirect::to(&safe_back(&q)).into_response();
    resp.headers_mut().append(header::SET_COOKIE, set_cookie(LANG_COOKIE, value, false, 86_400 * 365));
    resp
}

pub async fn set_elder(Path(on): Path<String>, Query(q): Query<BackQuery>) -> Response {
    let value = if on == "1" { "1" } else { "0" };
    let mut resp = Redirect::to(&safe_back(&q)).into_response();
    resp.headers_mut().append(header::SET_COOKIE, set_cookie(ELDER_COOKIE, value, false, 86_400 * 365));
    resp
}
