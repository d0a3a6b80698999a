//! The clerk console: dashboard with charts, review queue, jobs, cross-region stop,
//! the audit trail of a card, and employer batch issuance from a CSV upload with progress.

use super::charts::bars;
use super::i18n::Tr;
use super::pages::{Layout, render};
use super::portal::{BranchOption, branch_options, split_branch};
use super::{Viewer, back};
use crate::state::{AppState, BatchProgress};
use askama::Template;
use axum::extract::{Form, Multipart, Path, Query, State};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use sscard_app::cards::ActionInput;
use sscard_app::csv_rows::{CsvFileError, CsvRow, read_rows};
use sscard_app::{admin, applications, cards, fields, jobs, persons};
use sscard_domain::access::{Actor, Role};
use sscard_domain::application::{AppKind, AppStep, ApplicationInput, Channel};
use sscard_domain::card::{CardAction, StopReason};
use sscard_domain::document::{DocType, Ssn};
use sscard_domain::ids::RegionCode;
use sscard_domain::person::RegistrationInput;
use sscard_store::Count;

/// Rows accepted in one batch upload.
pub const MAX_BATCH_ROWS: usize = 10_000;

/// Bytes accepted in one batch upload: [`MAX_BATCH_ROWS`] rows of up to about 400 bytes.
pub const MAX_BATCH_BYTES: usize = 4 * 1024 * 1024;

pub struct ReviewRow {
    pub id: String,
    pub person_id: String,
    /// Who, masked: the queue is no look at anyone's data.
    pub name_masked: String,
    pub doc_masked: String,
    pub fee_yuan: String,
    pub fee_unpaid: bool,
    pub kind_key: String,
    pub channel_key: String,
    pub bank_code: String,
    pub submitted: String,
}

#[derive(Template)]
#[template(path = "console.html")]
struct ConsolePage {
    l: Layout,
    persons: i64,
    /// (caption, SVG)
    charts: Vec<(String, String)>,
    review: Vec<ReviewRow>,
    branches: Vec<BranchOption>,
    /// The cross-region stop reaches other deployments only in a nation.
    in_nation: bool,
}

fn labelled(t: &super::i18n::Tr, prefix: &str, counts: &[Count]) -> Vec<(String, i64)> {
    counts
        .iter()
        .map(|c| {
            let key = format!("{prefix}{}", c.key);
            let label = if prefix.is_empty() { c.key.clone() } else { t.s(&key).to_string() };
            (label, c.count)
        })
        .collect()
}

pub async fn page(State(state): State<AppState>, v: Viewer) -> Response {
    let actor = match v.require(&[Role::Clerk, Role::Admin]) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let ctx = state.ctx(actor, None);
    let overview = match admin::overview(state.store.as_ref(), &ctx).await {
        Ok(o) => o,
        Err(e) => return back("/login", Err(super::err_text(&v.t, &e))),
    };
    let t = v.t;
    let titled = |title: &str, data: &[(String, i64)]| (title.to_string(), bars(title, data));
    let charts = vec![
        titled(t.s("cards_by_status"), &labelled(&t, "st_", &overview.cards_by_status)),
        titled(t.s("cards_by_generation"), &labelled(&t, "", &overview.cards_by_generation)),
        titled(t.s("cards_by_bank"), &labelled(&t, "", &overview.cards_by_bank)),
        titled(t.s("apps_by_channel"), &labelled(&t, "c_", &overview.applications_by_channel)),
        titled(t.s("apps_by_status"), &labelled(&t, "st_", &overview.applications_by_status)),
    ];
    let usage = sscard_app::onecard::usage(state.store.as_ref(), &ctx).await.unwrap_or_default();
    let mut by_scenario: Vec<(String, i64)> = Vec::new();
    let mut by_presentation: Vec<(String, i64)> = Vec::new();
    let mut refused: Vec<(String, i64)> = Vec::new();
    for u in &usage {
        let scenario = t.s(&format!("sc_{}", u.scenario)).to_string();
        add_to(&mut by_scenario, &scenario, u.count);
        add_to(&mut refused, &scenario, u.refused);
        add_to(&mut by_presentation, t.s(&format!("pr_{}", u.presented)), u.count);
    }
    let mut charts = charts;
    if let Ok(tr) = admin::trends(state.store.as_ref(), &ctx, 12).await {
        let series: Vec<(String, Vec<i64>)> =
            tr.by_channel.iter().map(|(c, v)| (t.s(&format!("c_{c}")).to_string(), v.clone())).collect();
        let periods = week_labels(state.now_ms(), tr.weeks);
        let axes =
            super::charts::Axes { x_title: t.s("axis_week"), y_title: t.s("axis_applications"), periods: &periods };
        charts.push((t.s("apps_over_time").to_string(), super::charts::lines(t.s("apps_over_time"), &axes, &series)));
        let rate = if tr.cards_active > 0 { tr.ecards_usable * 100 / tr.cards_active } else { 0 };
        let title = format!("{} {rate}%", t.s("ecard_rate"));
        charts.push(titled(
            &title,
            &[(t.s("cards_active").to_string(), tr.cards_active), (t.s("ecards_usable").to_string(), tr.ecards_usable)],
        ));
    }
    if !usage.is_empty() {
        charts.push(titled(t.s("usage_by_scenario"), &by_scenario));
        charts.push(titled(t.s("usage_by_presentation"), &by_presentation));
        charts.push(titled(t.s("usage_refused_by_scenario"), &refused));
    }
    let review = review_rows(&state, &ctx).await;
    let (_, branches) = branch_options(&state, None).await.unwrap_or_default();
    let in_nation = super::national::in_nation(&state);
    render(&v, &ConsolePage { l: Layout::new(&v), persons: overview.persons, charts, review, branches, in_nation })
}

