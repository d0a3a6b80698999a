//! How far a durable consumer is behind, as JetStream sees it (for `/metrics`): the messages
//! it has yet to take and acknowledge, and the age of the oldest of them.
//!
//! A consumer reading one subject (a deployment's `commands-<code>`) is asked directly: its
//! pending plus its unacknowledged messages. The hub's `hub-events` reads every deployment's
//! subject at once, and JetStream counts pending per consumer, not per subject; so per
//! deployment the oldest message after the consumer's ack floor on that subject and the newest
//! one are fetched, and counted by the publisher's own sequence in their message ids
//! (`<deployment>:<seq>`, gap-free per deployment as the outbox relay sends every row).

use crate::{MSG_ID_HEADER, NatsError, js_err};
use async_nats::jetstream::{self, message::StreamMessage, stream::LastRawMessageErrorKind};
use std::time::SystemTime;

/// A stream handle without its info (none is needed here).
type Stream = jetstream::stream::Stream<()>;

/// A backlog: messages yet to be taken and acknowledged, and the age of the oldest.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Lag {
    pub messages: u64,
    /// Seconds since the oldest waiting message entered the stream (0 when none waits).
    pub oldest_seconds: f64,
}

fn age_seconds(m: &StreamMessage) -> f64 {
    let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default().as_nanos();
    let at = u128::try_from(m.time.unix_timestamp_nanos()).unwrap_or(0);
    now.saturating_sub(at) as f64 / 1e9
}

/// The message with the lowest stream sequence >= `from` on `subject`, if any.
async fn first_from(stream: &Stream, subject: &str, from: u64) -> Result<Option<StreamMessage>, NatsError> {
    match stream.get_first_raw_message_by_subject(subject, from).await {
        Ok(m) => Ok(Some(m)),
        Err(e) if e.kind() == LastRawMessageErrorKind::NoMessageFound => Ok(None),
        Err(e) => Err(js_err(e)),
    }
}

/// The ack floor (every message up to it is acknowledged) and the consumer's whole backlog.
async fn floor_and_backlog(stream: &Stream, consumer: &str) -> Result<(u64, u64), NatsError> {
    let info = stream.consumer_info(consumer).await.map_err(js_err)?;
    let backlog = info.num_pending.saturating_add(u64::try_from(info.num_ack_pending).unwrap_or(u64::MAX));
    Ok((info.ack_floor.stream_sequence, backlog))
}

/// The backlog of `consumer` (of `stream`) whose filter is the one `subject`.
pub async fn consumer_lag(
    js: &jetstream::Context,
    stream: &str,
    consumer: &str,
    subject: &str,
) -> Result<Lag, NatsError> {
    let stream = js.get_stream_no_info(stream).await.map_err(js_err)?;
    let (floor, messages) = floor_and_backlog(&stream, consumer).await?;
    if messages == 0 {
        return Ok(Lag::default());
    }
    let oldest = first_from(&stream, subject, floor + 1).await?;
    Ok(Lag { messages, oldest_seconds: oldest.as_ref().map_or(0.0, age_seconds) })
}

/// The publisher's sequence in a message id `<prefix>:<seq>`.
fn ordinal(m: &StreamMessage) -> Option<u64> {
    let id = m.headers.get(MSG_ID_HEADER).or_else(|| m.headers.get("Nats-Msg-Id"))?;
    id.as_str().rsplit_once(':')?.1.parse().ok()
}

/// The backlog of `consumer` (of `stream`, reading more subjects) on `subject` alone, counted
/// by the sequences in the message ids of its oldest waiting and its newest message.
pub async fn subject_lag(
    js: &jetstream::Context,
    stream: &str,
    consumer: &str,
    subject: &str,
) -> Result<Lag, NatsError> {
    let stream = js.get_stream_no_info(stream).await.map_err(js_err)?;
    let (floor, _) = floor_and_backlog(&stream, consumer).await?;
    let Some(oldest) = first_from(&stream, subject, floor + 1).await? else { return Ok(Lag::default()) };
    let newest = match stream.get_last_raw_message_by_subject(subject).await {
        Ok(m) => m,
        Err(e) if e.kind() == LastRawMessageErrorKind::NoMessageFound => return Ok(Lag::default()),
        Err(e) => return Err(js_err(e)),
    };
    // Without sequences in the ids (another publisher), at least the oldest is known to wait.
    let messages = match (ordinal(&oldest), ordinal(&newest)) {
        (Some(first), Some(last)) if last >= first => last - first + 1,
        _ => 1,
    };
    Ok(Lag { messages, oldest_seconds: age_seconds(&oldest) })
}
