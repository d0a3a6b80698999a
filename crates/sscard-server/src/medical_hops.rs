//! The HTTP hops of cross-province medical settlement (docs/NATION.md): the hospital's
//! deployment asks the hub (`POST /api/v1/hub/forward`, [`HttpMedicalHub`]), the hub asks the
//! card's deployment (`POST /api/v1/hub-inbound`, [`HttpDecider`]), each presenting the secret
//! the other side checks, each bounded in time and size.
//!
//! A refusal the far side answered (a 4xx, or a 503 of the hub about the decider) is kept as it
//! came ([`Passed`]) so the server can hand it on unchanged, status and problem included, as the
//! other cross-province services do; the use case only sees that the hop failed, so nothing
//! moves on this side. No answer at all is a 503 with this hop's code.

use async_trait::async_trait;
use axum::body::Bytes;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sscard_app::nation_medical::{self as nm, Decision, MedicalDecider, MedicalHub};
use sscard_domain::error::DomainError;
use sscard_domain::nation::forward::{Caller, ForwardOp, ForwardRequest, Inbound, MAX_FORWARD_BYTES};
use sscard_domain::nation::medical::RemoteBill;
use sscard_domain::nation::wire::DeploymentCode;
use sscard_store::{Result, Store, StoreError};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// How long the hub waits for the card's deployment.
const DECIDER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the hospital's deployment waits for the hub: the hub's own hop and some room, so
/// the hub's 503 about the decider arrives rather than a timeout here.
const HUB_TIMEOUT: Duration = Duration::from_secs(15);
/// Code of the 503 when the hub does not answer.
pub const HUB_UNAVAILABLE: &str = "hub_unavailable";

/// An answer of the far side, kept to be handed on unchanged.
#[derive(Debug, Clone)]
pub struct Passed {
    pub status: StatusCode,
    content_type: Option<HeaderValue>,
    pub body: Bytes,
}

impl Passed {
    /// The problem code of a problem+json answer (`urn:sscard:problem:<code>`).
    pub fn code(&self) -> Option<String> {
        let v: serde_json::Value = serde_json::from_slice(&self.body).ok()?;
        v.get("type")?.as_str()?.strip_prefix("urn:sscard:problem:").map(str::to_string)
    }
}

impl IntoResponse for Passed {
    fn into_response(self) -> Response {
        let mut out = (self.status, self.body).into_response();
        if let Some(t) = self.content_type {
            out.headers_mut().insert(header::CONTENT_TYPE, t);
        }
        out
    }
}

/// Where a hop keeps the far side's refusal for the handler.
#[derive(Debug, Default)]
pub struct Refusal(Mutex<Option<Passed>>);

impl Refusal {
    fn keep(&self, p: Passed) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(p);
    }
    /// The refusal kept by the last hop, if it was one.
    pub fn take(&self) -> Option<Passed> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
    /// The problem code of the refusal kept, leaving it kept.
    pub fn code(&self) -> Option<String> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).as_ref().and_then(Passed::code)
    }
}

fn client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder().timeout(timeout).connect_timeout(Duration::from_secs(3)).build().unwrap_or_default()
}

fn decider_client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| client(DECIDER_TIMEOUT))
}

fn hub_client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| client(HUB_TIMEOUT))
}

