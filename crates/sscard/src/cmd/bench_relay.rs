//! `sscard bench relay`: outbox events per second relayed to JetStream through the real
//! `OutboxSource` and `run_relay`, next to raw JetStream publishes of the same bodies from the
//! same process in the relay's shape (chunks of a batch, as many out at once), in one run on
//! one NATS server. The relay runs twice: one batch at a time with the cursor saved after each
//! (how it ran before it was pipelined) and as configured.
//!
//! Why raw twice (before and after the relays): the machine is shared, so the baseline is the
//! mean of two measurements around the relays rather than one taken at a different moment.

use anyhow::Context;
use async_trait::async_trait;
use sscard_domain::nation::wire::{DeploymentCode, EVENTS_STREAM, events_subject};
use sscard_nats::relay::RelayConfig;
use sscard_nats::{NatsError, OutboxSource, Outgoing, PublishAckFuture, RelaySource};
use sscard_store::Store;
use sscard_store::model::NewEvent;
use std::collections::VecDeque;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Events seeded per write transaction.
const SEED_CHUNK: usize = 1_000;

/// The real outbox source, telling the bench when the cursor reached the last event, and
/// timing its reads and cursor writes (microseconds, summed).
struct Watched {
    inner: OutboxSource,
    last: i64,
    done: tokio::sync::watch::Sender<bool>,
    read_us: AtomicU64,
    save_us: AtomicU64,
}

