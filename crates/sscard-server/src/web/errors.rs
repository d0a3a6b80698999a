//! Error pages: a browser gets an HTML page in its language, never JSON or plain text —
//! for an unknown address, a page that is not for the viewer's role, an expired form, and
//! the plain-text refusals of the extractors (a bad query string or form). The API under
//! `/api/` keeps answering problem+json.

use super::i18n::{Lang, Tr};
use super::pages::{Layout, render};
use super::{ELDER_COOKIE, LANG_COOKIE, Viewer, cookie};
use askama::Template;
use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Which error page: its title and explanation come from the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageError {
    NotFound,
    Forbidden,
    Expired,
    BadRequest,
}

impl PageError {
    fn status(self) -> StatusCode {
        match self {
            PageError::NotFound => StatusCode::NOT_FOUND,
            PageError::Forbidden | PageError::Expired => StatusCode::FORBIDDEN,
            PageError::BadRequest => StatusCode::BAD_REQUEST,
        }
    }
    fn keys(self) -> (&'static str, &'static str) {
        match self {
            PageError::NotFound => ("page_not_found", "page_not_found_detail"),
            PageError::Forbidden => ("page_forbidden", "page_forbidden_detail"),
            PageError::Expired => ("page_expired", "page_expired_detail"),
            PageError::BadRequest => ("page_bad_request", "page_bad_request_detail"),
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    l: Layout,
    title: &'static str,
    detail: &'static str,
    home: &'static str,
}

/// The error page `which` for this viewer, with its status.
pub fn page(v: &Viewer, which: PageError) -> Response {
    let (title, detail) = which.keys();
    let t = v.t;
    let page = ErrorPage {
        l: Layout::new(v),
        title: t.get(title).unwrap_or(title),
        detail: t.get(detail).unwrap_or(detail),
        home: v.home(),
    };
    let mut resp = render(v, &page);
    *resp.status_mut() = which.status();
    resp
}

/// Whether the request comes from a browser reading pages (not an API client).
fn wants_html(uri: &Uri, headers: &HeaderMap) -> bool {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    !uri.path().starts_with("/api/") && accept.contains("text/html")
}

/// The answer for an address no route serves.
pub async fn fallback(v: Viewer, uri: Uri, headers: HeaderMap) -> Response {
    if wants_html(&uri, &headers) {
        page(&v, PageError::NotFound)
    } else {
        crate::error::ApiError::not_found("no such route; the API is described at /api/v1/openapi.json").into_response()
    }
}

/// Middleware of the pages: a plain-text refusal (axum's extractors answer a bad query
/// string or form that way) becomes the error page in the browser's language.
pub async fn html_errors(req: Request, next: Next) -> Response {
    let h = req.headers();
    let lang = Lang::choose(cookie(h, LANG_COOKIE), h.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()));
    let viewer = Viewer {
        actor: None,
        t: Tr { lang },
        elder: cookie(h, ELDER_COOKIE) == Some("1"),
        csrf: cookie(h, super::CSRF_COOKIE).unwrap_or("").to_string(),
        new_csrf: false,
        path: req.uri().path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/".into()),
    };
    let resp = next.run(req).await;
    let plain = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain"));
    if !plain || !resp.status().is_client_error() {
        return resp;
    }
    let which = match resp.status() {
        StatusCode::NOT_FOUND => PageError::NotFound,
        StatusCode::FORBIDDEN => PageError::Forbidden,
        _ => PageError::BadRequest,
    };
    page(&viewer, which)
}
