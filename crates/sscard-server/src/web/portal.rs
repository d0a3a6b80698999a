//! The holder portal: my person, my cards with what I can do with them, my applications
//! with their progress, and applying for a card (online or at a branch).

use super::pages::{Layout, render};
use super::{Viewer, back};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Form, Path, State};
use axum::response::Response;
use serde::Deserialize;
use sscard_app::applications::ApplicationView;
use sscard_app::cards::ActionInput;
use sscard_app::{admin, applications, cards, fields, persons};
use sscard_domain::access::Role;
use sscard_domain::application::{AppKind, ApplicationInput, Channel, ReplacementReason};
use sscard_domain::card::{Card, CardAction, CardStatus, Pin, decide_action};
use sscard_domain::document::Ssn;
use sscard_domain::error::DomainError;
use sscard_domain::ids::{BankCode, BranchCode};
use sscard_store::{AppFilter, Page};

/// One card as the pages show it; the buttons come from the domain's state machine.
pub struct CardRow {
    pub card_no: String,
    pub status_key: String,
    pub status: String,
    pub generation: u8,
    pub temporary: bool,
    pub bank_code: String,
    pub pan: String,
    pub expires_on: String,
    pub can_activate: bool,
    pub can_suspend: bool,
    pub can_unsuspend: bool,
    pub can_report_lost: bool,
    pub can_replace: bool,
}

impl CardRow {
    pub fn new(c: &Card) -> Self {
        let can = |a| decide_action(c, a).is_ok();
        CardRow {
            card_no: c.card_no.to_string(),
            status_key: format!("st_{}", c.status.as_str()),
            status: c.status.as_str().to_string(),
            generation: c.generation,
            temporary: c.temporary,
            bank_code: c.bank_code.to_string(),
            pan: c.pan.as_ref().map(|p| p.masked()).unwrap_or_default(),
            expires_on: c.expires_on.to_string(),
            can_activate: c.status == CardStatus::Issued,
            can_suspend: can(CardAction::Suspend),
            can_unsuspend: can(CardAction::Unsuspend),
            can_report_lost: can(CardAction::ReportLost),
            can_replace: c.status == CardStatus::Lost && c.generation == 3,
        }
    }
}

pub struct StepRow {
    pub status_key: String,
    pub at: String,
    pub actor: String,
}

pub struct AppRow {
    pub id: String,
    pub kind_key: String,
    pub channel_key: String,
    pub status_key: String,
    pub status: String,
    pub fee_yuan: String,
    pub bank_code: String,
    pub branch_code: String,
    pub card_no: String,
    pub timeline: Vec<StepRow>,
    /// "promise_met" | "promise_late" | "promise_open" with the working days used.
    pub promise: Option<(String, u32, u32)>,
}

/// A time in China's calendar, to the minute.
pub fn local_time(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .to_offset(time::UtcOffset::from_hms(8, 0, 0).unwrap_or(time::UtcOffset::UTC));
    format!("{} {:02}:{:02}", t.date(), t.hour(), t.minute())
}

impl AppRow {
    pub fn new(v: &ApplicationView) -> Self {
        let a = &v.application;
        AppRow {
            id: a.id.clone(),
            kind_key: format!("k_{}", a.kind.as_str()),
            channel_key: format!("c_{}", a.channel.as_str()),
            status_key: format!("st_{}", a.status.as_str()),
            status: a.status.as_str().to_string(),
            fee_yuan: a.fee_fen.to_string(),
            bank_code: a.bank_code.to_string(),
            branch_code: a.branch_code.as_ref().map(|b| b.to_string()).unwrap_or_default(),
            card_no: a.card_no.clone().unwrap_or_default(),
            timeline: v
                .timeline
                .iter()
                .map(|e| StepRow {
                    status_key: format!("st_{}", e.status.as_str()),
                    at: local_time(e.at_ms),
                    actor: e.actor.clone(),
                })
                .collect(),
            promise: v.promise.as_ref().map(|p| {
                let key = match p.met {
                    Some(true) => "promise_met",
                    Some(false) => "promise_late",
                    None => "promise_open",
                };
                (key.to_string(), p.working_days_used, p.working_days)
            }),
        }
    }
}

pub struct BranchOption {
    pub value: String,
    pub label: String,
}

pub struct AuthRow {
    pub id: String,
    pub kind: String,
    pub what: String,
    pub active: bool,
    pub since: String,
}

