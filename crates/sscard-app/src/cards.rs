//! Card actions: activation (with PIN and the replacement of the previous card, whose
//! e-wallet balance moves to the new card in the same transaction),
//! temporary loss and its lift, formal loss, stop and cancel. After every status change the
//! person's e-card is brought in line in the same transaction ([`super::ecard::sync_in`]).

use super::{Ctx, Subject, not_found, record, remember_answer};
use serde_json::json;
use sscard_domain::access;
use sscard_domain::card::{
    CancelReason, Card, CardAction, CardStatus, Pin, StopReason, decide_action, decide_activation,
};
use sscard_domain::error::DomainError;
use sscard_domain::ids::CardNo;
use sscard_domain::person::Person;
use sscard_store::Result;
use sscard_store::ports::{Applications, AuditLog, Cards, Ecards, Ledger};
use sscard_store::tx::Store;

/// Longest free-text reason accepted for a stop.
pub const MAX_REASON_CHARS: usize = sscard_domain::card::MAX_STOP_REASON_CHARS;

/// What an action request carries besides the action, parsed at the edge: the new PIN
/// (activation), the cancel reason (cancel) and the stop reason (stop).
#[derive(Debug, Clone, Default)]
pub struct ActionInput {
    pub pin: Option<Pin>,
    pub cancel_reason: Option<CancelReason>,
    pub stop_reason: Option<StopReason>,
}

/// A card, if the actor may see it.
pub async fn get(store: &dyn Store, ctx: &Ctx, card_no: &CardNo) -> Result<Card> {
    let card_no = card_no.as_str();
    let mut tx = store.read().await?;
    let card = tx.get_card(card_no, false).await?.ok_or_else(|| not_found("card", card_no))?;
    tx.commit().await?;
    access::may_view_card(&ctx.actor, &card)?;
    Ok(card)
}

/// All cards of a person, if the actor may see the person. Tellers see only their bank's cards.
pub async fn of_person(store: &dyn Store, ctx: &Ctx, person_id: &str) -> Result<Vec<Card>> {
    access::may_view_person(&ctx.actor, person_id)?;
    let mut tx = store.read().await?;
    if tx.get_person(person_id, false).await?.is_none() {
        return Err(not_found("person", person_id));
    }
    let cards = tx.cards_of_person(person_id).await?;
    tx.commit().await?;
    Ok(cards.into_iter().filter(|c| access::may_view_card(&ctx.actor, c).is_ok()).collect())
}

/// Runs one action on a card. Locks the person first, then the card, so concurrent actions on
/// one person's cards are serialised (two branches activating at once: one wins, one gets 409).
pub async fn act(
    store: &dyn Store,
    ctx: &Ctx,
    card_no: &CardNo,
    action: CardAction,
    input: ActionInput,
) -> Result<Card> {
    let card_no = card_no.as_str();
    let mut tx = store.write().await?;
    let (person, card) = if tx.excludes_other_writers() {
        // SQLite's write transaction already excludes every other writer: plain reads suffice.
        let card = tx.get_card(card_no, false).await?.ok_or_else(|| not_found("card", card_no))?;
        let person =
            tx.get_person(&card.person_id, false).await?.ok_or_else(|| not_found("person", &card.person_id))?;
        (person, card)
    } else {
        // Person first, then card: the lock order every use case follows.
        let person = tx.get_person_of_card(card_no, true).await?.ok_or_else(|| not_found("card", card_no))?;
        let card = tx.get_card(card_no, true).await?.ok_or_else(|| not_found("card", card_no))?;
        (person, card)
    };
    access::may_act_on_card(&ctx.actor, &card, action)?;
    let card = match action {
        CardAction::Activate => activate_in(tx.as_mut(), ctx, &person, card, input.pin.as_ref()).await?,
        _ => change_in(tx.as_mut(), ctx, &person, card, action, &input).await?,
    };
    // The kept outcome leaves the PIN hash out: it stays in the card's own row only.
    remember_answer(tx.as_mut(), ctx, &Card { pin_hash: None, ..card.clone() }).await?;
    tx.commit().await?;
    Ok(card)
}

