//! Background work of the server: seal the audit chain every two seconds and run the
//! card jobs on a fixed period, and reload the QR issuer keys every minute. Failures are logged
//! and retried next round.

use crate::state::AppState;
use sscard_domain::access::Actor;
use sscard_store::ops::{audit, jobs};
use std::time::Duration;

/// Starts the loops; abort the handle to stop them.
pub fn spawn(state: AppState, jobs_every_s: u64) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut seal_tick = tokio::time::interval(Duration::from_secs(2));
        let mut jobs_tick = tokio::time::interval(Duration::from_secs(jobs_every_s.max(1)));
        let mut keys_tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tokio::select! {
                _ = seal_tick.tick() => {
                    if let Err(e) = audit::seal(state.store.as_ref()).await {
                        tracing::warn!(error = %e, "audit sealing failed; will retry");
                    }
                }
                _ = jobs_tick.tick() => run_jobs(&state).await,
                // Keys rotated with `sscard keys rotate` (or a key coming due) are picked up here.
                _ = keys_tick.tick() => {
                    if let Err(e) = state.keys.ensure(state.store.as_ref(), state.now_ms()).await {
                        tracing::warn!(error = %e, "reloading the QR issuer keys failed; will retry");
                    }
                }
            }
        }
    })
}

async fn run_jobs(state: &AppState) {
    for job in jobs::Job::ALL {
        let ctx = state.ctx(Actor::system(job.name()), None);
        match jobs::run(state.store.as_ref(), &ctx, job, &|_| {}).await {
            Ok(report) if report.changed > 0 => {
                tracing::info!(job = job.name(), changed = report.changed, "job ran")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(job = job.name(), error = %e, "job failed; will retry"),
        }
    }
}
