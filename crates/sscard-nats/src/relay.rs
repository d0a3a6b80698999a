//! The generic relay: a table read in order after a cursor, published to JetStream.
//!
//! Pipelined: batches are read ahead (up to [`RelayConfig::depth`] waiting) while every
//! message of the batch before is sent (many in flight, one connection) and the acks of
//! earlier batches are still on their way; at most [`RelayConfig::depth`] batches are out at
//! once, their acks awaited in order, oldest batch first. The cursor moves only to the last
//! sequence of a batch whose every message (and every earlier one) JetStream acknowledged, and
//! is written at most every [`RelayConfig::save_every`] while busy and always when the relay
//! caught up. Any error drops everything in flight and retries from the saved cursor after a
//! backoff, on a fresh connection if needed: a message is never skipped, and a resend is
//! harmless (same `Nats-Msg-Id`: JetStream's dedupe window drops it, and consumers record what
//! they applied).

use crate::{NatsError, Shutdown, backoff, js_err, pause};
use async_nats::jetstream::{self, context::Publish, context::PublishAckFuture};
use async_trait::async_trait;
use bytes::Bytes;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

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
    /// Messages per batch (one read of the source).
    pub batch: u32,
    /// Batches out at once: read and sent while the acks of earlier ones are awaited.
    pub depth: usize,
    /// Sleep when there is nothing new.
    pub idle: Duration,
    /// While busy, the cursor is written at most this often (it is always written when the
    /// relay caught up); a relay killed in between resends what it had not recorded.
    pub save_every: Duration,
}

impl Default for RelayConfig {
    /// Tuned with `sscard bench relay` (BENCHMARKS.md): batches of 500, two out at once, the
    /// cursor written every 100 ms while busy; 50 ms between looks when idle, each a read of
    /// one indexed row, so a remote stop's three relay hops wait little.
    fn default() -> Self {
        Self { batch: 500, depth: 2, idle: Duration::from_millis(50), save_every: Duration::from_millis(100) }
    }
}

/// Sends every message of a batch without awaiting any ack; answers the acks in order.
async fn send_batch(js: &jetstream::Context, batch: &[Outgoing]) -> Result<Vec<PublishAckFuture>, NatsError> {
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
    Ok(acks)
}

async fn await_acks(acks: Vec<PublishAckFuture>) -> Result<(), NatsError> {
    for ack in acks {
        ack.await.map_err(js_err)?;
    }
    Ok(())
}

/// Publishes one batch and awaits its acks in order; returns the last sequence acknowledged.
pub async fn publish_batch(js: &jetstream::Context, batch: &[Outgoing]) -> Result<Option<i64>, NatsError> {
    await_acks(send_batch(js, batch).await?).await?;
    Ok(batch.last().map(|m| m.seq))
}

/// Where one run of the relay stands: what is read and sent, and what is acknowledged and saved.
struct Pipeline {
    /// The last sequence read and sent.
    sent: i64,
    /// Batches sent and not yet acknowledged, oldest first: (last sequence, acks).
    in_flight: VecDeque<(i64, Vec<PublishAckFuture>)>,
    /// The last sequence acknowledged (with everything before it) and whether it is saved.
    acked: i64,
    saved: i64,
    saved_at: Instant,
}

impl Pipeline {
    /// Awaits the oldest batch's acks; saves the cursor if it is due (or `force`).
    async fn settle_oldest(&mut self, source: &dyn RelaySource, every: Duration) -> Result<(), NatsError> {
        if let Some((last, acks)) = self.in_flight.pop_front() {
            await_acks(acks).await?;
            self.acked = last;
        }
        if self.acked > self.saved && self.saved_at.elapsed() >= every {
            self.save(source).await?;
        }
        Ok(())
    }

    async fn save(&mut self, source: &dyn RelaySource) -> Result<(), NatsError> {
        if self.acked > self.saved {
            source.save_cursor(self.acked).await?;
            self.saved = self.acked;
            self.saved_at = Instant::now();
        }
        Ok(())
    }
}

