//! Taking applications, moving them through their steps, and making and handing over
//! the card they produce. Instant channels run the whole path in one transaction.

use super::{Ctx, Subject, new_id, not_found, record, remember_answer};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sscard_domain::access;
use sscard_domain::application::{
    AppKind, AppStep, Application, ApplicationInput, BranchFacts, INSTANT_PATH, IntakeFacts, PromiseStatus,
    TimelineEntry, check_step_fits, decide_application, online_promise, step_target,
};
use sscard_domain::card::{Card, CardStatus, decide_hand_over, expiry_for};
use sscard_domain::error::DomainError;
use sscard_domain::ids::{CardIdCode, CardNo, Pan};
use sscard_domain::person::Person;
use sscard_store::Result;
use sscard_store::model::AppFilter;
use sscard_store::ports::{Applications, AuditLog, Banks, Cards, Persons};
use sscard_store::tx::Store;

/// An application with its timeline, its card (once made) and, online, its promise.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApplicationView {
    pub application: Application,
    pub timeline: Vec<TimelineEntry>,
    pub card: Option<Card>,
    pub promise: Option<PromiseStatus>,
}

/// Takes an application for a person.
pub async fn apply(store: &dyn Store, ctx: &Ctx, person_id: &str, input: ApplicationInput) -> Result<ApplicationView> {
    access::may_apply(&ctx.actor, person_id, input.bank_code.as_str())?;
    let mut tx = store.write().await?;
    let person = tx.get_person(person_id, true).await?.ok_or_else(|| not_found("person", person_id))?;
    let view = take_application(tx.as_mut(), ctx, &person, input).await?;
    remember_answer(tx.as_mut(), ctx, &view).await?;
    tx.commit().await?;
    Ok(view)
}

/// Intake inside an open transaction (the person row is locked by the caller or just created).
pub(crate) async fn take_application(
    tx: &mut (impl Applications + AuditLog + Banks + Persons + ?Sized),
    ctx: &Ctx,
    person: &Person,
    input: ApplicationInput,
) -> Result<ApplicationView> {
    if tx.get_bank(input.bank_code.as_str()).await?.is_none() {
        return Err(DomainError::invalid(
            "unknown_bank",
            "bank_code",
            format!("no bank {} is registered", input.bank_code),
        )
        .into());
    }
    let branch = match &input.branch_code {
        Some(code) => Some(tx.get_branch(input.bank_code.as_str(), code.as_str()).await?.ok_or_else(|| {
            DomainError::invalid(
                "unknown_branch",
                "branch_code",
                format!("bank {} has no branch {code}", input.bank_code),
            )
        })?),
        None => None,
    };
    let facts = branch.map(|b| BranchFacts { bank_code: b.bank_code, code: b.code, has_printer: b.has_printer });
    let cards = tx.cards_of_person(&person.id).await?;
    let open = tx.applications_of_person(&person.id).await?;
    let intake = IntakeFacts { cards: &cards, open_applications: &open, branch: facts.as_ref() };
    let mut app = decide_application(input, &person.id, intake, &ctx.policy, new_id(), ctx.now_ms)?;
    tx.insert_application(&app, &person.region.to_string()).await?;
    tx.append_step(&app.id, &TimelineEntry { status: app.status, at_ms: ctx.now_ms, actor: ctx.actor.name.clone() })
        .await?;
    let subject =
        Subject { entity: "application", entity_id: &app.id, person_id: &person.id, region: person.region.to_string() };
    let payload = json!({ "kind": app.kind.as_str(), "channel": app.channel.as_str(), "bank_code": app.bank_code.as_str(), "fee_fen": app.fee_fen.value() });
    record(tx, ctx, "application.submitted", &subject, payload).await?;
    if app.channel.is_instant() {
        for step in INSTANT_PATH {
            step_in(tx, ctx, person, &mut app, step).await?;
        }
    }
    view_in(tx, ctx, app).await
}

/// Moves an application one step.
pub async fn step(store: &dyn Store, ctx: &Ctx, app_id: &str, step: AppStep) -> Result<ApplicationView> {
    let mut tx = store.write().await?;
    let mut app = tx.get_application(app_id, true).await?.ok_or_else(|| not_found("application", app_id))?;
    access::may_step(&ctx.actor, &app, step)?;
    let person = tx.get_person(&app.person_id, false).await?.ok_or_else(|| not_found("person", &app.person_id))?;
    step_in(tx.as_mut(), ctx, &person, &mut app, step).await?;
    let view = view_in(tx.as_mut(), ctx, app).await?;
    remember_answer(tx.as_mut(), ctx, &view).await?;
    tx.commit().await?;
    Ok(view)
}

