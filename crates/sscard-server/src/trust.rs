//! The national e-card trust list at a deployment (docs/NATION.md): a QR code another
//! deployment signed verifies here too. Its signature is checked against the hub's merged
//! issuer keys (`GET /api/v1/ecard/keys` at the hub, cached), and its live status is asked of
//! the deployment owning the key through the hub (forwarded operation `ecard_status`), which
//! answers the precise refusal (card_suspended, card_lost, revoked, …).
//!
//! The cache: a list younger than [`MAX_AGE_MS`] that knows the key id is used as it is;
//! otherwise the list is fetched again, at most once per [`RETRY_MS`] (so a stream of tokens
//! with made-up key ids costs the hub one request per interval). When the hub does not answer,
//! an older list that knows the key still checks the signature (a key id never changes owner
//! nor key); one that does not know it cannot tell, and the answer is 503 `hub_unavailable`.

use crate::error::{ApiError, ApiResult};
use axum::http::StatusCode;
use serde::Deserialize;
use sscard_domain::ecard::Attributes;
use sscard_domain::nation::forward::{Caller, ForwardOp, ForwardRequest, MAX_FORWARD_BYTES};
use sscard_gm::offline::{DEFAULT_CLOCK_SKEW_S, OfflineVerifier, PublishedKey, Rejection, VerifiedToken};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

/// A list older than this is fetched again before it is used.
pub const MAX_AGE_MS: i64 = 5 * 60_000;
/// At most one fetch of the list per this interval.
pub const RETRY_MS: i64 = 5_000;
/// The largest list read (the hub serves at most 10,000 keys of under 4 KiB each).
const MAX_LIST_BYTES: usize = 48 * 1024 * 1024;
/// How long a call to the hub may take (as the cross-province services' hops).
const HOP_TIMEOUT: Duration = Duration::from_secs(10);
/// The code of the 503 when the hub cannot be asked.
pub const HUB_UNAVAILABLE: &str = "hub_unavailable";

/// One key of the hub's list, as `GET /api/v1/ecard/keys` answers at a hub.
#[derive(Debug, Deserialize)]
struct NationalKey {
    key_id: u32,
    public_key_pem: String,
    not_before: i64,
    not_after: i64,
    deployment: String,
}

/// The hub's keys as fetched at one moment, parsed once.
pub struct TrustList {
    verifier: OfflineVerifier,
    /// Each key's deployment and last second in service.
    owners: HashMap<u32, (String, i64)>,
    fetched_at_ms: i64,
}

impl TrustList {
    /// The list of `keys`; a key whose PEM does not load is left out (logged), so one bad
    /// entry does not stop every other deployment's QR codes from verifying.
    fn new(keys: Vec<NationalKey>, fetched_at_ms: i64) -> Self {
        let mut published = Vec::with_capacity(keys.len());
        let mut owners = HashMap::with_capacity(keys.len());
        for k in keys {
            if sscard_gm::sm2::VerifyingKey::from_spki_pem(&k.public_key_pem).is_err() || k.not_before > k.not_after {
                tracing::warn!(
                    key_id = k.key_id,
                    deployment = k.deployment,
                    "the trust list has a key that does not load"
                );
                continue;
            }
            owners.insert(k.key_id, (k.deployment, k.not_after));
            let (not_before, not_after) = (k.not_before, k.not_after);
            published.push(PublishedKey { key_id: k.key_id, public_key_pem: k.public_key_pem, not_before, not_after });
        }
        let verifier = OfflineVerifier::new(&published, [], DEFAULT_CLOCK_SKEW_S).unwrap_or_else(|e| {
            // Every key was loaded once above and ids are map keys: only a surprise lands here.
            tracing::error!(error = %e, "the trust list does not load");
            OfflineVerifier::new(&[], [], DEFAULT_CLOCK_SKEW_S).unwrap_or_else(|_| unreachable!("no keys always load"))
        });
        TrustList { verifier, owners, fetched_at_ms }
    }

