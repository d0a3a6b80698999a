//! Limits on the request line and headers, answered as problem+json (414, 431). The HTTP
//! library has its own, higher limits and answers those with an empty body; ours are lower,
//! so every request a client can reasonably send gets a precise problem.

use crate::error::ApiError;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Longest request target (path and query), in bytes.
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// Most header fields in one request.
pub const MAX_HEADERS: usize = 64;
/// Largest total size of the header names and values, in bytes.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;

/// The problem for a request over a limit, if it is.
pub fn over_limit(uri_len: usize, headers: &axum::http::HeaderMap) -> Option<ApiError> {
    if uri_len > MAX_URI_BYTES {
        return Some(ApiError::new(
            StatusCode::URI_TOO_LONG,
            "uri_too_long",
            format!("the request target is {uri_len} bytes; at most {MAX_URI_BYTES} are accepted"),
        ));
    }
    let bytes: usize = headers.iter().map(|(k, v)| k.as_str().len() + v.len()).sum();
    if headers.len() > MAX_HEADERS || bytes > MAX_HEADER_BYTES {
        return Some(ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers_too_large",
            format!(
                "{} header fields of {bytes} bytes; at most {MAX_HEADERS} fields and {MAX_HEADER_BYTES} bytes are accepted",
                headers.len()
            ),
        ));
    }
    None
}

/// The middleware form of [`over_limit`].
pub async fn request_limits(req: Request, next: Next) -> Response {
    let uri_len = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    match over_limit(uri_len, req.headers()) {
        Some(problem) => problem.into_response(),
        None => next.run(req).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderMap, HeaderName, HeaderValue};

    #[test]
    fn long_targets_and_big_headers_are_refused_with_their_status() {
        let none = HeaderMap::new();
        assert!(over_limit(MAX_URI_BYTES, &none).is_none());
        assert_eq!(over_limit(MAX_URI_BYTES + 1, &none).map(|e| e.status), Some(StatusCode::URI_TOO_LONG));
        let mut many = HeaderMap::new();
        for i in 0..=MAX_HEADERS {
            let name = HeaderName::try_from(format!("x-h{i}")).expect("name");
            many.insert(name, HeaderValue::from_static("v"));
        }
        assert_eq!(over_limit(10, &many).map(|e| e.status), Some(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE));
        let mut big = HeaderMap::new();
        big.insert("x-big", HeaderValue::try_from("a".repeat(MAX_HEADER_BYTES)).expect("value"));
        assert_eq!(over_limit(10, &big).map(|e| e.status), Some(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE));
    }
}
