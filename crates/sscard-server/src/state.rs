//! Shared state of the running server.

use crate::auth::LoginLimiter;
use sscard_domain::access::Actor;
use sscard_domain::clock::Clock;
use sscard_domain::policy::Policy;
use sscard_store::ops::Ctx;
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
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, policy: Policy) -> Self {
        AppState {
            store,
            clock,
            policy,
            hash_iterations: sscard_gm::password::DEFAULT_PASSWORD_ITERATIONS,
            limiter: Arc::new(LoginLimiter::default()),
        }
    }
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }
    /// The context of one operation by `actor`, now.
    pub fn ctx(&self, actor: Actor, idem: Option<Idem>) -> Ctx {
        let mut ctx = Ctx::new(actor, self.now_ms(), self.policy.clone()).with_idem(idem);
        ctx.hash_iterations = self.hash_iterations;
        ctx
    }
}