pub struct BalanceRow {
    pub kind_key: String,
    pub yuan: String,
}

pub struct UseLine {
    pub at: String,
    pub scenario_key: String,
    pub operator: String,
    pub presented: String,
    pub ok: bool,
    pub reason: String,
}

/// One movement of the holder's money: signed, with its direction and kind in words.
pub struct MoveLine {
    pub at: String,
    pub kind_key: String,
    /// "move_in" (收入) or "move_out" (支出).
    pub dir_key: &'static str,
    /// With its sign: "+20.00" or "-2.00".
    pub yuan: String,
}

#[derive(Template)]
#[template(path = "portal.html")]
struct PortalPage {
    relatives: Vec<sscard_app::ecard::FamilyGrant>,
    /// Why there is no e-card QR code now (empty when there is one).
    no_ecard_key: &'static str,
    balances: Vec<BalanceRow>,
    moves: Vec<MoveLine>,
    uses: Vec<UseLine>,
    reads: Vec<ReadLine>,
    benefits: Vec<BenefitLine>,
    has_ecard: bool,
    auths: Vec<AuthRow>,
    l: Layout,
    name: String,
    ssn: String,
    region: String,
    birth_date: String,
    cards: Vec<CardRow>,
    apps: Vec<AppRow>,
    branches: Vec<BranchOption>,
    banks: Vec<BranchOption>,
    /// The first or upgrade application that fits the holder's cards, if any, as (value,
    /// catalog key): nobody holding a card is offered 首次申领.
    apply_kinds: Vec<(&'static str, String)>,
}

/// Loads a person's applications with their timelines (the newest 20).
pub async fn app_rows(
    state: &AppState,
    ctx: &sscard_app::Ctx,
    person_id: &str,
) -> Result<Vec<AppRow>, sscard_store::StoreError> {
    let filter = AppFilter { person_id: Some(person_id.to_string()), page: Page::first(200), ..Default::default() };
    let list = applications::list(state.store.as_ref(), ctx, filter).await?;
    let mut rows = Vec::new();
    for a in list.iter().rev().take(20) {
        rows.push(AppRow::new(&applications::get(state.store.as_ref(), ctx, &a.id).await?));
    }
    Ok(rows)
}

/// Bank and branch choices for forms.
pub async fn branch_options(
    state: &AppState,
    bank: Option<&str>,
) -> Result<(Vec<BranchOption>, Vec<BranchOption>), sscard_store::StoreError> {
    let (banks, branches) = admin::banks(state.store.as_ref()).await?;
    let banks = banks
        .iter()
        .filter(|b| bank.is_none_or(|x| x == b.code.as_str()))
        .map(|b| BranchOption { value: b.code.to_string(), label: format!("{} {}", b.code, b.name) })
        .collect();
    let branches = branches
        .iter()
        .filter(|b| bank.is_none_or(|x| x == b.bank_code.as_str()))
        .map(|b| BranchOption {
            value: format!("{}|{}", b.bank_code, b.code),
            label: format!("{} {}{}", b.bank_code, b.name, if b.has_printer { " 🖨" } else { "" }),
        })
        .collect();
    Ok((banks, branches))
}

pub async fn page(State(state): State<AppState>, v: Viewer) -> Response {
    let actor = match v.require(&[Role::Holder]) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let Some(person_id) = actor.person_id.clone() else { return back("/login", Err(v.t.s("err_no_person").into())) };
    let ctx = state.ctx(actor, None);
    match portal_page(&state, &ctx, &v, &person_id).await {
        Ok(page) => render(&v, &page),
        Err(e) => back("/login", Err(super::err_text(&v.t, &e))),
    }
}

/// Loads everything the portal shows of a person. The optional parts (authorizations,
/// balances, uses, relatives) show empty when they cannot be read.
async fn portal_page(
    state: &AppState,
    ctx: &sscard_app::Ctx,
    v: &Viewer,
    person_id: &str,
) -> Result<PortalPage, sscard_store::StoreError> {
    let store = state.store.as_ref();
    let person = persons::get(store, ctx, person_id).await?.person;
    let cards = cards::of_person(store, ctx, person_id).await?;
    let apps = app_rows(state, ctx, person_id).await?;
    let (banks, branches) = branch_options(state, None).await?;
    let auths = sscard_app::ecard::authorizations(store, ctx, person_id).await.unwrap_or_default();
    let money = sscard_app::onecard::ledger::balances(store, ctx, person_id, 10).await.ok();
    let uses = sscard_app::onecard::uses(store, ctx, person_id, None, 20).await.unwrap_or_default();
    let relatives = sscard_app::ecard::family_granted_to(store, ctx, person_id).await.unwrap_or_default();
    let reads = persons::reads(store, ctx, person_id, 20).await.unwrap_or_default();
    let benefits = sscard_app::benefits::person_benefits(store, ctx, person_id, 24).await.unwrap_or_default();
    Ok(PortalPage {
        benefits: benefits.iter().map(BenefitLine::new).collect(),
        reads: reads.iter().map(ReadLine::new).collect(),
        relatives,
        balances: money.as_ref().map(balance_rows).unwrap_or_default(),
        moves: money.as_ref().map(move_lines).unwrap_or_default(),
        uses: use_lines(state, &uses).await,
        no_ecard_key: no_ecard_key(&cards),
        has_ecard: cards.iter().any(|c| c.status == CardStatus::Active),
        auths: auths.iter().map(AuthRow::new).collect(),
        l: Layout::new(v),
        name: person.name.as_str().to_string(),
        ssn: person.ssn.masked(),
        region: person.region.to_string(),
        birth_date: person.birth_date.to_string(),
        cards: cards.iter().rev().map(CardRow::new).collect(),
        apps: holder_timeline(state, &v.t, apps).await,
        branches,
        banks,
        apply_kinds: sscard_domain::application::kinds_that_fit(&cards)
            .into_iter()
            .filter(|k| matches!(k, AppKind::First | AppKind::Upgrade))
            .map(|k| (k.as_str(), format!("k_{}", k.as_str())))
            .collect(),
    })
}

/// What is true of the e-card when the holder has no active card, by the newest card's state.
fn no_ecard_key(cards: &[Card]) -> &'static str {
    if cards.iter().any(|c| c.status == CardStatus::Active) {
        return "";
    }
    match cards.last().map(|c| c.status) {
        None => "no_ecard_none",
        Some(CardStatus::Suspended) => "no_ecard_suspended",
        Some(CardStatus::Lost | CardStatus::Replaced) => "no_ecard_lost",
        Some(CardStatus::Stopped | CardStatus::Cancelled | CardStatus::Dormant) => "no_ecard_stopped",
        Some(_) => "no_ecard",
    }
}