/// The applications waiting for review, with who (masked) and whether a fee is unpaid.
async fn review_rows(state: &AppState, ctx: &sscard_app::Ctx) -> Vec<ReviewRow> {
    let submitted = [sscard_domain::application::AppStatus::Submitted];
    applications::queue(state.store.as_ref(), ctx, &submitted, 200)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|e| (e.application, e.name_masked, e.doc_masked, e.fee_state == "unpaid"))
        .map(|(a, name_masked, doc_masked, fee_unpaid)| ReviewRow {
            person_id: a.person_id.clone(),
            name_masked,
            doc_masked,
            fee_yuan: a.fee_fen.to_string(),
            fee_unpaid,
            id: a.id,
            kind_key: format!("k_{}", a.kind.as_str()),
            channel_key: format!("c_{}", a.channel.as_str()),
            bank_code: a.bank_code.to_string(),
            submitted: super::portal::local_time(a.submitted_at_ms),
        })
        .collect()
}

/// The first day (month-day, China time) of each of the last `weeks` weeks ending now, oldest
/// first: the weeks `admin::trends` counts.
fn week_labels(now_ms: i64, weeks: u32) -> Vec<String> {
    let week_ms = 7 * sscard_domain::clock::DAY_MS;
    (0..weeks as i64)
        .map(|i| {
            let start = super::portal::local_time(now_ms - (weeks as i64 - i) * week_ms + 1);
            start.get(5..10).unwrap_or("").to_string()
        })
        .collect()
}

/// Adds `n` to the row labelled `label`, appending it when new.
fn add_to(rows: &mut Vec<(String, i64)>, label: &str, n: i64) {
    match rows.iter_mut().find(|(k, _)| k == label) {
        Some((_, total)) => *total += n,
        None => rows.push((label.to_string(), n)),
    }
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    csrf: String,
}

#[derive(Deserialize)]
pub struct StepForm {
    csrf: String,
    /// reject: why (the holder is told).
    reason: Option<String>,
    /// Where to go back to (the desk's queue, or the console).
    back: Option<String>,
}

/// Where a console form returns: the console, or the desk it was sent from.
fn return_to(back: Option<&str>) -> &'static str {
    if back == Some("desk") { "/desk" } else { "/console" }
}

