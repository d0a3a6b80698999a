//! The nation's figures at `/metrics` (docs/NATION.md, issue 13 item 7), read at each scrape:
//!
//! - a deployment: its outbox relay's lag (rows past the `events` cursor, age of the oldest,
//!   from its database, so it is true wherever the relay runs and even while it cannot), and
//!   its command consumer's lag under its own code (from JetStream);
//! - the hub: its command relay's lag (as the relay lag), the remote stops waiting (its
//!   database), and the lag of its event consumer per registered deployment (JetStream).
//!
//! JetStream is asked over a connection of the probe's own, made at the first scrape and made
//! again after a failure; when NATS cannot be reached the JetStream figures keep their last
//! values (the relay lag, read from the database, then grows and shows it).

use super::HUB_COMMANDS_CURSOR;
use async_trait::async_trait;
use sscard_app::observe::{self, Backlog};
use sscard_domain::nation::wire::{COMMANDS_STREAM, DeploymentCode, EVENTS_STREAM, commands_subject, events_subject};
use sscard_nats::outbox::EVENTS_CURSOR;
use sscard_server::metrics::{MAX_DEPLOYMENTS, Metrics, Probe};
use sscard_store::Store;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

/// How long the JetStream part of a scrape may take (within the server's probe timeout).
const NATS_TIMEOUT: Duration = Duration::from_secs(2);

/// A JetStream connection made when first needed, dropped after a failure.
#[derive(Debug)]
struct Link {
    url: String,
    js: Mutex<Option<sscard_nats::JetStream>>,
}

impl Link {
    fn new(url: String) -> Self {
        Link { url, js: Mutex::new(None) }
    }

    /// Runs `f` on the connection (made now if needed) within [`NATS_TIMEOUT`]; forgets the
    /// connection when it fails.
    async fn with<T, F, Fut>(&self, f: F) -> Option<T>
    where
        F: FnOnce(sscard_nats::JetStream) -> Fut,
        Fut: std::future::Future<Output = Result<T, sscard_nats::NatsError>>,
    {
        let run = async {
            let mut slot = self.js.lock().await;
            let js = match slot.as_ref() {
                Some(js) => js.clone(),
                None => slot.insert(sscard_nats::connect(&self.url).await?).clone(),
            };
            drop(slot);
            f(js).await
        };
        match tokio::time::timeout(NATS_TIMEOUT, run).await {
            Ok(Ok(v)) => Some(v),
            Ok(Err(e)) => {
                tracing::debug!("metrics: JetStream: {e}");
                *self.js.lock().await = None;
                None
            }
            Err(_) => {
                *self.js.lock().await = None;
                None
            }
        }
    }
}

fn now_ms() -> i64 {
    super::now_ms()
}

fn set_relay(metrics: &Metrics, backlog: sscard_store::Result<Backlog>) {
    match backlog {
        Ok(b) => metrics.set_relay_lag(b.rows, b.age_seconds(now_ms())),
        Err(e) => tracing::warn!(error = %e, "metrics: reading the relay's backlog"),
    }
}

/// A deployment's figures.
pub struct DeploymentProbe {
    store: Arc<dyn Store>,
    code: DeploymentCode,
    link: Link,
}

impl DeploymentProbe {
    pub fn new(store: Arc<dyn Store>, code: DeploymentCode, nats_url: String) -> Self {
        DeploymentProbe { store, code, link: Link::new(nats_url) }
    }
}

impl std::fmt::Debug for DeploymentProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeploymentProbe").field("code", &self.code).field("link", &self.link).finish_non_exhaustive()
    }
}

#[async_trait]
impl Probe for DeploymentProbe {
    async fn refresh(&self, metrics: &Metrics) {
        set_relay(metrics, observe::outbox_backlog(self.store.as_ref(), EVENTS_CURSOR).await);
        let (consumer, subject) = (format!("commands-{}", self.code), commands_subject(&self.code));
        let lag = self
            .link
            .with(|js| async move { sscard_nats::lag::consumer_lag(&js, COMMANDS_STREAM, &consumer, &subject).await })
            .await;
        if let Some(lag) = lag {
            metrics.set_consumer_lag(self.code.as_str(), lag.messages, lag.oldest_seconds);
        }
    }
}

/// The hub's figures.
pub struct HubProbe {
    store: Arc<dyn Store>,
    link: Link,
}

impl HubProbe {
    pub fn new(store: Arc<dyn Store>, nats_url: String) -> Self {
        HubProbe { store, link: Link::new(nats_url) }
    }
}

impl std::fmt::Debug for HubProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubProbe").field("link", &self.link).finish_non_exhaustive()
    }
}

#[async_trait]
impl Probe for HubProbe {
    async fn refresh(&self, metrics: &Metrics) {
        let store = self.store.as_ref();
        set_relay(metrics, observe::hub_command_backlog(store, HUB_COMMANDS_CURSOR).await);
        match observe::remote_stops_waiting(store).await {
            Ok(n) => metrics.set_remote_stops_waiting(n),
            Err(e) => tracing::warn!(error = %e, "metrics: counting the remote stops waiting"),
        }
        let codes = match sscard_app::hub::deployments(store).await {
            Ok(all) => all.into_iter().map(|d| d.info.code).take(MAX_DEPLOYMENTS).collect::<Vec<_>>(),
            Err(e) => return tracing::warn!(error = %e, "metrics: listing the deployments"),
        };
        let consumer = sscard_app::hub::HUB_EVENTS_CONSUMER;
        let lags = self
            .link
            .with(|js| async move {
                let mut lags = Vec::with_capacity(codes.len());
                for code in codes {
                    let lag =
                        sscard_nats::lag::subject_lag(&js, EVENTS_STREAM, consumer, &events_subject(&code)).await?;
                    lags.push((code, lag));
                }
                Ok(lags)
            })
            .await;
        for (code, lag) in lags.unwrap_or_default() {
            metrics.set_consumer_lag(code.as_str(), lag.messages, lag.oldest_seconds);
        }
    }
}
