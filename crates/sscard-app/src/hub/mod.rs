//! The national hub's use cases (DESIGN §7.1, docs/NATION.md): registering deployments and
//! authenticating them, claims (one live card in the nation), applying the deployments'
//! events to the national index, and the nation's issuer keys and revocation feed.
//!
//! A deployment is not a user: it authenticates with `Authorization: Bearer <CODE>.<secret>`
//! and every use case it calls takes the authenticated [`DeploymentRow`]; its audit records
//! name it `deployment:<CODE>`.

mod claims;
mod events;
mod keys;

pub use claims::{ClaimInput, ClaimOutcome, claim};
pub use events::{HUB_EVENTS_CONSUMER, apply_event, commands_after};
pub use keys::{HubRevocationPage, NewHubKey, key_ids, keys, register_keys, revocations};

use super::{Ctx, new_id};
use serde_json::json;
use sscard_domain::access;
use sscard_domain::error::DomainError;
use sscard_domain::nation::hub::DeploymentInfo;
use sscard_domain::nation::wire::{Command, CommandKind, DeploymentCode};
use sscard_store::model::NewAudit;
use sscard_store::ports::{AuditLog, DeploymentRow, Hub};
use sscard_store::tx::Store;
use sscard_store::{Result, StoreError};

/// The KDF label of the national blind-index key (derived from the hub's master key).
pub const INDEX_KEY_LABEL: &str = "national-index";

/// The key of the national blind index (HMAC-SM3 of the SSN), which the hub hands to
/// authenticated deployments; never printed by `Debug`.
#[derive(Clone)]
pub struct IndexKey([u8; 16]);

impl IndexKey {
    /// The key of this master key: `derive_key(master, "national-index")`.
    pub fn derive(master: &[u8; 32]) -> Self {
        IndexKey(sscard_gm::kdf::derive_key(master, INDEX_KEY_LABEL))
    }
    /// 32 hex characters, as `GET /api/v1/hub/index-key` answers it.
    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }
    /// A person's national index under this key ([`crate::nation::national_person_index`]).
    pub fn person_index(&self, ssn: &str) -> String {
        crate::nation::national_person_index(&self.0, ssn)
    }
}

impl std::fmt::Debug for IndexKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IndexKey(..)")
    }
}

/// A registered deployment and its secret, shown this once.
#[derive(Debug, Clone)]
pub struct AddedDeployment {
    pub deployment: DeploymentRow,
    /// `<CODE>.<64 hex>`; the hub keeps only its SM3 hash.
    pub secret: String,
}

/// SM3 of a deployment secret, as stored (the secret has 256 random bits, so a plain hash
/// is as strong as a slow one and lets every request be checked in one indexed read).
pub fn secret_hash(secret: &str) -> String {
    hex::encode(sscard_gm::sm3::sm3(secret.as_bytes()))
}

/// Registers a deployment (admin, on the hub's database) and answers its secret once.
pub async fn add_deployment(store: &dyn Store, ctx: &Ctx, info: DeploymentInfo) -> Result<AddedDeployment> {
    access::may_administer(&ctx.actor)?;
    let secret = format!("{}.{}", info.code, hex::encode(sscard_gm::rand::random_bytes::<32>()));
    let mut tx = store.write().await?;
    let ordinal = tx.insert_deployment(&info, &secret_hash(&secret), ctx.now_ms).await.map_err(|e| match e {
        StoreError::Duplicate { .. } => StoreError::Domain(DomainError::conflict(
            "deployment_exists",
            format!("deployment {} is already registered", info.code),
            None,
        )),
        other => other,
    })?;
    // A registration past the last key id range is refused here, not at the first key.
    let key_ids = sscard_domain::nation::trust::KeyIdRange::of_ordinal(ordinal)?;
    let detail = json!({ "name": info.name, "regions": info.regions, "url": info.url, "ordinal": ordinal,
                         "key_ids": key_ids });
    let audit = NewAudit {
        at_ms: ctx.now_ms,
        actor: ctx.actor.name.clone(),
        action: "deployment.added".into(),
        entity: "deployment",
        entity_id: info.code.to_string(),
        detail,
    };
    tx.append_audit(&audit).await?;
    tx.commit().await?;
    Ok(AddedDeployment { deployment: DeploymentRow { info, ordinal, created_at_ms: ctx.now_ms }, secret })
}

/// The deployment whose bearer secret this is; None for anything else (no hint why).
pub async fn authenticate(store: &dyn Store, secret: &str) -> Result<Option<DeploymentRow>> {
    let Some((code, rest)) = secret.split_once('.') else { return Ok(None) };
    if DeploymentCode::parse(code).is_err() || rest.len() != 64 || !rest.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let mut tx = store.read().await?;
    let found = tx.deployment_by_secret(&secret_hash(secret)).await?;
    tx.commit().await?;
    Ok(found.filter(|d| d.info.code.as_str() == code))
}

/// Every registered deployment, by code (public: no secrets are kept to show).
pub async fn deployments(store: &dyn Store) -> Result<Vec<DeploymentRow>> {
    let mut tx = store.read().await?;
    let all = tx.list_deployments().await?;
    tx.commit().await?;
    Ok(all)
}

/// The audit record of something a deployment did at the hub (or the hub did for it).
fn audit(
    actor: &str,
    action: &str,
    entity: &'static str,
    entity_id: &str,
    at_ms: i64,
    detail: serde_json::Value,
) -> NewAudit {
    NewAudit {
        at_ms,
        actor: actor.to_string(),
        action: action.to_string(),
        entity,
        entity_id: entity_id.to_string(),
        detail,
    }
}

/// Writes a command for `to` into the hub's outbox with its audit record.
async fn send_command(
    tx: &mut (impl Hub + AuditLog + ?Sized),
    actor: &str,
    to: &DeploymentCode,
    kind: CommandKind,
    at_ms: i64,
) -> Result<Command> {
    let command = Command { id: format!("hub:{}", new_id()), at_ms, kind };
    let body = serde_json::to_string(&command)
        .map_err(|e| StoreError::Backend(format!("the command cannot be serialised: {e}")))?;
    tx.append_command(&command.id, to.as_str(), &body, at_ms).await?;
    let detail = json!({ "to": to.as_str(), "command": command });
    tx.append_audit(&audit(actor, "hub.command_sent", "hub_command", &command.id, at_ms, detail)).await?;
    Ok(command)
}
