//! The port for the outbox and the audit log.

use crate::Result;
use crate::model::{AuditRow, Event, NewAudit, NewEvent};
use async_trait::async_trait;

/// The outbox: every change's event, in commit order.
#[async_trait]
pub trait Outbox: Send {
    /// Appends an outbox event; returns its sequence number.
    async fn append_event(&mut self, event: &NewEvent) -> Result<i64>;
    /// Committed events after `seq` in order, at most `limit`.
    async fn events_after(&mut self, seq: i64, limit: u32) -> Result<Vec<Event>>;
    /// The highest committed (visible, as for [`Tx::events_after`]) event sequence number, 0 if none.
    async fn max_event_seq(&mut self) -> Result<i64>;
}

/// The audit log: written with each change, sealed into a hash chain afterwards.
#[async_trait]
pub trait AuditLog: super::Outbox + Send {
    async fn append_audit(&mut self, record: &NewAudit) -> Result<()>;
    /// Appends a change's outbox event and its audit record together; returns the event's
    /// sequence number. Backends that can do it in one statement override this.
    async fn append_record(&mut self, event: &NewEvent, audit: &NewAudit) -> Result<i64> {
        let seq = self.append_event(event).await?;
        self.append_audit(audit).await?;
        Ok(seq)
    }
    /// Appends many changes' events and audit records (a chunk of a batch), in order; in a
    /// few multi-row statements where the backend can.
    async fn append_records(&mut self, records: &[(NewEvent, NewAudit)]) -> Result<()> {
        for (event, audit) in records {
            self.append_record(event, audit).await?;
        }
        Ok(())
    }
    /// Audit rows not yet sealed into the chain, by sequence.
    async fn unsealed_audit(&mut self, limit: u32) -> Result<Vec<AuditRow>>;
    /// The chain head (position, hash), locked until commit so only one sealer runs.
    async fn lock_audit_head(&mut self) -> Result<(i64, String)>;
    async fn seal_audit(&mut self, seq: i64, chain_pos: i64, prev_hash: &str, hash: &str) -> Result<()>;
    async fn set_audit_head(&mut self, chain_pos: i64, hash: &str) -> Result<()>;
    /// Sealed rows with chain position after `after_pos`, in chain order.
    async fn audit_chain(&mut self, after_pos: i64, limit: u32) -> Result<Vec<AuditRow>>;
    async fn audit_of_entity(&mut self, entity: &str, entity_id: &str, limit: u32) -> Result<Vec<AuditRow>>;
    /// The audit records of the given cards (entity `card`), oldest first, at most `limit`.
    async fn card_audits(&mut self, card_nos: &[String], limit: u32) -> Result<Vec<AuditRow>>;
}
