//! Shared state of the running server.

use crate::login_limit::LoginLimiter;
use sscard_app::Ctx;
use sscard_domain::access::Actor;
use sscard_domain::clock::Clock;
use sscard_domain::policy::Policy;
use sscard_store::{Idem, Store};
use std::sync::Arc;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub policy: Policy,
    /// PBKDF2 iterations for new passwords and PINs.
    pub hash_iterations: u32,
    pub limiter: Arc<LoginLimiter>,
    /// The header a trusted reverse proxy puts the client address in (none: the peer address).
    pub client_header: Option<axum::http::HeaderName>,
    /// Progress of batch uploads running in the background.
    pub batches: Arc<Batches>,
    /// QR issuer keys and the verifier holding them (parsed once, reloaded when keys change).
    pub keys: Arc<crate::keys::KeyManager>,
    /// Recently looked-up sessions for the verification hot path.
    pub sessions: Arc<crate::session_cache::SessionCache>,
    /// QR tokens already used for a staff login (no replay within their lifetime).
    pub used_login_tokens: Arc<crate::session_cache::UsedLoginTokens>,
    /// E-cards with their card and holder, for online verification without a database read
    /// (a set that holds nothing when the store cannot report its commits).
    pub live: Arc<sscard_app::live::LiveEcards>,
    /// Recently authenticated terminals.
    pub terminals: Arc<crate::terminal_auth::TerminalCache>,
    /// The demo logins (username, role) the login page lists when serving `--demo`; empty otherwise.
    pub demo_logins: Arc<Vec<(String, sscard_domain::access::Role)>>,
    /// The demo accounts' password, shown beside them.
    pub demo_password: Arc<str>,
    /// This deployment in the nation (`serve --deployment`): approves ask the hub first.
    pub nation: Option<Arc<sscard_app::nation::Nation>>,
    /// The way to the hub for the cross-province services (empty: not in a nation).
    pub national: crate::routes::national::NationalSlot,
    /// The hub's merged QR issuer keys, cached for QR codes of other deployments.
    pub trust: Arc<crate::trust::NationalTrust>,
    /// Set when the server runs as the national hub (`serve --hub`): the key of the national
    /// blind index it hands to deployments; the hub's routes are mounted only then.
    pub hub: Option<sscard_app::hub::IndexKey>,
    /// The Prometheus registry served at `/metrics`, and the setters the other parts feed it by.
    pub metrics: Arc<crate::metrics::Metrics>,
}

/// How far a batch upload has come.
#[derive(Debug, Clone, Default)]
pub struct BatchProgress {
    pub total: usize,
    pub done: usize,
    pub ok: usize,
    /// The first failures, with their line numbers.
    pub failures: Vec<String>,
}

impl BatchProgress {
    pub fn finished(&self) -> bool {
        self.done >= self.total
    }
    pub fn percent(&self) -> usize {
        (self.done * 100).checked_div(self.total).unwrap_or(100)
    }
}

/// Batch progress by id; only the newest 100 batches are kept.
#[derive(Debug, Default)]
pub struct Batches {
    inner: std::sync::Mutex<Vec<(String, BatchProgress)>>,
}

impl Batches {
    pub fn start(&self, id: &str, total: usize) {
        let mut v = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if v.len() >= 100 {
            v.remove(0);
        }
        v.push((id.to_string(), BatchProgress { total, ..Default::default() }));
    }
    pub fn record(&self, id: &str, outcome: Result<(), String>) {
        let mut v = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, p)) = v.iter_mut().find(|(i, _)| i == id) {
            p.done += 1;
            match outcome {
                Ok(()) => p.ok += 1,
                Err(e) if p.failures.len() < 100 => p.failures.push(e),
                Err(_) => {}
            }
        }
    }
    pub fn get(&self, id: &str) -> Option<BatchProgress> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).iter().find(|(i, _)| i == id).map(|(_, p)| p.clone())
    }
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, policy: Policy) -> Self {
        let held = Arc::new(sscard_app::live::LiveEcards::default());
        let live = if store.observe_commits(held.clone()) {
            held
        } else {
            Arc::new(sscard_app::live::LiveEcards::read_through())
        };
        AppState {
            live,
            terminals: Default::default(),
            store,
            clock,
            policy,
            hash_iterations: sscard_gm::password::DEFAULT_PASSWORD_ITERATIONS,
            limiter: Arc::new(LoginLimiter::default()),
            client_header: None,
            batches: Arc::new(Batches::default()),
            keys: Arc::new(crate::keys::KeyManager::ephemeral()),
            sessions: Arc::new(crate::session_cache::SessionCache::default()),
            used_login_tokens: Arc::new(crate::session_cache::UsedLoginTokens::default()),
            demo_logins: Arc::new(Vec::new()),
            demo_password: Arc::from(""),
            nation: None,
            national: Default::default(),
            trust: Default::default(),
            hub: None,
            metrics: Arc::new(crate::metrics::Metrics::new()),
        }
    }
    /// The same state running as the national hub (with its index key), or not.
    pub fn with_hub(mut self, hub: Option<sscard_app::hub::IndexKey>) -> Self {
        self.hub = hub;
        self
    }
    /// The same state listing the demo logins on the login page.
    pub fn with_demo_logins(mut self, logins: Vec<(String, sscard_domain::access::Role)>, password: &str) -> Self {
        self.demo_logins = Arc::new(logins);
        self.demo_password = Arc::from(password);
        self
    }
    /// The same state believing the client address in `header` (set by a trusted proxy).
    pub fn with_client_header(mut self, header: Option<axum::http::HeaderName>) -> Self {
        self.client_header = header;
        self
    }
    /// The same state with the deployment's key manager (real master key).
    pub fn with_keys(mut self, keys: Arc<crate::keys::KeyManager>) -> Self {
        self.keys = keys;
        self
    }
    /// The same state as a deployment of the nation, asking the hub before approving.
    pub fn with_nation(mut self, nation: Option<Arc<sscard_app::nation::Nation>>) -> Self {
        self.nation = nation;
        self
    }
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }
    /// The context of one operation by `actor`, now.
    pub fn ctx(&self, actor: Actor, idem: Option<Idem>) -> Ctx {
        let mut ctx =
            Ctx::new(actor, self.now_ms(), self.policy.clone()).with_idem(idem).with_nation(self.nation.clone());
        ctx.hash_iterations = self.hash_iterations;
        ctx
    }
}
