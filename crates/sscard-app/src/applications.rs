//! Taking applications, moving them through their steps, and making and handing over
//! the card they produce. Instant channels run the whole path in one transaction.

use super::{Ctx, Subject, new_id, not_found, record, remember_answer};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sscard_domain::access;
use sscard_domain::application::{
    AppKind, AppStatus, AppStep, Application, ApplicationInput, BranchFacts, IntakeFacts, PromiseStatus, TimelineEntry,
    check_step_fits, decide_application, needs_national_claim, online_promise, step_target,
};
use sscard_domain::card::{Card, CardStatus, decide_hand_over, expiry_for};
use sscard_domain::error::DomainError;
use sscard_domain::handover::{
    FeeState, StaffReason, decide_fee_settled, decide_fee_waiver, decide_holder_check, decide_step_reason, hands_over,
    instant_path, may_waive_fee,
};
use sscard_domain::ids::{CardIdCode, CardNo, Pan};
use sscard_domain::person::Person;
use sscard_store::Result;
use sscard_store::model::AppFilter;
use sscard_store::ports::{AppReason, Applications, AuditLog, Banks, Cards, Ledger, Persons};
use sscard_store::tx::Store;

/// An application with its timeline, its card (once made) and, online, its promise.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApplicationView {
    pub application: Application,
    pub timeline: Vec<TimelineEntry>,
    pub card: Option<Card>,
    pub promise: Option<PromiseStatus>,
    /// free, paid, waived or unpaid.
    #[serde(default)]
    pub fee_state: String,
    /// What staff said: the fee waiver's and the rejection's reasons, with who and when.
    #[serde(default)]
    pub reasons: Vec<AppReason>,
}

/// What a step may carry besides the step: a rejection's reason; at hand-over, the document
/// number the teller typed from the document of the person collecting the card.
#[derive(Debug, Clone, Default)]
pub struct StepInput {
    pub reason: Option<StaffReason>,
    pub holder_doc_number: Option<String>,
    /// The desk always asks for the document number; the API checks it when given.
    pub require_holder_check: bool,
}

/// Takes an application for a person.
pub async fn apply(store: &dyn Store, ctx: &Ctx, person_id: &str, input: ApplicationInput) -> Result<ApplicationView> {
    access::may_apply(&ctx.actor, person_id, input.bank_code.as_str())?;
    let mut tx = store.write().await?;
    let person = tx.get_person(person_id, true).await?.ok_or_else(|| not_found("person", person_id))?;
    let view = take_application(tx.as_mut(), ctx, &person, input).await?;
    if let Some(nation) = national_instant(ctx, &view.application) {
        // The hub is asked outside any transaction: the application is taken first, then
        // approved (and made at once on `go`) in the approve's own transaction.
        tx.commit().await?;
        return super::nation::approve(store, ctx, nation, &view.application.id, &StepInput::default(), true).await;
    }
    remember_answer(tx.as_mut(), ctx, &view).await?;
    tx.commit().await?;
    Ok(view)
}

/// In the nation, an instant application that needs the hub's word is not made at intake:
/// the hub is asked first ([`super::nation::approve`]).
fn national_instant<'a>(ctx: &'a Ctx, app: &Application) -> Option<&'a super::nation::Nation> {
    let waits = app.channel.is_instant() && app.status == AppStatus::Submitted && needs_national_claim(app.kind);
    ctx.nation.as_deref().filter(|_| waits)
}

/// Intake inside an open transaction (the person row is locked by the caller or just created).
pub(crate) async fn take_application(
    tx: &mut (impl Applications + AuditLog + Banks + Ledger + Persons + ?Sized),
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
    if app.channel.is_instant() && !(ctx.nation.is_some() && needs_national_claim(app.kind)) {
        // Made while the person waits; a card with a fee waits at the counter for it.
        for step in instant_path(app.fee_fen) {
            step_in(tx, ctx, person, &mut app, *step, &StepInput::default()).await?;
        }
    }
    view_in(tx, ctx, app).await
}

/// Moves an application one step.
pub async fn step(store: &dyn Store, ctx: &Ctx, app_id: &str, step: AppStep) -> Result<ApplicationView> {
    step_with(store, ctx, app_id, step, &StepInput::default()).await
}

