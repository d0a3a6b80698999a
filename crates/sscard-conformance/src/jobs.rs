//! Case 11: the scheduled jobs with a moved clock.

use super::cards::produced_card;
use super::fixtures::*;
use sscard_app::cards::ActionInput;
use sscard_app::jobs::{Job, JobReport};
use sscard_app::{self};
use sscard_domain::application::{AppKind, AppStatus, AppStep, Channel};
use sscard_domain::card::{CancelReason, CardAction, CardStatus};
use sscard_domain::clock::DAY_MS;
use sscard_store::Store;
use std::sync::Arc;
use time::macros::date;

async fn run(store: &dyn Store, job: Job, now_ms: i64) -> JobReport {
    let report = sscard_app::jobs::run(store, &job_ctx(job, now_ms), job, &|_| {})
        .await
        .unwrap_or_else(|e| panic!("job {} runs: {e:?}", job.name()));
    assert!(report.failures.is_empty(), "{report:?}");
    report
}

/// A temporary loss lifts by itself after 15 days, not after 14; a formal loss never.
pub async fn auto_lift_after_the_configured_days(store: Arc<dyn Store>) {
    let store = &*store;
    seed(store).await;
    let person = register(store, 1).await;
    let me = ctx(holder(&person));
    let card = active_card(store, &person).await;
    let no = card.card_no.as_str();
    let suspended = act(store, &me, no, CardAction::Suspend, ActionInput::default()).await;
    assert_eq!(suspended.suspended_at_ms, Some(base_ms()));
    let other = register(store, 2).await;
    let lost = active_card(store, &other).await;
    let lost_no = lost.card_no.as_str();
    let other_ctx = ctx(holder(&other));
    act(store, &other_ctx, lost_no, CardAction::Suspend, ActionInput::default()).await;
    act(store, &other_ctx, lost_no, CardAction::ReportLost, ActionInput::default()).await;

    let report = run(store, Job::AutoLift, days_later_ms(14)).await;
    assert_eq!(report.changed, 0, "{report:?}");
    assert_eq!(get_card(store, no).await.status, CardStatus::Suspended);
    // One millisecond short of 15 days is still too early.
    let report = run(store, Job::AutoLift, days_later_ms(15) - 1).await;
    assert_eq!(report.changed, 0, "{report:?}");
    assert_eq!(get_card(store, no).await.status, CardStatus::Suspended);

    let report = run(store, Job::AutoLift, days_later_ms(15)).await;
    assert_eq!((report.job.as_str(), report.changed), ("auto_lift", 1));
    let lifted = get_card(store, no).await;
    assert_eq!(lifted.status, CardStatus::Active);
    assert_eq!(lifted.suspended_at_ms, None);
    assert_eq!(lifted.status_changed_at_ms, days_later_ms(15));
    assert_eq!(get_card(store, lost_no).await.status, CardStatus::Lost);
    let last = all_events(store).await.into_iter().rfind(|e| e.entity_id == no).expect("the lift has an event");
    assert_eq!(last.kind, "card.unsuspended");
    assert_eq!(last.at_ms, days_later_ms(15));
    let audit = {
        let mut tx = store.read().await.expect("read");
        let rows = tx.audit_of_entity("card", no, 100).await.expect("audit");
        tx.commit().await.expect("commit");
        rows
    };
    let lift = audit.last().expect("the lift is audited");
    assert_eq!((lift.action.as_str(), lift.actor.as_str()), ("card.unsuspended", "system:auto_lift"));

    let report = run(store, Job::AutoLift, days_later_ms(30)).await;
    assert_eq!(report.changed, 0, "nothing left to lift");
}

/// Batch-channel cards uncollected for 6 months turn dormant (not after 5), and are
/// cancelled and destroyed 6 months later; instant-channel cards are never swept.
/// Puts a card back in `produced` behind sscard's back (a state the use cases never leave it in).
async fn force_produced(store: &dyn Store, card_no: &str) {
    let mut tx = store.write().await.expect("write");
    let sql = format!("UPDATE cards SET status = 'produced', issued_on = NULL WHERE card_no = '{card_no}'");
    assert_eq!(tx.execute_unchecked(&sql).await.expect("force"), 1);
    tx.commit().await.expect("commit");
}

