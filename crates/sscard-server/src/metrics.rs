//! Prometheus metrics, served at `GET /metrics` (outside `/api/v1`, not in the OpenAPI
//! document, no login: nothing in it names a person).
//!
//! One [`Metrics`] lives in [`crate::AppState`] (`state.metrics`, an `Arc`). The middleware
//! [`track`] counts every request and times it by method, **route template** (axum's
//! `MatchedPath`, e.g. `/api/v1/cards/{card_no}`; `unmatched` for anything no route took) and
//! status. The raw path never becomes a label, so no id, card number or SSN enters the output,
//! and the number of series is bounded by the route table.
//!
//! The other figures are set by the parts that know them, through these setters:
//!
//! | setter | series | who feeds it |
//! |---|---|---|
//! | [`Metrics::set_relay_lag`]`(events, seconds)` | `sscard_outbox_relay_lag_events`, `sscard_outbox_relay_lag_seconds` | the nation's probe at each scrape: rows past the relay's cursor (a deployment's outbox, the hub's commands), age of the oldest |
//! | [`Metrics::set_consumer_lag`]`(deployment, events, seconds)` | `sscard_consumer_lag_events{deployment}`, `sscard_consumer_lag_seconds{deployment}` | the nation's probe at each scrape, from JetStream (the hub's consumer per deployment it reads; a deployment's command consumer under its own code) |
//! | [`Metrics::set_remote_stops_waiting`]`(n)` | `sscard_remote_stops_waiting` | the hub's probe at each scrape: remote stops recorded and not yet done |
//! | [`Metrics::batch_progress`]`(&BatchRow)` | `sscard_benefit_batch_lines_done{status}`, `sscard_benefit_batch_lines_declared{status}` | the benefits pay loop after each chunk (the HTTP submission does it), and the store at each scrape (every server) |
//!
//! Figures that live in the database or in JetStream are read when `/metrics` is scraped, by
//! the [`Probe`]s added with [`Metrics::add_probe`] (each given [`PROBE_TIMEOUT`]): so they
//! stay true when the loop they describe is stuck, or runs in another process. `sscard serve
//! --deployment` and `--hub` add the nation's (relay and consumer lag, remote stops waiting;
//! `ServeOptions::probes`, made by the `sscard` crate's `nation` module).
//!
//! Deployment labels are capped at [`MAX_DEPLOYMENTS`] distinct codes and batches at the
//! newest [`MAX_BATCHES`] this process saw, so no caller can grow the output without bound.

