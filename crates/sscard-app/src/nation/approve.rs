//! Approving in the nation: the hub is asked first, outside any transaction (a slow or absent
//! hub then holds no row lock), and the answer decides the approve's own transaction: `go`
//! approves as always, `wait` puts the application in `awaiting_remote_stop`.

use super::{ClaimAnswer, ClaimRequest, HubError, Nation};
use crate::applications::{ApplicationView, StepInput, set_status_in, step_here, step_in, view_in};
use crate::{Ctx, not_found, remember_answer};
use serde_json::json;
use sscard_domain::access;
use sscard_domain::application::{AppStep, ClaimDecision, approve_after_claim, needs_national_claim, step_target};
use sscard_domain::handover::instant_path;
use sscard_store::tx::Store;
use sscard_store::{Result, StoreError};

/// The code of the 503 answered when the hub gives no answer.
pub const HUB_UNAVAILABLE: &str = "hub_unavailable";

fn unavailable(e: HubError) -> StoreError {
    tracing::warn!(error = %e, "claim at the national hub failed");
    StoreError::Unavailable {
        code: HUB_UNAVAILABLE,
        detail: format!("{e}; the application was not approved, try again later"),
    }
}

/// Approves `app_id` after asking the hub; with `then_instant`, an instant channel's card is
/// made at once on `go` (the rest of the instant path, in the same transaction).
///
/// Kinds the hub need not hear of (a temporary card) are approved here alone. Refusals that
/// need no hub (access, a status that cannot be approved) are said before asking it. When the
/// hub gives no answer nothing changes and the error is [`StoreError::Unavailable`].
pub(crate) async fn approve(
    store: &dyn Store,
    ctx: &Ctx,
    nation: &Nation,
    app_id: &str,
    input: &StepInput,
    then_instant: bool,
) -> Result<ApplicationView> {
    let mut tx = store.read().await?;
    let app = tx.get_application(app_id, false).await?.ok_or_else(|| not_found("application", app_id))?;
    if !then_instant {
        // An instant application's approve is part of its intake, which its taker may do.
        access::may_step(&ctx.actor, &app, AppStep::Approve)?;
    }
    let person = tx.get_person(&app.person_id, false).await?.ok_or_else(|| not_found("person", &app.person_id))?;
    tx.commit().await?;
    if !needs_national_claim(app.kind) {
        return step_here(store, ctx, app_id, AppStep::Approve, input).await;
    }
    step_target(app.status, AppStep::Approve)?;
    let request = ClaimRequest {
        person_index: nation.index_key.person_index(&person.ssn.to_string()),
        person_id: person.id.clone(),
        application_id: app.id.clone(),
    };
    let answer = nation.hub.claim(&request).await.map_err(unavailable)?;
    let mut tx = store.write().await?;
    // Decided again under the lock: the application may have moved while the hub answered.
    let mut app = tx.get_application(app_id, true).await?.ok_or_else(|| not_found("application", app_id))?;
    match answer {
        ClaimAnswer::Go => {
            step_in(tx.as_mut(), ctx, &person, &mut app, AppStep::Approve, input).await?;
            if then_instant && app.channel.is_instant() {
                for step in instant_path(app.fee_fen).iter().filter(|s| **s != AppStep::Approve) {
                    step_in(tx.as_mut(), ctx, &person, &mut app, *step, &StepInput::default()).await?;
                }
            }
        }
        ClaimAnswer::Wait { remote_stop_id, held_by } => {
            let to = approve_after_claim(app.status, ClaimDecision::Wait)?;
            let payload = json!({ "step": "approve", "remote_stop_id": remote_stop_id, "held_by": held_by.as_str() });
            set_status_in(tx.as_mut(), ctx, &person, &mut app, to, payload).await?;
        }
    }
    let view = view_in(tx.as_mut(), ctx, app).await?;
    remember_answer(tx.as_mut(), ctx, &view).await?;
    tx.commit().await?;
    Ok(view)
}