async fn activate_in(
    tx: &mut (impl Applications + AuditLog + Cards + Ecards + Ledger + ?Sized),
    ctx: &Ctx,
    person: &Person,
    mut card: Card,
    pin: Option<&Pin>,
) -> Result<Card> {
    let others = tx.cards_of_person(&person.id).await?;
    let replaces = match &card.application_id {
        Some(app_id) => tx.get_application(app_id, false).await?.and_then(|a| a.replaces_card_no),
        None => None,
    };
    let plan = decide_activation(&card, &others, replaces.as_deref(), ctx.today())?;
    let pin = pin.ok_or_else(|| DomainError::invalid("pin_required", "pin", "activation needs a 6-digit PIN"))?;
    for old_no in &plan.replaced {
        if let Some(mut old) = others.iter().find(|c| &c.card_no == old_no).cloned() {
            let from = old.status;
            old.status = CardStatus::Replaced;
            old.status_changed_at_ms = ctx.now_ms;
            tx.update_card(&old).await?;
            let payload = json!({ "from": from.as_str(), "to": "replaced", "by": card.card_no.as_str() });
            record(tx, ctx, "card.replaced", &subject(&old, person), payload).await?;
            super::ecard::sync_in(tx, ctx, person).await?;
            // The e-wallet follows the card: the replaced card's balance moves to this one.
            super::onecard::ledger::migrate_wallet_in(tx, ctx, person, &old, &card).await?;
        }
    }
    card.pin_hash = Some(sscard_gm::password::hash_password(pin.expose(), ctx.hash_iterations));
    card.status = CardStatus::Active;
    card.status_changed_at_ms = ctx.now_ms;
    tx.update_card(&card).await?;
    let payload = json!({ "from": "issued", "to": "active", "replaced": plan.replaced.iter().map(|c| c.as_str()).collect::<Vec<_>>() });
    record(tx, ctx, "card.activated", &subject(&card, person), payload).await?;
    super::ecard::sync_in(tx, ctx, person).await?;
    Ok(card)
}

/// Applies a non-activation action (also used by the jobs with their own actor).
pub(crate) async fn change_in(
    tx: &mut (impl AuditLog + Cards + Ecards + Ledger + ?Sized),
    ctx: &Ctx,
    person: &Person,
    mut card: Card,
    action: CardAction,
    input: &ActionInput,
) -> Result<Card> {
    let from = card.status;
    let to = decide_action(&card, action)?;
    let mut payload = json!({ "from": from.as_str(), "to": to.as_str() });
    match action {
        CardAction::Suspend => card.suspended_at_ms = Some(ctx.now_ms),
        CardAction::Unsuspend => card.suspended_at_ms = None,
        CardAction::Cancel => {
            let reason = sscard_domain::card::cancel_reason(input.cancel_reason)?;
            card.cancel_reason = Some(reason);
            payload["reason"] = json!(reason.as_str());
        }
        CardAction::Stop => {
            let reason = sscard_domain::card::stop_reason(input.stop_reason.as_ref())?;
            payload["reason"] = json!(reason.as_str());
        }
        CardAction::ReportLost | CardAction::Activate => {}
    }
    card.status = to;
    card.status_changed_at_ms = ctx.now_ms;
    tx.update_card(&card).await?;
    let kind = match action {
        CardAction::Suspend => "card.suspended",
        CardAction::Unsuspend => "card.unsuspended",
        CardAction::ReportLost => "card.lost",
        CardAction::Stop => "card.stopped",
        CardAction::Cancel => "card.cancelled",
        CardAction::Activate => "card.activated",
    };
    record(tx, ctx, kind, &subject(&card, person), payload).await?;
    super::ecard::sync_after_change(tx, ctx, person, &card, from.is_live()).await?;
    if matches!(card.status, CardStatus::Stopped | CardStatus::Cancelled) {
        // The card can never be tapped again: its e-wallet goes back to the holder.
        super::onecard::ledger::refund_wallet_in(tx, ctx, person, &card).await?;
    }
    Ok(card)
}

pub(crate) fn subject<'a>(card: &'a Card, person: &'a Person) -> Subject<'a> {
    Subject {
        entity: "card",
        entity_id: card.card_no.as_str(),
        person_id: &person.id,
        region: person.region.to_string(),
    }
}
