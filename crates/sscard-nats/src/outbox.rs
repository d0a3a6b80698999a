//! A deployment's outbox as a [`RelaySource`]: each committed event, in order, as a
//! [`NationalEvent`] on `sscard.events.<deployment>` with `Nats-Msg-Id` `<deployment>:<seq>`.
//! The cursor is `relay_cursors.events`.

use crate::NatsError;
use crate::relay::{Outgoing, RelaySource};
use async_trait::async_trait;
use bytes::Bytes;
use sscard_domain::nation::wire::{DeploymentCode, NationalEvent, event_msg_id, events_subject};
use sscard_store::Store;
use sscard_store::model::Event;
use std::collections::HashMap;
use std::sync::Arc;

/// The cursor's name in `relay_cursors`.
pub const EVENTS_CURSOR: &str = "events";

/// The national blind index of an SSN (HMAC-SM3 under the hub's index key).
pub type PersonIndex = Arc<dyn Fn(&str) -> String + Send + Sync>;

/// The outbox of one deployment.
pub struct OutboxSource {
    store: Arc<dyn Store>,
    deployment: DeploymentCode,
    subject: String,
    person_index: PersonIndex,
}

impl OutboxSource {
    pub fn new(store: Arc<dyn Store>, deployment: DeploymentCode, person_index: PersonIndex) -> Self {
        let subject = events_subject(&deployment);
        Self { store, deployment, subject, person_index }
    }

    fn outgoing(&self, e: Event, index: Option<String>) -> Result<Outgoing, NatsError> {
        let body = NationalEvent {
            deployment: self.deployment.clone(),
            seq: e.seq,
            at_ms: e.at_ms,
            kind: e.kind,
            entity: e.entity,
            entity_id: e.entity_id,
            person_id: e.person_id,
            person_index: index,
            region: e.region,
            payload: e.payload,
        };
        let body = serde_json::to_vec(&body).map_err(|e| NatsError::JetStream(format!("event body: {e}")))?;
        Ok(Outgoing {
            seq: e.seq,
            subject: self.subject.clone(),
            msg_id: event_msg_id(&self.deployment, e.seq),
            body: Bytes::from(body),
        })
    }
}

#[async_trait]
impl RelaySource for OutboxSource {
    fn name(&self) -> &str {
        EVENTS_CURSOR
    }

    async fn cursor(&self) -> Result<i64, NatsError> {
        let mut tx = self.store.read().await?;
        let seq = tx.relay_cursor(EVENTS_CURSOR).await?;
        tx.commit().await?;
        Ok(seq)
    }

    async fn next_batch(&self, cursor: i64, limit: u32) -> Result<Vec<Outgoing>, NatsError> {
        let mut tx = self.store.read().await?;
        let events = tx.events_for_relay(cursor, limit).await?;
        // Each person of the batch is read once, however many of its events the batch holds.
        let mut ssns: HashMap<String, Option<String>> = HashMap::new();
        for e in &events {
            if !e.person_id.is_empty() && !ssns.contains_key(&e.person_id) {
                let person = tx.get_person(&e.person_id, false).await?;
                ssns.insert(e.person_id.clone(), person.map(|p| p.ssn.to_string()));
            }
        }
        tx.commit().await?;
        events
            .into_iter()
            .map(|e| {
                let index = ssns.get(&e.person_id).cloned().flatten().map(|ssn| (self.person_index)(&ssn));
                self.outgoing(e, index)
            })
            .collect()
    }

    async fn save_cursor(&self, seq: i64) -> Result<(), NatsError> {
        let mut tx = self.store.write().await?;
        tx.set_relay_cursor(EVENTS_CURSOR, seq).await?;
        tx.commit().await?;
        Ok(())
    }
}
