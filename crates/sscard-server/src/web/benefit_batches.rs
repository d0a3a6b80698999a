//! Benefit batches in the console: a payer's staff see their own payer's batches, the card
//! office (clerk, admin) every payer's, each with its progress and its lines and fen by
//! outcome; a batch's page lists its lines (paged, of one outcome when chosen, SSN masked).
//! Which batches a login may see is the rules' (`batch_list_scope`, `may_view_batch`): payer
//! staff always read their own payer, so another payer's batch id is simply not found.

use super::errors::{PageError, page as error_page};
use super::pages::{Layout, render};
use super::portal::local_time;
use super::{Viewer, urlencode};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use sscard_app::bank_files::BankAnswer;
use sscard_app::benefits::{self, BatchSummary};
use sscard_domain::access::Role;
use sscard_domain::bank_report::BankStatus;
use sscard_domain::benefits::LineOutcome;
use sscard_domain::document::mask_id;
use sscard_domain::money::Fen;
use sscard_store::StoreError;
use std::collections::HashMap;

/// Lines shown on one page of a batch.
const LINES_PER_PAGE: u32 = 50;
/// Who may open these pages at all (the rules then decide whose batches).
const ROLES: [Role; 3] = [Role::Payer, Role::Clerk, Role::Admin];

/// One outcome's lines and yuan.
pub struct OutcomeCell {
    pub key: String,
    pub code: &'static str,
    pub lines: i64,
    pub yuan: String,
}

/// A batch as a row of the list and the head of its page.
pub struct BatchView {
    pub payer: String,
    pub batch_id: String,
    pub href: String,
    pub program: String,
    pub period: String,
    pub status_key: String,
    pub decided: i64,
    pub declared: i64,
    pub declared_yuan: String,
    pub submitted: String,
    pub outcomes: Vec<OutcomeCell>,
}

impl BatchView {
    fn new(s: &BatchSummary) -> Self {
        let b = &s.batch;
        BatchView {
            payer: b.payer_code.clone(),
            batch_id: b.batch_id.clone(),
            href: format!("/console/benefits/{}?payer={}", urlencode(&b.batch_id), urlencode(&b.payer_code)),
            program: b.program_code.clone(),
            period: b.period.clone(),
            status_key: format!("bb_st_{}", b.status.as_str()),
            decided: s.decided_lines,
            declared: b.declared_lines,
            declared_yuan: Fen::new(b.declared_total_fen).to_string(),
            submitted: local_time(b.created_at_ms),
            outcomes: s
                .outcomes
                .iter()
                .map(|o| OutcomeCell {
                    key: format!("bo_{}", o.outcome.as_str()),
                    code: o.outcome.as_str(),
                    lines: o.lines,
                    yuan: Fen::new(o.total_fen).to_string(),
                })
                .collect(),
        }
    }
}

#[derive(Template)]
#[template(path = "benefit_batches.html")]
struct ListPage {
    l: Layout,
    all_payers: bool,
    batches: Vec<BatchView>,
    outcome_keys: Vec<String>,
}

/// The batches this login may see, newest first.
pub async fn list(State(state): State<AppState>, v: Viewer) -> Response {
    let actor = match v.require(&ROLES) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let all_payers = actor.role != Role::Payer;
    let ctx = state.ctx(actor, None);
    let batches = match benefits::list_batches(state.store.as_ref(), &ctx, benefits::MAX_LISTED_BATCHES).await {
        Ok(b) => b,
        Err(e) => return failed(&v, &e),
    };
    let outcome_keys = LineOutcome::ALL.iter().map(|o| format!("bo_{}", o.as_str())).collect();
    render(
        &v,
        &ListPage {
            l: Layout::new(&v),
            all_payers,
            batches: batches.iter().map(BatchView::new).collect(),
            outcome_keys,
        },
    )
}

/// A refusal as a page: not found and not allowed as the error pages, the rest as not found.
fn failed(v: &Viewer, e: &StoreError) -> Response {
    match e {
        StoreError::Domain(d) if d.code == "forbidden" => error_page(v, PageError::Forbidden),
        StoreError::Domain(_) => error_page(v, PageError::BadRequest),
        _ => error_page(v, PageError::NotFound),
    }
}

#[derive(Deserialize)]
pub struct BatchQuery {
    payer: Option<String>,
    outcome: Option<String>,
    after: Option<i64>,
}

