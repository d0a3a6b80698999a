//! The national e-card trust list: every deployment's QR issuer keys (a key id unique in the
//! nation) and the merged revocation feed, in the shapes of the local lists.

use super::audit;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sscard_domain::error::DomainError;
use sscard_domain::nation::trust::{KeyIdRange, check_published};
use sscard_store::ports::{DeploymentRow, HubKeyRow, HubRevocationRow};
use sscard_store::tx::Store;
use sscard_store::{Result, StoreError};

/// Keys a deployment may send at once.
pub const MAX_KEYS_PER_CALL: usize = 100;
/// Longest public key PEM accepted, in bytes.
const MAX_PEM_BYTES: usize = 4_096;
/// Most changes or ids in one page of the revocation feed.
const MAX_PAGE: u32 = 10_000;

/// One issuer key a deployment publishes (times in seconds, as `GET /api/v1/ecard/keys`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewHubKey {
    pub key_id: u32,
    pub public_key_pem: String,
    pub not_before: i64,
    pub not_after: i64,
}

/// The key ids the deployment signs with (`GET /api/v1/hub/key-ids`).
pub fn key_ids(by: &DeploymentRow) -> std::result::Result<KeyIdRange, DomainError> {
    KeyIdRange::of_ordinal(by.ordinal)
}

fn check_key(k: &NewHubKey) -> std::result::Result<(), DomainError> {
    let pem = k.public_key_pem.trim();
    // A key no verifier can load would make every terminal's sync of the list fail.
    if pem.len() > MAX_PEM_BYTES || sscard_gm::sm2::VerifyingKey::from_spki_pem(pem).is_err() {
        return Err(DomainError::invalid("bad_public_key", "public_key_pem", "a public key in PEM (BEGIN PUBLIC KEY)"));
    }
    if k.not_before >= k.not_after || k.not_before < 0 {
        return Err(DomainError::invalid("bad_validity", "not_after", "not_before < not_after, in seconds"));
    }
    Ok(())
}

/// Stores a deployment's keys (new ones, or new validity of its own); a key id outside the
/// deployment's range is refused 409 `key_id_out_of_range`, one another deployment holds
/// (published before ranges, or a range given twice) 409 `key_id_taken`; nothing is stored.
pub async fn register_keys(
    store: &dyn Store,
    by: &DeploymentRow,
    keys: &[NewHubKey],
    now_ms: i64,
) -> Result<Vec<HubKeyRow>> {
    if keys.is_empty() || keys.len() > MAX_KEYS_PER_CALL {
        return Err(DomainError::invalid("bad_keys", "keys", format!("send 1-{MAX_KEYS_PER_CALL} keys")).into());
    }
    let code = by.info.code.as_str();
    let range = key_ids(by)?;
    for k in keys {
        check_key(k)?;
        check_published(range, code, k.key_id)?;
    }
    let mut tx = store.write().await?;
    let mut rows = Vec::with_capacity(keys.len());
    for k in keys {
        if let Some(taken) = tx.get_hub_key(i64::from(k.key_id)).await?
            && taken.deployment != code
        {
            return Err(StoreError::Domain(DomainError::conflict(
                "key_id_taken",
                format!("key id {} belongs to deployment {}", k.key_id, taken.deployment),
                None,
            )));
        }
        let row = HubKeyRow {
            key_id: i64::from(k.key_id),
            deployment: code.to_string(),
            region: by.info.regions.join(","),
            public_key_pem: k.public_key_pem.trim().to_string(),
            not_before: k.not_before,
            not_after: k.not_after,
        };
        tx.put_hub_key(&row).await?;
        rows.push(row);
    }
    let ids: Vec<u32> = keys.iter().map(|k| k.key_id).collect();
    let actor = format!("deployment:{code}");
    tx.append_audit(&audit(&actor, "hub.keys_registered", "deployment", code, now_ms, json!({ "key_ids": ids })))
        .await?;
    tx.commit().await?;
    Ok(rows)
}

/// Every deployment's issuer keys, by id.
pub async fn keys(store: &dyn Store) -> Result<Vec<HubKeyRow>> {
    let mut tx = store.read().await?;
    let all = tx.hub_keys().await?;
    tx.commit().await?;
    Ok(all)
}

/// One page of the merged revocation feed (the local feed's shape, each change naming its
/// deployment).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HubRevocationPage {
    /// since = 0: ids of the e-cards not usable now (this page of them).
    pub revoked: Vec<String>,
    /// since > 0: the changes after `since`.
    pub changes: Vec<HubRevocationRow>,
    pub next_since: i64,
    pub next_after: Option<String>,
    pub more: bool,
}

/// The merged feed: `since = 0` the whole set of unusable e-cards (paged by `after`) and the
/// sequence number it is current to; `since > 0` the changes after it.
pub async fn revocations(store: &dyn Store, since: i64, after: Option<&str>, limit: u32) -> Result<HubRevocationPage> {
    let limit = limit.clamp(1, MAX_PAGE);
    let mut tx = store.read().await?;
    let page = if since <= 0 {
        // The cursor is read first: a change racing with the list is replayed by the next delta.
        let max = tx.max_revocation_seq().await?;
        let ids = tx.revoked_ecards(after, limit).await?;
        let more = ids.len() as u32 == limit;
        HubRevocationPage {
            next_after: if more { ids.last().cloned() } else { None },
            revoked: ids,
            changes: Vec::new(),
            next_since: max,
            more,
        }
    } else {
        let changes = tx.revocations_after(since, limit).await?;
        let more = changes.len() as u32 == limit;
        let next_since = changes.last().map_or(since, |c| c.seq);
        HubRevocationPage { revoked: Vec::new(), changes, next_since, next_after: None, more }
    };
    tx.commit().await?;
    Ok(page)
}