fn add_since(total: &AtomicU64, started: Instant) {
    total.fetch_add(u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX), Ordering::Relaxed);
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
        let started = Instant::now();
        let batch = self.inner.next_batch(cursor, limit).await;
        add_since(&self.read_us, started);
        batch
    }
    async fn save_cursor(&self, seq: i64) -> Result<(), NatsError> {
        let started = Instant::now();
        self.inner.save_cursor(seq).await?;
        add_since(&self.save_us, started);
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

/// Raw publishes of `bodies` on `subject` in the relay's shape: chunks of `batch` sent without
/// awaiting, at most `depth` chunks out, the oldest chunk's acks awaited in order.
async fn raw(url: &str, subject: &str, bodies: &[Vec<u8>], shape: RelayConfig) -> anyhow::Result<f64> {
    let js = sscard_nats::connect(url).await?;
    let started = Instant::now();
    let mut out: VecDeque<Vec<PublishAckFuture>> = VecDeque::new();
    for chunk in bodies.chunks(shape.batch as usize) {
        let mut acks = Vec::with_capacity(chunk.len());
        for b in chunk {
            acks.push(js.publish(subject.to_string(), b.clone().into()).await.context("publish")?);
        }
        out.push_back(acks);
        while out.len() >= shape.depth.max(1) {
            for a in out.pop_front().unwrap_or_default() {
                a.await.context("ack")?;
            }
        }
    }
    for a in out.into_iter().flatten() {
        a.await.context("ack")?;
    }
    Ok(bodies.len() as f64 / started.elapsed().as_secs_f64())
}

/// A relay run: events per second, and the seconds spent reading the outbox and saving the cursor.
struct Relayed {
    rate: f64,
    read_s: f64,
    save_s: f64,
}

/// The relay from a cursor of 0 to the last event on `code`'s subject.
async fn relay(
    url: &str,
    store: &Arc<dyn Store>,
    code: &DeploymentCode,
    last: i64,
    config: RelayConfig,
) -> anyhow::Result<Relayed> {
    let (done, mut done_rx) = tokio::sync::watch::channel(false);
    let index = Arc::new(|ssn: &str| ssn.to_string());
    let inner = OutboxSource::new(Arc::clone(store), code.clone(), index);
    let (read_us, save_us) = (AtomicU64::new(0), AtomicU64::new(0));
    let source = Arc::new(Watched { inner, last, done, read_us, save_us });
    source.inner.save_cursor(0).await?;
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let (url, running) = (url.to_string(), Arc::clone(&source));
    let started = Instant::now();
    let task = tokio::spawn(async move { sscard_nats::run_relay(url, &*running, config, stop_rx).await });
    let waited = tokio::time::timeout(Duration::from_secs(600), done_rx.wait_for(|d| *d)).await;
    let elapsed = started.elapsed();
    let _ = stop.send(true);
    let _ = task.await;
    waited.context("the relay did not finish in 600 s")?.context("relay stopped")?;
    let seconds = |us: &AtomicU64| us.load(Ordering::Relaxed) as f64 / 1e6;
    let rate = last as f64 / elapsed.as_secs_f64();
    Ok(Relayed { rate, read_s: seconds(&source.read_us), save_s: seconds(&source.save_us) })
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

/// What `sscard bench relay` is asked.
pub struct Args {
    pub events: usize,
    pub nats_url: String,
    /// Messages per relay batch (and raw chunk).
    pub batch: u32,
    /// Batches out at once (relay and raw alike).
    pub depth: usize,
}

/// `sscard bench relay --events N --nats-url URL [--batch B --depth D]`: raw publishes, the
/// relay one batch at a time (the cursor saved after each: how it ran before it was
/// pipelined), the relay as configured, raw again; the ratios to the mean of the raw rates.
pub async fn relay_bench(args: Args) -> anyhow::Result<ExitCode> {
    let (n, url) = (args.events.clamp(100, 1_000_000), args.nats_url.as_str());
    let config =
        RelayConfig { batch: args.batch.clamp(1, 10_000), depth: args.depth.clamp(1, 64), ..RelayConfig::default() };
    let one_at_a_time = RelayConfig { depth: 1, save_every: Duration::ZERO, ..config };
    let db = sscard_store_sql::sqlite::TempDatabase::new();
    let store = sscard_store_sql::open(&db.url(), sscard_store_sql::DataKeys::ephemeral())
        .await
        .map_err(|e| anyhow::anyhow!("open a temporary SQLite database: {e}"))?;
    let last = seed(store.as_ref(), n).await?;
    // Codes of their own for each run: a second run within JetStream's dedupe window would
    // otherwise be dropped as resends (acknowledged without being stored, much faster).
    let run = uuid_suffix();
    let code = |prefix: &str| DeploymentCode::parse(&format!("{prefix}-{run}")).context("bench code");
    let (serial, piped, raw_code) = (code("BENCH1")?, code("BENCH")?, code("RAW")?);
    let raw_subject = events_subject(&raw_code);
    // The very bodies the relay publishes, read beforehand (outside the timing).
    let probe = OutboxSource::new(Arc::clone(&store), piped.clone(), Arc::new(|s: &str| s.to_string()));
    let body = probe.next_batch(0, 1).await?.into_iter().next().context("no event seeded")?.body.to_vec();
    let bodies = vec![body; n];
    let js = sscard_nats::connect(url).await?;
    sscard_nats::ensure_streams(&js).await?;
    let raw_before = raw(url, &raw_subject, &bodies, config).await?;
    let relayed_serial = relay(url, &store, &serial, last, one_at_a_time).await?;
    let relayed = relay(url, &store, &piped, last, config).await?;
    let raw_after = raw(url, &raw_subject, &bodies, config).await?;
    purge(url, &[&events_subject(&serial), &events_subject(&piped), &raw_subject]).await?;
    store.close().await;
    let raw_mean = f64::midpoint(raw_before, raw_after);
    println!(
        "{n} outbox events of {} bytes; batches of {}, {} out at once; NATS {url}",
        bodies[0].len(),
        config.batch,
        config.depth
    );
    println!("  raw JetStream publishes : {raw_before:>9.0} /s before, {raw_after:>9.0} /s after (same shape)");
    for (name, r) in [("one batch a time", &relayed_serial), ("pipelined       ", &relayed)] {
        let took = n as f64 / r.rate;
        println!(
            "  relay, {name}: {:>9.0} /s  ratio {:.2}  ({took:.2} s; reading the outbox {:.2} s, saving the cursor {:.2} s)",
            r.rate,
            r.rate / raw_mean,
            r.read_s,
            r.save_s
        );
    }
    println!("  goal: the pipelined relay at least 0.5 x raw");
    Ok(ExitCode::SUCCESS)
}

/// Eight uppercase hex digits from the clock, to tell runs apart.
fn uuid_suffix() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
    format!("{:08X}", (nanos & 0xFFFF_FFFF) as u32)
}