/// A holder's timeline names the office or the bank branch that took each step, never a
/// staff member's login.
async fn holder_timeline(state: &AppState, t: &super::i18n::Tr, mut apps: Vec<AppRow>) -> Vec<AppRow> {
    let (banks, branches) = admin::banks(state.store.as_ref()).await.unwrap_or_default();
    for a in &mut apps {
        let bank = banks.iter().find(|b| b.code.as_str() == a.bank_code).map(|b| b.name.clone()).unwrap_or_default();
        let branch = branches
            .iter()
            .find(|b| b.bank_code.as_str() == a.bank_code && b.code.as_str() == a.branch_code)
            .map(|b| b.name.clone());
        let place = branch.unwrap_or_else(|| bank.clone());
        for step in &mut a.timeline {
            step.actor = match step.status_key.as_str() {
                "st_submitted" if a.channel_key == "c_online" => String::new(),
                "st_withdrawn" => String::new(),
                "st_approved" | "st_rejected" => t.s("by_office").to_string(),
                _ => place.clone(),
            };
        }
    }
    apps
}

/// The card's uses with the names of the places instead of their codes.
async fn use_lines(state: &AppState, uses: &[sscard_store::onecard::UseRow]) -> Vec<UseLine> {
    let mut names: std::collections::HashMap<String, String> = Default::default();
    if let Ok(mut tx) = state.store.read().await {
        for u in uses {
            if !names.contains_key(&u.operator_code)
                && let Ok(Some(op)) = tx.get_operator(&u.operator_code).await
            {
                names.insert(u.operator_code.clone(), op.name);
            }
        }
        let _ = tx.commit().await;
    }
    uses.iter()
        .map(|u| {
            let mut line = UseLine::new(u);
            if let Some(name) = names.get(&u.operator_code) {
                line.operator = name.clone();
            }
            line
        })
        .collect()
}

fn balance_rows(money: &sscard_app::onecard::ledger::Balances) -> Vec<BalanceRow> {
    money
        .accounts
        .iter()
        .map(|a| BalanceRow {
            kind_key: format!("acct_{}", a.kind.as_str()),
            yuan: sscard_domain::money::Fen::new(a.balance_fen).to_string(),
        })
        .collect()
}

