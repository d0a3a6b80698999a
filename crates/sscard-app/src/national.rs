//! Cross-province services (跨省通办, DESIGN §7.1, docs/NATION.md): the hub's side (which
//! deployment decides, and the credential to call it with) and the deciding deployment's side
//! (run the forwarded operation with its own use cases and rules, the actor recorded as
//! `<from>/<username>`). The HTTP in between is the server's.

use super::{Ctx, applications, cards, persons};
use serde_json::{Value, json};
use sscard_domain::access::{Actor, Role};
use sscard_domain::application::{AppKind, ApplicationInput, Channel, ReplacementReason};
use sscard_domain::card::{CardAction, Pin, StopReason, decide_action};
use sscard_domain::ecard;
use sscard_domain::error::DomainError;
use sscard_domain::nation::forward::{self, CallerKind, ForwardOp, ForwardRequest, Inbound, MailedApplication, Route};
use sscard_domain::nation::medical::{Presented, RemoteBill};
use sscard_domain::nation::wire::DeploymentCode;
use sscard_store::model::{AppFilter, Page};
use sscard_store::tx::Store;
use sscard_store::{Result, StoreError};

/// Code of the 503 when the deciding deployment cannot be called.
pub const DEPLOYMENT_UNAVAILABLE: &str = "deployment_unavailable";

/// Where the hub forwards a request and how it authenticates there.
#[derive(Clone)]
pub struct ForwardTarget {
    pub route: Route,
    /// The deciding deployment's base URL.
    pub url: String,
    /// Its own secret, which it checks as the hub's bearer.
    pub secret: String,
}

impl std::fmt::Debug for ForwardTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ForwardTarget").field("route", &self.route).field("url", &self.url).finish_non_exhaustive()
    }
}

/// Keeps a registered deployment's secret sealed at the hub, so the hub can call it
/// (`sscard hub add-deployment` does this right after registering).
pub async fn remember_secret(store: &dyn Store, code: &DeploymentCode, secret: &str, now_ms: i64) -> Result<()> {
    let mut tx = store.write().await?;
    tx.put_deployment_secret(code.as_str(), secret, now_ms).await?;
    tx.commit().await
}

fn index_of(op: &ForwardOp) -> Option<&str> {
    match op {
        ForwardOp::PersonStatus { person_index } | ForwardOp::CardAction { person_index, .. } => Some(person_index),
        ForwardOp::Apply { person_index, .. } | ForwardOp::Progress { person_index, .. } => person_index.as_deref(),
        ForwardOp::EcardStatus { .. } | ForwardOp::MedicalSettle { .. } | ForwardOp::MedicalRefund { .. } => None,
    }
}

/// At the hub: the deployment that decides `req` (national index, regions, key owners), with
/// its URL and the secret to present. A request from `from` about a person is never routed
/// back to `from` itself: it answers such a request locally.
pub async fn forward_target(store: &dyn Store, req: &ForwardRequest) -> Result<ForwardTarget> {
    forward::check(req)?;
    let mut tx = store.read().await?;
    let entry = match index_of(&req.op) {
        Some(ix) => tx.get_index_entry(ix).await?,
        None => None,
    };
    let deployments: Vec<_> = tx.list_deployments().await?.into_iter().map(|d| d.info).collect();
    let key_owner = match &req.op {
        ForwardOp::EcardStatus { key_id, .. }
        | ForwardOp::MedicalSettle { bill: RemoteBill { presented: Presented::Qr { key_id, .. }, .. } } => {
            tx.get_hub_key(*key_id).await?.and_then(|k| DeploymentCode::parse(&k.deployment).ok())
        }
        _ => None,
    };
    let route = forward::route(&req.op, entry.as_ref(), &deployments, key_owner.as_ref()).map_err(|e| {
        // Nobody in the nation holds the person: as unknown as a person of no deployment.
        if e.code == "person_not_held" { StoreError::not_found("person", "(national index)") } else { e.into() }
    })?;
    let url = deployments.iter().find(|d| d.code == route.to).map(|d| d.url.clone());
    let secret = tx.deployment_secret(route.to.as_str()).await?;
    tx.commit().await?;
    match (url, secret) {
        (Some(url), Some(secret)) => Ok(ForwardTarget { route, url, secret }),
        _ => Err(StoreError::Unavailable {
            code: DEPLOYMENT_UNAVAILABLE,
            detail: format!("the hub keeps no way to call deployment {}", route.to),
        }),
    }
}

