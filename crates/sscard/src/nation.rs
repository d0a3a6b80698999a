//! The nation's background tasks (docs/NATION.md), apart from `serve.rs`: a deployment's
//! outbox relay and command consumer, the hub's event consumer and command relay. Each runs
//! until its shutdown signal; none of them ends on an error (they retry, see `sscard-nats`).

mod probes;

use anyhow::Context;
use async_trait::async_trait;
use sscard_app::nation::CommandOutcome;
use sscard_app::nation::{Nation, NationalIndexKey};
use sscard_domain::access::Actor;
use sscard_domain::nation::wire::{
    COMMANDS_STREAM, Command, DeploymentCode, EVENTS_STREAM, EVENTS_SUBJECTS, NationalEvent, commands_subject,
};
use sscard_nats::consume::ConsumerConfig;
use sscard_nats::relay::RelayConfig;
use sscard_nats::{Delivery, Handled, Handler, NatsError, OutboxSource, Outgoing, RelaySource, Shutdown};
use sscard_server::hub_client::{self, HttpHub};
use sscard_server::keys::KeyManager;
use sscard_server::routes::national::NationalLink;
use sscard_store::Store;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// The hub's command relay cursor in `relay_cursors`.
pub const HUB_COMMANDS_CURSOR: &str = "hub-commands";
use sscard_app::hub::HUB_EVENTS_CONSUMER;

fn now_ms() -> i64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
}

/// Asks the hub for the national index key (`GET /api/v1/hub/index-key`, as a deployment).
pub async fn fetch_index_key(hub_url: &str, secret: &str) -> anyhow::Result<NationalIndexKey> {
    let hub = HttpHub::new(hub_url, secret, hub_client::DEFAULT_TIMEOUT).map_err(|e| anyhow::anyhow!("{e}"))?;
    hub.index_key().await.map_err(|e| anyhow::anyhow!("the hub at {hub_url}: {e}"))
}

/// A deployment's relay: its outbox on `sscard.events.<code>`, `person_index` under `key`.
pub fn spawn_relay(
    store: Arc<dyn Store>,
    code: DeploymentCode,
    key: NationalIndexKey,
    nats_url: String,
    stop: Shutdown,
) -> JoinHandle<()> {
    let index = Arc::new(move |ssn: &str| key.person_index(ssn));
    let source = OutboxSource::new(store, code, index);
    tokio::spawn(async move { sscard_nats::run_relay(nats_url, &source, RelayConfig::default(), stop).await })
}

/// A deployment applying the hub's commands (`sscard_app::nation::handle_command`: once per
/// message id, in the transaction of its effect; acknowledged only after commit).
struct Commands(Arc<dyn Store>);

#[async_trait]
impl Handler for Commands {
    async fn handle(&self, d: &Delivery) -> Handled {
        let command: Command = match serde_json::from_slice(&d.body) {
            Ok(c) => c,
            Err(e) => {
                // Never applicable, whatever the retries: logged and acknowledged.
                tracing::error!(msg_id = d.msg_id.as_str(), "not a hub command: {e}");
                return Handled::Done;
            }
        };
        // The handler names the actor itself (hub/<deployment>); the policy is the default one,
        // as for the scheduled jobs.
        let ctx = sscard_app::Ctx::new(Actor::system("hub"), now_ms(), Default::default());
        match sscard_app::nation::handle_command(&*self.0, &ctx, &d.msg_id, &command).await {
            Ok(CommandOutcome::Retry { reason }) => {
                tracing::info!(msg_id = d.msg_id.as_str(), "hub command waits: {reason}");
                Handled::Retry(Duration::from_secs(5))
            }
            Ok(_) => Handled::Done,
            Err(e) => {
                tracing::warn!(msg_id = d.msg_id.as_str(), "hub command: {e}; redelivered later");
                Handled::Retry(Duration::from_secs(1))
            }
        }
    }
}

/// A deployment's consumer `commands-<code>` on `sscard.commands.<code>`.
pub fn spawn_commands(
    store: Arc<dyn Store>,
    code: &DeploymentCode,
    nats_url: String,
    stop: Shutdown,
) -> JoinHandle<()> {
    let config = ConsumerConfig::new(COMMANDS_STREAM, &format!("commands-{code}"), &commands_subject(code));
    let handler = Commands(store);
    tokio::spawn(async move { sscard_nats::run_consumer(nats_url, config, &handler, stop).await })
}

/// The hub applying every deployment's events (`sscard_app::hub::apply_event`, once
/// per message id in the transaction of its effect).
struct HubEvents(Arc<dyn Store>);

