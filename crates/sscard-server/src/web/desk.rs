//! The bank desk (teller): find a person by document number, register, take
//! applications (instant issuance at a printer branch), hand over cards, collect the
//! replacement fee, and the bank's queue.

use super::pages::{Layout, render};
use super::portal::{AppRow, BranchOption, CardRow, app_rows, branch_options, split_branch};
use super::{Viewer, back, urlencode};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use sscard_app::cards::ActionInput;
use sscard_app::{applications, cards, fields, persons};
use sscard_domain::access::Role;
use sscard_domain::application::{
    AppKind, AppStep, ApplicationInput, BranchFacts, Channel, ReplacementReason, default_branch, kinds_that_fit,
};
use sscard_domain::card::CardAction;
use sscard_domain::document::{DocType, DocumentNumber, Sex};
use sscard_domain::error::DomainError;
use sscard_domain::ids::{BranchCode, RegionCode};
use sscard_domain::person::RegistrationInput;

pub struct Found {
    pub id: String,
    pub name: String,
    pub ssn: String,
    pub doc: String,
    pub birth_date: String,
    pub minor: bool,
    pub cards: Vec<CardRow>,
    pub apps: Vec<AppRow>,
    /// The kinds that fit the person's cards (sscard_domain::application::kinds_that_fit):
    /// (value, catalog key).
    pub kinds: Vec<(&'static str, String)>,
}

pub struct QueueRow {
    pub id: String,
    pub person_id: String,
    /// Who, masked ("张**", "3502**********123X"): the queue shows no one's data in full.
    pub name_masked: String,
    pub doc_masked: String,
    pub fee_waived: bool,
    pub kind_key: String,
    pub status_key: String,
    pub status: String,
    pub branch_code: String,
    pub fee_yuan: String,
    pub fee_due: bool,
    pub fee_paid: bool,
}

#[derive(Template)]
#[template(path = "desk.html")]
struct DeskPage {
    l: Layout,
    q: String,
    found: Option<Found>,
    not_found: bool,
    branches: Vec<BranchOption>,
    queue: Vec<QueueRow>,
    /// The branch the application form starts on (a printer branch, for an instant card).
    default_branch: String,
    /// The card office may waive a fee from the queue.
    can_waive: bool,
    /// (value, label in the page's language)
    doc_types: Vec<(&'static str, &'static str)>,
}

#[derive(Deserialize)]
pub struct DeskQuery {
    q: Option<String>,
}

pub async fn page(State(state): State<AppState>, v: Viewer, Query(query): Query<DeskQuery>) -> Response {
    let actor = match v.require(&[Role::Teller, Role::Clerk, Role::Admin]) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let ctx = state.ctx(actor.clone(), None);
    let q = query.q.unwrap_or_default().trim().to_string();
    let mut found = None;
    let mut not_found = false;
    if !q.is_empty() {
        let lookup = if is_person_id(&q) {
            persons::get(state.store.as_ref(), &ctx, &q).await
        } else {
            match DocumentNumber::parse(&q) {
                Ok(number) => persons::find_by_number(state.store.as_ref(), &ctx, &number).await,
                Err(e) => Err(DomainError::from(e).with_field("q").into()),
            }
        };
        match lookup.map(|seen| seen.person) {
            Ok(p) => {
                let cards = cards::of_person(state.store.as_ref(), &ctx, &p.id).await.unwrap_or_default();
                let kinds = kinds_that_fit(&cards).iter().map(|k| (k.as_str(), format!("k_{}", k.as_str()))).collect();
                let apps = app_rows(&state, &ctx, &p.id).await.unwrap_or_default();
                found = Some(Found {
                    id: p.id.clone(),
                    name: p.name.as_str().to_string(),
                    ssn: p.ssn.masked(),
                    doc: format!(
                        "{} {}",
                        v.t.s(&format!("doc_{}", p.doc_type.as_str())),
                        sscard_domain::document::mask_id(&p.doc_number)
                    ),
                    birth_date: p.birth_date.to_string(),
                    minor: p.is_minor(ctx.today()),
                    cards: cards.iter().rev().map(CardRow::new).collect(),
                    apps,
                    kinds,
                });
            }
            Err(_) => not_found = true,
        }
    }
    let (_, branches) = branch_options(&state, actor.bank_code.as_deref()).await.unwrap_or_default();
    let own = sscard_app::admin::own_branch(state.store.as_ref(), &ctx).await.ok().flatten();
    let default_branch = instant_branch(&state, actor.bank_code.as_deref(), own.as_ref()).await;
    let queue = queue_rows(&state, &ctx).await;
    let doc_types =
        DocType::ALL.iter().map(|d| (d.as_str(), v.t.get(&format!("doc_{}", d.as_str())).unwrap_or(""))).collect();
    // The search box keeps what was typed only until a person is found: then it keeps the
    // person's id, so no page (or address) carries a full document number.
    let q = match &found {
        Some(p) => p.id.clone(),
        None => q,
    };
    let can_waive = matches!(actor.role, Role::Clerk | Role::Admin);
    let page =
        DeskPage { l: Layout::new(&v), q, found, not_found, branches, queue, default_branch, can_waive, doc_types };
    render(&v, &page)
}

/// The bank's open applications, with who (masked) and where the fee stands.
async fn queue_rows(state: &AppState, ctx: &sscard_app::Ctx) -> Vec<QueueRow> {
    use sscard_domain::application::AppStatus as S;
    let open = [S::AwaitingRemoteStop, S::Approved, S::InProduction, S::ReadyForPickup, S::Shipped];
    let rows = applications::queue(state.store.as_ref(), ctx, &open, 200).await.unwrap_or_default();
    rows.into_iter()
        .map(|e| {
            let a = e.application;
            QueueRow {
                id: a.id.clone(),
                person_id: a.person_id.clone(),
                name_masked: e.name_masked,
                doc_masked: e.doc_masked,
                fee_waived: e.fee_state == "waived",
                kind_key: format!("k_{}", a.kind.as_str()),
                status_key: format!("st_{}", a.status.as_str()),
                status: a.status.as_str().to_string(),
                branch_code: a.branch_code.as_ref().map(|b| b.to_string()).unwrap_or_default(),
                fee_yuan: a.fee_fen.to_string(),
                fee_due: a.fee_fen.value() > 0,
                fee_paid: e.fee_state == "paid",
            }
        })
        .collect()
}

/// The form's branch, as `bank|branch`: the teller's own branch when it can make a card at
/// once, else the first of the teller's bank that can (the rules' `default_branch`).
async fn instant_branch(state: &AppState, bank: Option<&str>, own: Option<&BranchCode>) -> String {
    let Ok((_, branches)) = sscard_app::admin::banks(state.store.as_ref()).await else { return String::new() };
    let facts: Vec<BranchFacts> = branches
        .into_iter()
        .filter(|b| bank.is_none_or(|x| x == b.bank_code.as_str()))
        .map(|b| BranchFacts { bank_code: b.bank_code, code: b.code, has_printer: b.has_printer })
        .collect();
    default_branch(&facts, own, true).map(|b| format!("{}|{}", b.bank_code, b.code)).unwrap_or_default()
}

/// Person ids are UUIDs; anything else is searched as a social security or ID number.
fn is_person_id(q: &str) -> bool {
    q.len() == 36 && q.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

fn desk_back(q: &str) -> String {
    if q.is_empty() { "/desk".to_string() } else { format!("/desk?q={}", urlencode(q)) }
}

#[derive(Deserialize)]
pub struct RegisterForm {
    csrf: String,
    doc_type: String,
    doc_number: String,
    name: String,
    region: String,
    sex: Option<String>,
    birth_date: Option<String>,
    guardian_id: Option<String>,
    relationship_proof: Option<String>,
}

fn nonempty(s: &Option<String>) -> Option<String> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

pub async fn register(State(state): State<AppState>, v: Viewer, Form(f): Form<RegisterForm>) -> Response {
    let actor = match v.post_as(&f.csrf, &[Role::Teller, Role::Clerk, Role::Admin]) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let parsed = (|| {
        Ok::<_, String>(RegistrationInput {
            doc_type: DocType::parse(&f.doc_type).map_err(|e| e.to_string())?,
            doc_number: f.doc_number.clone(),
            name: f.name.clone(),
            sex: nonempty(&f.sex).map(|s| Sex::parse(&s)).transpose().map_err(|e| e.to_string())?,
            birth_date: nonempty(&f.birth_date).map(|s| crate::routes::persons::parse_date(&s)).transpose()?,
            region: RegionCode::parse(f.region.trim()).map_err(|e| e.to_string())?,
            guardian_id: nonempty(&f.guardian_id),
            relationship_proof: nonempty(&f.relationship_proof),
        })
    })();
    let input = match parsed {
        Ok(i) => i,
        Err(_) => return back("/desk", Err(v.t.s("err_other").into())),
    };
    let ctx = state.ctx(actor, None);
    // The number is checked here first only to say precisely, in the page's language, what is
    // wrong with it (the use case checks it again).
    if let Err(e) = sscard_domain::document::Document::parse(input.doc_type, &input.doc_number, ctx.today()) {
        return back("/desk", Err(super::doc_err_text(&v.t, &e)));
    }
    match persons::register(state.store.as_ref(), &ctx, input).await {
        Ok(p) => back(&desk_back(&p.id), Ok(v.t.f("ok_registered", &[("ssn", p.ssn.masked())]))),
        Err(e) => back("/desk", Err(super::err_text(&v.t, &e))),
    }
}

#[derive(Deserialize)]
pub struct ApplyForm {
    csrf: String,
    q: String,
    person_id: String,
    kind: String,
    channel: String,
    branch: String,
    mail_address: Option<String>,
}

pub async fn apply(State(state): State<AppState>, v: Viewer, Form(f): Form<ApplyForm>) -> Response {
    let actor = match v.post_as(&f.csrf, &[Role::Teller, Role::Clerk, Role::Admin]) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let to = desk_back(&f.q);
    let input = (|| {
        let kind = AppKind::parse(&f.kind).ok_or(v.t.s("err_choose_kind"))?;
        let channel = Channel::parse(&f.channel).ok_or(v.t.s("err_choose_channel"))?;
        let (bank_code, branch_code) = split_branch(&f.branch).map_err(|_| v.t.s("err_branch_required").to_string())?;
        let reason = (kind == AppKind::Replacement).then_some(ReplacementReason::Lost);
        Ok::<_, String>(ApplicationInput {
            kind,
            channel,
            bank_code,
            branch_code: Some(branch_code),
            mail_address: nonempty(&f.mail_address),
            reason,
        })
    })();
    let input = match input {
        Ok(i) => i,
        Err(e) => return back(&to, Err(e)),
    };
    let ctx = state.ctx(actor, None);
    let result = applications::apply(state.store.as_ref(), &ctx, &f.person_id, input)
        .await
        .map(|view| {
            let t = v.t;
            match view.card {
                Some(card) => t.f(
                    "ok_instant",
                    &[("card", card.card_no.to_string()), ("status", t.s(&format!("st_{}", card.status)).to_string())],
                ),
                None => t.f("ok_step", &[("status", t.s(&format!("st_{}", view.application.status)).to_string())]),
            }
        })
        .map_err(|e| super::err_text(&v.t, &e));
    back(&to, result)
}

#[derive(Deserialize)]
pub struct StepForm {
    csrf: String,
    q: Option<String>,
    /// At collection: the document number the teller types from the person's document.
    holder_doc_number: Option<String>,
}

pub async fn step(
    State(state): State<AppState>,
    v: Viewer,
    Path((id, step)): Path<(String, String)>,
    Form(f): Form<StepForm>,
) -> Response {
    let actor = match v.post_as(&f.csrf, &[Role::Teller, Role::Clerk, Role::Admin]) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let to = desk_back(f.q.as_deref().unwrap_or(""));
    let Some(step) = AppStep::parse(&step) else { return back(&to, Err(v.t.s("err_no_such_step").into())) };
    let ctx = state.ctx(actor, None);
    let t = v.t;
    // A card handed over at the counter goes only to the person whose document matches.
    let input = applications::StepInput {
        holder_doc_number: f.holder_doc_number.clone(),
        require_holder_check: step == AppStep::Collect,
        ..Default::default()
    };
    let result = applications::step_with(state.store.as_ref(), &ctx, &id, step, &input)
        .await
        .map(|view| t.f("ok_step", &[("status", t.s(&format!("st_{}", view.application.status)).to_string())]))
        .map_err(|e| super::err_text(&v.t, &e));
    back(&to, result)
}

/// A loss report or its lift for the person at the counter: temporary loss, lifting it, or
/// formal loss (which the page confirms first: it cannot be undone).
pub async fn card_action(
    State(state): State<AppState>,
    v: Viewer,
    Path((card_no, action)): Path<(String, String)>,
    Form(f): Form<StepForm>,
) -> Response {
    let actor = match v.post_as(&f.csrf, &[Role::Teller, Role::Clerk, Role::Admin]) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let to = desk_back(f.q.as_deref().unwrap_or(""));
    let action = match CardAction::parse(&action) {
        Some(a @ (CardAction::Suspend | CardAction::Unsuspend | CardAction::ReportLost)) => a,
        _ => return back(&to, Err(v.t.s("err_no_such_action").to_string())),
    };
    let ctx = state.ctx(actor, None);
    let result = async {
        let card_no = fields::card_no(&card_no, "card_no")?;
        cards::act(state.store.as_ref(), &ctx, &card_no, action, ActionInput::default()).await
    }
    .await
    .map(|c| super::portal::card_done(&v.t, &c))
    .map_err(|e| super::err_text(&v.t, &e));
    back(&to, result)
}

/// Collects an application's fee in cash at the desk (once).
pub async fn collect_fee(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<String>,
    Form(f): Form<StepForm>,
) -> Response {
    let actor = match v.post_as(&f.csrf, &[Role::Teller, Role::Clerk, Role::Admin]) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let to = desk_back(f.q.as_deref().unwrap_or(""));
    let ctx = state.ctx(actor, None);
    let result = sscard_app::onecard::ledger::collect_fee(state.store.as_ref(), &ctx, &id)
        .await
        .map(|t| v.t.f("ok_fee", &[("yuan", sscard_domain::money::Fen::new(t.amount_fen).to_string())]))
        .map_err(|e| super::err_text(&v.t, &e));
    back(&to, result)
}