/// The actor a forwarded request runs as at the deciding deployment: a clerk for staff
/// serving a walk-in elsewhere, the holder (of the person the hub named) for a holder.
fn remote_actor(inbound: &Inbound, person_id: Option<&str>) -> Actor {
    let name = forward::remote_actor_name(&inbound.from, &inbound.caller.username);
    match inbound.caller.kind {
        CallerKind::Staff => Actor { name, role: Role::Clerk, person_id: None, bank_code: None },
        CallerKind::Holder => {
            Actor { name, role: Role::Holder, person_id: person_id.map(str::to_string), bank_code: None }
        }
        CallerKind::Terminal => Actor { name, role: Role::Terminal, person_id: None, bank_code: None },
    }
}

fn person_of(inbound: &Inbound) -> Result<&str> {
    inbound.person_id.as_deref().ok_or_else(|| StoreError::not_found("person", "(national index)"))
}

/// At the deciding deployment: runs a forwarded operation under its own rules and answers
/// what its own API would (the server sends it back through the hub unchanged).
pub async fn execute(store: &dyn Store, base: &Ctx, inbound: &Inbound) -> Result<Value> {
    let ctx_for = |person_id: Option<&str>| Ctx { actor: remote_actor(inbound, person_id), ..base.clone() };
    match &inbound.op {
        ForwardOp::PersonStatus { .. } => {
            let pid = person_of(inbound)?;
            person_status(store, &ctx_for(Some(pid)), pid).await
        }
        ForwardOp::CardAction { action, pin, reason, .. } => {
            let pid = person_of(inbound)?;
            let action = CardAction::parse(action.as_str())
                .ok_or_else(|| DomainError::invalid("bad_action", "action", "not a card action"))?;
            card_action(store, &ctx_for(Some(pid)), pid, action, pin.as_deref(), reason.as_deref()).await
        }
        ForwardOp::Apply { application, .. } => apply(store, base, inbound, application).await,
        ForwardOp::Progress { application_id, .. } => {
            let view = applications::get(store, &ctx_for(inbound.person_id.as_deref()), application_id).await?;
            Ok(progress_json(&view))
        }
        ForwardOp::EcardStatus { ecard_id, .. } => ecard_status(store, base, ecard_id).await,
        // A bill needs the QR checked against this deployment's keys first (the server's):
        // the server runs it with `crate::nation_medical::settle_at_decider` / `refund_at_decider`.
        ForwardOp::MedicalSettle { .. } | ForwardOp::MedicalRefund { .. } => Err(DomainError::invalid(
            "bad_forward",
            "op",
            "a medical bill is settled by the cross-province medical settlement",
        )
        .into()),
    }
}

/// Masks all but the last four characters (DESIGN §6: ids are masked in views for others).
fn mask_tail(s: &str) -> String {
    let n = s.chars().count();
    s.chars().enumerate().map(|(i, c)| if i + 4 < n { '*' } else { c }).collect()
}

async fn person_status(store: &dyn Store, ctx: &Ctx, person_id: &str) -> Result<Value> {
    let found = persons::get(store, ctx, person_id).await?;
    let held = cards::of_person(store, ctx, person_id).await?;
    // A default page is one row (the limit is clamped to at least 1): the oldest application,
    // seldom the one in flight. A person has a handful; 200 is every one of them.
    let filter = AppFilter { person_id: Some(person_id.to_string()), page: Page::first(200), ..AppFilter::default() };
    let apps = applications::list(store, ctx, filter).await?;
    let cards: Vec<Value> = held
        .iter()
        .map(|c| {
            json!({ "card_no": mask_tail(c.card_no.as_str()), "status": c.status.as_str(), "generation": c.generation,
                    "temporary": c.temporary, "bank_code": c.bank_code.as_str(), "region": c.region.to_string(),
                    "expires_on": c.expires_on.to_string() })
        })
        .collect();
    let in_flight: Vec<Value> = apps
        .iter()
        .filter(|a| a.status.is_open())
        .map(|a| json!({ "id": a.id, "kind": a.kind.as_str(), "channel": a.channel.as_str(), "status": a.status.as_str() }))
        .collect();
    Ok(json!({
        "person": { "ssn": found.person.ssn.masked(), "region": found.person.region.to_string() },
        "cards": cards,
        "applications": in_flight,
    }))
}

