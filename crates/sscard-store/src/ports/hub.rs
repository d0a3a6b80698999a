//! The port of the national hub (migration 0017, docs/NATION.md): registered deployments,
//! the national index, remote stops, the hub's command outbox, the nation's issuer keys and
//! the merged revocation feed. Only a hub writes these tables.

use crate::Result;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use sscard_domain::nation::hub::{DeploymentInfo, IndexEntry};

/// Most rows any list of this port answers at once.
pub const MAX_HUB_ROWS: u32 = 10_000;

/// A registered deployment (its secret is kept only as a hash, never read back).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentRow {
    pub info: DeploymentInfo,
    /// Its place in the order of registration (1 for the first): its QR issuer key ids are
    /// `sscard_domain::nation::trust::KeyIdRange::of_ordinal(ordinal)` (migration 0022).
    pub ordinal: u32,
    pub created_at_ms: i64,
}

/// A remote stop (异地停用): `requester` waits for `holder` to release the person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteStop {
    pub id: String,
    pub person_index: String,
    pub holder: String,
    pub requester: String,
    /// The requester's own person id.
    pub person_id: String,
    /// The requester's application that waits.
    pub application_id: String,
    /// waiting | done
    pub status: String,
    pub created_at_ms: i64,
    pub done_at_ms: Option<i64>,
}

/// One command of the hub's outbox, as the command relay publishes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubCommandRow {
    pub seq: i64,
    /// The `Nats-Msg-Id`.
    pub id: String,
    /// Published on `sscard.commands.<deployment>`.
    pub deployment: String,
    /// The JSON of a `sscard_domain::nation::wire::Command`.
    pub body: String,
    pub at_ms: i64,
}

/// A deployment's QR issuer key as the hub serves it (times in seconds, as the local list).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HubKeyRow {
    pub key_id: i64,
    pub deployment: String,
    pub region: String,
    pub public_key_pem: String,
    pub not_before: i64,
    pub not_after: i64,
}

/// One change of the merged revocation feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubRevocationRow {
    pub seq: i64,
    pub deployment: String,
    pub ecard_id: String,
    pub usable: bool,
    pub at_ms: i64,
}

/// What the hub remembers.
#[async_trait]
pub trait Hub: Send {
    /// Registers a deployment with the next ordinal (one more than the highest, so ordinals
    /// are never reused) and answers it; a taken code is `StoreError::Duplicate`.
    async fn insert_deployment(&mut self, d: &DeploymentInfo, secret_hash: &str, now_ms: i64) -> Result<u32>;
    /// The deployment whose secret has this hash.
    async fn deployment_by_secret(&mut self, secret_hash: &str) -> Result<Option<DeploymentRow>>;
    async fn get_deployment(&mut self, code: &str) -> Result<Option<DeploymentRow>>;
    /// All deployments by code (at most [`MAX_HUB_ROWS`]).
    async fn list_deployments(&mut self) -> Result<Vec<DeploymentRow>>;
    /// The person's entry of the national index, created empty if missing, and locked until
    /// commit: claims and events about one person are decided one after the other.
    async fn lock_index_entry(&mut self, person_index: &str, now_ms: i64) -> Result<IndexEntry>;
    /// Writes the entry taken by [`Hub::lock_index_entry`].
    async fn put_index_entry(&mut self, entry: &IndexEntry, now_ms: i64) -> Result<()>;
    /// The entry without a lock (None when the hub never heard of the person).
    async fn get_index_entry(&mut self, person_index: &str) -> Result<Option<IndexEntry>>;
    async fn insert_remote_stop(&mut self, stop: &RemoteStop) -> Result<()>;
    async fn get_remote_stop(&mut self, id: &str) -> Result<Option<RemoteStop>>;
    /// The person's waiting remote stops, oldest first (at most 100).
    async fn waiting_stops(&mut self, person_index: &str) -> Result<Vec<RemoteStop>>;
    /// Marks a waiting stop done.
    async fn finish_remote_stop(&mut self, id: &str, now_ms: i64) -> Result<()>;
    /// A waiting stop now waits for `holder` (the one it waited for released the person, and
    /// another deployment holds it now).
    async fn retarget_remote_stop(&mut self, id: &str, holder: &str) -> Result<()>;
    /// How many remote stops wait, across all persons.
    async fn count_waiting_stops(&mut self) -> Result<i64>;
    /// Appends a command to the hub's outbox; returns its sequence number.
    async fn append_command(&mut self, id: &str, deployment: &str, body: &str, at_ms: i64) -> Result<i64>;
    /// Committed commands after `seq` in order, at most `limit` (<= [`MAX_HUB_ROWS`]). On
    /// PostgreSQL only commands below the oldest running transaction are visible, so a late
    /// commit never slips behind the relay's cursor.
    async fn commands_after(&mut self, seq: i64, limit: u32) -> Result<Vec<HubCommandRow>>;
    /// The highest visible command's sequence number (visible as for [`Hub::commands_after`]), 0 if none.
    async fn max_command_seq(&mut self) -> Result<i64>;
    async fn get_hub_key(&mut self, key_id: i64) -> Result<Option<HubKeyRow>>;
    /// Stores a key, or replaces the row of the same id (the caller checked its owner).
    async fn put_hub_key(&mut self, key: &HubKeyRow) -> Result<()>;
    /// Every deployment's keys by id (at most [`MAX_HUB_ROWS`]).
    async fn hub_keys(&mut self) -> Result<Vec<HubKeyRow>>;
    /// Appends a change of the merged revocation feed; returns its sequence number.
    async fn append_revocation(&mut self, deployment: &str, ecard_id: &str, usable: bool, at_ms: i64) -> Result<i64>;
    /// E-card ids whose latest change says not usable, after `after` in id order.
    async fn revoked_ecards(&mut self, after: Option<&str>, limit: u32) -> Result<Vec<String>>;
    /// Committed changes after `seq` in order (visible as for [`Hub::commands_after`]).
    async fn revocations_after(&mut self, seq: i64, limit: u32) -> Result<Vec<HubRevocationRow>>;
    /// The highest visible change's sequence number, 0 if none.
    async fn max_revocation_seq(&mut self) -> Result<i64>;
}