/// The card office waives an application's fee with a reason (from the console or the desk).
pub async fn waive_fee(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<String>,
    Form(f): Form<StepForm>,
) -> Response {
    let actor = match v.post_as(&f.csrf, &[Role::Clerk, Role::Admin]) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let to = return_to(f.back.as_deref());
    let ctx = state.ctx(actor, None);
    let result = async {
        let reason = sscard_domain::handover::StaffReason::parse(f.reason.as_deref().unwrap_or(""), "reason")?;
        applications::waive_fee(state.store.as_ref(), &ctx, &id, &reason).await
    }
    .await
    .map(|_| v.t.s("ok_fee_waived").to_string())
    .map_err(|e| super::err_text(&v.t, &e));
    back(to, result)
}

pub async fn step(
    State(state): State<AppState>,
    v: Viewer,
    Path((id, step)): Path<(String, String)>,
    Form(f): Form<StepForm>,
) -> Response {
    let actor = match v.post_as(&f.csrf, &[Role::Clerk, Role::Admin]) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let Some(step) = AppStep::parse(&step) else { return back("/console", Err(v.t.s("err_no_such_step").into())) };
    let ctx = state.ctx(actor, None);
    let t = v.t;
    let result = async {
        let reason = match f.reason.as_deref() {
            Some(r) => Some(sscard_domain::handover::StaffReason::parse(r, "reason")?),
            None => None,
        };
        let input = applications::StepInput { reason, ..Default::default() };
        applications::step_with(state.store.as_ref(), &ctx, &id, step, &input).await
    }
    .await
    .map(|view| t.f("ok_step", &[("status", t.s(&format!("st_{}", view.application.status)).to_string())]))
    .map_err(|e| super::err_text(&v.t, &e));
    back("/console", result)
}

pub async fn run_job(
    State(state): State<AppState>,
    v: Viewer,
    Path(name): Path<String>,
    Form(f): Form<CsrfOnly>,
) -> Response {
    let actor = match v.post_as(&f.csrf, &[Role::Clerk, Role::Admin]) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let Some(job) = jobs::Job::parse(&name) else { return back("/console", Err(v.t.s("err_no_such_job").into())) };
    let mut ctx = state.ctx(actor, None);
    ctx.actor = Actor { name: format!("{}:{}", ctx.actor.name, job.name()), ..ctx.actor };
    let result = jobs::run(state.store.as_ref(), &ctx, job, &|_| {})
        .await
        .map(|r| {
            let args = [
                ("job", v.t.s(job.name()).to_string()),
                ("examined", r.examined.to_string()),
                ("changed", r.changed.to_string()),
                ("failures", r.failures.len().to_string()),
            ];
            v.t.f("ok_job", &args)
        })
        .map_err(|e| super::err_text(&v.t, &e));
    back("/console", result)
}

#[derive(Deserialize)]
pub struct StopForm {
    csrf: String,
    card_no: String,
    reason: String,
}

pub async fn stop_card(State(state): State<AppState>, v: Viewer, Form(f): Form<StopForm>) -> Response {
    let actor = match v.post_as(&f.csrf, &[Role::Clerk, Role::Admin]) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let ctx = state.ctx(actor, None);
    let result = async {
        let card_no = fields::card_no(&f.card_no, "card_no")?;
        let input = ActionInput { stop_reason: Some(StopReason::parse(&f.reason)?), ..Default::default() };
        cards::act(state.store.as_ref(), &ctx, &card_no, CardAction::Stop, input).await
    }
    .await
    .map(|c| super::portal::card_done(&v.t, &c))
    .map_err(|e| super::err_text(&v.t, &e));
    back("/console", result)
}

pub struct AuditLine {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub detail: String,
    pub sealed: bool,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    l: Layout,
    card_no: String,
    lines: Vec<AuditLine>,
}

#[derive(Deserialize)]
pub struct CardQuery {
    no: Option<String>,
}

