//! Use cases of "one card for everything". Every one runs as the others:
//! load, ask `sscard-domain` (terminal, ledger, medical, transit, library, park rules), write
//! the change, its transfers, its usage record, its outbox event and audit record in one
//! transaction. A refused use of a card is recorded in a transaction of its own after the
//! refused one rolled back, so the holder sees every attempt. That includes presentations
//! refused before any card is known: a QR code that failed its check (recorded as a `qr` use
//! with its reason, and on the holder's list when its signature verified so the e-card is
//! known) and a card number that names no card (recorded with that number, no person).
//!
//! A holder of another deployment of the nation (a visitor, `sscard_domain::nation::visitor`)
//! is served by the uses that move no money (identity checks, library loans, free park
//! entries): their uses, loans and entries are recorded with the issuing deployment and the
//! e-card id, and no person. Every other use refuses a visitor.

pub mod floats;
pub mod ledger;
pub mod library;
pub mod medical;
pub mod parks;
pub mod terminals;
pub mod transit;
pub mod verify;

use super::{Ctx, Subject, new_id, not_found, record};
use serde::Serialize;
use sscard_domain::card::Card;
use sscard_domain::error::DomainError;
use sscard_domain::ids::CardNo;
use sscard_domain::nation::visitor::{Visitor, check_visitor};
use sscard_domain::person::Person;
use sscard_domain::refusal::Refusal;
use sscard_domain::terminal::{
    Presented, Scenario, Terminal, UseResult, check_presentation, check_terminal, refused_use,
};
use sscard_store::onecard::UseRow;
use sscard_store::ports::{AuditLog, Cards, Ecards, Persons, Terminals};
use sscard_store::tx::Store;
use sscard_store::{Result, StoreError};

/// How a holder presented themself at a terminal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Presentation {
    /// The card number read from the chip.
    CardNo(String),
    /// An e-card QR code whose signature and expiry the server already checked.
    Ecard { ecard_id: String },
    /// A QR code the server refused (`reason`: malformed, bad_signature, unknown_key, expired,
    /// ...). `ecard_id` is set only when the signature verified (an expired code, say), so the
    /// holder is known although the code is refused; every use case refuses it with `reason`.
    RefusedQr { reason: &'static str, ecard_id: Option<String> },
    /// An e-card QR code of another deployment of the nation, usable: its signature checked
    /// against the national trust list, its status and attributes given by its deployment.
    Visitor(Visitor),
}

impl Presentation {
    pub fn kind(&self) -> Presented {
        match self {
            Presentation::CardNo(_) => Presented::Card,
            Presentation::Ecard { .. } | Presentation::RefusedQr { .. } | Presentation::Visitor(_) => Presented::Qr,
        }
    }
    /// The request field the presentation came in.
    fn field(&self) -> &'static str {
        match self {
            Presentation::CardNo(_) => "card_no",
            Presentation::Ecard { .. } | Presentation::RefusedQr { .. } | Presentation::Visitor(_) => "token",
        }
    }
    /// The card number as presented, when it is one (even of no known card).
    fn card_no(&self) -> Option<String> {
        match self {
            Presentation::CardNo(no) => CardNo::parse(no).ok().map(|no| no.as_str().to_string()),
            _ => None,
        }
    }
}

/// The holder behind a presentation: the person and the card the use is booked on.
#[derive(Debug, Clone)]
pub struct Holder {
    pub person: Person,
    pub card: Card,
}

/// The person and card behind a presentation, without judging the card.
/// `Err(reason)` when nothing usable is behind it (`unknown_card`, `revoked`).
pub(crate) async fn lookup(
    tx: &mut (impl Cards + Ecards + ?Sized),
    p: &Presentation,
) -> Result<std::result::Result<(Person, Card), Refusal>> {
    Ok(find(tx, p).await?.map(|f| (f.person, f.card)))
}

/// What stands behind a presentation, read in one statement.
struct Found {
    person: Person,
    card: Card,
    /// For a QR code: whether its e-card is usable.
    ecard_usable: Option<bool>,
}

