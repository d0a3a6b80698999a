//! `sscard bench relay`: outbox events per second relayed to JetStream through the real
//! `OutboxSource` and `run_relay`, next to raw JetStream publishes of the same bodies from the
//! same process with the same in-flight depth (a relay batch), in one run on one NATS server.
//!
//! Why raw twice (before and after the relay): the machine is shared, so the baseline is the
//! mean of two measurements around the relay rather than one taken at a different moment.

use anyhow::Context;
use async_trait::async_trait;
use sscard_domain::nation::wire::{DeploymentCode, EVENTS_STREAM, events_subject};
use sscard_nats::relay::RelayConfig;
use sscard_nats::{NatsError, OutboxSource, Outgoing, RelaySource};
use sscard_store::Store;
use sscard_store::model::NewEvent;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Events seeded per write transaction.
const SEED_CHUNK: usize = 1_000;

/// The real outbox source, telling the bench when the cursor reached the last event.
struct Watched {
    inner: OutboxSource,
    last: i64,
    done: tokio::sync::watch::Sender<bool>,
}

#[async_trait]
impl RelaySource for Watched {
    fn name(&self) -> &str {
        self.inner.name()
    }
    async fn cursor(&self) -> Result<i64, NatsError> {
        self.inner.cursor().await
    }
    async fn next_batch(&self, cursor: i64, limit: u32) -> Result<Vec<Outgoing>, NatsError> {
        self.inner.next_batch(cursor, limit).await
    }
    async fn save_cursor(&self, seq: i64) -> Result<(), NatsError> {
        self.inner.save_cursor(seq).await?;
        if seq >= self.last {
            let _ = self.done.send(true);
        }
        Ok(())
    }
}

/// Seeds `n` events shaped like a card lifecycle event; answers the last sequence.
async fn seed(store: &dyn Store, n: usize) -> anyhow::Result<i64> {
    let mut last = 0;
    for start in (0..n).step_by(SEED_CHUNK) {
        let mut tx = store.write().await?;
        for i in start..(start + SEED_CHUNK).min(n) {
            let e = NewEvent {
                at_ms: 1_700_000_000_000 + i as i64,
                kind: "card.suspended".into(),
                entity: "card",
                entity_id: format!("0193a1b2-0000-7000-8000-{i:012}"),
                person_id: String::new(),
                region: "350203".into(),
                payload: serde_json::json!({ "from": "active", "to": "suspended", "reason": "holder_request" }),
            };
            last = tx.append_event(&e).await?;
        }
        tx.commit().await?;
    }
    Ok(last)
}

/// Raw publishes of `bodies` on `subject`: a relay batch in flight, acks awaited in order.
async fn raw(url: &str, subject: &str, bodies: &[Vec<u8>], depth: usize) -> anyhow::Result<f64> {
    let js = sscard_nats::connect(url).await?;
    let started = Instant::now();
    for chunk in bodies.chunks(depth) {
        let mut acks = Vec::with_capacity(chunk.len());
        for b in chunk {
            acks.push(js.publish(subject.to_string(), b.clone().into()).await.context("publish")?);
        }
        for a in acks {
            a.await.context("ack")?;
        }
    }
    Ok(bodies.len() as f64 / started.elapsed().as_secs_f64())
}

/// The relay from a cursor of 0 to the last event; answers events per second.
async fn relay(url: &str, store: &Arc<dyn Store>, code: &DeploymentCode, last: i64, n: usize) -> anyhow::Result<f64> {
    let (done, mut done_rx) = tokio::sync::watch::channel(false);
    let index = Arc::new(|ssn: &str| ssn.to_string());
    let source = Watched { inner: OutboxSource::new(Arc::clone(store), code.clone(), index), last, done };
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let url = url.to_string();
    let started = Instant::now();
    let task = tokio::spawn(async move { sscard_nats::run_relay(url, &source, RelayConfig::default(), stop_rx).await });
    let waited = tokio::time::timeout(Duration::from_secs(600), done_rx.wait_for(|d| *d)).await;
    let elapsed = started.elapsed();
    let _ = stop.send(true);
    let _ = task.await;
    waited.context("the relay did not finish in 600 s")?.context("relay stopped")?;
    Ok(n as f64 / elapsed.as_secs_f64())
}

/// Removes what the bench put in the stream.
async fn purge(url: &str, subjects: &[&str]) -> anyhow::Result<()> {
    let js = sscard_nats::connect(url).await?;
    let stream = js.get_stream(EVENTS_STREAM).await.context("the events stream")?;
    for s in subjects {
        stream.purge().filter(s.to_string()).await.context("purge")?;
    }
    Ok(())
}

/// `sscard bench relay --events N --nats-url URL`.
pub async fn relay_bench(events: usize, nats_url: &str) -> anyhow::Result<ExitCode> {
    let n = events.clamp(100, 1_000_000);
    let db = sscard_store_sql::sqlite::TempDatabase::new();
    let store = sscard_store_sql::open(&db.url(), sscard_store_sql::DataKeys::ephemeral())
        .await
        .map_err(|e| anyhow::anyhow!("open a temporary SQLite database: {e}"))?;
    let last = seed(store.as_ref(), n).await?;
    // A code of its own for each run: a second run within JetStream's dedupe window would
    // otherwise be dropped as resends (acknowledged without being stored, much faster).
    let run = uuid_suffix();
    let code = DeploymentCode::parse(&format!("BENCH-{run}")).context("bench code")?;
    let raw_subject = events_subject(&DeploymentCode::parse(&format!("RAW-{run}")).context("raw code")?);
    // The very bodies the relay publishes, read beforehand (outside the timing).
    let probe = OutboxSource::new(Arc::clone(&store), code.clone(), Arc::new(|s: &str| s.to_string()));
    let bodies: Vec<Vec<u8>> = probe.next_batch(0, 1).await?.into_iter().map(|o| o.body.to_vec()).collect();
    let body = bodies.first().context("no event seeded")?.clone();
    let bodies = vec![body; n];
    let depth = RelayConfig::default().batch as usize;
    let js = sscard_nats::connect(nats_url).await?;
    sscard_nats::ensure_streams(&js).await?;
    let raw_before = raw(nats_url, &raw_subject, &bodies, depth).await?;
    let relayed = relay(nats_url, &store, &code, last, n).await?;
    let raw_after = raw(nats_url, &raw_subject, &bodies, depth).await?;
    purge(nats_url, &[&events_subject(&code), &raw_subject]).await?;
    store.close().await;
    let raw_mean = f64::midpoint(raw_before, raw_after);
    println!("{n} outbox events of {} bytes, {depth} in flight, NATS {nats_url}", bodies[0].len());
    println!("  raw JetStream publishes : {raw_before:>9.0} /s before, {raw_after:>9.0} /s after");
    println!("  outbox relay            : {relayed:>9.0} /s  (OutboxSource + run_relay: read, publish, acks, cursor)");
    println!("  ratio                   : {:>9.2}  (relay / mean of raw; goal >= 0.5)", relayed / raw_mean);
    Ok(ExitCode::SUCCESS)
}

/// Eight uppercase hex digits from the clock, to tell runs apart.
fn uuid_suffix() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
    format!("{:08X}", (nanos & 0xFFFF_FFFF) as u32)
}
