//! One-time messages after a form ("done", or why not): kept in the server's memory under
//! the browser's CSRF cookie and taken by the next page that browser renders, so no
//! message text travels in a URL (a link cannot put words on an official banner) and a
//! reload does not repeat a stale message. A message not taken within ten minutes is
//! dropped; at most 10,000 are kept (the oldest go first).

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

const MAX_KEPT: usize = 10_000;
const TTL: Duration = Duration::from_secs(600);
/// Longest message kept, in characters.
const MAX_CHARS: usize = 300;

/// The message a form handler answers with, picked up by [`keep`].
#[derive(Clone)]
pub struct Flash(pub Result<String, String>);

/// Browser (CSRF token) -> when the message was kept, and the message.
type Kept = HashMap<String, (Instant, Result<String, String>)>;

static KEPT: LazyLock<Mutex<Kept>> = LazyLock::new(|| Mutex::new(HashMap::new()));

/// Keeps `message` for the browser holding `browser` (its CSRF token).
pub fn put(browser: &str, message: Result<String, String>) {
    let cut = |s: String| s.chars().take(MAX_CHARS).collect::<String>();
    let message = message.map(cut).map_err(cut);
    let mut kept = KEPT.lock().unwrap_or_else(|p| p.into_inner());
    let now = Instant::now();
    kept.retain(|_, (at, _)| now.duration_since(*at) < TTL);
    if kept.len() >= MAX_KEPT
        && let Some(oldest) = kept.iter().min_by_key(|(_, (at, _))| *at).map(|(k, _)| k.clone())
    {
        kept.remove(&oldest);
    }
    kept.insert(browser.to_string(), (now, message));
}

/// Takes (once) the message kept for `browser`.
pub fn take(browser: &str) -> Option<Result<String, String>> {
    let mut kept = KEPT.lock().unwrap_or_else(|p| p.into_inner());
    kept.remove(browser).filter(|(at, _)| at.elapsed() < TTL).map(|(_, m)| m)
}

/// Middleware of the pages: a response carrying a [`Flash`] has it kept for the browser
/// that sent the request (by its CSRF cookie; a browser without one has no form to send).
pub async fn keep(req: Request, next: Next) -> Response {
    let browser = super::cookie(req.headers(), super::CSRF_COOKIE).map(str::to_string);
    let mut resp = next.run(req).await;
    if let Some(Flash(message)) = resp.extensions_mut().remove::<Flash>()
        && let Some(browser) = browser
    {
        put(&browser, message);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_is_taken_once_by_its_browser_only() {
        put("browser-a", Ok("saved".into()));
        assert_eq!(take("browser-b"), None);
        assert_eq!(take("browser-a"), Some(Ok("saved".into())));
        assert_eq!(take("browser-a"), None);
        put("browser-c", Err("x".repeat(1000)));
        assert_eq!(take("browser-c").and_then(|m| m.err()).map(|m| m.chars().count()), Some(MAX_CHARS));
    }
}
