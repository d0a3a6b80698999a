//! Security headers on every answer: scripts and styles from this origin
//! only, no framing, no referrer, no content sniffing, and nothing cached unless the answer
//! said otherwise (the static assets do; everything else may carry personal data).

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;

/// The policy: everything from this origin; images also as data: URLs (QR codes); no
/// plugins, no framing, forms post only here.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Adds the security headers to `headers`, keeping a Cache-Control the handler chose.
pub fn add_security_headers(headers: &mut HeaderMap) {
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}

/// The middleware form of [`add_security_headers`].
pub async fn security_headers(mut response: Response) -> Response {
    add_security_headers(response.headers_mut());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_not_cached_unless_the_handler_says_so() {
        let mut plain = HeaderMap::new();
        add_security_headers(&mut plain);
        assert_eq!(plain[header::CACHE_CONTROL], "no-store");
        assert_eq!(plain[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(plain[header::REFERRER_POLICY], "no-referrer");
        assert!(plain[header::CONTENT_SECURITY_POLICY].to_str().is_ok_and(|v| v.contains("frame-ancestors 'none'")));

        let mut asset = HeaderMap::new();
        asset.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=86400"));
        add_security_headers(&mut asset);
        assert_eq!(asset[header::CACHE_CONTROL], "public, max-age=86400");
    }
}