pub async fn card_audit(State(state): State<AppState>, v: Viewer, Query(q): Query<CardQuery>) -> Response {
    let actor = match v.require(&[Role::Clerk, Role::Admin]) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let ctx = state.ctx(actor, None);
    let card_no = match fields::card_no(&q.no.unwrap_or_default().trim().to_ascii_uppercase(), "no") {
        Ok(no) => no,
        Err(_) => return back("/console", Err(v.t.s("err_bad_card_no").into())),
    };
    if let Err(e) = cards::get(state.store.as_ref(), &ctx, &card_no).await {
        return back("/console", Err(super::err_text(&v.t, &e)));
    }
    let card_no = card_no.as_str().to_string();
    let rows = async {
        let mut tx = state.store.read().await?;
        let rows = tx.audit_of_entity("card", &card_no, 500).await?;
        tx.commit().await?;
        Ok::<_, sscard_store::StoreError>(rows)
    }
    .await
    .unwrap_or_default();
    let lines = rows
        .into_iter()
        .map(|r| AuditLine {
            at: super::portal::local_time(r.at_ms),
            actor: r.actor,
            action: v.t.s(&format!("au_{}", r.action.replace('.', "_"))).to_string(),
            detail: audit_detail(&v.t, &r.detail),
            sealed: r.hash.is_some(),
        })
        .collect();
    render(&v, &AuditPage { l: Layout::new(&v), card_no, lines })
}

/// An audit record's detail in words: the state change, then the fields people read
/// (card numbers, bank, reason); identifiers and codes without a name are left out.
fn audit_detail(t: &super::i18n::Tr, detail: &str) -> String {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(detail) else {
        return String::new();
    };
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(items) => items.iter().filter_map(|i| i.as_str()).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    };
    let status = |v: &serde_json::Value| {
        let code = text(v);
        t.get(&format!("st_{code}")).map(str::to_string).unwrap_or(code)
    };
    let mut parts = Vec::new();
    if let (Some(from), Some(to)) = (map.get("from"), map.get("to")) {
        parts.push(format!("{} → {}", status(from), status(to)));
    }
    for (key, label) in [
        ("by", "au_f_by"),
        ("replaced", "au_f_replaced"),
        ("card_no", "card_no"),
        ("bank_code", "bank"),
        ("reason", "reason"),
    ] {
        if let Some(v) = map.get(key).filter(|v| !v.is_null() && !text(v).is_empty()) {
            parts.push(format!("{}: {}", t.s(label), text(v)));
        }
    }
    if map.get("temporary").and_then(|v| v.as_bool()) == Some(true) {
        parts.push(t.s("k_temporary").to_string());
    }
    parts.join(" · ")
}

/// Reads the upload: the CSV text and the chosen branch.
async fn read_upload(mut form: Multipart, v: &Viewer) -> Result<(String, String), String> {
    let (mut csv, mut branch, mut csrf) = (None, None, None);
    // Every refusal in the page's language: a broken upload says to check and retry.
    let other = |_| v.t.s("err_other").to_string();
    // Bounded: at most 10 parts are read.
    for _ in 0..10 {
        let Some(field) = form.next_field().await.map_err(other)? else { break };
        match field.name().unwrap_or("") {
            "file" => csv = Some(field.text().await.map_err(other)?),
            "branch" => branch = Some(field.text().await.map_err(other)?),
            "csrf" => csrf = Some(field.text().await.map_err(other)?),
            _ => {}
        }
    }
    v.check_csrf(csrf.as_deref().unwrap_or("")).map_err(|_| v.t.s("page_expired_detail").to_string())?;
    Ok((csv.ok_or(v.t.s("err_batch_file"))?, branch.ok_or(v.t.s("err_branch_required"))?))
}

pub async fn batch_upload(State(state): State<AppState>, v: Viewer, form: Multipart) -> Response {
    let actor = match v.require(&[Role::Clerk, Role::Admin]) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let (csv, branch) = match read_upload(form, &v).await {
        Ok(x) => x,
        Err(e) => return back("/console", Err(e)),
    };
    let rows = match batch_rows(&csv) {
        Ok(rows) => rows,
        Err(BatchFileError::File(CsvFileError::TooManyRows { .. })) => {
            return back("/console", Err(v.t.f("err_batch_too_many", &[("max", MAX_BATCH_ROWS.to_string())])));
        }
        Err(BatchFileError::Header) => {
            return back("/console", Err(v.t.f("err_batch_header", &[("header", BATCH_HEADER.join(","))])));
        }
        // Text cannot fail to read; kept for any other refusal of the reader.
        Err(BatchFileError::File(CsvFileError::Unreadable { .. })) => {
            return back("/console", Err(v.t.s("err_batch_file").to_string()));
        }
    };
    let id = sscard_app::new_id();
    state.batches.start(&id, rows.len());
    let task_state = state.clone();
    let task_id = id.clone();
    let t = v.t;
    tokio::spawn(async move { run_batch(task_state, actor, t, task_id, rows, branch).await });
    axum::response::Redirect::to(&format!("/console/batch/{id}")).into_response()
}

