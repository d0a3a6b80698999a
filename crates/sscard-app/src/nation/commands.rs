//! The hub's commands to this deployment (`sscard.commands.<deployment>`), each applied
//! exactly once: the message id is recorded in the transaction of the command's effect, so a
//! redelivery finds it and changes nothing.

use super::COMMANDS_CONSUMER;
use crate::applications::set_status_in;
use crate::cards::{ActionInput, change_in};
use crate::{Ctx, Subject, not_found, record};
use serde::Serialize;
use serde_json::json;
use sscard_domain::access::{Actor, Role};
use sscard_domain::application::{AppStatus, resume_target};
use sscard_domain::card::{CancelReason, CardAction, StopReason};
use sscard_domain::nation::release::{Release, ReleasePlan, decide_release};
use sscard_domain::nation::wire::{Command, CommandKind, DeploymentCode};
use sscard_domain::person::Person;
use sscard_store::Result;
use sscard_store::tx::{Store, Tx};

/// What became of a command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum CommandOutcome {
    /// Applied and committed: acknowledge the message.
    Applied,
    /// Applied before (a redelivery): nothing changed; acknowledge it.
    Replayed,
    /// Recorded as applied without an effect, for the reason given (the person is unknown
    /// here, the application no longer waits): acknowledge it.
    Skipped { reason: String },
    /// Cannot be applied yet (a card is at the card bureau): nothing changed, not recorded;
    /// ask for the message again later.
    Retry { reason: String },
}

/// Applies the hub's command `command`, delivered as message `msg_id`, in one transaction.
///
/// `ctx` gives the time and the policy; the actor of every change is the hub
/// (`hub/<deployment the person moves to>` for a release, `hub` for a resume).
pub async fn handle_command(store: &dyn Store, ctx: &Ctx, msg_id: &str, command: &Command) -> Result<CommandOutcome> {
    let mut tx = store.write().await?;
    if !tx.first_delivery(COMMANDS_CONSUMER, msg_id, ctx.now_ms).await? {
        return Ok(CommandOutcome::Replayed);
    }
    let outcome = match &command.kind {
        CommandKind::ReleasePerson { person_id, remote_stop_id, for_deployment } => {
            let ctx = hub_ctx(ctx, &format!("hub/{for_deployment}"));
            release(tx.as_mut(), &ctx, person_id, remote_stop_id, for_deployment).await?
        }
        CommandKind::ResumeApplication { application_id, remote_stop_id } => {
            resume(tx.as_mut(), &hub_ctx(ctx, "hub"), application_id, remote_stop_id).await?
        }
    };
    if !matches!(outcome, CommandOutcome::Retry { .. }) {
        // A retry rolls back, the message id with it, so the redelivery is applied afresh.
        tx.commit().await?;
    }
    Ok(outcome)
}

fn hub_ctx(ctx: &Ctx, name: &str) -> Ctx {
    let actor = Actor { name: name.to_string(), role: Role::Admin, person_id: None, bank_code: None };
    Ctx { actor, idem: None, ..ctx.clone() }
}

/// `release_person`: stop, cancel and withdraw what the person holds here
/// ([`decide_release`]), then say so with `person.released`.
async fn release(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    person_id: &str,
    remote_stop_id: &str,
    for_deployment: &DeploymentCode,
) -> Result<CommandOutcome> {
    // Person first, then cards and applications: the lock order every use case follows.
    let Some(person) = tx.get_person(person_id, true).await? else {
        return Ok(CommandOutcome::Skipped { reason: format!("no person {person_id} here") });
    };
    let cards = tx.cards_of_person(&person.id).await?;
    let applications = tx.applications_of_person(&person.id).await?;
    let plan = match decide_release(&cards, &applications) {
        Release::Busy { application_id } => {
            return Ok(CommandOutcome::Retry {
                reason: format!("application {application_id} is in production at the card bureau"),
            });
        }
        Release::Apply(plan) => plan,
    };
    apply_plan(tx, ctx, &person, &plan).await?;
    let payload = json!({
        "remote_stop_id": remote_stop_id,
        "for_deployment": for_deployment.as_str(),
        "stopped": plan.stop.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
        "cancelled": plan.cancel.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
        "withdrawn": plan.withdraw,
    });
    let subject =
        Subject { entity: "person", entity_id: &person.id, person_id: &person.id, region: person.region.to_string() };
    record(tx, ctx, "person.released", &subject, payload).await?;
    Ok(CommandOutcome::Applied)
}

async fn apply_plan(tx: &mut dyn Tx, ctx: &Ctx, person: &Person, plan: &ReleasePlan) -> Result<()> {
    let stop = ActionInput { stop_reason: Some(StopReason::moved()), ..Default::default() };
    // The holder's application at the other deployment is their request to end this card.
    let cancel = ActionInput { cancel_reason: Some(CancelReason::HolderRequest), ..Default::default() };
    let cards = plan.stop.iter().map(|c| (c, CardAction::Stop, &stop));
    for (card_no, action, input) in cards.chain(plan.cancel.iter().map(|c| (c, CardAction::Cancel, &cancel))) {
        let card = tx.get_card(card_no.as_str(), true).await?.ok_or_else(|| not_found("card", card_no.as_str()))?;
        // Stopping revokes the e-card and refunds the e-wallet in this transaction.
        change_in(tx, ctx, person, card, action, input).await?;
    }
    for app_id in &plan.withdraw {
        let mut app = tx.get_application(app_id, true).await?.ok_or_else(|| not_found("application", app_id))?;
        let payload = json!({ "step": "withdraw", "card_no": app.card_no, "reason": "moved" });
        set_status_in(tx, ctx, person, &mut app, AppStatus::Withdrawn, payload).await?;
    }
    Ok(())
}

/// `resume_application`: the application waiting for the remote stop is approved.
async fn resume(tx: &mut dyn Tx, ctx: &Ctx, application_id: &str, remote_stop_id: &str) -> Result<CommandOutcome> {
    let Some(mut app) = tx.get_application(application_id, true).await? else {
        return Ok(CommandOutcome::Skipped { reason: format!("no application {application_id} here") });
    };
    let to = match resume_target(app.status) {
        Ok(to) => to,
        // Withdrawn or rejected while it waited: the resume has nothing left to do.
        Err(e) => return Ok(CommandOutcome::Skipped { reason: e.message }),
    };
    let person = tx.get_person(&app.person_id, false).await?.ok_or_else(|| not_found("person", &app.person_id))?;
    let payload = json!({ "step": "resume", "remote_stop_id": remote_stop_id });
    set_status_in(tx, ctx, &person, &mut app, to, payload).await?;
    Ok(CommandOutcome::Applied)
}
