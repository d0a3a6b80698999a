//! The relay and the consumer against a real nats-server and real SQLite files.

mod support;

use async_trait::async_trait;
use sscard_domain::nation::wire::{DeploymentCode, EVENTS_STREAM, NationalEvent};
use sscard_nats::consume::ConsumerConfig;
use sscard_nats::relay::RelayConfig;
use sscard_nats::{Delivery, Handled, Handler, NatsError, OutboxSource, Outgoing, RelaySource};
use sscard_store::Store;
use sscard_store::model::NewEvent;
use sscard_store_sql::sqlite::TempDatabase;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::NatsServer;
use tokio::sync::watch;

async fn store() -> (Arc<dyn Store>, TempDatabase) {
    let db = TempDatabase::new();
    let store = sscard_store_sql::open(&db.url(), sscard_store_sql::DataKeys::ephemeral()).await.expect("open");
    (store, db)
}

async fn append_events(store: &dyn Store, n: usize) {
    let mut tx = store.write().await.expect("write");
    for i in 0..n {
        let e = NewEvent {
            at_ms: 1_000 + i as i64,
            kind: "card.suspended".into(),
            entity: "card",
            entity_id: format!("C{i}"),
            person_id: String::new(),
            region: "350200".into(),
            payload: serde_json::json!({ "i": i }),
        };
        tx.append_event(&e).await.expect("append");
    }
    tx.commit().await.expect("commit");
}

fn code() -> DeploymentCode {
    DeploymentCode::parse("XM").expect("code")
}

fn outbox(store: &Arc<dyn Store>) -> OutboxSource {
    OutboxSource::new(Arc::clone(store), code(), Arc::new(|ssn: &str| format!("idx-{ssn}")))
}

/// Applies each event exactly once into its own database: the effect (a counter and the list
/// of sequences) commits with `first_delivery`; `fail_first` messages are refused once.
struct Applier {
    store: Arc<dyn Store>,
    deliveries: AtomicUsize,
    applied: Mutex<Vec<i64>>,
    fail_first: Mutex<Vec<String>>,
}

impl Applier {
    fn new(store: Arc<dyn Store>, fail_first: &[&str]) -> Arc<Self> {
        let fail_first = Mutex::new(fail_first.iter().map(|s| s.to_string()).collect());
        Arc::new(Self { store, deliveries: AtomicUsize::new(0), applied: Mutex::new(Vec::new()), fail_first })
    }
    async fn applied_in_db(&self) -> i64 {
        let mut tx = self.store.read().await.expect("read");
        let n = tx.relay_cursor("applied").await.expect("count");
        tx.commit().await.expect("commit");
        n
    }
}

#[async_trait]
impl Handler for Applier {
    async fn handle(&self, d: &Delivery) -> Handled {
        self.deliveries.fetch_add(1, Ordering::SeqCst);
        let refuse = {
            let mut f = self.fail_first.lock().expect("lock");
            let before = f.len();
            f.retain(|id| id != &d.msg_id);
            f.len() != before
        };
        if refuse {
            return Handled::Retry(Duration::from_millis(50));
        }
        let event: NationalEvent = serde_json::from_slice(&d.body).expect("a NationalEvent");
        assert_eq!(d.msg_id, format!("XM:{}", event.seq));
        assert_eq!(d.subject, "sscard.events.XM");
        let mut tx = self.store.write().await.expect("write");
        if tx.first_delivery("test", &d.msg_id, 1).await.expect("first") {
            let n = tx.relay_cursor("applied").await.expect("count");
            tx.set_relay_cursor("applied", n + 1).await.expect("count");
            tx.commit().await.expect("commit");
            self.applied.lock().expect("lock").push(event.seq);
        }
        Handled::Done
    }
}

fn consumer(url: &str, applier: &Arc<Applier>, stop: &watch::Sender<bool>) -> tokio::task::JoinHandle<()> {
    let (url, applier, rx) = (url.to_string(), Arc::clone(applier), stop.subscribe());
    let config = ConsumerConfig::new(EVENTS_STREAM, "test", "sscard.events.>");
    tokio::spawn(async move { sscard_nats::run_consumer(url, config, &*applier, rx).await })
}

