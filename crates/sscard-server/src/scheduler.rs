//! Background work of the server: seal the audit chain every two seconds and run the
//! card jobs on a fixed period, reload the QR issuer keys every minute (in a nation,
//! publishing them at the hub when they changed; not at the hub, which signs no QR code),
//! and follow the outbox for the live e-card set. Failures are logged and retried next round.

use crate::state::AppState;
use sscard_app::{audit, jobs};
use sscard_domain::access::Actor;
use std::time::Duration;

/// Starts the loops; abort the handle to stop them.
pub fn spawn(state: AppState, jobs_every_s: u64) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut seal_tick = tokio::time::interval(Duration::from_secs(2));
        let mut jobs_tick = tokio::time::interval(Duration::from_secs(jobs_every_s.max(1)));
        let mut keys_tick = tokio::time::interval(Duration::from_secs(60));
        let mut live_tick = tokio::time::interval(LIVE_TAIL_PERIOD);
        let mut outbox_cursor: Option<i64> = None;
        loop {
            tokio::select! {
                _ = seal_tick.tick() => {
                    if let Err(e) = audit::seal(state.store.as_ref()).await {
                        tracing::warn!(error = %e, "audit sealing failed; will retry");
                    }
                }
                _ = jobs_tick.tick() => run_jobs(&state).await,
                _ = live_tick.tick() => follow_outbox(&state, &mut outbox_cursor).await,
                // Keys rotated with `sscard keys rotate` (or a key coming due) are picked up here.
                _ = keys_tick.tick(), if state.hub.is_none() => {
                    match state.keys.ensure(state.store.as_ref(), state.now_ms()).await {
                        Ok(ring) => crate::trust::publish_changed_keys(&state, &ring).await,
                        Err(e) => tracing::warn!(error = %e, "reloading the QR issuer keys failed; will retry"),
                    }
                }
            }
        }
    })
}

/// How often changes made by other processes (other instances, the CLI) reach the live
/// e-card set. Changes made through this server reach it when they commit.
pub const LIVE_TAIL_PERIOD: Duration = Duration::from_millis(500);

/// Evicts from the live e-card set the persons named by new outbox events (a few pages a round).
async fn follow_outbox(state: &AppState, cursor: &mut Option<i64>) {
    let live = &state.live;
    for _ in 0..10 {
        match sscard_app::ecard::persons_changed_after(state.store.as_ref(), *cursor).await {
            Ok((persons, next)) => {
                let caught_up = cursor.is_none_or(|c| c == next);
                if cursor.is_none() {
                    // Entries filled before the cursor existed may predate changes it skips.
                    live.clear();
                }
                if !persons.is_empty() {
                    live.evict_persons(&persons);
                }
                *cursor = Some(next);
                if caught_up {
                    return;
                }
            }
            Err(e) => {
                // The set may have missed changes: start over from an empty set.
                tracing::warn!(error = %e, "reading the outbox for the live e-card set failed; emptying it");
                live.clear();
                *cursor = None;
                return;
            }
        }
    }
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
