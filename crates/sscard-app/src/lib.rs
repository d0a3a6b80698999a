//! Use cases. Each one opens a transaction, loads what the rule needs, asks
//! `sscard-domain` to decide, writes the change with its outbox event and audit
//! record, and commits: all or nothing. Access checks come from `sscard_domain::access`.

pub mod admin;
pub mod applications;
pub mod audit;
pub mod auth;
pub mod bank_files;
pub mod benefits;
pub mod cards;
pub mod csv_rows;
pub mod ecard;
pub mod export;
pub mod fields;
pub mod hub;
pub mod idem;
pub mod import;
pub mod jobs;
pub mod live;
pub mod nation;
pub mod nation_medical;
pub mod national;
pub mod observe;
pub mod onecard;
pub mod persons;

use sscard_domain::access::Actor;
use sscard_domain::clock::china_date;
use sscard_domain::policy::Policy;
use sscard_store::model::{Idem, IdemOutcome, IdemRecord, NewAudit, NewEvent};
use sscard_store::ports::{AuditLog, Idempotency};
use sscard_store::{Result, StoreError};
use time::Date;

/// Everything an operation needs besides its arguments: who, when, under which rules.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub actor: Actor,
    pub now_ms: i64,
    pub policy: Policy,
    /// PBKDF2 iterations for PINs and passwords (tests lower it; production keeps the default).
    pub hash_iterations: u32,
    /// Set when the request carried an Idempotency-Key.
    pub idem: Option<Idem>,
    /// This deployment in the nation (the hub is asked before approving); `None` when the
    /// deployment stands alone.
    pub nation: Option<std::sync::Arc<nation::Nation>>,
}

impl Ctx {
    pub fn new(actor: Actor, now_ms: i64, policy: Policy) -> Self {
        Ctx {
            actor,
            now_ms,
            policy,
            hash_iterations: sscard_gm::password::DEFAULT_PASSWORD_ITERATIONS,
            idem: None,
            nation: None,
        }
    }
    pub fn today(&self) -> Date {
        china_date(self.now_ms)
    }
    pub fn with_idem(mut self, idem: Option<Idem>) -> Self {
        self.idem = idem;
        self
    }
    /// The same context in the nation (or alone, with `None`).
    pub fn with_nation(mut self, nation: Option<std::sync::Arc<nation::Nation>>) -> Self {
        self.nation = nation;
        self
    }
}

/// The subject a change is about, for its event and audit record.
pub(crate) struct Subject<'a> {
    pub entity: &'static str,
    pub entity_id: &'a str,
    pub person_id: &'a str,
    pub region: String,
}

/// Writes the outbox event and the audit record of one change, in the caller's transaction.
pub(crate) async fn record(
    tx: &mut (impl AuditLog + ?Sized),
    ctx: &Ctx,
    kind: &str,
    subject: &Subject<'_>,
    payload: serde_json::Value,
) -> Result<()> {
    let (event, audit) = record_rows(ctx, kind, subject, payload);
    tx.append_record(&event, &audit).await.map(|_| ())
}

/// The event and the audit record of a change, for an operation that writes them together
/// with its other rows.
pub(crate) fn record_rows(
    ctx: &Ctx,
    kind: &str,
    subject: &Subject<'_>,
    payload: serde_json::Value,
) -> (NewEvent, NewAudit) {
    let event = NewEvent {
        at_ms: ctx.now_ms,
        kind: kind.to_string(),
        entity: subject.entity,
        entity_id: subject.entity_id.to_string(),
        person_id: subject.person_id.to_string(),
        region: subject.region.clone(),
        payload: payload.clone(),
    };
    let audit = NewAudit {
        at_ms: ctx.now_ms,
        actor: ctx.actor.name.clone(),
        action: kind.to_string(),
        entity: subject.entity,
        entity_id: subject.entity_id.to_string(),
        detail: payload,
    };
    (event, audit)
}

/// Stores the typed outcome (serialised) under the request's Idempotency-Key, in the same
/// transaction as the change; the caller renders the first answer and every replay from it.
pub(crate) async fn remember_answer<T: serde::Serialize>(
    tx: &mut (impl Idempotency + ?Sized),
    ctx: &Ctx,
    outcome: &T,
) -> Result<()> {
    let Some(idem) = &ctx.idem else { return Ok(()) };
    let outcome = serde_json::to_string(outcome)
        .map_err(|e| StoreError::Backend(format!("the outcome cannot be serialised: {e}")))?;
    tx.put_idempotency(&IdemRecord {
        scope: idem.scope.clone(),
        key: idem.key.clone(),
        request_hash: idem.request_hash.clone(),
        outcome: IdemOutcome::Typed(outcome),
        created_at_ms: ctx.now_ms,
    })
    .await
}

/// A fresh time-ordered id (UUID v7) for new rows.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

pub(crate) fn not_found(what: &'static str, id: &str) -> StoreError {
    StoreError::not_found(what, id)
}