/// Posts `body` with `secret`; whatever came back (at most 64 KiB), or why nothing did.
async fn post(http: &reqwest::Client, url: &str, secret: &str, body: Vec<u8>) -> std::result::Result<Passed, String> {
    let sent = http
        .post(url)
        .bearer_auth(secret)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await
        .map_err(|e| format!("no answer from {url}: {e}"))?;
    let status = StatusCode::from_u16(sent.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let content_type = sent.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let content_type = content_type.and_then(|t| HeaderValue::from_str(t).ok());
    if sent.content_length().is_some_and(|n| n > MAX_FORWARD_BYTES as u64) {
        return Err(format!("an answer over {MAX_FORWARD_BYTES} bytes from {url}"));
    }
    let body = sent.bytes().await.map_err(|e| format!("the answer of {url} broke off: {e}"))?;
    if body.len() > MAX_FORWARD_BYTES {
        return Err(format!("an answer over {MAX_FORWARD_BYTES} bytes from {url}"));
    }
    Ok(Passed { status, content_type, body })
}

/// A decision from a 2xx answer; a refusal is kept for the handler. `code` names the 503 of
/// this hop (no answer, a broken or unreadable one, or the far side's own failure).
fn decision_of(answer: std::result::Result<Passed, String>, kept: &Refusal, code: &'static str) -> Result<Decision> {
    let unavailable = |detail: String| StoreError::Unavailable { code, detail };
    let answer = answer.map_err(unavailable)?;
    if answer.status.is_success() {
        return serde_json::from_slice(&answer.body).map_err(|e| unavailable(format!("an answer not understood: {e}")));
    }
    let is_problem = answer.content_type.as_ref().and_then(|t| t.to_str().ok()) == Some("application/problem+json");
    // The far side's own failure, or a secret it did not take (this side's configuration, not
    // the bill's fault): a 503 of this hop.
    let passes = answer.status.is_client_error() || answer.status == StatusCode::SERVICE_UNAVAILABLE;
    if !is_problem || !passes || matches!(answer.status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
        return Err(unavailable(format!("the far side answered {}", answer.status)));
    }
    let status = answer.status;
    kept.keep(answer);
    Err(if status.is_server_error() {
        unavailable(format!("the far side answered {status}"))
    } else {
        DomainError::refused("remote_refused", format!("the card's deployment refused the bill ({status})")).into()
    })
}

fn to_body<T: serde::Serialize>(v: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(v).map_err(|e| StoreError::Backend(format!("json: {e}")))
}

/// The hub as a hospital's deployment reaches it: `POST /api/v1/hub/forward` with this
/// deployment's secret, the terminal as the caller.
pub struct HttpMedicalHub {
    pub hub_url: String,
    pub secret: String,
    pub caller: Caller,
    pub refusal: Refusal,
}

impl HttpMedicalHub {
    async fn ask(&self, op: ForwardOp) -> Result<Decision> {
        let body = to_body(&ForwardRequest { caller: self.caller.clone(), op })?;
        let url = format!("{}/api/v1/hub/forward", self.hub_url.trim_end_matches('/'));
        decision_of(post(hub_client(), &url, &self.secret, body).await, &self.refusal, HUB_UNAVAILABLE)
    }
}

#[async_trait]
impl MedicalHub for HttpMedicalHub {
    async fn settle(&self, bill: &RemoteBill) -> Result<Decision> {
        self.ask(ForwardOp::MedicalSettle { bill: bill.clone() }).await
    }
    async fn refund(&self, hospital: &str, bill_id: &str) -> Result<Decision> {
        self.ask(ForwardOp::MedicalRefund { hospital: hospital.into(), bill_id: bill_id.into() }).await
    }
}

/// A card's deployment as the hub reaches it: `POST /api/v1/hub-inbound` presenting that
/// deployment's own secret, kept sealed at the hub.
pub struct HttpDecider {
    pub store: Arc<dyn Store>,
    pub caller: Caller,
    pub refusal: Refusal,
}

impl HttpDecider {
    async fn ask(&self, to: &DeploymentCode, from: &DeploymentCode, op: ForwardOp) -> Result<Decision> {
        let target = nm::reach(self.store.as_ref(), to).await?;
        let inbound = Inbound { from: from.clone(), caller: self.caller.clone(), person_id: None, op };
        let url = format!("{}/api/v1/hub-inbound", target.url.trim_end_matches('/'));
        let answer = post(decider_client(), &url, &target.secret, to_body(&inbound)?).await;
        decision_of(answer, &self.refusal, sscard_app::national::DEPLOYMENT_UNAVAILABLE)
    }
}

#[async_trait]
impl MedicalDecider for HttpDecider {
    async fn settle(&self, to: &DeploymentCode, from: &DeploymentCode, bill: &RemoteBill) -> Result<Decision> {
        self.ask(to, from, ForwardOp::MedicalSettle { bill: bill.clone() }).await
    }
    async fn refund(
        &self,
        to: &DeploymentCode,
        from: &DeploymentCode,
        hospital: &str,
        bill_id: &str,
    ) -> Result<Decision> {
        let op = ForwardOp::MedicalRefund { hospital: hospital.into(), bill_id: bill_id.into() };
        self.ask(to, from, op).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sscard_domain::ids::RegionCode;
    use sscard_domain::medical::{Locality, MedicalPolicy, YearToDate, split};
    use sscard_domain::money::Fen;
    use sscard_domain::nation::medical::Decided;

    fn answer(status: u16, content_type: &str, body: &[u8]) -> std::result::Result<Passed, String> {
        Ok(Passed {
            status: StatusCode::from_u16(status).expect("status"),
            content_type: HeaderValue::from_str(content_type).ok(),
            body: Bytes::copy_from_slice(body),
        })
    }

    fn problem(code: &str) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({ "type": format!("urn:sscard:problem:{code}"), "status": 422 }))
            .expect("json")
    }

    #[test]
    fn a_decision_a_refusal_kept_as_given_or_a_503_of_this_hop() {
        let region = RegionCode::parse("350203").expect("region");
        let local = RegionCode::parse("110105").expect("region");
        let s = split(
            Fen::new(10_000),
            &MedicalPolicy::default_for(region),
            Locality::of(region, local),
            YearToDate::default(),
            Fen::new(0),
        )
        .expect("split");
        let d = Decision {
            settlement_id: "s1".into(),
            decider: DeploymentCode::parse("XB").expect("code"),
            card_no: "A00000001".into(),
            insured_region: "350203".into(),
            decided: Decided { split: s, has_bank_account: true },
            refunded_at_ms: None,
        };
        let kept = Refusal::default();
        let ok = answer(200, "application/json", &serde_json::to_vec(&d).expect("json"));
        assert_eq!(decision_of(ok, &kept, HUB_UNAVAILABLE).expect("decision"), d);
        let code = |r: Result<Decision>| match r {
            Err(StoreError::Unavailable { code, .. }) => code.to_string(),
            Err(StoreError::Domain(e)) => e.code.to_string(),
            other => format!("{other:?}"),
        };
        let garbage = answer(200, "application/json", b"{}");
        assert_eq!(code(decision_of(garbage, &kept, HUB_UNAVAILABLE)), HUB_UNAVAILABLE);
        // The far side's refusal is kept for the handler, to be answered as it came.
        let refused = answer(422, "application/problem+json", &problem("unknown_card"));
        assert_eq!(code(decision_of(refused, &kept, HUB_UNAVAILABLE)), "remote_refused");
        assert_eq!(kept.code().as_deref(), Some("unknown_card"));
        assert_eq!(kept.take().map(|p| p.status.as_u16()), Some(422));
        // The hub's 503 about the decider is passed on too.
        let busy = answer(503, "application/problem+json", &problem("deployment_unavailable"));
        assert_eq!(code(decision_of(busy, &kept, HUB_UNAVAILABLE)), HUB_UNAVAILABLE);
        assert_eq!(kept.take().and_then(|p| p.code()).as_deref(), Some("deployment_unavailable"));
        // A secret not taken, a failure there, an answer that is no problem, no answer: this hop's 503.
        for (status, ctype) in
            [(401, "application/problem+json"), (500, "application/problem+json"), (404, "text/plain")]
        {
            let r = decision_of(answer(status, ctype, &problem("x")), &kept, HUB_UNAVAILABLE);
            assert_eq!(code(r), HUB_UNAVAILABLE, "{status}");
            assert!(kept.take().is_none(), "{status}: nothing to pass on");
        }
        assert_eq!(code(decision_of(Err("refused".into()), &kept, HUB_UNAVAILABLE)), HUB_UNAVAILABLE);
    }
}