/// Moves an application one step with what the step carries (a reason, a document check).
pub async fn step_with(
    store: &dyn Store,
    ctx: &Ctx,
    app_id: &str,
    step: AppStep,
    input: &StepInput,
) -> Result<ApplicationView> {
    match &ctx.nation {
        Some(nation) if step == AppStep::Approve => {
            super::nation::approve(store, ctx, nation, app_id, input, false).await
        }
        _ => step_here(store, ctx, app_id, step, input).await,
    }
}

/// A step decided by this deployment alone.
pub(crate) async fn step_here(
    store: &dyn Store,
    ctx: &Ctx,
    app_id: &str,
    step: AppStep,
    input: &StepInput,
) -> Result<ApplicationView> {
    let mut tx = store.write().await?;
    let mut app = tx.get_application(app_id, true).await?.ok_or_else(|| not_found("application", app_id))?;
    access::may_step(&ctx.actor, &app, step)?;
    let person = tx.get_person(&app.person_id, false).await?.ok_or_else(|| not_found("person", &app.person_id))?;
    step_in(tx.as_mut(), ctx, &person, &mut app, step, input).await?;
    let view = view_in(tx.as_mut(), ctx, app).await?;
    remember_answer(tx.as_mut(), ctx, &view).await?;
    tx.commit().await?;
    Ok(view)
}

pub(crate) async fn step_in(
    tx: &mut (impl Applications + AuditLog + Banks + Ledger + Persons + ?Sized),
    ctx: &Ctx,
    person: &Person,
    app: &mut Application,
    step: AppStep,
    input: &StepInput,
) -> Result<()> {
    let to = step_target(app.status, step)?;
    check_step_fits(app, step)?;
    decide_step_reason(step, input.reason.as_ref())?;
    if hands_over(step) {
        decide_fee_settled(app.fee_fen, fee_state(tx, app).await?)?;
        let required = input.require_holder_check;
        decide_holder_check(&person.doc_number, input.holder_doc_number.as_deref(), required)?;
    }
    if let Some(reason) = &input.reason {
        let row = reason_row(ctx, app, "rejection", reason);
        tx.insert_app_reason(&row).await?;
    }
    match step {
        AppStep::Ready | AppStep::Ship => {
            let card = make_card(tx, ctx, person, app).await?;
            app.card_no = Some(card.card_no.to_string());
        }
        AppStep::Collect | AppStep::Deliver => hand_over(tx, ctx, person, app).await?,
        AppStep::Approve | AppStep::Reject | AppStep::Produce | AppStep::Withdraw => {}
    }
    let payload = json!({ "step": step.as_str(), "card_no": app.card_no, "reason": input.reason.as_ref().map(StaffReason::as_str) });
    set_status_in(tx, ctx, person, app, to, payload).await
}

/// Moves a decided application to `to`: its row, its timeline entry and the event
/// `application.<to>` with its audit record, in the caller's transaction.
pub(crate) async fn set_status_in(
    tx: &mut (impl Applications + AuditLog + ?Sized),
    ctx: &Ctx,
    person: &Person,
    app: &mut Application,
    to: AppStatus,
    payload: serde_json::Value,
) -> Result<()> {
    app.status = to;
    app.updated_at_ms = ctx.now_ms;
    tx.update_application(app).await?;
    tx.append_step(&app.id, &TimelineEntry { status: to, at_ms: ctx.now_ms, actor: ctx.actor.name.clone() }).await?;
    let subject =
        Subject { entity: "application", entity_id: &app.id, person_id: &person.id, region: person.region.to_string() };
    record(tx, ctx, &format!("application.{}", to.as_str()), &subject, payload).await
}

fn reason_row(ctx: &Ctx, app: &Application, kind: &str, reason: &StaffReason) -> AppReason {
    AppReason {
        application_id: app.id.clone(),
        kind: kind.to_string(),
        reason: reason.as_str().to_string(),
        actor: ctx.actor.name.clone(),
        at_ms: ctx.now_ms,
    }
}

