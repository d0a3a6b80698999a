//! Figures a running server shows at `/metrics` (issue 13 item 7), read from the store when
//! they are scraped: how far a relay is behind its table, the hub's remote stops waiting, and
//! the newest benefit batches. Reading them at scrape time, rather than having each loop
//! report them, keeps them true when the loop is stuck or runs in another process (`sscard
//! relay`), and touches no hot path. Each is a few indexed reads in one read transaction.

use sscard_store::Result;
use sscard_store::benefits::BatchRow;
use sscard_store::tx::Store;

/// What a relay has yet to publish: rows past its cursor and the time of the oldest.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Backlog {
    /// Rows after the cursor (the head's sequence minus the cursor: on PostgreSQL a rolled-back
    /// transaction leaves a gap in the sequence, so this is an upper bound there).
    pub rows: u64,
    /// `at_ms` of the oldest row after the cursor; None when there is none.
    pub oldest_at_ms: Option<i64>,
}

impl Backlog {
    fn new(head: i64, cursor: i64, oldest_at_ms: Option<i64>) -> Self {
        let rows = u64::try_from(head.saturating_sub(cursor)).unwrap_or(0);
        Backlog { rows, oldest_at_ms: if rows == 0 { None } else { oldest_at_ms } }
    }

    /// Age of the oldest row at `now_ms`, in seconds (0 when nothing waits).
    pub fn age_seconds(&self, now_ms: i64) -> f64 {
        self.oldest_at_ms.map_or(0.0, |at| now_ms.saturating_sub(at).max(0) as f64 / 1000.0)
    }
}

/// A deployment's outbox behind the relay whose cursor is `cursor` in `relay_cursors`.
pub async fn outbox_backlog(store: &dyn Store, cursor: &str) -> Result<Backlog> {
    let mut tx = store.read().await?;
    let at = tx.relay_cursor(cursor).await?;
    let head = tx.max_event_seq().await?;
    let oldest = if head > at { tx.events_after(at, 1).await?.first().map(|e| e.at_ms) } else { None };
    tx.commit().await?;
    Ok(Backlog::new(head, at, oldest))
}

/// The hub's command outbox (`hub_commands`) behind the command relay whose cursor is `cursor`.
pub async fn hub_command_backlog(store: &dyn Store, cursor: &str) -> Result<Backlog> {
    let mut tx = store.read().await?;
    let at = tx.relay_cursor(cursor).await?;
    let head = tx.max_command_seq().await?;
    let oldest = if head > at { tx.commands_after(at, 1).await?.first().map(|c| c.at_ms) } else { None };
    tx.commit().await?;
    Ok(Backlog::new(head, at, oldest))
}

/// The hub's remote stops recorded and not yet done.
pub async fn remote_stops_waiting(store: &dyn Store) -> Result<u64> {
    let mut tx = store.read().await?;
    let n = tx.count_waiting_stops().await?;
    tx.commit().await?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// The newest `limit` benefit batches (at most 1,000), newest first, as they stand.
pub async fn recent_batches(store: &dyn Store, limit: u32) -> Result<Vec<BatchRow>> {
    let mut tx = store.read().await?;
    let rows = tx.list_batches(None, limit.clamp(1, 1000)).await?;
    tx.commit().await?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backlog_counts_past_the_cursor_and_ages_its_oldest() {
        let b = Backlog::new(10, 4, Some(1_000));
        assert_eq!(b.rows, 6);
        assert_eq!(b.age_seconds(3_500), 2.5);
        let none = Backlog::new(4, 4, Some(1_000));
        assert_eq!((none.rows, none.age_seconds(9_000)), (0, 0.0), "nothing waits: no age");
        assert_eq!(Backlog::new(3, 4, None).rows, 0, "a cursor past the visible head is no lag");
    }
}
