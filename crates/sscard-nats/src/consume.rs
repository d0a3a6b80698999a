//! A durable pull consumer that applies each message exactly once.
//!
//! The handler gets one message at a time, in stream order, and is expected to commit its
//! effect together with `Inbox::first_delivery(consumer, msg_id)`. The message is acked only
//! after the handler returned; a retryable failure naks it with a delay (JetStream redelivers
//! it), so nothing is lost, and a redelivery of an applied message finds its id and changes
//! nothing. At most `max_ack_pending` messages are out unacknowledged (bounded in flight).
//! Several instances with the same durable name share the messages.

use crate::relay::connect_with_streams;
use crate::{NatsError, Shutdown, backoff, js_err, pause};
use async_nats::jetstream::{self, AckKind, consumer::pull};
use async_trait::async_trait;
use bytes::Bytes;
use futures_util::StreamExt;
use std::time::Duration;

/// One message as the handler sees it.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The `Nats-Msg-Id` header (empty when the publisher set none).
    pub msg_id: String,
    pub subject: String,
    pub body: Bytes,
}

/// What the handler made of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    /// Applied now, or already applied before: ack.
    Done,
    /// Cannot be applied now (a database down, a busy row): redeliver after the delay.
    Retry(Duration),
}

/// Applies messages; one per call.
#[async_trait]
pub trait Handler: Send + Sync {
    async fn handle(&self, delivery: &Delivery) -> Handled;
}

/// Which consumer to run.
#[derive(Debug, Clone)]
pub struct ConsumerConfig {
    pub stream: String,
    pub durable_name: String,
    pub filter_subject: String,
    /// Unacknowledged messages at most.
    pub max_ack_pending: i64,
    /// Redelivered if not acked within this (a crashed instance's messages).
    pub ack_wait: Duration,
}

impl ConsumerConfig {
    pub fn new(stream: &str, durable_name: &str, filter_subject: &str) -> Self {
        Self {
            stream: stream.to_string(),
            durable_name: durable_name.to_string(),
            filter_subject: filter_subject.to_string(),
            max_ack_pending: 256,
            ack_wait: Duration::from_secs(30),
        }
    }
}

fn delivery(m: &async_nats::Message) -> Delivery {
    let header = |name: &str| m.headers.as_ref().and_then(|h| h.get(name)).map(|v| v.as_str().to_string());
    let msg_id = header("Nats-Msg-Id").or_else(|| header(crate::MSG_ID_HEADER));
    if msg_id.is_none() {
        tracing::warn!(subject = m.subject.as_str(), headers = ?m.headers, "a message without an id");
    }
    Delivery { msg_id: msg_id.unwrap_or_default(), subject: m.subject.to_string(), body: m.payload.clone() }
}

async fn consumer_of(js: &jetstream::Context, c: &ConsumerConfig) -> Result<pull::Stream, NatsError> {
    let stream = js.get_stream(&c.stream).await.map_err(js_err)?;
    let consumer: jetstream::consumer::PullConsumer = stream
        .get_or_create_consumer(
            &c.durable_name,
            pull::Config {
                durable_name: Some(c.durable_name.clone()),
                filter_subject: c.filter_subject.clone(),
                ack_policy: jetstream::consumer::AckPolicy::Explicit,
                max_ack_pending: c.max_ack_pending,
                ack_wait: c.ack_wait,
                ..Default::default()
            },
        )
        .await
        .map_err(js_err)?;
    let batch = usize::try_from(c.max_ack_pending.clamp(1, 1_000)).unwrap_or(100);
    consumer.stream().max_messages_per_batch(batch).messages().await.map_err(js_err)
}

/// Takes messages until the stream fails or shutdown; Ok(true) when shut down.
async fn consume(
    js: &jetstream::Context,
    c: &ConsumerConfig,
    handler: &dyn Handler,
    shutdown: &mut Shutdown,
) -> Result<bool, NatsError> {
    let mut messages = consumer_of(js, c).await?;
    loop {
        let next = tokio::select! {
            next = messages.next() => next,
            _ = shutdown.changed() => return Ok(true),
        };
        let Some(next) = next else { return Err(NatsError::JetStream("the message stream ended".into())) };
        let m = next.map_err(js_err)?;
        let kind = match handler.handle(&delivery(&m)).await {
            Handled::Done => AckKind::Ack,
            Handled::Retry(after) => AckKind::Nak(Some(after)),
        };
        m.ack_with(kind).await.map_err(js_err)?;
        if *shutdown.borrow() {
            return Ok(true);
        }
    }
}

/// Runs the consumer until `shutdown`, reconnecting with backoff after any error.
pub async fn run_consumer(url: String, config: ConsumerConfig, handler: &dyn Handler, mut shutdown: Shutdown) {
    let mut delay = Duration::ZERO;
    loop {
        if pause(&mut shutdown, delay).await {
            return;
        }
        let result = match connect_with_streams(&url).await {
            Ok(js) => consume(&js, &config, handler, &mut shutdown).await,
            Err(e) => Err(e),
        };
        match result {
            Ok(true) => return,
            Ok(false) => delay = Duration::ZERO,
            Err(e) => {
                tracing::warn!(consumer = config.durable_name.as_str(), "{e}; reconnecting");
                delay = backoff(delay);
            }
        }
    }
}