use crate::state::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use sscard_store::benefits::BatchRow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The content type `prometheus_client::encoding::text` writes (OpenMetrics 1.0, which
/// Prometheus scrapes as it scrapes its older 0.0.4 text).
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// At most this many deployment codes get a consumer-lag series (a nation has a few dozen).
pub const MAX_DEPLOYMENTS: usize = 256;

/// Batch progress is summed over the newest this-many batches this process paid.
pub const MAX_BATCHES: usize = 100;

/// The label of a request that no route matched (404s of any path).
pub const UNMATCHED: &str = "unmatched";

/// How long one probe may take at a scrape; a slower one keeps its previous figures.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// Reads some figures at scrape time (from the store, JetStream) and sets them.
#[async_trait::async_trait]
pub trait Probe: Send + Sync + std::fmt::Debug {
    /// Sets what it read; on an error it logs and leaves the figures as they were.
    async fn refresh(&self, metrics: &Metrics);
}

/// The newest benefit batches as the store has them, whoever paid them (the HTTP submission,
/// the CLI, a batch resumed after a restart); every server reads them at each scrape.
async fn refresh_batches(store: &dyn sscard_store::Store, metrics: &Metrics) {
    let read = sscard_app::observe::recent_batches(store, MAX_BATCHES as u32);
    match tokio::time::timeout(PROBE_TIMEOUT, read).await {
        Ok(Ok(rows)) => metrics.replace_batches(&rows),
        Ok(Err(e)) => tracing::warn!(error = %e, "metrics: reading benefit batches"),
        Err(_) => tracing::warn!("metrics: reading benefit batches took over {PROBE_TIMEOUT:?}"),
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DeploymentLabel {
    deployment: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BatchStatusLabel {
    status: String,
}

type FloatGauge = Gauge<f64, AtomicU64>;

fn latency_histogram() -> Histogram {
    // 0.5 ms to about 16 s, doubling.
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

/// Every series the server exposes, registered once.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RequestLabels, Histogram, fn() -> Histogram>,
    relay_lag_events: Gauge,
    relay_lag_seconds: FloatGauge,
    consumer_lag_events: Family<DeploymentLabel, Gauge>,
    consumer_lag_seconds: Family<DeploymentLabel, FloatGauge>,
    remote_stops_waiting: Gauge,
    batch_lines_done: Family<BatchStatusLabel, Gauge>,
    batch_lines_declared: Family<BatchStatusLabel, Gauge>,
    /// The deployment codes with a consumer-lag series (at most [`MAX_DEPLOYMENTS`]).
    deployments: Mutex<BTreeSet<String>>,
    /// batch_no → (status, lines done, lines declared), the newest [`MAX_BATCHES`].
    batches: Mutex<BTreeMap<i64, (String, i64, i64)>>,
    /// Run at each scrape (see [`Probe`]).
    probes: Mutex<Vec<Arc<dyn Probe>>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A registry holding every series, all at zero.
    pub fn new() -> Self {
        let mut m = Metrics {
            registry: Registry::with_prefix("sscard"),
            requests: Family::default(),
            latency: Family::new_with_constructor(latency_histogram),
            relay_lag_events: Gauge::default(),
            relay_lag_seconds: FloatGauge::default(),
            consumer_lag_events: Family::default(),
            consumer_lag_seconds: Family::default(),
            remote_stops_waiting: Gauge::default(),
            batch_lines_done: Family::default(),
            batch_lines_declared: Family::default(),
            deployments: Mutex::new(BTreeSet::new()),
            batches: Mutex::new(BTreeMap::new()),
            probes: Mutex::new(Vec::new()),
        };
        m.register_all();
        m
    }

    fn register_all(&mut self) {
        let r = &mut self.registry;
        r.register("http_requests", "HTTP requests by method, route template and status", self.requests.clone());
        r.register(
            "http_request_duration_seconds",
            "HTTP request latency by method, route template and status",
            self.latency.clone(),
        );
        r.register("outbox_relay_lag_events", "Outbox events not yet relayed", self.relay_lag_events.clone());
        r.register(
            "outbox_relay_lag_seconds",
            "Age of the oldest outbox event not yet relayed",
            self.relay_lag_seconds.clone(),
        );
        r.register(
            "consumer_lag_events",
            "Messages a consumer has yet to take, by deployment",
            self.consumer_lag_events.clone(),
        );
        r.register(
            "consumer_lag_seconds",
            "Age of the oldest message a consumer has yet to take, by deployment",
            self.consumer_lag_seconds.clone(),
        );
        r.register("remote_stops_waiting", "Remote stops recorded and not yet done", self.remote_stops_waiting.clone());
        r.register(
            "benefit_batch_lines_done",
            "Lines decided in the newest benefit batches, by batch status",
            self.batch_lines_done.clone(),
        );
        r.register(
            "benefit_batch_lines_declared",
            "Lines declared by the newest benefit batches, by batch status",
            self.batch_lines_declared.clone(),
        );
    }

    /// Counts and times one answered request. `route` must be a route template or [`UNMATCHED`].
    pub fn observe_request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let labels = RequestLabels { method: method.to_string(), route: route.to_string(), status };
        self.requests.get_or_create(&labels).inc();
        self.latency.get_or_create(&labels).observe(seconds);
    }

    /// The outbox relay's lag: events not yet relayed and the age of the oldest, in seconds.
    pub fn set_relay_lag(&self, events: u64, seconds: f64) {
        self.relay_lag_events.set(clamp(events));
        self.relay_lag_seconds.set(seconds.max(0.0));
    }

    /// A consumer's lag for `deployment` (a deployment code): messages pending and the age of
    /// the oldest, in seconds. Codes past the [`MAX_DEPLOYMENTS`]th are not recorded.
    pub fn set_consumer_lag(&self, deployment: &str, events: u64, seconds: f64) {
        {
            let mut known = self.deployments.lock().unwrap_or_else(|p| p.into_inner());
            if !known.contains(deployment) {
                if known.len() >= MAX_DEPLOYMENTS {
                    tracing::warn!(deployment, "consumer lag not recorded: too many deployment codes");
                    return;
                }
                known.insert(deployment.to_string());
            }
        }
        let label = DeploymentLabel { deployment: deployment.to_string() };
        self.consumer_lag_events.get_or_create(&label).set(clamp(events));
        self.consumer_lag_seconds.get_or_create(&label).set(seconds.max(0.0));
    }

    /// Remote stops recorded at the hub and not yet done.
    pub fn set_remote_stops_waiting(&self, n: u64) {
        self.remote_stops_waiting.set(clamp(n));
    }

    /// A benefit batch as it stands after a chunk (its status, `done_through`, declared lines).
    pub fn batch_progress(&self, batch: &BatchRow) {
        self.set_batch_progress(batch.batch_no, batch.status.as_str(), batch.done_through, batch.declared_lines);
    }

    /// Like [`Metrics::batch_progress`] from its parts: batch `batch_no` is in `status` with
    /// `done` of `declared` lines decided. The gauges are sums over the newest batches by status.
    pub fn set_batch_progress(&self, batch_no: i64, status: &str, done: i64, declared: i64) {
        let mut batches = self.batches.lock().unwrap_or_else(|p| p.into_inner());
        batches.insert(batch_no, (status.to_string(), done, declared));
        self.sum_batches(&mut batches);
    }

    /// The batches as the store has them now (newest first or in any order), in place of
    /// whatever this process saw: a deleted batch drops out.
    pub fn replace_batches(&self, rows: &[BatchRow]) {
        let mut batches = self.batches.lock().unwrap_or_else(|p| p.into_inner());
        batches.clear();
        for b in rows {
            batches.insert(b.batch_no, (b.status.as_str().to_string(), b.done_through, b.declared_lines));
        }
        self.sum_batches(&mut batches);
    }

    fn sum_batches(&self, batches: &mut BTreeMap<i64, (String, i64, i64)>) {
        while batches.len() > MAX_BATCHES {
            batches.pop_first();
        }
        let mut sums: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
        for (status, done, declared) in batches.values() {
            let s = sums.entry(status.as_str()).or_default();
            s.0 += done;
            s.1 += declared;
        }
        // A status no batch is in any more reads 0 rather than its last sum.
        self.batch_lines_done.clear();
        self.batch_lines_declared.clear();
        for (status, (done, declared)) in sums {
            let label = BatchStatusLabel { status: status.to_string() };
            self.batch_lines_done.get_or_create(&label).set(done);
            self.batch_lines_declared.get_or_create(&label).set(declared);
        }
    }

    /// Adds a probe run at every scrape.
    pub fn add_probe(&self, probe: Arc<dyn Probe>) {
        self.probes.lock().unwrap_or_else(|p| p.into_inner()).push(probe);
    }

    /// Runs every probe at once, each for at most [`PROBE_TIMEOUT`].
    pub async fn refresh(self: &Arc<Self>) {
        let probes = self.probes.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let mut runs = tokio::task::JoinSet::new();
        for probe in probes {
            let metrics = Arc::clone(self);
            runs.spawn(async move {
                if tokio::time::timeout(PROBE_TIMEOUT, probe.refresh(&metrics)).await.is_err() {
                    tracing::warn!("metrics: a probe took over {PROBE_TIMEOUT:?}; its figures are the previous ones");
                }
            });
        }
        while runs.join_next().await.is_some() {}
    }

    /// Everything in the Prometheus/OpenMetrics text format.
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::with_capacity(16 * 1024);
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }
}

fn clamp(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The method as a label: the standard ones by name, anything else `other` (a client may send
/// any token as a method; it must not mint series).
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Middleware (added with `Router::layer`, so it runs after routing and sees `MatchedPath`):
/// counts and times the request by route template and status.
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(req.method());
    let route = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string());
    let response = next.run(req).await;
    let route = route.as_deref().unwrap_or(UNMATCHED);
    state.metrics.observe_request(method, route, response.status().as_u16(), started.elapsed().as_secs_f64());
    response
}

/// `GET /metrics`, merged into the app's router before its layers (limits, security headers).
/// Outside `/api/v1`: not an API route and not in the OpenAPI document.
pub fn router() -> axum::Router<AppState> {
    axum::Router::new().route("/metrics", axum::routing::get(serve_metrics))
}

/// The router with [`track`] outermost, so it times everything and sees the final status (a
/// `Router::layer` wraps each route, so it runs after routing and the route template is
/// known), and the state given.
pub fn instrument(router: axum::Router<AppState>, state: AppState) -> axum::Router {
    router.layer(axum::middleware::from_fn_with_state(state.clone(), track)).with_state(state)
}

/// `GET /metrics`: the probes' figures read now, then everything.
pub async fn serve_metrics(State(state): State<AppState>) -> Response {
    refresh_batches(state.store.as_ref(), &state.metrics).await;
    state.metrics.refresh().await;
    match state.metrics.encode() {
        Ok(body) => ([(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE))], body).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "encoding metrics");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(text: &str, series: &str) -> Option<f64> {
        text.lines().find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
    }

    #[test]
    fn setters_show_in_the_output() {
        let m = Metrics::new();
        m.set_relay_lag(42, 1.5);
        m.set_consumer_lag("XM", 7, 0.25);
        m.set_remote_stops_waiting(3);
        let text = m.encode().expect("encode");
        assert_eq!(value(&text, "sscard_outbox_relay_lag_events"), Some(42.0), "{text}");
        assert_eq!(value(&text, "sscard_outbox_relay_lag_seconds"), Some(1.5), "{text}");
        assert_eq!(value(&text, r#"sscard_consumer_lag_events{deployment="XM"}"#), Some(7.0), "{text}");
        assert_eq!(value(&text, r#"sscard_consumer_lag_seconds{deployment="XM"}"#), Some(0.25), "{text}");
        assert_eq!(value(&text, "sscard_remote_stops_waiting"), Some(3.0), "{text}");
    }

    #[test]
    fn deployment_codes_are_capped() {
        let m = Metrics::new();
        for i in 0..MAX_DEPLOYMENTS + 10 {
            m.set_consumer_lag(&format!("D{i}"), 1, 0.0);
        }
        // A known code still updates after the cap.
        m.set_consumer_lag("D0", 9, 0.0);
        let text = m.encode().expect("encode");
        assert_eq!(text.lines().filter(|l| l.starts_with("sscard_consumer_lag_events{")).count(), MAX_DEPLOYMENTS);
        assert_eq!(value(&text, r#"sscard_consumer_lag_events{deployment="D0"}"#), Some(9.0), "{text}");
    }

    #[test]
    fn a_batch_moves_from_one_status_to_the_next() {
        let m = Metrics::new();
        m.set_batch_progress(1, "processing", 1000, 2500);
        m.set_batch_progress(2, "processing", 0, 10);
        let text = m.encode().expect("encode");
        assert_eq!(value(&text, r#"sscard_benefit_batch_lines_done{status="processing"}"#), Some(1000.0));
        assert_eq!(value(&text, r#"sscard_benefit_batch_lines_declared{status="processing"}"#), Some(2510.0));
        m.set_batch_progress(1, "done", 2500, 2500);
        m.set_batch_progress(2, "done", 10, 10);
        let text = m.encode().expect("encode");
        assert_eq!(value(&text, r#"sscard_benefit_batch_lines_done{status="processing"}"#), None, "{text}");
        assert_eq!(value(&text, r#"sscard_benefit_batch_lines_done{status="done"}"#), Some(2510.0), "{text}");
        for n in 3..(MAX_BATCHES as i64 + 10) {
            m.set_batch_progress(n, "done", 1, 1);
        }
        let text = m.encode().expect("encode");
        assert_eq!(value(&text, r#"sscard_benefit_batch_lines_done{status="done"}"#), Some(MAX_BATCHES as f64));
    }
}