async fn step_in(
    tx: &mut (impl Applications + AuditLog + Banks + Persons + ?Sized),
    ctx: &Ctx,
    person: &Person,
    app: &mut Application,
    step: AppStep,
) -> Result<()> {
    let to = step_target(app.status, step)?;
    check_step_fits(app, step)?;
    match step {
        AppStep::Ready | AppStep::Ship => {
            let card = make_card(tx, ctx, person, app).await?;
            app.card_no = Some(card.card_no.to_string());
        }
        AppStep::Collect | AppStep::Deliver => hand_over(tx, ctx, person, app).await?,
        AppStep::Approve | AppStep::Reject | AppStep::Produce | AppStep::Withdraw => {}
    }
    app.status = to;
    app.updated_at_ms = ctx.now_ms;
    tx.update_application(app).await?;
    tx.append_step(&app.id, &TimelineEntry { status: to, at_ms: ctx.now_ms, actor: ctx.actor.name.clone() }).await?;
    let subject =
        Subject { entity: "application", entity_id: &app.id, person_id: &person.id, region: person.region.to_string() };
    record(
        tx,
        ctx,
        &format!("application.{}", to.as_str()),
        &subject,
        json!({ "step": step.as_str(), "card_no": app.card_no }),
    )
    .await
}

/// The card bureau makes the card: number, identification code, bank account (formal cards only).
async fn make_card(
    tx: &mut (impl AuditLog + Banks + Persons + ?Sized),
    ctx: &Ctx,
    person: &Person,
    app: &Application,
) -> Result<Card> {
    let temporary = app.kind == AppKind::Temporary;
    let bank = tx.get_bank(app.bank_code.as_str()).await?.ok_or_else(|| not_found("bank", app.bank_code.as_str()))?;
    let serial = tx.next_serial("card_no").await?;
    let pan = if temporary {
        None
    } else {
        Some(Pan::issue(&bank.bin, tx.next_serial(&sscard_domain::bank::pan_counter(&bank.bin)).await?))
    };
    let card = Card {
        card_no: CardNo::from_serial(serial),
        person_id: person.id.clone(),
        status: CardStatus::Produced,
        generation: 3,
        temporary,
        bank_code: app.bank_code.clone(),
        pan,
        card_id_code: Some(CardIdCode::issue(person.region, serial)),
        region: person.region,
        channel: Some(app.channel),
        application_id: Some(app.id.clone()),
        issued_on: None,
        expires_on: expiry_for(ctx.today(), temporary, &ctx.policy),
        pin_hash: None,
        suspended_at_ms: None,
        status_changed_at_ms: ctx.now_ms,
        produced_at_ms: ctx.now_ms,
        cancel_reason: None,
        destroyed: false,
    };
    tx.insert_card(&card).await?;
    let subject = Subject {
        entity: "card",
        entity_id: card.card_no.as_str(),
        person_id: &person.id,
        region: person.region.to_string(),
    };
    let payload = json!({ "application_id": app.id, "temporary": temporary, "bank_code": bank.code.as_str() });
    record(tx, ctx, "card.produced", &subject, payload).await?;
    Ok(card)
}

/// Hand-over at collection or delivery: produced -> issued, dated today, valid from today.
async fn hand_over(
    tx: &mut (impl AuditLog + Cards + ?Sized),
    ctx: &Ctx,
    person: &Person,
    app: &Application,
) -> Result<()> {
    let card_no = app
        .card_no
        .as_deref()
        .ok_or_else(|| DomainError::conflict("no_card", "no card has been made for this application", None))?;
    let mut card = tx.get_card(card_no, true).await?.ok_or_else(|| not_found("card", card_no))?;
    card.status = decide_hand_over(&card)?;
    card.issued_on = Some(ctx.today());
    card.expires_on = expiry_for(ctx.today(), card.temporary, &ctx.policy);
    card.status_changed_at_ms = ctx.now_ms;
    tx.update_card(&card).await?;
    let subject = Subject {
        entity: "card",
        entity_id: card.card_no.as_str(),
        person_id: &person.id,
        region: person.region.to_string(),
    };
    record(tx, ctx, "card.issued", &subject, json!({ "application_id": app.id })).await
}

async fn view_in(
    tx: &mut (impl Applications + Cards + ?Sized),
    ctx: &Ctx,
    application: Application,
) -> Result<ApplicationView> {
    let timeline = tx.timeline(&application.id).await?;
    let card = match &application.card_no {
        Some(no) => tx.get_card(no, false).await?,
        None => None,
    };
    let promise = online_promise(&application, &timeline, ctx.today(), &ctx.policy);
    Ok(ApplicationView { application, timeline, card, promise })
}

/// An application with its timeline ("where is my card", 制卡进度查询).
pub async fn get(store: &dyn Store, ctx: &Ctx, app_id: &str) -> Result<ApplicationView> {
    let mut tx = store.read().await?;
    let app = tx.get_application(app_id, false).await?.ok_or_else(|| not_found("application", app_id))?;
    access::may_view_application(&ctx.actor, &app)?;
    let view = view_in(tx.as_mut(), ctx, app).await?;
    tx.commit().await?;
    Ok(view)
}

/// A page of applications; tellers see only their bank's, holders only their own.
pub async fn list(store: &dyn Store, ctx: &Ctx, mut filter: AppFilter) -> Result<Vec<Application>> {
    use sscard_domain::access::{ApplicationScope, application_scope};
    match application_scope(&ctx.actor)? {
        ApplicationScope::All => {}
        ApplicationScope::Bank(code) => filter.bank_code = Some(code),
        ApplicationScope::Person(id) => filter.person_id = Some(id),
    }
    let mut tx = store.read().await?;
    let apps = tx.list_applications(&filter).await?;
    tx.commit().await?;
    Ok(apps)
}