async fn card_action(
    store: &dyn Store,
    ctx: &Ctx,
    person_id: &str,
    action: CardAction,
    pin: Option<&str>,
    reason: Option<&str>,
) -> Result<Value> {
    let held = cards::of_person(store, ctx, person_id).await?;
    // The card the action is for: the first it may apply to, else the newest, whose refusal
    // (409 with its state) is the answer.
    let card = held
        .iter()
        .find(|c| decide_action(c, action).is_ok())
        .or_else(|| held.iter().max_by_key(|c| c.status_changed_at_ms))
        .ok_or_else(|| StoreError::not_found("card", "(this person has none here)"))?;
    let mut input = cards::ActionInput::default();
    if action == CardAction::Activate {
        let pin = pin.ok_or_else(|| DomainError::invalid("pin_required", "pin", "activation needs a 6-digit PIN"))?;
        input.pin = Some(Pin::parse(pin)?);
    }
    if action == CardAction::Stop
        && let Some(r) = reason
    {
        input.stop_reason = Some(StopReason::parse(r)?);
    }
    let card = cards::act(store, ctx, &card.card_no, action, input).await?;
    Ok(
        json!({ "card_no": mask_tail(card.card_no.as_str()), "status": card.status.as_str(), "bank_code": card.bank_code.as_str() }),
    )
}

async fn apply(store: &dyn Store, base: &Ctx, inbound: &Inbound, m: &MailedApplication) -> Result<Value> {
    let ssn = crate::fields::ssn(&m.ssn, "ssn")?;
    let staff = Ctx { actor: remote_actor(inbound, None), ..base.clone() };
    let lookup = Ctx { actor: Actor { role: Role::Clerk, ..staff.actor.clone() }, ..base.clone() };
    let person = persons::find_by_ssn(store, &lookup, &ssn).await?.person;
    let ctx = Ctx { actor: remote_actor(inbound, Some(&person.id)), ..base.clone() };
    let kind = AppKind::parse(&m.kind)
        .filter(|k| matches!(k, AppKind::First | AppKind::Replacement))
        .ok_or_else(|| DomainError::invalid("bad_kind", "kind", "a mailed application is first or replacement"))?;
    let reason = match m.reason.as_deref() {
        Some(r) => Some(ReplacementReason::parse(r).ok_or_else(|| {
            DomainError::invalid("bad_reason", "reason", "reason is lost, damaged or change_of_bank")
        })?),
        None => None,
    };
    let input = ApplicationInput {
        kind,
        channel: Channel::CrossProvince,
        bank_code: crate::fields::bank_code(&m.bank_code, "bank_code")?,
        branch_code: None,
        mail_address: Some(m.mail_address.clone()),
        reason,
    };
    let view = applications::apply(store, &ctx, &person.id, input).await?;
    Ok(progress_json(&view))
}

fn progress_json(view: &applications::ApplicationView) -> Value {
    let a = &view.application;
    let timeline: Vec<Value> = view
        .timeline
        .iter()
        .map(|t| json!({ "status": t.status.as_str(), "at_ms": t.at_ms, "actor": t.actor }))
        .collect();
    json!({ "id": a.id, "kind": a.kind.as_str(), "channel": a.channel.as_str(), "status": a.status.as_str(),
            "bank_code": a.bank_code.as_str(), "fee_fen": a.fee_fen, "timeline": timeline })
}

/// Whether one of this deployment's e-cards is usable now, for a verifier elsewhere in the
/// nation (its QR signature already checked there against the trust list): the precise
/// refusal (card_suspended, card_lost, …, revoked, card_expired, and
/// temporary_card_other_region for a temporary card, which serves only at home), and for a usable
/// one what this deployment shows a terminal (masked name, region, flags), whoever asks.
async fn ecard_status(store: &dyn Store, base: &Ctx, ecard_id: &str) -> Result<Value> {
    let found = store.ecard_with_card(ecard_id).await?;
    let verdict = match &found {
        Some((e, card, _)) => ecard::verdict_elsewhere(Some(e), Some(card), base.today()),
        None => Err(sscard_domain::refusal::Refusal::Revoked),
    };
    Ok(match (verdict, found) {
        (Ok(()), Some((_, card, person))) => {
            let attributes = ecard::disclose(Role::Terminal, &person, &card, base.today(), &base.policy)?;
            json!({ "ecard_id": ecard_id, "usable": true, "attributes": attributes })
        }
        (Err(reason), _) => json!({ "ecard_id": ecard_id, "usable": false, "reason": reason.as_str() }),
        (Ok(()), None) => json!({ "ecard_id": ecard_id, "usable": false, "reason": "revoked" }),
    })
}
