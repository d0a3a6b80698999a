//! A small in-process cache of recently looked-up values (sessions, terminals) by key: each
//! value is trusted for a fixed time after it was read, and the whole cache is emptied when it
//! reaches its size bound. What removes entries early (logout, a terminal disabled) is up to
//! the owner.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Values by key, each with the time it was read.
#[derive(Debug)]
pub struct TtlCache<V> {
    inner: Mutex<HashMap<String, (V, Instant)>>,
    ttl: Duration,
    max_entries: usize,
}

impl<V: Clone> TtlCache<V> {
    pub fn new(ttl: Duration, max_entries: usize) -> Self {
        TtlCache { inner: Mutex::new(HashMap::new()), ttl, max_entries: max_entries.max(1) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (V, Instant)>> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The value, if read less than the TTL ago.
    pub fn get(&self, key: &str) -> Option<V> {
        self.lock().get(key).filter(|(_, at)| at.elapsed() < self.ttl).map(|(v, _)| v.clone())
    }

    pub fn put(&self, key: String, value: V) {
        let mut map = self.lock();
        if map.len() >= self.max_entries {
            map.clear();
        }
        map.insert(key, (value, Instant::now()));
    }

    pub fn remove(&self, key: &str) {
        self.lock().remove(key);
    }

    /// Keeps only the values for which `keep` is true.
    pub fn retain(&self, keep: impl Fn(&V) -> bool) {
        self.lock().retain(|_, (v, _)| keep(v));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_expire_and_the_bound_holds() {
        let cache = TtlCache::new(Duration::from_millis(50), 2);
        cache.put("a".into(), 1);
        cache.put("b".into(), 2);
        assert_eq!((cache.get("a"), cache.get("b")), (Some(1), Some(2)));
        cache.put("c".into(), 3); // full: emptied first
        assert_eq!((cache.get("a"), cache.get("c")), (None, Some(3)));
        cache.retain(|v| *v != 3);
        assert_eq!(cache.get("c"), None);
        cache.put("d".into(), 4);
        cache.remove("d");
        assert_eq!(cache.get("d"), None);
        cache.put("e".into(), 5);
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(cache.get("e"), None, "older than the TTL");
    }
}
