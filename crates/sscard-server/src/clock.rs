//! The wall clock for production; tests inject `sscard_domain::clock::FixedClock`.

use sscard_domain::clock::Clock;

/// Reads the system time.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        now.as_millis() as i64
    }
}