/// Registers each person (if new) and takes an approved employer-batch application. A line's
/// failure is written in the language of the page the CSV was uploaded from (the uploader
/// follows its progress there), naming the line the row starts on in the file.
async fn run_batch(state: AppState, actor: Actor, t: Tr, id: String, rows: Vec<CsvRow>, branch: String) {
    let ctx = state.ctx(actor, None);
    for row in &rows {
        let outcome = batch_row(&state, &ctx, t, &row.fields, &branch).await;
        let line_no = row.line.to_string();
        state.batches.record(&id, outcome.map_err(|e| t.f("batch_line_failed", &[("line", line_no), ("reason", e)])));
    }
}

/// The header an employer-batch upload starts with (its columns, in this order).
pub const BATCH_HEADER: [&str; 4] = ["doc_type", "doc_number", "name", "region"];

/// Why an employer-batch upload is refused whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchFileError {
    File(CsvFileError),
    /// The first line is not [`BATCH_HEADER`]: a file without it would lose its first person,
    /// one with the columns in another order would register people under the wrong fields.
    Header,
}

/// The data rows of an employer-batch upload, read with the `csv` crate (quoted fields, a
/// byte-order mark, CRLF line ends, as spreadsheets write them): the first line must be
/// [`BATCH_HEADER`] (any case), blank lines are skipped; at most [`MAX_BATCH_ROWS`], counted
/// before any row is kept. Each row keeps the line it starts on (the first line after the
/// header is line 2).
pub fn batch_rows(csv: &str) -> Result<Vec<CsvRow>, BatchFileError> {
    let (header, rows) = read_rows(csv, MAX_BATCH_ROWS).map_err(BatchFileError::File)?;
    let header_ok = header.is_some_and(|h| {
        h.len() == BATCH_HEADER.len() && h.iter().zip(BATCH_HEADER).all(|(f, want)| f.eq_ignore_ascii_case(want))
    });
    if !header_ok {
        return Err(BatchFileError::Header);
    }
    Ok(rows)
}

/// One row of an employer-batch upload: `doc_type,doc_number,name,region`, fields trimmed.
pub fn parse_batch_row(fields: &[String]) -> Result<RegistrationInput, String> {
    let [doc_type, doc_number, name, region] = fields else {
        return Err(format!("expected doc_type,doc_number,name,region, found {} columns", fields.len()));
    };
    Ok(RegistrationInput {
        doc_type: DocType::parse(doc_type).map_err(|e| e.to_string())?,
        doc_number: doc_number.clone(),
        name: name.clone(),
        sex: None,
        birth_date: None,
        region: RegionCode::parse(region).map_err(|e| e.to_string())?,
        guardian_id: None,
        relationship_proof: None,
    })
}

async fn batch_row(
    state: &AppState,
    ctx: &sscard_app::Ctx,
    t: Tr,
    fields: &[String],
    branch: &str,
) -> Result<(), String> {
    let input = parse_batch_row(fields).map_err(|_| t.s("err_batch_columns").to_string())?;
    // The number is checked here first only to say precisely what is wrong with it.
    if let Err(e) = sscard_domain::document::Document::parse(input.doc_type, &input.doc_number, ctx.today()) {
        return Err(super::doc_err_text(&t, &e));
    }
    let doc_number = input.doc_number.clone();
    let store = state.store.as_ref();
    let person = match persons::register(store, ctx, input).await {
        Ok(p) => p,
        Err(e) => match Ssn::parse(&doc_number) {
            Ok(ssn) => match persons::find_by_ssn(store, ctx, &ssn).await {
                Ok(seen) => seen.person,
                Err(_) => return Err(super::err_text(&t, &e)),
            },
            Err(_) => return Err(super::err_text(&t, &e)),
        },
    };
    let (bank_code, branch_code) = split_branch(branch).map_err(|_| t.s("err_branch_required").to_string())?;
    let app = ApplicationInput {
        kind: AppKind::First,
        channel: Channel::EmployerBatch,
        bank_code,
        branch_code: Some(branch_code),
        mail_address: None,
        reason: None,
    };
    let view = applications::apply(store, ctx, &person.id, app).await.map_err(|e| super::err_text(&t, &e))?;
    applications::step(store, ctx, &view.application.id, AppStep::Approve)
        .await
        .map_err(|e| super::err_text(&t, &e))?;
    Ok(())
}