/// [`lookup`], also telling whether the e-card is usable.
async fn find(
    tx: &mut (impl Cards + Ecards + ?Sized),
    p: &Presentation,
) -> Result<std::result::Result<Found, Refusal>> {
    match p {
        Presentation::CardNo(no) => {
            let Ok(no) = CardNo::parse(no) else { return Ok(Err(Refusal::UnknownCard)) };
            Ok(tx.card_with_person(no.as_str(), false).await?.map(found_card).ok_or(Refusal::UnknownCard))
        }
        Presentation::Ecard { ecard_id } => {
            let Some((ecard, card, person)) = tx.ecard_with_card(ecard_id).await? else {
                return Ok(Err(Refusal::Revoked));
            };
            Ok(Ok(Found { person, card, ecard_usable: Some(ecard.usable()) }))
        }
        Presentation::RefusedQr { reason, .. } => Ok(Err(Refusal::from_code(reason))),
        // A use that serves visitors takes them with `party`; every other refuses them.
        Presentation::Visitor(_) => Ok(Err(Refusal::ForeignCardLocalOnly)),
    }
}

fn found_card((card, person): (Card, Person)) -> Found {
    Found { person, card, ecard_usable: None }
}

/// Whose presentation a refused use was, for its record: the holder behind a card number or
/// a verified QR code, also when the card or the code itself was refused.
pub(crate) async fn refused_holder(
    tx: &mut (impl Cards + Ecards + ?Sized),
    p: &Presentation,
) -> Result<Option<(Person, Card)>> {
    if let Presentation::RefusedQr { ecard_id: Some(ecard_id), .. } = p {
        return lookup(tx, &Presentation::Ecard { ecard_id: ecard_id.clone() }).await.map(|found| found.ok());
    }
    Ok(lookup(tx, p).await?.ok())
}

/// The holder, refused (422, with the reason) when the card cannot be used at this terminal now.
pub(crate) async fn holder(
    tx: &mut (impl Cards + Ecards + ?Sized),
    ctx: &Ctx,
    terminal: &Terminal,
    p: &Presentation,
) -> Result<Holder> {
    judge(ctx, terminal, p, find(tx, p).await?)
}

/// The terminal as stored now (see [`live_terminal`]) and the holder (see [`holder`]): for a
/// card number both in one read. `lock_person` holds the person's row until commit.
pub(crate) async fn terminal_and_holder(
    tx: &mut (impl Ecards + Persons + Terminals + ?Sized),
    ctx: &Ctx,
    terminal_id: &str,
    scenario: Scenario,
    p: &Presentation,
    lock_person: bool,
) -> Result<(Terminal, Holder)> {
    let Presentation::CardNo(no) = p else {
        let t = live_terminal(tx, terminal_id, scenario).await?;
        let mut h = holder(tx, ctx, &t, p).await?;
        if lock_person {
            h.person = tx.get_person(&h.person.id, true).await?.ok_or_else(|| not_found("person", &h.person.id))?;
        }
        return Ok((t, h));
    };
    let Ok(no) = CardNo::parse(no) else {
        // The terminal's own refusal comes first.
        live_terminal(tx, terminal_id, scenario).await?;
        return Err(refusal_of(p, Refusal::UnknownCard).into());
    };
    let (t, card) = tx.terminal_and_card(terminal_id, no.as_str(), lock_person).await?;
    let t = t.ok_or_else(|| not_found("terminal", terminal_id))?;
    check_terminal(&t, scenario)?;
    let h = judge(ctx, &t, p, card.map(found_card).ok_or(Refusal::UnknownCard))?;
    Ok((t, h))
}

/// Judges what stands behind a presentation at this terminal now.
fn judge(
    ctx: &Ctx,
    terminal: &Terminal,
    p: &Presentation,
    found: std::result::Result<Found, Refusal>,
) -> Result<Holder> {
    let found = match found {
        Ok(found) => found,
        Err(reason) => return Err(refusal_of(p, reason).into()),
    };
    check_presentation(&found.card, found.ecard_usable, terminal.region, ctx.today())?;
    Ok(Holder { person: found.person, card: found.card })
}

