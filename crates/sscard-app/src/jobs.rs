//! Scheduled jobs with a movable clock: the automatic lift of a temporary loss, the
//! dormant sweep, and the expiry of temporary cards. Each card changes in its own
//! transaction, so a job stopped half-way loses nothing and can simply run again.

use super::cards::{ActionInput, change_in, subject};
use super::{Ctx, record};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sscard_domain::card::{
    CancelReason, Card, CardAction, CardStatus, SweepOutcome, auto_lift_due, sweep_outcome, temporary_expired,
};
use sscard_domain::clock::DAY_MS;
use sscard_store::Result;
use sscard_store::tx::Store;

/// Cards looked at per query.
const BATCH: u32 = 1000;
/// Upper bound of queries per run (a run handles at most BATCH * MAX_ROUNDS cards).
const MAX_ROUNDS: u32 = 1000;

/// The jobs there are. Their text and serde form come from [`Job::TABLE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    AutoLift,
    DormantSweep,
    TemporaryExpiry,
}

impl Job {
    /// Each job with its name: its text form and its serde form.
    const TABLE: [(Job, &'static str); 3] = [
        (Job::AutoLift, "auto_lift"),
        (Job::DormantSweep, "dormant_sweep"),
        (Job::TemporaryExpiry, "temporary_expiry"),
    ];
    pub const ALL: [Job; 3] = [Job::AutoLift, Job::DormantSweep, Job::TemporaryExpiry];
    pub fn name(&self) -> &'static str {
        Job::TABLE.iter().find(|(j, _)| j == self).map_or("", |(_, n)| n)
    }
    /// The job of a name; dashes are taken for underscores (`auto-lift`).
    pub fn parse(name: &str) -> Option<Job> {
        let name = name.replace('-', "_");
        Job::TABLE.iter().find(|(_, n)| *n == name).map(|(j, _)| *j)
    }
}

impl std::fmt::Display for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Job {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Job {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Job::parse(&name).ok_or_else(|| serde::de::Error::custom(format!("unknown job {name:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::Job;

    #[test]
    fn every_job_has_one_name_for_text_and_serde() {
        for job in Job::ALL {
            assert_eq!(serde_json::to_value(job).unwrap(), serde_json::json!(job.name()));
            assert_eq!(serde_json::from_value::<Job>(serde_json::json!(job.name())).unwrap(), job);
            assert_eq!(Job::parse(job.name()), Some(job));
            assert_eq!(Job::parse(&job.name().replace('_', "-")), Some(job));
        }
        assert_eq!(Job::parse("nightly"), None);
    }
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobReport {
    pub job: String,
    pub as_of: String,
    pub examined: u64,
    pub changed: u64,
    /// Cards that could not be changed, with the reason (the run goes on).
    pub failures: Vec<String>,
}

/// Runs one job as of `ctx.now_ms`.
pub async fn run(store: &dyn Store, ctx: &Ctx, job: Job, progress: &(dyn Fn(u64) + Send + Sync)) -> Result<JobReport> {
    let mut report = JobReport { job: job.name().to_string(), as_of: ctx.today().to_string(), ..Default::default() };
    let mut seen = std::collections::HashSet::new();
    for _ in 0..MAX_ROUNDS {
        let candidates = candidates(store, ctx, job).await?;
        let fresh: Vec<Card> = candidates.into_iter().filter(|c| seen.insert(c.card_no.clone())).collect();
        if fresh.is_empty() {
            break;
        }
        for card in fresh {
            report.examined += 1;
            match apply_one(store, ctx, job, &card).await {
                Ok(true) => report.changed += 1,
                Ok(false) => {}
                Err(e) if report.failures.len() < 100 => report.failures.push(format!("{}: {e}", card.card_no)),
                Err(_) => {}
            }
            progress(report.examined);
        }
    }
    Ok(report)
}

async fn candidates(store: &dyn Store, ctx: &Ctx, job: Job) -> Result<Vec<Card>> {
    let mut tx = store.read().await?;
    let found = match job {
        Job::AutoLift => {
            let cutoff = ctx.now_ms - ctx.policy.suspension_auto_lift_days as i64 * DAY_MS + 1;
            tx.cards_in_status(CardStatus::Suspended, cutoff, BATCH).await?
        }
        Job::DormantSweep => {
            // Coarse cut-off (28-day months); the domain decides exactly.
            let produced_cutoff = ctx.now_ms - ctx.policy.dormant_after_months as i64 * 28 * DAY_MS;
            let dormant_cutoff = ctx.now_ms - ctx.policy.dormant_destroy_after_months as i64 * 28 * DAY_MS;
            let mut cards = tx.cards_in_status(CardStatus::Produced, produced_cutoff, BATCH).await?;
            cards.extend(tx.cards_in_status(CardStatus::Dormant, dormant_cutoff, BATCH).await?);
            cards
        }
        Job::TemporaryExpiry => tx.temporary_cards_expiring_before(ctx.today(), BATCH).await?,
    };
    tx.commit().await?;
    Ok(found)
}

/// Re-reads the card under lock and applies the job's decision; Ok(false) when nothing was due.
async fn apply_one(store: &dyn Store, ctx: &Ctx, job: Job, candidate: &Card) -> Result<bool> {
    let mut tx = store.write().await?;
    let Some(person) = tx.get_person(&candidate.person_id, true).await? else {
        return Ok(false);
    };
    let Some(mut card) = tx.get_card(candidate.card_no.as_str(), true).await? else {
        return Ok(false);
    };
    let today = ctx.today();
    match job {
        Job::AutoLift if auto_lift_due(&card, ctx.now_ms, &ctx.policy) => {
            change_in(tx.as_mut(), ctx, &person, card, CardAction::Unsuspend, &ActionInput::default()).await?;
        }
        Job::TemporaryExpiry if temporary_expired(&card, today) => {
            let input = ActionInput { cancel_reason: Some(CancelReason::TemporaryExpired), ..Default::default() };
            change_in(tx.as_mut(), ctx, &person, card, CardAction::Cancel, &input).await?;
        }
        Job::DormantSweep => {
            let Some(outcome) = sweep_outcome(&card, today, &ctx.policy) else {
                return Ok(false);
            };
            let from = card.status;
            let kind = match outcome {
                SweepOutcome::MakeDormant => {
                    card.status = CardStatus::Dormant;
                    "card.dormant"
                }
                SweepOutcome::CancelAndDestroy => {
                    card.status = CardStatus::Cancelled;
                    card.cancel_reason = Some(CancelReason::Destroyed);
                    card.destroyed = true;
                    "card.cancelled"
                }
            };
            card.status_changed_at_ms = ctx.now_ms;
            tx.update_card(&card).await?;
            let payload = json!({ "from": from.as_str(), "to": card.status.as_str(), "job": job.name(), "destroyed": card.destroyed });
            record(tx.as_mut(), ctx, kind, &subject(&card, &person), payload).await?;
            super::ecard::sync_in(tx.as_mut(), ctx, &person).await?;
        }
        _ => return Ok(false),
    }
    tx.commit().await?;
    Ok(true)
}