fn move_lines(money: &sscard_app::onecard::ledger::Balances) -> Vec<MoveLine> {
    let mine = |id: &str| money.accounts.iter().any(|a| a.id == id && a.kind.as_str() != "bank");
    money
        .history
        .iter()
        .map(|t| {
            // Money into one of the holder's own accounts (wallet, medical) is income.
            let income = mine(&t.to_account) && !mine(&t.from_account);
            let yuan = sscard_domain::money::Fen::new(t.amount_fen.abs()).to_string();
            MoveLine {
                at: local_time(t.at_ms),
                kind_key: format!("tk_{}", t.kind),
                dir_key: if income { "move_in" } else { "move_out" },
                yuan: if income { format!("+{yuan}") } else { format!("-{yuan}") },
            }
        })
        .collect()
}

/// A benefit the holder received: the month, the program, how much, when, to which account.
pub struct BenefitLine {
    pub period: String,
    pub program: String,
    pub kind_key: String,
    pub yuan: String,
    pub at: String,
    pub account: String,
    pub status_key: String,
}

impl BenefitLine {
    fn new(b: &sscard_store::benefits::PersonBenefitRow) -> Self {
        let account = sscard_domain::ids::Pan::parse(&b.payment.account_no).map(|p| p.masked()).unwrap_or_default();
        BenefitLine {
            period: b.payment.period.clone(),
            program: b.program_name.clone(),
            kind_key: format!("bk_{}", b.program_kind.as_str()),
            yuan: sscard_domain::money::Fen::new(b.payment.amount_fen).to_string(),
            at: local_time(b.payment.paid_at_ms),
            account,
            status_key: format!("bs_{}", b.payment.status),
        }
    }
}

#[derive(serde::Deserialize)]
pub struct CertifyForm {
    csrf: String,
}

/// "Certify now" (待遇资格认证): the holder confirms their eligibility for another 12 months.
pub async fn certify(State(state): State<AppState>, v: Viewer, Form(f): Form<CertifyForm>) -> Response {
    let actor = match v.post_as(&f.csrf, &[Role::Holder]) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let Some(person_id) = actor.person_id.clone() else { return back("/portal", Err(v.t.s("err_no_person").into())) };
    let ctx = state.ctx(actor, None);
    let result = sscard_app::benefits::certify(state.store.as_ref(), &ctx, &person_id)
        .await
        .map(|c| v.t.f("ok_certified", &[("until", local_time(c.valid_until_ms))]))
        .map_err(|e| super::err_text(&v.t, &e));
    back("/portal", result)
}

/// One staff look at the holder's unmasked data: when, which role, which bank.
pub struct ReadLine {
    pub at: String,
    pub role_key: String,
    pub bank: String,
    pub what_key: String,
}

impl ReadLine {
    fn new(r: &sscard_store::model::PersonRead) -> Self {
        ReadLine {
            at: local_time(r.at_ms),
            role_key: format!("reader_{}", r.role),
            bank: r.bank_code.clone().unwrap_or_default(),
            what_key: format!("read_{}", r.what),
        }
    }
}

impl UseLine {
    fn new(u: &sscard_store::onecard::UseRow) -> Self {
        UseLine {
            at: local_time(u.at_ms),
            scenario_key: format!("sc_{}", u.scenario),
            operator: u.operator_code.clone(),
            presented: format!("pr_{}", u.presented),
            ok: u.result == sscard_domain::terminal::UseResult::Ok,
            reason: u.reason.as_ref().map(|r| format!("rf_{r}")).unwrap_or_default(),
        }
    }
}

impl AuthRow {
    fn new(a: &sscard_domain::ecard::Authorization) -> Self {
        AuthRow {
            id: a.id.clone(),
            kind: a.kind.as_str().to_string(),
            what: a.channel.clone().or_else(|| a.grantee_person_id.clone()).unwrap_or_default(),
            active: a.status.as_str() == "active",
            since: local_time(a.created_at_ms),
        }
    }
}

#[derive(Deserialize)]
pub struct ApplyForm {
    csrf: String,
    /// "online" or "branch"
    mode: String,
    /// "first" (default) or "upgrade" (second to third generation)
    kind: Option<String>,
    bank: Option<String>,
    branch: Option<String>,
    mail_address: Option<String>,
}

