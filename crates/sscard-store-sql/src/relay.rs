//! The SQL of the [`ports::Inbox`] port (migration 0016): relay cursors and the messages a
//! consumer has applied. Same text on SQLite and PostgreSQL.

use super::rows::int;
use super::tx::SqlTx;
use crate::Db;
use async_trait::async_trait;
use sscard_store::Result;
use sscard_store::ports;

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
}