/// The 422 for a presentation with nothing usable behind it.
pub(crate) fn refusal_of(p: &Presentation, reason: Refusal) -> DomainError {
    let field = p.field();
    let message = match p {
        Presentation::RefusedQr { .. } => format!("the QR code was refused: {reason}"),
        _ => format!("no usable card behind this {field}"),
    };
    DomainError::refused(reason.as_str(), message).with_field(field)
}

/// Who a use serves: a holder of this deployment, or a visitor of another.
pub(crate) enum Party<'a> {
    Local(Box<Holder>),
    Visitor(&'a Visitor),
}

impl Party<'_> {
    /// The holder and card a use row names (none for a visitor).
    pub(crate) fn who(&self) -> Option<(&Person, &Card)> {
        match self {
            Party::Local(h) => Some((&h.person, &h.card)),
            Party::Visitor(_) => None,
        }
    }

    /// The subject of its event and audit record: a visitor's is this terminal's region, with
    /// no person.
    pub(crate) fn subject<'s>(&'s self, entity: &'static str, id: &'s str, t: &Terminal) -> Subject<'s> {
        match self {
            Party::Local(h) => terminal_subject(entity, id, h),
            Party::Visitor(_) => Subject { entity, entity_id: id, person_id: "", region: t.region.to_string() },
        }
    }

    /// (person_id, card_no, deployment, ecard_id) as a loan or an entry records them.
    pub(crate) fn columns(&self) -> (Option<String>, Option<String>, Option<String>, Option<String>) {
        match self {
            Party::Local(h) => (Some(h.person.id.clone()), Some(h.card.card_no.as_str().to_string()), None, None),
            Party::Visitor(v) => (None, None, Some(v.deployment.clone()), Some(v.ecard_id.clone())),
        }
    }
}

/// Who a use that serves visitors serves: the holder (see [`holder`]), or the visitor behind
/// a checked QR code of another deployment, whose temporary card is refused outside its region.
pub(crate) async fn party<'a>(
    tx: &mut (impl Cards + Ecards + ?Sized),
    ctx: &Ctx,
    terminal: &Terminal,
    p: &'a Presentation,
) -> Result<Party<'a>> {
    match p {
        Presentation::Visitor(v) => {
            check_visitor(v, terminal.region)?;
            Ok(Party::Visitor(v))
        }
        _ => Ok(Party::Local(Box::new(holder(tx, ctx, terminal, p).await?))),
    }
}

/// The terminal as stored now: it must exist, be enabled and serve `scenario`.
pub(crate) async fn live_terminal(
    tx: &mut (impl Terminals + ?Sized),
    terminal_id: &str,
    scenario: Scenario,
) -> Result<Terminal> {
    let t = tx.get_terminal(terminal_id).await?.ok_or_else(|| not_found("terminal", terminal_id))?;
    check_terminal(&t, scenario)?;
    Ok(t)
}

/// A usage record for this terminal and holder.
pub(crate) fn use_row(
    ctx: &Ctx,
    t: &Terminal,
    p: &Presentation,
    who: Option<(&Person, &Card)>,
    reason: Option<&str>,
) -> UseRow {
    UseRow {
        id: new_id(),
        at_ms: ctx.now_ms,
        scenario: t.scenario.as_str().to_string(),
        terminal_id: t.id.clone(),
        operator_code: t.operator_code.clone(),
        person_id: who.map(|(p, _)| p.id.clone()),
        card_no: who.map(|(_, c)| c.card_no.as_str().to_string()).or_else(|| p.card_no()),
        presented: p.kind().as_str().to_string(),
        result: if reason.is_none() { UseResult::Ok } else { UseResult::Refused },
        reason: reason.map(str::to_string),
        region: t.region.to_string(),
        deployment: match p {
            Presentation::Visitor(v) => Some(v.deployment.clone()),
            _ => None,
        },
        ecard_id: match p {
            Presentation::Visitor(v) => Some(v.ecard_id.clone()),
            _ => None,
        },
    }
}