#[async_trait]
impl Handler for HubEvents {
    async fn handle(&self, d: &Delivery) -> Handled {
        let event: NationalEvent = match serde_json::from_slice(&d.body) {
            Ok(e) => e,
            Err(e) => {
                // Never applicable, whatever the retries: logged and acknowledged.
                tracing::error!(msg_id = d.msg_id.as_str(), "not a national event: {e}");
                return Handled::Done;
            }
        };
        match sscard_app::hub::apply_event(&*self.0, &d.msg_id, &event, now_ms()).await {
            Ok(_) => Handled::Done,
            Err(e) => {
                tracing::warn!(msg_id = d.msg_id.as_str(), "hub event: {e}; redelivered later");
                Handled::Retry(Duration::from_secs(1))
            }
        }
    }
}

/// The hub's `hub_commands`, in order, on `sscard.commands.<deployment>`.
struct HubCommands(Arc<dyn Store>);

#[async_trait]
impl RelaySource for HubCommands {
    fn name(&self) -> &str {
        HUB_COMMANDS_CURSOR
    }
    async fn cursor(&self) -> Result<i64, NatsError> {
        let mut tx = self.0.read().await?;
        let seq = tx.relay_cursor(HUB_COMMANDS_CURSOR).await?;
        tx.commit().await?;
        Ok(seq)
    }
    async fn next_batch(&self, cursor: i64, limit: u32) -> Result<Vec<Outgoing>, NatsError> {
        let rows = sscard_app::hub::commands_after(&*self.0, cursor, limit).await?;
        Ok(rows
            .into_iter()
            .map(|r| Outgoing {
                seq: r.seq,
                subject: format!("sscard.commands.{}", r.deployment),
                msg_id: r.id,
                body: r.body.into_bytes().into(),
            })
            .collect())
    }
    async fn save_cursor(&self, seq: i64) -> Result<(), NatsError> {
        let mut tx = self.0.write().await?;
        tx.set_relay_cursor(HUB_COMMANDS_CURSOR, seq).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The hub's two tasks: the `hub-events` consumer and the command relay.
pub fn spawn_hub(
    store: Arc<dyn Store>,
    nats_url: String,
    stop: &tokio::sync::watch::Sender<bool>,
) -> Vec<JoinHandle<()>> {
    let config = ConsumerConfig::new(EVENTS_STREAM, HUB_EVENTS_CONSUMER, EVENTS_SUBJECTS);
    let (events, rx) = (HubEvents(Arc::clone(&store)), stop.subscribe());
    let url = nats_url.clone();
    let consumer = tokio::spawn(async move { sscard_nats::run_consumer(url, config, &events, rx).await });
    let (commands, rx) = (HubCommands(store), stop.subscribe());
    let relay =
        tokio::spawn(async move { sscard_nats::run_relay(nats_url, &commands, RelayConfig::default(), rx).await });
    vec![consumer, relay]
}

/// `sscard relay`: a deployment's outbox relay, apart from the server.
#[derive(clap::Args)]
pub struct RelayArgs {
    /// This deployment's code at the hub.
    #[arg(long)]
    deployment: String,
    /// The hub's base URL (for the national index key).
    #[arg(long)]
    hub_url: String,
    /// The NATS server.
    #[arg(long)]
    nats_url: String,
    /// The secret `sscard hub add-deployment` printed.
    #[arg(long, env = "SSCARD_HUB_SECRET", hide_env_values = true)]
    hub_secret: String,
    #[command(flatten)]
    master: crate::cmd::keys::MasterKeyArgs,
}

/// Runs the relay until Ctrl-C or SIGTERM.
pub async fn relay(url: &str, args: RelayArgs) -> anyhow::Result<std::process::ExitCode> {
    let code = DeploymentCode::parse(&args.deployment).context("--deployment")?;
    let master = args.master.load(url)?;
    let store = crate::cmd::open_with(url, &master).await?;
    let key = fetch_index_key(&args.hub_url, &args.hub_secret).await?;
    let (stop, rx) = tokio::sync::watch::channel(false);
    let task = spawn_relay(Arc::clone(&store), code.clone(), key, args.nats_url.clone(), rx);
    eprintln!("relaying {code}'s outbox to {} (stop with Ctrl-C)", args.nats_url);
    shutdown_signal().await;
    let _ = stop.send(true);
    let _ = task.await;
    store.close().await;
    Ok(std::process::ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
    }
}

/// `sscard serve`'s place in the nation: a deployment (`--deployment`) runs its relay and
/// command consumer, the hub (`--hub`) its event consumer and command relay, both on `--nats-url`.
#[derive(clap::Args)]
pub struct NationArgs {
    /// Run as this deployment of the nation (needs --hub-url, --nats-url, SSCARD_HUB_SECRET).
    #[arg(long, requires_all = ["hub_url", "nats_url"])]
    deployment: Option<String>,
    /// The hub's base URL.
    #[arg(long)]
    hub_url: Option<String>,
    /// The NATS server the nation's streams live on.
    #[arg(long)]
    nats_url: Option<String>,
    /// The deployment's secret from `sscard hub add-deployment`.
    #[arg(long, env = "SSCARD_HUB_SECRET", hide_env_values = true)]
    hub_secret: Option<String>,
}

/// The background tasks of `sscard serve` in the nation; stopped by [`NationTasks::stop`].
pub struct NationTasks {
    stop: tokio::sync::watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    /// A deployment's link to the hub, for the server's approves (`None` on its own or as hub).
    pub link: Option<Arc<Nation>>,
    /// A deployment's way to the hub for the cross-province services.
    pub national: Option<Arc<NationalLink>>,
    /// What the server's `/metrics` reads of the nation at each scrape (see `probes`).
    pub probes: Vec<Arc<dyn sscard_server::metrics::Probe>>,
}

impl NationArgs {
    /// Starts the tasks this server runs: none on its own, the hub's with `hub` and a NATS URL,
    /// a deployment's with `--deployment` (after fetching the national index key and
    /// publishing this deployment's QR issuer keys at the hub).
    pub async fn start(&self, store: &Arc<dyn Store>, hub: bool, keys: &KeyManager) -> anyhow::Result<NationTasks> {
        let (stop, rx) = tokio::sync::watch::channel(false);
        let mut tasks = Vec::new();
        let (mut link, mut national) = (None, None);
        let mut probes: Vec<Arc<dyn sscard_server::metrics::Probe>> = Vec::new();
        if let (true, Some(nats)) = (hub, &self.nats_url) {
            tasks = spawn_hub(Arc::clone(store), nats.clone(), &stop);
            probes.push(Arc::new(probes::HubProbe::new(Arc::clone(store), nats.clone())));
        } else if let (Some(code), Some(hub_url), Some(nats)) = (&self.deployment, &self.hub_url, &self.nats_url) {
            let code = DeploymentCode::parse(code).context("--deployment")?;
            let secret = self.hub_secret.as_deref().context("SSCARD_HUB_SECRET is not set")?;
            let nation = join_the_nation(store, &code, hub_url, secret, keys).await?;
            let key = nation.index_key.clone();
            tasks.push(spawn_relay(Arc::clone(store), code.clone(), key, nats.clone(), rx.clone()));
            tasks.push(spawn_commands(Arc::clone(store), &code, nats.clone(), rx));
            probes.push(Arc::new(probes::DeploymentProbe::new(Arc::clone(store), code.clone(), nats.clone())));
            national = Some(Arc::new(NationalLink {
                deployment: code,
                hub_url: hub_url.clone(),
                secret: secret.to_string(),
                index_key: nation.index_key.clone(),
            }));
            link = Some(nation);
        }
        Ok(NationTasks { stop, tasks, link, national, probes })
    }
}

/// A deployment's link to the hub: the national index key, and its issuer keys made in the
/// key id range the hub gave it and published in the national trust list, so the QR codes it
/// signs verify anywhere in the nation (`sscard_server::trust::join`).
async fn join_the_nation(
    store: &Arc<dyn Store>,
    code: &DeploymentCode,
    hub_url: &str,
    secret: &str,
    keys: &KeyManager,
) -> anyhow::Result<Arc<Nation>> {
    let hub = HttpHub::new(hub_url, secret, hub_client::DEFAULT_TIMEOUT).map_err(|e| anyhow::anyhow!("{e}"))?;
    let index_key = hub.index_key().await.map_err(|e| anyhow::anyhow!("the hub at {hub_url}: {e}"))?;
    let published = sscard_server::trust::join(&hub, keys, store.as_ref(), now_ms())
        .await
        .map_err(|e| anyhow::anyhow!("joining the national trust list at {hub_url}: {e}"))?;
    let ids: Vec<u32> = published.iter().map(|k| k.key_id).collect();
    tracing::info!(key_ids = ?ids, "QR issuer keys published in the national trust list");
    Ok(Arc::new(Nation { deployment: code.clone(), hub: Arc::new(hub), index_key }))
}

impl NationTasks {
    /// Signals every task and waits for them to finish the message at hand.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
    }
}
