//! The SQL of the [`ports::Inbox`] port (migration 0016): relay cursors, the messages a
//! consumer has applied, and the relay's read of the outbox. Same text on SQLite and
//! PostgreSQL but for that read.

use super::rows::{int, text};
use super::tx::SqlTx;
use crate::{Db, Dialect};
use async_trait::async_trait;
use sscard_store::model::Event;
use sscard_store::ports;
use sscard_store::{Result, StoreError};

/// One outbox row as SQLite's `json_array` packs it.
type PackedEvent = (i64, i64, String, String, String, String, String, serde_json::Value);

/// The outbox after `$1`, at most `$2` rows, packed into one JSON array of arrays. sqlx runs
/// SQLite on a worker thread and hands each row over to the caller on its own (a wake-up per
/// row); one row of a few hundred kilobytes crosses once. `json(payload)` keeps the payload
/// JSON rather than a string.
const PACKED_EVENTS: &str = "SELECT json_group_array(json_array(seq, at_ms, kind, entity, entity_id, person_id, \
    region, json(payload))) AS rows FROM (SELECT seq, at_ms, kind, entity, entity_id, person_id, region, payload \
    FROM events WHERE seq > $1 ORDER BY seq LIMIT $2)";

#[async_trait]
impl ports::Inbox for SqlTx {
    async fn relay_cursor(&mut self, name: &str) -> Result<i64> {
        let row = sqlx::query("SELECT seq FROM relay_cursors WHERE name = $1")
            .bind(name)
            .fetch_optional(self.conn())
            .await
            .db()?;
        row.map_or(Ok(0), |r| int(&r, "seq"))
    }

    async fn set_relay_cursor(&mut self, name: &str, seq: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO relay_cursors (name, seq) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET seq = excluded.seq",
        )
        .bind(name)
        .bind(seq)
        .execute(self.conn())
        .await
        .db()?;
        Ok(())
    }

    async fn first_delivery(&mut self, consumer: &str, msg_id: &str, at_ms: i64) -> Result<bool> {
        // ON CONFLICT DO NOTHING: a concurrent instance applying the same message waits on the
        // row and then finds it, so only one of them applies the effect.
        let done = sqlx::query(
            "INSERT INTO consumed_messages (consumer, msg_id, at_ms) VALUES ($1, $2, $3) ON CONFLICT (consumer, msg_id) DO NOTHING",
        )
        .bind(consumer)
        .bind(msg_id)
        .bind(at_ms)
        .execute(self.conn())
        .await
        .db()?;
        Ok(done.rows_affected() == 1)
    }

    async fn events_for_relay(&mut self, seq: i64, limit: u32) -> Result<Vec<Event>> {
        if self.dialect() == Dialect::Postgres {
            // The rows come over the connection together already.
            return ports::Outbox::events_after(self, seq, limit).await;
        }
        let row = sqlx::query(PACKED_EVENTS)
            .bind(seq)
            .bind(i64::from(limit.clamp(1, 10_000)))
            .fetch_one(self.conn())
            .await
            .db()?;
        let packed: Vec<PackedEvent> = serde_json::from_str(&text(&row, "rows")?)
            .map_err(|e| StoreError::corrupt(format!("the outbox after {seq}: {e}")))?;
        let mut events: Vec<Event> = packed
            .into_iter()
            .map(|(seq, at_ms, kind, entity, entity_id, person_id, region, payload)| Event {
                seq,
                at_ms,
                kind,
                entity,
                entity_id,
                person_id,
                region,
                payload,
            })
            .collect();
        // An aggregate's order is its input's in SQLite, but no standard promises it.
        events.sort_unstable_by_key(|e| e.seq);
        Ok(events)
    }
}
