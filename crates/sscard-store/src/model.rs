//! Records the store keeps besides the domain's own types: banks, outbox events,
//! audit rows, users, sessions, idempotency records, list filters.

use serde::{Deserialize, Serialize};
use sscard_domain::access::Role;
use sscard_domain::ids::{BankCode, Bin, BranchCode, RegionCode};

/// Largest page any list returns.
pub const MAX_PAGE: u32 = 500;

/// A partner bank.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bank {
    pub code: BankCode,
    pub name: String,
    pub bin: Bin,
}

/// A bank branch; `has_printer` branches can issue cards on the spot (立等可取).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Branch {
    pub bank_code: BankCode,
    pub code: BranchCode,
    pub name: String,
    pub region: RegionCode,
    pub has_printer: bool,
}

/// An outbox event to append in the current transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    pub at_ms: i64,
    /// e.g. "card.suspended", "application.approved".
    pub kind: String,
    pub entity: &'static str,
    pub entity_id: String,
    pub person_id: String,
    pub region: String,
    pub payload: serde_json::Value,
}

/// A stored outbox event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub seq: i64,
    pub at_ms: i64,
    pub kind: String,
    pub entity: String,
    pub entity_id: String,
    pub person_id: String,
    pub region: String,
    pub payload: serde_json::Value,
}

/// An audit record to append in the current transaction (sealed into the chain later).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAudit {
    pub at_ms: i64,
    pub actor: String,
    pub action: String,
    pub entity: &'static str,
    pub entity_id: String,
    pub detail: serde_json::Value,
}

/// A stored audit record; `chain_pos`, `prev_hash` and `hash` are set when sealed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    pub seq: i64,
    pub at_ms: i64,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub detail: String,
    pub chain_pos: Option<i64>,
    pub prev_hash: Option<String>,
    pub hash: Option<String>,
}

/// A login account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub username: String,
    #[serde(skip_serializing)]
    pub password_hash: String,
    pub role: Role,
    pub person_id: Option<String>,
    pub bank_code: Option<String>,
    /// A teller's own branch (of `bank_code`), which the desk starts from.
    #[serde(default)]
    pub branch_code: Option<String>,
    pub created_at_ms: i64,
}

/// A login session; only the SM3 hash of the bearer token is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub token_hash: String,
    pub username: String,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
}

/// The first outcome of a request carrying an Idempotency-Key: the use case's typed
/// outcome, serialised, from which the caller renders the first answer and every replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdemRecord {
    /// Who asked and where: the same key from two users never collides.
    pub scope: String,
    pub key: String,
    /// SM3 of method, path and body: a different request under the same key is refused.
    pub request_hash: String,
    /// What the first request answered.
    pub outcome: IdemOutcome,
    /// When the first request ran (its `now`): a replay renders as of then.
    pub created_at_ms: i64,
}

/// What an idempotency record keeps of the first answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdemOutcome {
    /// The use case's typed outcome as JSON (serde); the caller renders it (stored with
    /// status 0).
    Typed(String),
    /// A record written before typed outcomes: the HTTP status and body answered then,
    /// replayed as they are (stored with that nonzero status).
    Legacy { status: u16, body: String },
}

/// The request side of idempotency, carried into an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idem {
    pub scope: String,
    pub key: String,
    pub request_hash: String,
}

/// A page of a list: `after` is the last id seen (keyset paging), `limit` at most [`MAX_PAGE`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    pub after: Option<String>,
    pub limit: u32,
}

impl Page {
    pub fn first(limit: u32) -> Self {
        Page { after: None, limit }
    }
    pub fn bounded_limit(&self) -> i64 {
        self.limit.clamp(1, MAX_PAGE) as i64
    }
}

/// Which applications to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppFilter {
    pub status: Option<String>,
    pub bank_code: Option<String>,
    pub person_id: Option<String>,
    pub page: Page,
}

/// One bucket of a statistic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Count {
    pub key: String,
    pub count: i64,
}

/// Counts for `GET /stats/overview`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overview {
    pub persons: i64,
    pub applications_by_channel: Vec<Count>,
    pub applications_by_status: Vec<Count>,
    pub cards_by_status: Vec<Count>,
    pub cards_by_generation: Vec<Count>,
    pub cards_by_bank: Vec<Count>,
}

/// A QR issuer key as stored: the private key is SM4-GCM sealed (hex) by the server's key manager.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerKeyRow {
    pub key_id: u32,
    pub public_key_pem: String,
    /// `nonce || ciphertext || tag` of the PKCS#8 DER private key, hex; never the plain key.
    pub private_key_sealed: String,
    pub not_before_ms: i64,
    pub not_after_ms: i64,
    pub created_at_ms: i64,
}

/// One change of the revocation feed: after `seq`, e-card `ecard_id` is usable or not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevocationChange {
    pub seq: i64,
    pub ecard_id: String,
    pub usable: bool,
}

/// A staff look at a person's unmasked data (who saw my data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonRead {
    pub id: String,
    pub person_id: String,
    pub at_ms: i64,
    /// The staff member's username.
    pub actor: String,
    pub role: String,
    pub bank_code: Option<String>,
    /// What was seen: `person`, `person_by_number`.
    pub what: String,
}