fn relay(url: &str, source: Arc<dyn RelaySource>, stop: &watch::Sender<bool>) -> tokio::task::JoinHandle<()> {
    let (url, rx) = (url.to_string(), stop.subscribe());
    let config = RelayConfig { batch: 20, idle: Duration::from_millis(20), ..RelayConfig::default() };
    tokio::spawn(async move { sscard_nats::run_relay(url, &*source, config, rx).await })
}

async fn wait_for(what: &str, secs: u64, mut done: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !done().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn stream_messages(url: &str) -> u64 {
    let js = sscard_nats::connect(url).await.expect("connect");
    let mut stream = js.get_stream(EVENTS_STREAM).await.expect("stream");
    stream.info().await.expect("info").state.messages
}

fn in_order(applied: &[i64], n: i64) {
    assert_eq!(applied, (1..=n).collect::<Vec<_>>(), "each event once, in outbox order");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_publishes_every_event_once_in_order() {
    let Some(nats) = NatsServer::start() else { return };
    let (deployment, _d) = store().await;
    let (hub, _h) = store().await;
    append_events(&*deployment, 45).await;
    let (stop, _) = watch::channel(false);
    let source: Arc<dyn RelaySource> = Arc::new(outbox(&deployment));
    let r = relay(&nats.url(), Arc::clone(&source), &stop);
    let applier = Applier::new(hub, &[]);
    let c = consumer(&nats.url(), &applier, &stop);
    wait_for("45 applied", 20, async || applier.applied_in_db().await == 45).await;
    append_events(&*deployment, 5).await;
    wait_for("50 applied", 20, async || applier.applied_in_db().await == 50).await;
    assert_eq!(source.cursor().await.expect("cursor"), 50);
    assert_eq!(stream_messages(&nats.url()).await, 50);
    in_order(&applier.applied.lock().expect("lock"), 50);
    stop.send(true).expect("stop");
    r.await.expect("relay stops");
    c.await.expect("consumer stops");
}

/// The outbox whose cursor save fails the first `n` times: the relay published and died
/// before it could move the cursor.
struct DiesBeforeSaving {
    inner: OutboxSource,
    fails: AtomicUsize,
}

#[async_trait]
impl RelaySource for DiesBeforeSaving {
    fn name(&self) -> &str {
        "dies"
    }
    async fn cursor(&self) -> Result<i64, NatsError> {
        self.inner.cursor().await
    }
    async fn next_batch(&self, cursor: i64, limit: u32) -> Result<Vec<Outgoing>, NatsError> {
        self.inner.next_batch(cursor, limit).await
    }
    async fn save_cursor(&self, seq: i64) -> Result<(), NatsError> {
        if self.fails.fetch_sub(1, Ordering::SeqCst) > 0 {
            return Err(NatsError::JetStream("killed before the cursor moved".into()));
        }
        self.fails.store(0, Ordering::SeqCst);
        self.inner.save_cursor(seq).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_relay_resends_and_the_consumer_applies_once() {
    let Some(nats) = NatsServer::start() else { return };
    let (deployment, _d) = store().await;
    let (hub, _h) = store().await;
    append_events(&*deployment, 60).await;
    let (stop, _) = watch::channel(false);
    // First life: dropped mid-stream (the task aborted whatever it was doing).
    let first = relay(&nats.url(), Arc::new(outbox(&deployment)), &stop);
    let d2 = Arc::clone(&deployment);
    wait_for("a first batch", 20, async || outbox(&d2).cursor().await.expect("cursor") > 0).await;
    first.abort();
    let _ = first.await;
    // Second life: publishes batches and dies twice before saving; the resends are harmless.
    let dies = DiesBeforeSaving { inner: outbox(&deployment), fails: AtomicUsize::new(2) };
    let second = relay(&nats.url(), Arc::new(dies), &stop);
    let applier = Applier::new(hub, &["XM:7", "XM:33"]);
    let c = consumer(&nats.url(), &applier, &stop);
    wait_for("60 applied", 30, async || applier.applied_in_db().await == 60).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(applier.applied_in_db().await, 60, "nothing applied twice");
    let mut applied = applier.applied.lock().expect("lock").clone();
    applied.sort_unstable();
    in_order(&applied, 60);
    assert!(applier.deliveries.load(Ordering::SeqCst) >= 62, "the refused messages came back");
    assert_eq!(stream_messages(&nats.url()).await, 60, "JetStream dropped the resends");
    stop.send(true).expect("stop");
    second.await.expect("relay stops");
    c.await.expect("consumer stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_killed_and_restarted_mid_stream_loses_nothing() {
    let Some(mut nats) = NatsServer::start() else { return };
    let (deployment, _d) = store().await;
    let (hub, _h) = store().await;
    let (stop, _) = watch::channel(false);
    let r = relay(&nats.url(), Arc::new(outbox(&deployment)), &stop);
    let applier = Applier::new(hub, &[]);
    let c = consumer(&nats.url(), &applier, &stop);
    append_events(&*deployment, 30).await;
    wait_for("some applied", 20, async || applier.applied_in_db().await > 0).await;
    nats.kill();
    // Written while NATS is down: the relay keeps them in the outbox.
    append_events(&*deployment, 30).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    nats.restart();
    append_events(&*deployment, 30).await;
    wait_for("90 applied", 60, async || applier.applied_in_db().await == 90).await;
    in_order(&applier.applied.lock().expect("lock"), 90);
    assert_eq!(stream_messages(&nats.url()).await, 90);
    stop.send(true).expect("stop");
    r.await.expect("relay stops");
    c.await.expect("consumer stops");
}

/// The outbox that looks, at each cursor save, how many messages JetStream holds.
struct Checked {
    inner: OutboxSource,
    url: String,
    saves: Mutex<Vec<(i64, u64)>>,
}

#[async_trait]
impl RelaySource for Checked {
    fn name(&self) -> &str {
        "checked"
    }
    async fn cursor(&self) -> Result<i64, NatsError> {
        self.inner.cursor().await
    }
    async fn next_batch(&self, cursor: i64, limit: u32) -> Result<Vec<Outgoing>, NatsError> {
        self.inner.next_batch(cursor, limit).await
    }
    async fn save_cursor(&self, seq: i64) -> Result<(), NatsError> {
        let held = stream_messages(&self.url).await;
        self.saves.lock().expect("lock").push((seq, held));
        self.inner.save_cursor(seq).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pipelined_relay_moves_its_cursor_only_over_acknowledged_messages() {
    let Some(nats) = NatsServer::start() else { return };
    let (deployment, _d) = store().await;
    append_events(&*deployment, 1_000).await;
    let (stop, rx) = watch::channel(false);
    let source = Arc::new(Checked { inner: outbox(&deployment), url: nats.url(), saves: Mutex::new(Vec::new()) });
    // Small batches, several out at once, the cursor written after every acknowledged batch.
    let config = RelayConfig { batch: 50, depth: 4, idle: Duration::from_millis(20), save_every: Duration::ZERO };
    let (url, s) = (nats.url(), Arc::clone(&source));
    let r = tokio::spawn(async move { sscard_nats::run_relay(url, &*s, config, rx).await });
    wait_for("the cursor at 1000", 30, async || source.cursor().await.expect("cursor") == 1_000).await;
    stop.send(true).expect("stop");
    r.await.expect("relay stops");
    let saves = source.saves.lock().expect("lock").clone();
    assert!(saves.len() >= 10, "a save per acknowledged batch or so: {saves:?}");
    assert!(saves.windows(2).all(|w| w[0].0 < w[1].0), "the cursor only moves forward: {saves:?}");
    assert!(saves.iter().all(|&(seq, held)| held >= seq as u64), "saved past what JetStream holds: {saves:?}");
    assert_eq!(stream_messages(&nats.url()).await, 1_000);
}