    /// The deployment whose key this is.
    pub fn owner(&self, key_id: u32) -> Option<&str> {
        self.owners.get(&key_id).map(|(d, _)| d.as_str())
    }

    /// Signature, the key valid at issue time and still in service now, expiry (each with the
    /// clock-skew allowance): the same checks as for this deployment's own codes.
    pub fn check(&self, token: &str, now_s: i64) -> Result<VerifiedToken, Rejection> {
        let ok = self.verifier.verify(token, now_s)?;
        let key_id = ok.claims.key_id;
        let in_service = self
            .owners
            .get(&key_id)
            .is_some_and(|(_, not_after)| now_s <= not_after.saturating_add(DEFAULT_CLOCK_SKEW_S));
        if in_service { Ok(ok) } else { Err(Rejection::KeyNotValid { key_id, issued_at: ok.claims.issued_at }) }
    }

    fn usable_for(&self, key_id: u32, now_ms: i64) -> bool {
        now_ms.saturating_sub(self.fetched_at_ms) < MAX_AGE_MS && self.owners.contains_key(&key_id)
    }
}

/// The deployment's cache of the hub's list (empty until a QR code of another deployment is met).
#[derive(Default)]
pub struct NationalTrust {
    list: RwLock<Option<Arc<TrustList>>>,
    /// When the list was last asked for and whether the hub gave it; serialises the fetches.
    last_fetch: tokio::sync::Mutex<Option<(i64, bool)>>,
    /// This deployment's keys as last published at the hub (see [`publish_changed_keys`]).
    published: tokio::sync::Mutex<Vec<PublishedKey>>,
}

impl NationalTrust {
    fn current(&self) -> Option<Arc<TrustList>> {
        self.list.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// A list to check a token of `key_id` with (see the module's words on the cache); an
    /// error names why the hub's list could not be had.
    pub async fn for_key(&self, hub_url: &str, key_id: u32, now_ms: i64) -> Result<Arc<TrustList>, String> {
        if let Some(list) = self.current().filter(|l| l.usable_for(key_id, now_ms)) {
            return Ok(list);
        }
        let mut last = self.last_fetch.lock().await;
        let cached = self.current();
        if let Some(list) = cached.as_ref().filter(|l| l.usable_for(key_id, now_ms)) {
            return Ok(Arc::clone(list));
        }
        if let Some((at, fetched)) = *last
            && now_ms.saturating_sub(at) < RETRY_MS
        {
            // A list the hub gave a moment ago that does not know the key: the key is unknown.
            // After a failed fetch only a key the older list knows can be judged.
            return cached
                .filter(|l| fetched || l.owner(key_id).is_some())
                .ok_or_else(|| "the hub did not give its trust list a moment ago".to_string());
        }
        let fetched = fetch(hub_url, now_ms).await;
        *last = Some((now_ms, fetched.is_ok()));
        match fetched {
            Ok(list) => {
                let list = Arc::new(list);
                *self.list.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::clone(&list));
                Ok(list)
            }
            Err(e) => match cached {
                Some(list) if list.owner(key_id).is_some() => Ok(list),
                _ => Err(e),
            },
        }
    }
}

fn client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .timeout(HOP_TIMEOUT)
            .connect_timeout(Duration::from_secs(3))
            .build()
            .unwrap_or_default()
    })
}

async fn fetch(hub_url: &str, now_ms: i64) -> Result<TrustList, String> {
    let url = format!("{}/api/v1/ecard/keys", hub_url.trim_end_matches('/'));
    let resp = client().get(&url).send().await.map_err(|e| format!("GET {url}: {e}"))?;
    let status = resp.status();
    if !status.is_success() || resp.content_length().is_some_and(|n| n > MAX_LIST_BYTES as u64) {
        return Err(format!("GET {url}: {status}"));
    }
    let body = resp.bytes().await.map_err(|e| format!("GET {url}: {e}"))?;
    if body.len() > MAX_LIST_BYTES {
        return Err(format!("GET {url}: the list is over {MAX_LIST_BYTES} bytes"));
    }
    let keys: Vec<NationalKey> = serde_json::from_slice(&body).map_err(|e| format!("GET {url}: {e}"))?;
    Ok(TrustList::new(keys, now_ms))
}