/// After an operation: a refusal of the card or of the rules (422, 409) is recorded as a
/// refused use in a transaction of its own, with the holder when one is known (also behind a
/// refused but verified QR code) and the card number as presented otherwise; malformed input
/// and forbidden terminals are not uses.
pub(crate) async fn with_refusals<T>(
    store: &dyn Store,
    ctx: &Ctx,
    t: &Terminal,
    p: &Presentation,
    outcome: Result<T>,
) -> Result<T> {
    let reason = match &outcome {
        Err(StoreError::Domain(e)) => match refused_use(e) {
            Some(reason) => reason,
            None => return outcome,
        },
        _ => return outcome,
    };
    let mut tx = store.write().await?;
    let who = refused_holder(tx.as_mut(), p).await?;
    let row = use_row(ctx, t, p, who.as_ref().map(|(p, c)| (p, c)), Some(reason));
    tx.insert_use(&row).await?;
    tx.commit().await?;
    outcome
}

pub(crate) fn terminal_subject<'a>(entity: &'static str, id: &'a str, h: &'a Holder) -> Subject<'a> {
    Subject { entity, entity_id: id, person_id: &h.person.id, region: h.person.region.to_string() }
}

/// Only terminals may act as terminals: the actor name is `terminal:ID`.
pub fn terminal_actor(t: &Terminal) -> sscard_domain::access::Actor {
    sscard_domain::access::Actor {
        name: format!("terminal:{}", t.id),
        role: sscard_domain::access::Role::Terminal,
        person_id: None,
        bank_code: None,
    }
}

pub(crate) async fn record_in(
    tx: &mut (impl AuditLog + ?Sized),
    ctx: &Ctx,
    kind: &str,
    subject: &Subject<'_>,
    payload: serde_json::Value,
) -> Result<()> {
    record(tx, ctx, kind, subject, payload).await
}

/// Identity verification at an identity terminal: only the attributes of the terminal's scope
/// (of a visitor, of what their deployment shows a terminal).
pub async fn identify(
    store: &dyn Store,
    ctx: &Ctx,
    terminal: &Terminal,
    p: &Presentation,
) -> Result<serde_json::Map<String, serde_json::Value>> {
    let outcome = async {
        let mut tx = store.write().await?;
        let t = live_terminal(tx.as_mut(), &terminal.id, Scenario::Identity).await?;
        let who = party(tx.as_mut(), ctx, &t, p).await?;
        let all = match &who {
            Party::Local(h) => {
                let (retired, minor, temporary) =
                    sscard_domain::ecard::qr_flags(&h.person, &h.card, ctx.today(), &ctx.policy);
                sscard_domain::ecard::Attributes {
                    ssn_masked: Some(sscard_domain::document::mask_id(h.person.ssn.as_str())),
                    name: Some(h.person.name.masked()),
                    region: h.person.region.to_string(),
                    retired,
                    minor,
                    temporary,
                }
            }
            // What the visitor's deployment shows a terminal: never an SSN, masked or not.
            Party::Visitor(v) => v.attributes.clone(),
        };
        tx.insert_use(&use_row(ctx, &t, p, who.who(), None)).await?;
        tx.commit().await?;
        Ok(sscard_domain::terminal::scoped(&t.scope, &all))
    }
    .await;
    with_refusals(store, ctx, terminal, p, outcome).await
}

/// Every use of the person's cards, newest first (the holder or staff).
pub async fn uses(
    store: &dyn Store,
    ctx: &Ctx,
    person_id: &str,
    before_ms: Option<i64>,
    limit: u32,
) -> Result<Vec<UseRow>> {
    let mut tx = store.read().await?;
    crate::persons::check_accounts_access(tx.as_mut(), ctx, person_id).await?;
    let found = tx.uses_of_person(person_id, before_ms, limit).await?;
    tx.commit().await?;
    Ok(found)
}

/// Usage by scenario and by physical card vs e-card (staff).
pub async fn usage(store: &dyn Store, ctx: &Ctx) -> Result<Vec<sscard_store::onecard::UsageCount>> {
    sscard_domain::access::may_read_stats(&ctx.actor)?;
    let mut tx = store.read().await?;
    let found = tx.usage_counts().await?;
    tx.commit().await?;
    Ok(found)
}