pub async fn dormant_sweep(store: Arc<dyn Store>) {
    let store = &*store;
    seed(store).await;
    let waiting = produced_card(store, &register(store, 1).await).await;
    let collected_late_person = register(store, 2).await;
    let collected_late = produced_card(store, &collected_late_person).await;
    let instant = issued_card(store, &register(store, 3).await).await;
    // An instant card is `produced` only inside its one transaction; force that state
    // behind sscard's back to show the sweep decides by channel, not only by status.
    let forced = issued_card(store, &register(store, 4).await).await;
    force_produced(store, forced.card_no.as_str()).await;
    let status = |no: &str| {
        let no = no.to_string();
        async move { get_card(store, &no).await.status }
    };

    let report = run(store, Job::DormantSweep, at_date_ms(date!(2026 - 08 - 02))).await;
    assert_eq!(report.changed, 0, "five months: {report:?}");
    assert_eq!(status(waiting.card_no.as_str()).await, CardStatus::Produced);
    let report = run(store, Job::DormantSweep, at_date_ms(date!(2026 - 09 - 01))).await;
    assert_eq!(report.changed, 0, "a day short of six months: {report:?}");

    let six_months = at_date_ms(date!(2026 - 09 - 02));
    let report = run(store, Job::DormantSweep, six_months).await;
    assert_eq!((report.job.as_str(), report.changed), ("dormant_sweep", 2));
    let dormant = get_card(store, waiting.card_no.as_str()).await;
    assert_eq!(dormant.status, CardStatus::Dormant);
    assert_eq!(dormant.status_changed_at_ms, six_months);
    assert!(!dormant.destroyed);
    assert_eq!(status(collected_late.card_no.as_str()).await, CardStatus::Dormant);
    assert_eq!(status(instant.card_no.as_str()).await, CardStatus::Issued);
    assert_eq!(status(forced.card_no.as_str()).await, CardStatus::Produced);

    // A dormant card can still be collected.
    let app_id = collected_late.application_id.clone().unwrap_or_default();
    let view = step(store, &ctx_at(teller(BANK), at_date_ms(date!(2026 - 10 - 08))), &app_id, AppStep::Collect).await;
    assert_eq!(view.application.status, AppStatus::Collected);
    let handed = card_of(&view);
    assert_eq!(handed.status, CardStatus::Issued);
    assert_eq!(handed.issued_on, Some(date!(2026 - 10 - 08)));

    let report = run(store, Job::DormantSweep, at_date_ms(date!(2027 - 02 - 02))).await;
    assert_eq!(report.changed, 0, "five months dormant: {report:?}");
    assert_eq!(status(waiting.card_no.as_str()).await, CardStatus::Dormant);

    let report = run(store, Job::DormantSweep, at_date_ms(date!(2027 - 03 - 02))).await;
    assert_eq!(report.changed, 1, "six months dormant: {report:?}");
    let destroyed = get_card(store, waiting.card_no.as_str()).await;
    assert_eq!(destroyed.status, CardStatus::Cancelled);
    assert!(destroyed.destroyed);
    assert_eq!(destroyed.cancel_reason, Some(CancelReason::Destroyed));
    assert_eq!(status(collected_late.card_no.as_str()).await, CardStatus::Issued);
    assert_eq!(status(instant.card_no.as_str()).await, CardStatus::Issued);
    assert_eq!(status(forced.card_no.as_str()).await, CardStatus::Produced);
    let events: Vec<_> =
        all_events(store).await.into_iter().filter(|e| e.entity_id == waiting.card_no.as_str()).collect();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["card.produced", "card.dormant", "card.cancelled"]);
    assert_eq!(events[2].payload["destroyed"], true);

    let report = run(store, Job::DormantSweep, at_date_ms(date!(2028 - 03 - 02))).await;
    assert_eq!(report.changed, 0, "{report:?}");
}

/// A temporary card is cancelled (temporary_expired) once its 60 days are over, not before;
/// formal cards are not touched.
pub async fn temporary_cards_expire(store: Arc<dyn Store>) {
    let store = &*store;
    seed(store).await;
    let desk = ctx(teller(BANK));
    let temporary_input =
        || app_input(AppKind::Temporary, Channel::BranchInstant, BANK, Some(PRINTER_BRANCH), None, None);
    let idle = register(store, 1).await;
    let idle_card = card_of(&apply(store, &desk, &idle.id, temporary_input()).await);
    assert!(idle_card.temporary);
    assert_eq!(idle_card.issued_on, Some(TODAY));
    assert_eq!(idle_card.expires_on, today_plus(59), "valid 60 days, the issue day included");
    assert_eq!(idle_card.pan, None, "no financial function");
    let used = register(store, 2).await;
    let used_card = card_of(&apply(store, &desk, &used.id, temporary_input()).await);
    act(store, &ctx(holder(&used)), used_card.card_no.as_str(), CardAction::Activate, with_pin(GOOD_PIN)).await;
    let formal = issued_card(store, &register(store, 3).await).await;

    let report = run(store, Job::TemporaryExpiry, days_later_ms(59)).await;
    assert_eq!(report.changed, 0, "day 59: {report:?}");
    assert_eq!(get_card(store, idle_card.card_no.as_str()).await.status, CardStatus::Issued);
    assert_eq!(get_card(store, used_card.card_no.as_str()).await.status, CardStatus::Active);

    let report = run(store, Job::TemporaryExpiry, days_later_ms(60)).await;
    assert_eq!((report.job.as_str(), report.changed), ("temporary_expiry", 2));
    for no in [idle_card.card_no.as_str(), used_card.card_no.as_str()] {
        let expired = get_card(store, no).await;
        assert_eq!(expired.status, CardStatus::Cancelled);
        assert_eq!(expired.cancel_reason, Some(CancelReason::TemporaryExpired));
        assert_eq!(expired.status_changed_at_ms, days_later_ms(60));
    }
    assert_eq!(get_card(store, formal.card_no.as_str()).await.status, CardStatus::Issued);
    assert_eq!(live_cards(store, &used.id).await, 0);
    let report = run(store, Job::TemporaryExpiry, days_later_ms(61) + DAY_MS).await;
    assert_eq!(report.changed, 0, "{report:?}");
}