/// What the owning deployment says of its e-card (`ecard_status`, with `deployment` added).
#[derive(Debug, Deserialize)]
pub struct EcardStatus {
    pub usable: bool,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub attributes: Option<Attributes>,
    #[serde(default)]
    pub deployment: Option<String>,
}

/// The owner's answer through the hub. No answer, or a 5xx or 4xx from the hub or the owner,
/// is an error (503, with the code of the problem when there is one): the token cannot be
/// judged now. An owner the hub does not know (it left the list since) is `unknown_key`.
pub async fn status_at_owner(
    hub_url: &str,
    secret: &str,
    caller: Caller,
    key_id: u32,
    ecard_id: &str,
) -> ApiResult<Result<EcardStatus, &'static str>> {
    let unavailable = |detail: String| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, HUB_UNAVAILABLE, detail);
    let op = ForwardOp::EcardStatus { key_id: i64::from(key_id), ecard_id: ecard_id.to_string() };
    let url = format!("{}/api/v1/hub/forward", hub_url.trim_end_matches('/'));
    let sent = client().post(&url).bearer_auth(secret).json(&ForwardRequest { caller, op }).send().await;
    let resp = sent.map_err(|e| unavailable(format!("no answer from {url}: {e}")))?;
    let status = resp.status();
    let body = resp.bytes().await.map_err(|e| unavailable(format!("the answer broke off: {e}")))?;
    if body.len() > MAX_FORWARD_BYTES {
        return Err(unavailable("the answer is over the limit".into()));
    }
    if status.is_success() {
        return serde_json::from_slice(&body).map(Ok).map_err(|e| unavailable(format!("not an e-card status: {e}")));
    }
    let problem: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let code = problem["type"].as_str().and_then(|t| t.strip_prefix("urn:sscard:problem:")).unwrap_or(HUB_UNAVAILABLE);
    if code == "unknown_key" {
        return Ok(Err("unknown_key"));
    }
    let detail = problem["detail"].as_str().unwrap_or("no detail").to_string();
    let code = if code.len() <= 64 && code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
        code
    } else {
        HUB_UNAVAILABLE
    };
    Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, code, format!("the e-card's status ({status}): {detail}")))
}

