//! Every failure as an RFC 9457 problem+json answer with a precise status.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sscard_domain::error::{DomainError, ErrorKind};
use sscard_store::StoreError;
use utoipa::ToSchema;

/// The body of every error answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem, e.g. `urn:sscard:problem:illegal_transition`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The request field at fault, for 400 answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The current state of the thing acted on, for 409 answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_state: Option<String>,
}

/// An error a handler returns.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub problem: Box<Problem>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, detail: impl Into<String>) -> Self {
        let title = status.canonical_reason().unwrap_or("Error").to_string();
        ApiError {
            status,
            problem: Box::new(Problem {
                kind: format!("urn:sscard:problem:{code}"),
                title,
                status: status.as_u16(),
                detail: detail.into(),
                field: None,
                current_state: None,
            }),
        }
    }
    pub fn bad_request(code: &str, field: &str, detail: impl Into<String>) -> Self {
        let mut e = ApiError::new(StatusCode::BAD_REQUEST, code, detail);
        e.problem.field = Some(field.to_string());
        e
    }
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", detail)
    }
    pub fn not_found(detail: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", detail)
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        let status = match e.kind {
            ErrorKind::Invalid => StatusCode::BAD_REQUEST,
            ErrorKind::Conflict => StatusCode::CONFLICT,
            ErrorKind::Refused => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        };
        let mut api = ApiError::new(status, e.code, e.message);
        api.problem.field = e.field.map(str::to_string);
        api.problem.current_state = e.current_state;
        api
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Domain(d) => d.into(),
            StoreError::NotFound { .. } => ApiError::not_found(e.to_string()),
            StoreError::Duplicate { .. } => ApiError::new(StatusCode::CONFLICT, "duplicate", e.to_string()),
            StoreError::IdempotencyMismatch { .. } => {
                ApiError::new(StatusCode::CONFLICT, "idempotency_key_reused", e.to_string())
            }
            StoreError::Unavailable { code, .. } => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, code, e.to_string()),
            StoreError::Corrupt(_) | StoreError::Backend(_) => {
                tracing::error!(error = %e, "store failure");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "the service could not complete the request; nothing was changed",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.problem).unwrap_or_default();
        let mut resp = (self.status, body).into_response();
        resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        resp
    }
}

/// The result type of handlers.
pub type ApiResult<T> = Result<T, ApiError>;

/// Turns the plain-text rejections of axum's own extractors (a bad query string, a bad
/// path segment, a body over the limit) into problem+json, so every API error has one shape.
pub async fn problem_for_rejections(resp: Response) -> Response {
    let status = resp.status();
    let is_problem = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/problem+json"));
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return resp;
    }
    let (_, body) = resp.into_parts();
    let text =
        axum::body::to_bytes(body, 4096).await.map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
    let code = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "body_too_large",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::NOT_FOUND => "not_found",
        s if s.is_server_error() => "internal",
        _ => "bad_request",
    };
    let detail = if text.trim().is_empty() { status.canonical_reason().unwrap_or("error").to_string() } else { text };
    ApiError::new(status, code, detail).into_response()
}