/// Where the fee stands: paid when its transfer (keyed `fee:<application>`) is in the ledger,
/// waived when the card office recorded a waiver.
async fn fee_state(tx: &mut (impl Applications + Ledger + ?Sized), app: &Application) -> Result<FeeState> {
    if !app.fee_fen.is_positive() {
        return Ok(FeeState::Free);
    }
    let paid = tx.transfer_by_key(&format!("fee:{}", app.id)).await?.is_some();
    let waived = tx.app_reasons(&app.id).await?.iter().any(|r| r.kind == "fee_waiver");
    Ok(FeeState::of(app.fee_fen, paid, waived))
}

/// The card office waives an application's fee, with a reason: the card may then be handed
/// over without it. Recorded with its event and audit record.
pub async fn waive_fee(store: &dyn Store, ctx: &Ctx, app_id: &str, reason: &StaffReason) -> Result<ApplicationView> {
    may_waive_fee(&ctx.actor)?;
    let mut tx = store.write().await?;
    let app = tx.get_application(app_id, true).await?.ok_or_else(|| not_found("application", app_id))?;
    decide_fee_waiver(&app, fee_state(tx.as_mut(), &app).await?)?;
    tx.insert_app_reason(&reason_row(ctx, &app, "fee_waiver", reason)).await?;
    let person = tx.get_person(&app.person_id, false).await?.ok_or_else(|| not_found("person", &app.person_id))?;
    let subject =
        Subject { entity: "application", entity_id: &app.id, person_id: &person.id, region: person.region.to_string() };
    let payload = json!({ "fee_fen": app.fee_fen.value(), "reason": reason.as_str() });
    record(tx.as_mut(), ctx, "application.fee_waived", &subject, payload).await?;
    let view = view_in(tx.as_mut(), ctx, app).await?;
    remember_answer(tx.as_mut(), ctx, &view).await?;
    tx.commit().await?;
    Ok(view)
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

pub(crate) async fn view_in(
    tx: &mut (impl Applications + Cards + Ledger + ?Sized),
    ctx: &Ctx,
    application: Application,
) -> Result<ApplicationView> {
    let timeline = tx.timeline(&application.id).await?;
    let card = match &application.card_no {
        Some(no) => tx.get_card(no, false).await?,
        None => None,
    };
    let promise = online_promise(&application, &timeline, ctx.today(), &ctx.policy);
    let fee_state = fee_state(tx, &application).await?.as_str().to_string();
    let reasons = tx.app_reasons(&application.id).await?;
    Ok(ApplicationView { application, timeline, card, promise, fee_state, reasons })
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

/// One row of a work queue (the bank's desk, the office's review): the application, who it is
/// for in masked form only (so looking at a queue is no look at anyone's data), and its fee.
#[derive(Debug, Clone, Serialize)]
pub struct QueueEntry {
    pub application: Application,
    pub name_masked: String,
    pub doc_masked: String,
    pub fee_state: String,
}

/// The applications in `statuses` the actor may see (tellers: their bank's), up to `limit` each.
pub async fn queue(
    store: &dyn Store,
    ctx: &Ctx,
    statuses: &[sscard_domain::application::AppStatus],
    limit: u32,
) -> Result<Vec<QueueEntry>> {
    let mut tx = store.read().await?;
    let mut rows = Vec::new();
    for status in statuses {
        let filter = AppFilter {
            status: Some(status.as_str().to_string()),
            page: sscard_store::Page::first(limit),
            ..Default::default()
        };
        for application in scoped_list(tx.as_mut(), ctx, filter).await? {
            let person = tx.get_person(&application.person_id, false).await?;
            let (name_masked, doc_masked) =
                person.map(|p| (p.name.masked(), sscard_domain::document::mask_id(&p.doc_number))).unwrap_or_default();
            let fee_state = fee_state(tx.as_mut(), &application).await?.as_str().to_string();
            rows.push(QueueEntry { application, name_masked, doc_masked, fee_state });
        }
    }
    tx.commit().await?;
    Ok(rows)
}

async fn scoped_list(
    tx: &mut (impl Applications + ?Sized),
    ctx: &Ctx,
    mut filter: AppFilter,
) -> Result<Vec<Application>> {
    use sscard_domain::access::{ApplicationScope, application_scope};
    match application_scope(&ctx.actor)? {
        ApplicationScope::All => {}
        ApplicationScope::Bank(code) => filter.bank_code = Some(code),
        ApplicationScope::Person(id) => filter.person_id = Some(id),
    }
    tx.list_applications(&filter).await
}
