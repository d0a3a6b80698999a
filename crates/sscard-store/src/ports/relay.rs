//! The port of the nation's transport (docs/NATION.md): relay cursors and the record of the
//! messages a consumer has applied.

use crate::Result;
use async_trait::async_trait;

/// What a relay and a JetStream consumer keep in the database, so that a crash anywhere
/// neither loses nor doubles a message.
#[async_trait]
pub trait Inbox: Send {
    /// The last sequence the relay `name` has had acknowledged; 0 if it never ran.
    async fn relay_cursor(&mut self, name: &str) -> Result<i64>;
    /// Moves the relay `name`'s cursor to `seq` (after JetStream acknowledged up to it).
    async fn set_relay_cursor(&mut self, name: &str, seq: i64) -> Result<()>;
    /// Records that `consumer` applies message `msg_id`, in the transaction of its effect.
    /// True the first time; false when the message was already applied (a redelivery, or a
    /// resend older than the stream's dedupe window), and then the caller changes nothing.
    async fn first_delivery(&mut self, consumer: &str, msg_id: &str, at_ms: i64) -> Result<bool>;
    /// The outbox after `seq` in order, at most `limit` (<= 10,000), as
    /// [`crate::ports::Outbox::events_after`] answers it, read the way a relay reads fastest
    /// (on SQLite the rows packed into one, so they cross to the caller at once).
    async fn events_for_relay(&mut self, seq: i64, limit: u32) -> Result<Vec<crate::model::Event>>;
}
