//! The login rate limiter: failures are counted per account *and* client address,
//! and per client address, so nobody can lock another person out from elsewhere, and one
//! address trying many accounts (password spraying) is slowed down. In memory, per process.

use std::collections::HashMap;
use std::sync::Mutex;

/// Failed logins allowed for one account from one client address within the window.
pub const MAX_FAILURES_PER_ACCOUNT: u32 = 5;
/// Failed logins allowed from one client address, whatever the accounts, within the window.
pub const MAX_FAILURES_PER_CLIENT: u32 = 20;
/// The window, in milliseconds.
pub const WINDOW_MS: i64 = 5 * 60_000;
/// Keys tracked at most in each table; expired entries are dropped beyond this.
const MAX_TRACKED: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Window {
    failures: u32,
    since_ms: i64,
}

impl Window {
    fn current(self, now_ms: i64) -> Option<Self> {
        (now_ms - self.since_ms <= WINDOW_MS).then_some(self)
    }
}

#[derive(Debug, Default)]
struct Tables {
    by_account: HashMap<(String, String), Window>,
    by_client: HashMap<String, Window>,
}

/// Counts failed logins; see the module doc.
#[derive(Debug, Default)]
pub struct LoginLimiter {
    tables: Mutex<Tables>,
}

impl LoginLimiter {
    /// `Err(seconds to wait)` when `username` may not try from `client` now.
    pub fn check(&self, username: &str, client: &str, now_ms: i64) -> Result<(), i64> {
        let t = self.tables.lock().unwrap_or_else(|p| p.into_inner());
        let key = (username.to_string(), client.to_string());
        let over = |w: Option<&Window>, max: u32| {
            w.and_then(|w| w.current(now_ms)).filter(|w| w.failures >= max).map(|w| w.since_ms + WINDOW_MS - now_ms)
        };
        match over(t.by_account.get(&key), MAX_FAILURES_PER_ACCOUNT)
            .into_iter()
            .chain(over(t.by_client.get(client), MAX_FAILURES_PER_CLIENT))
            .max()
        {
            Some(wait_ms) => Err((wait_ms / 1000).max(1)),
            None => Ok(()),
        }
    }

    pub fn failed(&self, username: &str, client: &str, now_ms: i64) {
        let mut t = self.tables.lock().unwrap_or_else(|p| p.into_inner());
        let Tables { by_account, by_client } = &mut *t;
        bump(by_account, (username.to_string(), client.to_string()), now_ms);
        bump(by_client, client.to_string(), now_ms);
    }

    /// A successful login clears its account's failures from that client (not the client's
    /// count, so spraying cannot be reset with one known password).
    pub fn succeeded(&self, username: &str, client: &str) {
        let mut t = self.tables.lock().unwrap_or_else(|p| p.into_inner());
        t.by_account.remove(&(username.to_string(), client.to_string()));
    }
}

fn bump<K: std::hash::Hash + Eq>(table: &mut HashMap<K, Window>, key: K, now_ms: i64) {
    if table.len() >= MAX_TRACKED {
        table.retain(|_, w| w.current(now_ms).is_some());
    }
    let w = table.entry(key).or_insert(Window { failures: 0, since_ms: now_ms });
    if w.current(now_ms).is_none() {
        *w = Window { failures: 0, since_ms: now_ms };
    }
    w.failures += 1;
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_000_000;

    #[test]
    fn failures_elsewhere_do_not_lock_an_account_out() {
        let l = LoginLimiter::default();
        for _ in 0..MAX_FAILURES_PER_ACCOUNT {
            assert_eq!(l.check("clerk", "10.0.0.9", T0), Ok(()));
            l.failed("clerk", "10.0.0.9", T0);
        }
        assert!(l.check("clerk", "10.0.0.9", T0 + 1).is_err(), "the failing client is slowed");
        assert_eq!(l.check("clerk", "127.0.0.1", T0 + 1), Ok(()), "the clerk's own client is not");
        assert_eq!(l.check("clerk", "10.0.0.9", T0 + WINDOW_MS + 1), Ok(()), "the window ends");
    }

    #[test]
    fn spraying_from_one_address_slows_down() {
        let l = LoginLimiter::default();
        for n in 0..MAX_FAILURES_PER_CLIENT {
            let user = format!("user{n}");
            assert_eq!(l.check(&user, "10.0.0.9", T0), Ok(()), "{user}");
            l.failed(&user, "10.0.0.9", T0);
        }
        let wait = l.check("someone-new", "10.0.0.9", T0 + 1_000).expect_err("the spraying address waits");
        assert!((1..=WINDOW_MS / 1000).contains(&wait), "{wait}");
        assert_eq!(l.check("someone-new", "10.0.0.10", T0 + 1_000), Ok(()), "another address does not");
    }

    #[test]
    fn success_clears_the_account_but_not_the_address() {
        let l = LoginLimiter::default();
        for _ in 0..MAX_FAILURES_PER_ACCOUNT {
            l.failed("teller", "10.0.0.9", T0);
        }
        l.succeeded("teller", "10.0.0.9");
        assert_eq!(l.check("teller", "10.0.0.9", T0), Ok(()));
        for n in 0..MAX_FAILURES_PER_CLIENT {
            l.failed(&format!("u{n}"), "10.0.0.8", T0);
        }
        l.succeeded("u0", "10.0.0.8");
        assert!(l.check("u0", "10.0.0.8", T0).is_err());
    }
}