/// Parses "BANK|BRANCH".
pub fn split_branch(value: &str) -> Result<(BankCode, BranchCode), String> {
    let (bank, branch) = value.split_once('|').ok_or("choose a branch")?;
    Ok((BankCode::parse(bank).map_err(|e| e.to_string())?, BranchCode::parse(branch).map_err(|e| e.to_string())?))
}

async fn holder_apply(
    state: &AppState,
    v: &Viewer,
    kind: AppKind,
    reason: Option<ReplacementReason>,
    f: &ApplyForm,
) -> Result<String, String> {
    let t = v.t;
    let actor = v.require(&[Role::Holder]).map_err(|_| t.s("err_unauthorized").to_string())?;
    let person_id = actor.person_id.clone().ok_or(t.s("err_no_person"))?;
    let (channel, bank_code, branch_code, mail_address) = if f.mode == "online" {
        let bank = BankCode::parse(f.bank.as_deref().unwrap_or("")).map_err(|_| t.s("err_unknown_bank"))?;
        (Channel::Online, bank, None, f.mail_address.clone())
    } else {
        let (bank, branch) =
            split_branch(f.branch.as_deref().unwrap_or("")).map_err(|_| t.s("err_branch_required").to_string())?;
        (Channel::Branch, bank, Some(branch), None)
    };
    let input = ApplicationInput { kind, channel, bank_code, branch_code, mail_address, reason };
    let ctx = state.ctx(actor, None);
    let view = applications::apply(state.store.as_ref(), &ctx, &person_id, input)
        .await
        .map_err(|e| super::err_text(&v.t, &e))?;
    let a = &view.application;
    Ok(t.f(
        "ok_applied",
        &[
            ("kind", t.s(&format!("k_{}", a.kind)).to_string()),
            ("status", t.s(&format!("st_{}", a.status)).to_string()),
        ],
    ))
}

pub async fn apply(State(state): State<AppState>, v: Viewer, Form(f): Form<ApplyForm>) -> Response {
    if let Err(r) = v.check_csrf(&f.csrf) {
        return r;
    }
    let kind = match f.kind.as_deref() {
        Some("upgrade") => AppKind::Upgrade,
        _ => AppKind::First,
    };
    back("/portal", holder_apply(&state, &v, kind, None, &f).await)
}

pub async fn replace(State(state): State<AppState>, v: Viewer, Form(f): Form<ApplyForm>) -> Response {
    if let Err(r) = v.check_csrf(&f.csrf) {
        return r;
    }
    back("/portal", holder_apply(&state, &v, AppKind::Replacement, Some(ReplacementReason::Lost), &f).await)
}

#[derive(Deserialize)]
pub struct ActionForm {
    csrf: String,
    pin: Option<String>,
    /// The PIN typed a second time, compared with the first here as in the browser.
    pin_confirmation: Option<String>,
}

pub async fn card_action(
    State(state): State<AppState>,
    v: Viewer,
    Path((card_no, action)): Path<(String, String)>,
    Form(f): Form<ActionForm>,
) -> Response {
    let actor = match v.post_as(&f.csrf, &[Role::Holder]) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let result = match CardAction::parse(&action) {
        Some(a @ (CardAction::Activate | CardAction::Suspend | CardAction::Unsuspend | CardAction::ReportLost)) => {
            let ctx = state.ctx(actor, None);
            async {
                let card_no = fields::card_no(&card_no, "card_no")?;
                let confirmation = f.pin_confirmation.as_deref().unwrap_or("");
                let pin = f.pin.as_deref().filter(|_| a == CardAction::Activate);
                let pin = pin.map(|p| Pin::parse_confirmed(p, confirmation)).transpose()?;
                let input = ActionInput { pin, ..Default::default() };
                cards::act(state.store.as_ref(), &ctx, &card_no, a, input).await
            }
            .await
            .map(|c: Card| card_done(&v.t, &c))
            .map_err(|e| super::err_text(&v.t, &e))
        }
        _ => Err(v.t.s("err_no_such_action").to_string()),
    };
    back("/portal", result)
}

/// "Card … is now …" in the page's language.
pub fn card_done(t: &super::i18n::Tr, c: &Card) -> String {
    t.f("ok_card", &[("card", c.card_no.to_string()), ("status", t.s(&format!("st_{}", c.status)).to_string())])
}

/// The e-card QR code as a fragment that refreshes itself before the token expires.
#[derive(Deserialize)]
pub struct QrFor {
    /// A relative who authorized the viewer; default: the viewer.
    #[serde(rename = "for")]
    for_person: Option<String>,
}