/// Why a deployment could not take its place in the trust list.
#[derive(Debug, thiserror::Error)]
pub enum JoinError {
    #[error("the hub: {0}")]
    Hub(#[from] sscard_app::nation::HubError),
    #[error("QR issuer keys: {0}")]
    Keys(#[from] crate::keys::KeyError),
}

/// A deployment joining the nation's trust list: it takes its key id range from the hub
/// (`GET /api/v1/hub/key-ids`), makes sure a key of that range signs from now on (a key made
/// on its own keeps verifying its QR codes here until they expire) and publishes the range's
/// keys (`POST /api/v1/hub/keys`). Answers the keys published.
pub async fn join(
    hub: &crate::hub_client::HttpHub,
    keys: &crate::keys::KeyManager,
    store: &dyn sscard_store::Store,
    now_ms: i64,
) -> Result<Vec<PublishedKey>, JoinError> {
    keys.set_key_ids(Some(hub.key_ids().await?));
    let published = keys.ensure(store, now_ms).await?.in_range();
    hub.publish_keys(&published).await?;
    Ok(published)
}

/// Publishes this deployment's keys again when they changed since the last time (a key made
/// when the last one came due, or by `sscard keys rotate`), so the nation verifies its new QR
/// codes without a restart; the scheduler calls it after each reload of the keys. Nothing on
/// its own, or before [`join`] gave the range. A failure is logged and tried next time.
pub async fn publish_changed_keys(state: &crate::state::AppState, ring: &crate::keys::KeyRing) {
    let link = state.national.read().unwrap_or_else(|p| p.into_inner()).clone();
    let (Some(link), Some(_)) = (link, state.keys.key_ids()) else { return };
    let keys = ring.in_range();
    let mut last = state.trust.published.lock().await;
    if keys.is_empty() || *last == keys {
        return;
    }
    let hub = match crate::hub_client::HttpHub::new(&link.hub_url, &link.secret, HOP_TIMEOUT) {
        Ok(hub) => hub,
        Err(e) => return tracing::warn!(error = %e, "publishing the QR issuer keys"),
    };
    match hub.publish_keys(&keys).await {
        Ok(()) => *last = keys,
        Err(e) => tracing::warn!(error = %e, "publishing the QR issuer keys at the hub failed; will retry"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sscard_gm::token::{TokenClaims, TokenFlags, sign_token};

    fn key(id: u32, deployment: &str, pem: &str, not_after: i64) -> NationalKey {
        NationalKey { key_id: id, public_key_pem: pem.into(), not_before: 0, not_after, deployment: deployment.into() }
    }

    fn token(key_id: u32, signer: &sscard_gm::sm2::SigningKey, issued_at: i64) -> String {
        let claims = TokenClaims {
            key_id,
            ecard_id: [7; 16],
            status: sscard_gm::token::STATUS_ACTIVE,
            flags: TokenFlags::default(),
            region: 350_102,
            issued_at,
            ttl_s: 60,
            nonce: 1,
        };
        sign_token(&claims, signer)
    }

    #[test]
    fn a_list_checks_signatures_keeps_owners_and_leaves_out_keys_that_do_not_load() {
        let (b, other) = (sscard_gm::sm2::SigningKey::generate(), sscard_gm::sm2::SigningKey::generate());
        let pem = b.verifying_key().to_spki_pem();
        let keys = vec![key(2_000_001, "FZ", &pem, 1_000), key(2_000_002, "FZ", "not a key", 1_000)];
        let list = TrustList::new(keys, 0);
        assert_eq!(list.owner(2_000_001), Some("FZ"));
        assert_eq!(list.owner(2_000_002), None, "left out");
        assert!(list.check(&token(2_000_001, &b, 100), 110).is_ok());
        assert_eq!(list.check(&token(2_000_001, &other, 100), 110), Err(Rejection::BadSignature));
        assert_eq!(list.check(&token(2_000_002, &b, 100), 110), Err(Rejection::UnknownKey { key_id: 2_000_002 }));
        assert!(matches!(list.check(&token(2_000_001, &b, 100), 500), Err(Rejection::Expired { .. })));
        // Issued in the key's last seconds, presented after it left service.
        assert!(matches!(list.check(&token(2_000_001, &b, 1_000), 1_040), Err(Rejection::KeyNotValid { .. })));
        assert!(list.usable_for(2_000_001, MAX_AGE_MS - 1));
        assert!(!list.usable_for(2_000_001, MAX_AGE_MS), "too old: fetched again");
        assert!(!list.usable_for(9, 0), "an unknown key id: fetched again");
    }

    #[tokio::test]
    async fn a_hub_that_does_not_answer_is_tried_once_per_interval() {
        let trust = NationalTrust::default();
        let dead = "http://127.0.0.1:9";
        assert!(trust.for_key(dead, 1, 0).await.is_err());
        let e = trust.for_key(dead, 1, RETRY_MS - 1).await.err().unwrap_or_default();
        assert!(e.contains("a moment ago"), "{e}");
        let e = trust.for_key(dead, 1, RETRY_MS).await.err().unwrap_or_default();
        assert!(e.contains("127.0.0.1:9"), "asked again: {e}");
        // A list already had keeps checking the keys it knows while the hub is away.
        let b = sscard_gm::sm2::SigningKey::generate();
        let list = TrustList::new(vec![key(5, "FZ", &b.verifying_key().to_spki_pem(), 10)], 0);
        *trust.list.write().expect("lock") = Some(Arc::new(list));
        assert!(trust.for_key(dead, 5, 3 * RETRY_MS).await.is_ok());
        assert!(trust.for_key(dead, 6, 5 * RETRY_MS).await.is_err());
    }
}