#[derive(Template)]
#[template(path = "batch.html")]
struct BatchPage {
    l: Layout,
    id: String,
    p: BatchProgress,
}

#[derive(Template)]
#[template(path = "batch_part.html")]
struct BatchPart {
    l: Layout,
    id: String,
    p: BatchProgress,
}

pub async fn batch_progress(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
) -> Response {
    if let Err(r) = v.require(&[Role::Clerk, Role::Admin]) {
        return r;
    }
    let Some(p) = state.batches.get(&id) else { return back("/console", Err(v.t.s("err_no_such_batch").into())) };
    if headers.contains_key("hx-request") {
        match (BatchPart { l: Layout::new(&v), id, p }).render() {
            Ok(html) => Html(html).into_response(),
            Err(e) => (axum::http::StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
        }
    } else {
        render(&v, &BatchPage { l: Layout::new(&v), id, p })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "doc_type,doc_number,name,region";

    #[test]
    fn a_file_without_its_header_or_with_columns_moved_is_refused_whole() {
        let row = "resident_id,11010519491231002X,Zhang San,110105\n";
        assert_eq!(batch_rows(row), Err(BatchFileError::Header), "the first person is not taken for a header");
        let moved = format!("doc_number,doc_type,name,region\n{row}");
        assert_eq!(batch_rows(&moved), Err(BatchFileError::Header));
        assert_eq!(batch_rows(""), Err(BatchFileError::Header));
        let upper = format!("\u{feff}DOC_TYPE, Doc_Number ,NAME,region\r\n{row}");
        assert_eq!(batch_rows(&upper).map(|r| r.len()), Ok(1));
    }

    #[test]
    fn a_quoted_name_with_a_comma_is_one_column() {
        let rows =
            batch_rows(&format!("{HEADER}\nresident_id,11010519491231002X,\"Zhang, San\",110105\n")).expect("rows");
        let input = parse_batch_row(&rows[0].fields).expect("four columns");
        assert_eq!((input.name.as_str(), input.doc_number.as_str()), ("Zhang, San", "11010519491231002X"));
        assert_eq!(input.region.code(), 110_105);
    }

    #[test]
    fn an_excel_file_with_a_bom_and_crlf_reads_with_its_line_numbers() {
        let excel = format!(
            "\u{feff}{HEADER}\r\npassport,E12345678,\"Li, Si\",350200\r\n\r\nresident_id,11010519491231002X,张三,110105\r\n"
        );
        let rows = batch_rows(&excel).expect("rows");
        assert_eq!(rows.iter().map(|r| r.line).collect::<Vec<_>>(), [2, 4]);
        let inputs: Vec<RegistrationInput> = rows.iter().map(|r| parse_batch_row(&r.fields).expect("valid")).collect();
        assert_eq!((inputs[0].name.as_str(), inputs[0].region.code()), ("Li, Si", 350_200));
        assert_eq!((inputs[1].name.as_str(), inputs[1].region.code()), ("张三", 110_105), "no \\r is left");
    }

    #[test]
    fn a_row_with_the_wrong_number_of_columns_keeps_its_line() {
        let text = format!("{HEADER}\npassport,E12345678,Li Si,350200\npassport,E12345678,Li, Si,350200\n");
        let rows = batch_rows(&text).expect("rows");
        assert!(parse_batch_row(&rows[0].fields).is_ok());
        assert_eq!(rows[1].line, 3);
        let e = parse_batch_row(&rows[1].fields).expect_err("five columns");
        assert_eq!(e, "expected doc_type,doc_number,name,region, found 5 columns");
    }
}
