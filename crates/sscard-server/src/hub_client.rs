//! The deployment's HTTP way to the national hub (docs/NATION.md): `POST /api/v1/hub/claims`
//! before an approve, and `GET /api/v1/hub/index-key` at start, both with
//! `Authorization: Bearer <CODE>.<secret>` and a timeout, so a hub that hangs costs a clerk
//! a few seconds and a 503, never a stuck request.

use async_trait::async_trait;
use sscard_app::nation::{ClaimAnswer, ClaimRequest, HubError, HubLink, NationalIndexKey};
use sscard_domain::nation::trust::KeyIdRange;
use std::time::Duration;

/// How long a call to the hub may take, connection included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// The largest answer read from the hub.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// A [`HubLink`] over HTTP.
#[derive(Clone)]
pub struct HttpHub {
    client: reqwest::Client,
    base: String,
    secret: String,
}

impl std::fmt::Debug for HttpHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpHub").field("base", &self.base).finish_non_exhaustive()
    }
}

#[derive(serde::Deserialize)]
struct KeyAnswer {
    key_hex: String,
}

impl HttpHub {
    /// The hub at `base_url` (`http://host:port`, no trailing path), this deployment's
    /// `secret` (`<CODE>.<64 hex>`), each call bounded by `timeout`.
    pub fn new(base_url: &str, secret: &str, timeout: Duration) -> Result<Self, HubError> {
        let base = base_url.trim().trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(HubError::Unreachable(format!("the hub URL {base:?} is not http(s)")));
        }
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()
            .map_err(|e| HubError::Unreachable(format!("no HTTP client: {e}")))?;
        Ok(HttpHub { client, base, secret: secret.trim().to_string() })
    }

    /// The national index key the hub serves to its deployments.
    pub async fn index_key(&self) -> Result<NationalIndexKey, HubError> {
        let req = self.client.get(format!("{}/api/v1/hub/index-key", self.base));
        let body = self.send(req).await?;
        let answer: KeyAnswer = serde_json::from_slice(&body).map_err(|e| HubError::BadAnswer(e.to_string()))?;
        NationalIndexKey::from_hex(&answer.key_hex).map_err(|e| HubError::BadAnswer(e.to_string()))
    }

    /// The QR issuer key ids this deployment signs with (`GET /api/v1/hub/key-ids`).
    pub async fn key_ids(&self) -> Result<KeyIdRange, HubError> {
        #[derive(serde::Deserialize)]
        struct Answer {
            first: u32,
            last: u32,
        }
        let body = self.send(self.client.get(format!("{}/api/v1/hub/key-ids", self.base))).await?;
        let answer: Answer = serde_json::from_slice(&body).map_err(|e| HubError::BadAnswer(e.to_string()))?;
        KeyIdRange::parse(answer.first, answer.last).map_err(|e| HubError::BadAnswer(e.message))
    }

    /// Publishes this deployment's QR issuer keys in the national trust list
    /// (`POST /api/v1/hub/keys`); a key id outside its range or another deployment's is refused.
    pub async fn publish_keys(&self, keys: &[sscard_gm::offline::PublishedKey]) -> Result<(), HubError> {
        let req = self.client.post(format!("{}/api/v1/hub/keys", self.base)).json(keys);
        self.send(req).await.map(|_| ())
    }

    /// Sends `req` with the secret; the body of a 2xx, else the error it means.
    async fn send(&self, req: reqwest::RequestBuilder) -> Result<Vec<u8>, HubError> {
        let resp = req.bearer_auth(&self.secret).send().await.map_err(|e| HubError::Unreachable(e.to_string()))?;
        let status = resp.status();
        let body = resp.bytes().await.map_err(|e| HubError::Unreachable(e.to_string()))?;
        if body.len() > MAX_ANSWER_BYTES {
            return Err(HubError::BadAnswer(format!("an answer of {} bytes", body.len())));
        }
        if status.is_success() {
            return Ok(body.to_vec());
        }
        let detail = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("detail").and_then(|d| d.as_str()).map(str::to_string))
            .unwrap_or_else(|| status.to_string());
        if status.is_client_error() {
            Err(HubError::Refused { status: status.as_u16(), detail })
        } else {
            Err(HubError::Unreachable(format!("{status}: {detail}")))
        }
    }
}