/// One line as the page shows it.
pub struct LineView {
    pub seq: i64,
    pub line_id: String,
    pub ssn_masked: String,
    pub name: String,
    pub yuan: String,
    pub outcome_key: String,
    pub bank: String,
    /// What the bank answered about a paid line (credited, returned), when it has.
    pub bank_answer_key: Option<&'static str>,
    /// The bank's reason for a returned line (AC04, ...).
    pub bank_reason: String,
}

#[derive(Template)]
#[template(path = "benefit_batch.html")]
struct BatchPage {
    l: Layout,
    b: BatchView,
    lines: Vec<LineView>,
    /// The outcome filter: (code, label key, chosen).
    filter: Vec<(&'static str, String, bool)>,
    next: Option<String>,
}

/// A batch's head, its outcomes and a page of its lines.
pub async fn batch(
    State(state): State<AppState>,
    v: Viewer,
    Path(batch_id): Path<String>,
    Query(q): Query<BatchQuery>,
) -> Response {
    let actor = match v.require(&ROLES) {
        Ok(a) => a,
        Err(r) => return r,
    };
    // Payer staff read their own payer whatever the address names.
    let payer = match actor.payer_code().map(str::to_string).or_else(|| q.payer.map(|p| p.trim().to_ascii_uppercase()))
    {
        Some(p) => p,
        None => return error_page(&v, PageError::NotFound),
    };
    let outcome = match q.outcome.as_deref().filter(|o| !o.is_empty()) {
        Some(o) => match LineOutcome::parse(o) {
            Some(o) => Some(o),
            None => return error_page(&v, PageError::BadRequest),
        },
        None => None,
    };
    let ctx = state.ctx(actor, None);
    let store = state.store.as_ref();
    let summary = match benefits::summary(store, &ctx, &payer, &batch_id).await {
        Ok(s) => s,
        Err(e) => return failed(&v, &e),
    };
    let after = q.after.unwrap_or(0).max(0);
    let rows = match benefits::pay::lines(store, &ctx, &payer, &batch_id, outcome, after, LINES_PER_PAGE + 1).await {
        Ok(r) => r,
        Err(e) => return failed(&v, &e),
    };
    let answers = match sscard_app::bank_files::bank_answers(store, &rows).await {
        Ok(a) => a,
        Err(e) => return failed(&v, &e),
    };
    render(&v, &batch_page(&v, &summary, outcome, &rows, &answers))
}

fn batch_page(
    v: &Viewer,
    summary: &BatchSummary,
    outcome: Option<LineOutcome>,
    rows: &[sscard_store::benefits::LineRow],
    answers: &HashMap<String, BankAnswer>,
) -> BatchPage {
    let b = BatchView::new(summary);
    let shown = &rows[..rows.len().min(LINES_PER_PAGE as usize)];
    let chosen = outcome.map(|o| o.as_str()).unwrap_or("");
    let next = (rows.len() > shown.len()).then(|| shown.last().map(|l| l.seq)).flatten().map(|seq| {
        let filter = if chosen.is_empty() { String::new() } else { format!("&outcome={chosen}") };
        format!("{}&after={seq}{filter}", b.href)
    });
    let answer = |l: &sscard_store::benefits::LineRow| l.end_to_end_id.as_ref().and_then(|e| answers.get(e));
    let lines = shown
        .iter()
        .map(|l| LineView {
            bank_answer_key: answer(l).map(|a| match a.status {
                BankStatus::Credited => "bb_bank_credited",
                BankStatus::Returned => "bb_bank_returned",
            }),
            bank_reason: answer(l).and_then(|a| a.reason.clone()).unwrap_or_default(),
            seq: l.seq,
            line_id: l.line_id.clone(),
            ssn_masked: mask_id(&l.ssn),
            name: l.name.clone(),
            yuan: Fen::new(l.amount_fen).to_string(),
            outcome_key: l.outcome.map(|o| format!("bo_{}", o.as_str())).unwrap_or_else(|| "bo_pending".into()),
            bank: l.bank_code.clone().unwrap_or_default(),
        })
        .collect();
    let filter =
        LineOutcome::ALL.iter().map(|o| (o.as_str(), format!("bo_{}", o.as_str()), o.as_str() == chosen)).collect();
    BatchPage { l: Layout::new(v), b, lines, filter, next }
}
