//! Request extractors: a JSON body that keeps its raw bytes (for the idempotency hash)
//! and reports parse failures as problem+json, and the Idempotency-Key header.

use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use serde::de::DeserializeOwned;
use sscard_app::idem::{MAX_KEY_LEN, request_hash};

/// Largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// `application/json`, in any case, with or without parameters (`; charset=utf-8`); not
/// `application/jsonfoo` nor `application/json-patch+json`.
pub fn is_json_media_type(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/json")
}

/// A parsed JSON body together with the bytes it came from.
pub struct JsonBody<T> {
    pub value: T,
    pub raw: Bytes,
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(is_json_media_type);
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "not_json",
                "send the body as application/json",
            ));
        }
        let raw = Bytes::from_request(req, state).await.map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!("the body must be at most {MAX_BODY_BYTES} bytes"),
            )
        })?;
        let value = Self::parse(&raw)?;
        Ok(JsonBody { value, raw })
    }
}

impl<T: DeserializeOwned> JsonBody<T> {
    /// Parses raw bytes the same way the extractor does (for optional bodies).
    pub fn parse(raw: &[u8]) -> Result<T, ApiError> {
        serde_json::from_slice(raw).map_err(|e| {
            // serde names the field only in these messages; elsewhere the backticks quote a value.
            let msg = e.to_string();
            let names_field = ["missing field", "unknown field", "duplicate field"].iter().any(|p| msg.starts_with(p));
            let field = if names_field { msg.split('`').nth(1).unwrap_or("body") } else { "body" }.to_string();
            ApiError::bad_request("malformed_json", &field, format!("the body is not valid: {e}"))
        })
    }
}

/// The request's Idempotency-Key, with what is needed to recognise a replay.
#[derive(Debug, Clone)]
pub struct IdemKey {
    pub key: Option<String>,
    pub method: Method,
    pub path: String,
}

impl<S: Send + Sync> FromRequestParts<S> for IdemKey {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let key = match parts.headers.get("idempotency-key") {
            None => None,
            Some(v) => {
                let key = v
                    .to_str()
                    .map_err(|_| {
                        ApiError::bad_request("bad_idempotency_key", "Idempotency-Key", "the key must be visible ASCII")
                    })?
                    .trim();
                if key.is_empty() || key.len() > MAX_KEY_LEN {
                    return Err(ApiError::bad_request(
                        "bad_idempotency_key",
                        "Idempotency-Key",
                        format!("the key must be 1-{MAX_KEY_LEN} characters"),
                    ));
                }
                Some(key.to_string())
            }
        };
        Ok(IdemKey { key, method: parts.method.clone(), path: parts.uri.path().to_string() })
    }
}

impl IdemKey {
    /// The key of a request that may name its own transaction instead of sending the header
    /// (a gate's transaction id): the header wins; the id, checked like a header, otherwise.
    pub fn or_transaction_id(mut self, txn_id: Option<&str>, field: &str) -> Result<Self, ApiError> {
        if self.key.is_some() {
            return Ok(self);
        }
        if let Some(id) = txn_id {
            let id = id.trim();
            if id.is_empty() || id.len() > MAX_KEY_LEN || !id.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(ApiError::bad_request(
                    "bad_transaction_id",
                    field,
                    format!("the transaction id must be 1-{MAX_KEY_LEN} visible ASCII characters"),
                ));
            }
            self.key = Some(format!("txn:{id}"));
        }
        Ok(self)
    }
    /// The idempotency context for `actor`, hashing the raw body.
    pub fn for_actor(&self, actor_name: &str, body: &[u8]) -> Option<sscard_store::Idem> {
        let key = self.key.clone()?;
        Some(sscard_store::Idem {
            scope: format!("{actor_name} {} {}", self.method, self.path),
            key,
            request_hash: request_hash(self.method.as_str(), &self.path, body),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_application_json_is_json() {
        for ok in ["application/json", "application/json; charset=utf-8", "Application/JSON", " application/json ;x=y"]
        {
            assert!(is_json_media_type(ok), "{ok}");
        }
        for bad in ["application/jsonfoo", "application/json-patch+json", "text/json", "", "application/xml"] {
            assert!(!is_json_media_type(bad), "{bad}");
        }
    }

    #[test]
    fn an_unknown_field_is_refused_by_name() {
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Login {
            username: String,
        }
        let e = JsonBody::<Login>::parse(br#"{"username": "a", "admin": true}"#).expect_err("unknown field");
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert_eq!(e.problem.field.as_deref(), Some("admin"));
    }
}
