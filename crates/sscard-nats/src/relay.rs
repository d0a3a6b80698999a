//! The generic relay: a table read in order after a cursor, published to JetStream.
//!
//! One batch at a time: every message of the batch is sent before any ack is awaited (many
//! in flight, one connection), then the acks are awaited in order, then the cursor moves to
//! the batch's last sequence. Any error drops the batch and retries it from the saved cursor
//! after a backoff, on a fresh connection if needed: a message is never skipped, and the
//! resend is harmless (same `Nats-Msg-Id`).

use crate::{NatsError, Shutdown, backoff, js_err, pause};
use async_nats::jetstream::{self, context::Publish};
use async_trait::async_trait;
use bytes::Bytes;
use std::time::Duration;

/// One message to publish.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    /// The row's sequence; the cursor moves to it once acknowledged.
    pub seq: i64,
    pub subject: String,
    /// `Nats-Msg-Id`, stable across resends.
    pub msg_id: String,
    pub body: Bytes,
}

/// Where a relay reads from and keeps its cursor.
#[async_trait]
pub trait RelaySource: Send + Sync {
    /// The relay's name in logs.
    fn name(&self) -> &str;
    /// The saved cursor (0 if none).
    async fn cursor(&self) -> Result<i64, NatsError>;
    /// The next messages after `cursor`, in order, at most `limit`.
    async fn next_batch(&self, cursor: i64, limit: u32) -> Result<Vec<Outgoing>, NatsError>;
    /// Saves the cursor after JetStream acknowledged everything up to `seq`.
    async fn save_cursor(&self, seq: i64) -> Result<(), NatsError>;
}

/// How a relay paces itself.
#[derive(Debug, Clone, Copy)]
pub struct RelayConfig {
    /// Messages per batch, all in flight at once.
    pub batch: u32,
    /// Sleep when there is nothing new.
    pub idle: Duration,
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self { batch: 500, idle: Duration::from_millis(200) }
    }
}

/// Publishes one batch and awaits its acks in order; returns the last sequence acknowledged.
pub async fn publish_batch(js: &jetstream::Context, batch: &[Outgoing]) -> Result<Option<i64>, NatsError> {
    let mut acks = Vec::with_capacity(batch.len());
    for m in batch {
        // `Nats-Msg-Id` is for the stream's dedupe; the copy reaches the consumer whatever the
        // server does with the former.
        let publish = Publish::build()
            .payload(m.body.clone())
            .message_id(&m.msg_id)
            .header(crate::MSG_ID_HEADER, m.msg_id.as_str());
        acks.push(js.send_publish(m.subject.clone(), publish).await.map_err(js_err)?);
    }
    for ack in acks {
        ack.await.map_err(js_err)?;
    }
    Ok(batch.last().map(|m| m.seq))
}

/// One pass: read after the cursor, publish, save. Returns how many were sent.
async fn relay_once(
    js: &jetstream::Context,
    source: &dyn RelaySource,
    config: RelayConfig,
) -> Result<usize, NatsError> {
    let cursor = source.cursor().await?;
    let batch = source.next_batch(cursor, config.batch).await?;
    if let Some(last) = publish_batch(js, &batch).await? {
        source.save_cursor(last).await?;
    }
    Ok(batch.len())
}

pub(crate) async fn connect_with_streams(url: &str) -> Result<jetstream::Context, NatsError> {
    let js = crate::connect(url).await?;
    crate::ensure_streams(&js).await?;
    Ok(js)
}

/// Runs the relay until `shutdown`: connects to `url` (again after a failure), then relays
/// batch after batch. Errors are logged and retried with backoff; they never end the loop.
pub async fn run_relay(url: String, source: &dyn RelaySource, config: RelayConfig, mut shutdown: Shutdown) {
    let mut delay = Duration::ZERO;
    let mut js: Option<jetstream::Context> = None;
    loop {
        if pause(&mut shutdown, delay).await {
            return;
        }
        let ctx = match &js {
            Some(ctx) => ctx.clone(),
            None => match connect_with_streams(&url).await {
                Ok(ctx) => js.insert(ctx).clone(),
                Err(e) => {
                    tracing::warn!(relay = source.name(), "{e}");
                    delay = backoff(delay);
                    continue;
                }
            },
        };
        match relay_once(&ctx, source, config).await {
            Ok(0) => delay = config.idle,
            Ok(_) => delay = Duration::ZERO,
            Err(e) => {
                tracing::warn!(relay = source.name(), "relay: {e}; retrying from the saved cursor");
                js = None;
                delay = backoff(delay);
            }
        }
    }
}