/// Reads batches after `cursor` into `out` until the source has nothing new, shutdown, or
/// the publisher is gone.
async fn read_ahead(
    source: &dyn RelaySource,
    config: RelayConfig,
    cursor: i64,
    shutdown: &Shutdown,
    out: tokio::sync::mpsc::Sender<Vec<Outgoing>>,
) -> Result<(), NatsError> {
    let mut next = cursor;
    while !*shutdown.borrow() {
        let batch = source.next_batch(next, config.batch).await?;
        let Some(last) = batch.last().map(|m| m.seq) else { break };
        next = last;
        if out.send(batch).await.is_err() {
            break;
        }
    }
    Ok(())
}

/// Publishes the batches as they come, [`RelayConfig::depth`] out at once, and moves the
/// cursor behind their acks; once the reader is done, awaits the rest and saves the cursor.
async fn publish_all(
    js: &jetstream::Context,
    source: &dyn RelaySource,
    config: RelayConfig,
    cursor: i64,
    mut batches: tokio::sync::mpsc::Receiver<Vec<Outgoing>>,
) -> Result<(usize, i64), NatsError> {
    let mut p =
        Pipeline { sent: cursor, in_flight: VecDeque::new(), acked: cursor, saved: cursor, saved_at: Instant::now() };
    let mut count = 0;
    while let Some(batch) = batches.recv().await {
        let Some(last) = batch.last().map(|m| m.seq) else { continue };
        let acks = send_batch(js, &batch).await?;
        count += batch.len();
        p.sent = last;
        p.in_flight.push_back((last, acks));
        while p.in_flight.len() >= config.depth.max(1) {
            p.settle_oldest(source, config.save_every).await?;
        }
    }
    while !p.in_flight.is_empty() {
        p.settle_oldest(source, config.save_every).await?;
    }
    p.save(source).await?;
    Ok((count, p.saved))
}

/// Relays from `cursor` (the saved one) until the source has nothing new or shutdown, then
/// awaits what is in flight and saves the cursor. The reading runs beside the publishing (up
/// to `depth` batches ahead), so the database and JetStream work at the same time. Answers how
/// many messages were sent and the cursor saved.
async fn relay_until_idle(
    js: &jetstream::Context,
    source: &dyn RelaySource,
    config: RelayConfig,
    cursor: i64,
    shutdown: &Shutdown,
) -> Result<(usize, i64), NatsError> {
    let (tx, rx) = tokio::sync::mpsc::channel(config.depth.max(1));
    let (read, published) =
        tokio::join!(read_ahead(source, config, cursor, shutdown, tx), publish_all(js, source, config, cursor, rx));
    // What was acknowledged is saved even when the reading failed; the error still retries.
    let done = published?;
    read?;
    Ok(done)
}

pub(crate) async fn connect_with_streams(url: &str) -> Result<jetstream::Context, NatsError> {
    let js = crate::connect(url).await?;
    crate::ensure_streams(&js).await?;
    Ok(js)
}

/// Runs the relay until `shutdown`: connects to `url` (again after a failure), then relays
/// whatever is new, looking again every `idle`. Errors are logged and retried with backoff
/// from the saved cursor (read again from the source); they never end the loop.
pub async fn run_relay(url: String, source: &dyn RelaySource, config: RelayConfig, mut shutdown: Shutdown) {
    let mut delay = Duration::ZERO;
    let mut js: Option<jetstream::Context> = None;
    // The saved cursor as this loop knows it; None: read it from the source.
    let mut cursor: Option<i64> = None;
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
        let run = async {
            let from = match cursor {
                Some(c) => c,
                None => source.cursor().await?,
            };
            relay_until_idle(&ctx, source, config, from, &shutdown).await
        };
        match run.await {
            Ok((_, saved)) => {
                cursor = Some(saved);
                delay = config.idle;
            }
            Err(e) => {
                tracing::warn!(relay = source.name(), "relay: {e}; retrying from the saved cursor");
                (js, cursor) = (None, None);
                delay = backoff(delay);
            }
        }
    }
}
