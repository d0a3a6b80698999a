//! The nation's transport over NATS JetStream (DESIGN.md §7.1, docs/NATION.md).
//!
//! Why it looks like this: the databases are the source of truth and JetStream only carries
//! what they already committed. A relay ([`relay`]) reads a table in order (the outbox, the
//! hub's commands) after a cursor kept in the same database, publishes with a stable
//! `Nats-Msg-Id`, and moves the cursor only after JetStream acknowledged every message up to
//! it; a killed relay therefore resends, never skips, and the resend is deduplicated by the
//! stream's window and by the consumer. A consumer ([`consume`]) acknowledges only after its
//! handler committed the effect together with the message id (`Inbox::first_delivery`), so a
//! crash between commit and ack redelivers a message that then changes nothing. Any side may be
//! down for hours: both loops retry with backoff and pick up where the database says.

pub mod consume;
pub mod lag;
pub mod outbox;
pub mod relay;

use async_nats::jetstream::{self, stream};
use sscard_domain::nation::wire::{COMMANDS_STREAM, COMMANDS_SUBJECTS, EVENTS_STREAM, EVENTS_SUBJECTS};
use std::time::Duration;

pub use async_nats::jetstream::Context as JetStream;
pub use async_nats::jetstream::context::PublishAckFuture;
pub use consume::{Delivery, Handled, Handler, run_consumer};
pub use outbox::OutboxSource;
pub use relay::{Outgoing, RelaySource, run_relay};

/// How long JetStream remembers a `Nats-Msg-Id` to drop a resend. Longer outages are covered
/// by the consumers' own record of applied messages.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(5 * 60);

/// The message id as the consumers read it (a copy of `Nats-Msg-Id`).
pub const MSG_ID_HEADER: &str = "Sscard-Msg-Id";

/// Tells a loop to stop: it finishes the message at hand and returns.
pub type Shutdown = tokio::sync::watch::Receiver<bool>;

/// What can go wrong on the wire.
#[derive(Debug, thiserror::Error)]
pub enum NatsError {
    #[error("cannot connect to NATS at {url}: {detail}")]
    Connect { url: String, detail: String },
    #[error("JetStream: {0}")]
    JetStream(String),
    #[error("store: {0}")]
    Store(#[from] sscard_store::StoreError),
}

fn js_err(e: impl std::fmt::Display) -> NatsError {
    NatsError::JetStream(e.to_string())
}

/// Connects to NATS (the client then reconnects by itself) and returns its JetStream context.
pub async fn connect(url: &str) -> Result<jetstream::Context, NatsError> {
    let client = async_nats::ConnectOptions::new()
        .connection_timeout(Duration::from_secs(5))
        .connect(url)
        .await
        .map_err(|e| NatsError::Connect { url: url.to_string(), detail: e.to_string() })?;
    Ok(jetstream::new(client))
}

/// Creates the two streams if they are not there (file storage, the dedupe window above).
pub async fn ensure_streams(js: &jetstream::Context) -> Result<(), NatsError> {
    for (name, subjects) in [(EVENTS_STREAM, EVENTS_SUBJECTS), (COMMANDS_STREAM, COMMANDS_SUBJECTS)] {
        js.get_or_create_stream(stream::Config {
            name: name.to_string(),
            subjects: vec![subjects.to_string()],
            storage: stream::StorageType::File,
            duplicate_window: DUPLICATE_WINDOW,
            ..Default::default()
        })
        .await
        .map_err(js_err)?;
    }
    Ok(())
}

/// Waits `delay` or until shutdown; true when the loop should stop.
pub(crate) async fn pause(shutdown: &mut Shutdown, delay: Duration) -> bool {
    if *shutdown.borrow() {
        return true;
    }
    tokio::select! {
        _ = tokio::time::sleep(delay) => *shutdown.borrow(),
        _ = shutdown.changed() => true,
    }
}

/// The next backoff after a failure: doubles up to 10 s.
pub(crate) fn backoff(previous: Duration) -> Duration {
    (previous * 2).clamp(Duration::from_millis(100), Duration::from_secs(10))
}