pub async fn qr(
    State(state): State<AppState>,
    v: Viewer,
    axum::extract::Query(q): axum::extract::Query<QrFor>,
) -> Response {
    use axum::response::{Html, IntoResponse};
    let actor = match v.require(&[Role::Holder]) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let t = v.t;
    let body = match &q.for_person {
        Some(id) => axum::body::Bytes::from(serde_json::json!({ "person_id": id }).to_string()),
        None => axum::body::Bytes::new(),
    };
    let refresh_url = match &q.for_person {
        Some(id) => format!("/portal/qr?for={}", super::urlencode(id)),
        None => "/portal/qr".to_string(),
    };
    let answer = crate::routes::ecard::qr(State(state), crate::auth::Auth(actor), body).await;
    let html = match answer {
        Ok(axum::Json(qr)) => format!(
            r#"<div id="qr" hx-get="{refresh_url}" hx-trigger="every {refresh}s" hx-swap="outerHTML" data-token="{token}" data-expires="{expires}">
<figure class="qr" aria-label="{label}">{svg}</figure>
<p class="muted">{valid} · {auto}</p></div>"#,
            refresh_url = refresh_url,
            refresh = qr.ttl_s.saturating_sub(10).max(5),
            token = qr.token,
            expires = qr.expires_at,
            label = t.s("ecard_qr"),
            svg = qr.svg,
            valid = t.f("qr_valid_for", &[("seconds", qr.ttl_s.to_string())]),
            auto = t.s("qr_refresh"),
        ),
        Err(e) => format!(r#"<div id="qr" role="alert" class="flash err">{}</div>"#, html_escape(&e.problem.detail)),
    };
    Html(html).into_response()
}

/// Escapes text placed into HTML built outside a template.
fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[derive(Deserialize)]
pub struct ChannelForm {
    csrf: String,
    channel: String,
}

/// Signs the e-card into an app channel.
pub async fn sign_in_channel(State(state): State<AppState>, v: Viewer, Form(f): Form<ChannelForm>) -> Response {
    let actor = match v.post_as(&f.csrf, &[Role::Holder]) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let Some(person_id) = actor.person_id.clone() else { return back("/portal", Err(v.t.s("err_no_person").into())) };
    let ctx = state.ctx(actor, None);
    let what = sscard_app::ecard::Grant::Channel(f.channel);
    let result = sscard_app::ecard::grant(state.store.as_ref(), &ctx, &person_id, what)
        .await
        .map(|a| v.t.f("ok_channel", &[("channel", a.channel.unwrap_or_default())]))
        .map_err(|e| super::err_text(&v.t, &e));
    back("/portal", result)
}

/// Revokes a channel sign-in or a relative's permission.
pub async fn revoke_authorization(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<String>,
    Form(f): Form<ActionForm>,
) -> Response {
    let actor = match v.post_as(&f.csrf, &[Role::Holder]) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let Some(person_id) = actor.person_id.clone() else { return back("/portal", Err(v.t.s("err_no_person").into())) };
    let ctx = state.ctx(actor, None);
    let result = sscard_app::ecard::revoke(state.store.as_ref(), &ctx, &person_id, &id)
        .await
        .map(|_| v.t.s("ok_revoked").to_string())
        .map_err(|e| super::err_text(&v.t, &e));
    back("/portal", result)
}

#[derive(Deserialize)]
pub struct FamilyForm {
    csrf: String,
    grantee_ssn: String,
}

/// Lets a relative (named by their social security number) show this holder's QR code.
pub async fn grant_family(State(state): State<AppState>, v: Viewer, Form(f): Form<FamilyForm>) -> Response {
    let actor = match v.post_as(&f.csrf, &[Role::Holder]) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let Some(person_id) = actor.person_id.clone() else { return back("/portal", Err(v.t.s("err_no_person").into())) };
    let ctx = state.ctx(actor, None);
    let result = async {
        let ssn =
            Ssn::parse(&f.grantee_ssn).map_err(|e| DomainError::invalid("bad_ssn", "grantee_ssn", e.to_string()))?;
        sscard_app::ecard::grant_family_by_ssn(state.store.as_ref(), &ctx, &person_id, &ssn).await
    }
    .await
    .map(|_| v.t.s("ok_family").to_string())
    .map_err(|e| super::err_text(&v.t, &e));
    back("/portal", result)
}