#[async_trait]
impl HubLink for HttpHub {
    async fn claim(&self, request: &ClaimRequest) -> Result<ClaimAnswer, HubError> {
        let req = self.client.post(format!("{}/api/v1/hub/claims", self.base)).json(request);
        let body = self.send(req).await?;
        serde_json::from_slice(&body).map_err(|e| HubError::BadAnswer(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Json;
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::{get, post};
    use serde_json::{Value, json};

    const SECRET: &str = "XM.0123";

    fn authorized(h: &HeaderMap) -> bool {
        h.get("authorization").and_then(|v| v.to_str().ok()) == Some("Bearer XM.0123")
    }

    /// A hub on port 0 answering claims by the application id: "go", "wait", "boom" (500),
    /// "slow" (after 3 s); a wrong secret is 401.
    async fn fake_hub() -> String {
        let claims = post(|h: HeaderMap, Json(body): Json<Value>| async move {
            if !authorized(&h) {
                return (StatusCode::UNAUTHORIZED, Json(json!({"detail": "bad secret"})));
            }
            match body["application_id"].as_str() {
                Some("go") => (StatusCode::OK, Json(json!({"decision": "go"}))),
                Some("wait") => {
                    (StatusCode::OK, Json(json!({"decision": "wait", "remote_stop_id": "rs1", "held_by": "FZ"})))
                }
                Some("slow") => {
                    tokio::time::sleep(Duration::from_secs(3)).await;
                    (StatusCode::OK, Json(json!({"decision": "go"})))
                }
                _ => (StatusCode::INTERNAL_SERVER_ERROR, Json(json!({"detail": "boom"}))),
            }
        });
        let key = get(|h: HeaderMap| async move {
            if authorized(&h) {
                (StatusCode::OK, Json(json!({"key_hex": "ab".repeat(16)})))
            } else {
                (StatusCode::UNAUTHORIZED, Json(json!({"detail": "bad secret"})))
            }
        });
        let app = axum::Router::new().route("/api/v1/hub/claims", claims).route("/api/v1/hub/index-key", key);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let addr = listener.local_addr().expect("its address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}/")
    }

    fn request(app: &str) -> ClaimRequest {
        ClaimRequest { person_index: "ab".repeat(32), person_id: "p1".into(), application_id: app.into() }
    }

    #[tokio::test]
    async fn claims_and_the_index_key_over_http() {
        let base = fake_hub().await;
        let hub = HttpHub::new(&base, SECRET, Duration::from_secs(1)).expect("a client");
        assert_eq!(hub.claim(&request("go")).await, Ok(ClaimAnswer::Go));
        let held_by = sscard_domain::nation::wire::DeploymentCode::parse("FZ").expect("code");
        let wait = ClaimAnswer::Wait { remote_stop_id: "rs1".into(), held_by };
        assert_eq!(hub.claim(&request("wait")).await, Ok(wait));
        assert!(matches!(hub.claim(&request("boom")).await, Err(HubError::Unreachable(_))));
        assert!(matches!(hub.claim(&request("slow")).await, Err(HubError::Unreachable(_))), "the timeout holds");
        let key = hub.index_key().await.expect("the key");
        assert_eq!(key, NationalIndexKey::from_hex(&"ab".repeat(16)).expect("key"));
        let wrong = HttpHub::new(&base, "XM.9999", Duration::from_secs(1)).expect("a client");
        assert_eq!(
            wrong.claim(&request("go")).await,
            Err(HubError::Refused { status: 401, detail: "bad secret".into() })
        );
        let down = HttpHub::new("http://127.0.0.1:9", SECRET, Duration::from_secs(1)).expect("a client");
        assert!(matches!(down.claim(&request("go")).await, Err(HubError::Unreachable(_))));
        assert!(HttpHub::new("ftp://hub", SECRET, DEFAULT_TIMEOUT).is_err());
        assert!(!format!("{hub:?}").contains("0123"), "the secret is never printed");
    }
}
