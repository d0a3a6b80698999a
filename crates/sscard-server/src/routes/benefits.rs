//! Benefits: payers and programs (admin), batches (payer staff; JSON up to 10,000 lines or a
//! streamed CSV up to 2,000,000), their summaries and lines (JSON pages or CSV), the
//! eligibility certification, and a person's benefits received.

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::extract::{JsonBody, is_json_media_type};
use crate::state::AppState;
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use sscard_app::Ctx;
use sscard_app::benefits::csv_lines::{CsvLines, lines_csv};
use sscard_app::benefits::{self, BatchSummary, NewPayer, NewProgram, pay};
use sscard_domain::access::Actor;
use sscard_domain::benefits::{
    BatchStatus, CHUNK_LINES, Envelope, LineOutcome, MAX_BATCH_LINES, MAX_JSON_LINES, RawLine,
};
use sscard_domain::error::DomainError;
use sscard_store::benefits::{LineRow, PersonBenefitRow};
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};

/// Largest JSON batch body, in bytes (10,000 lines of up to ~300 bytes).
pub const JSON_BATCH_BYTES: usize = 4 * 1024 * 1024;
/// Largest CSV batch body, in bytes: 2,000,000 lines of up to 512 bytes.
pub const CSV_BATCH_BYTES: u64 = MAX_BATCH_LINES * 512;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPayerJson {
    /// 1-32 letters, digits, `_` or `-` (uppercased).
    pub code: String,
    pub name: String,
    /// 6-digit region code.
    pub region: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PayerJson {
    pub code: String,
    pub name: String,
    pub region: String,
    /// The payer's ledger account, `payer:<code>`.
    pub account_id: String,
}

/// Add a payer organisation with its ledger account (admin).
#[utoipa::path(post, path = "/api/v1/payers", tag = "benefits", request_body = NewPayerJson,
    responses((status = 201, body = PayerJson), (status = 400, body = crate::error::Problem), (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one"), (status = 403, body = crate::error::Problem), (status = 409, body = crate::error::Problem, description = "the code is taken"), (status = 413, body = crate::error::Problem, description = "the body is over the limit"), (status = 415, body = crate::error::Problem, description = "the body is not application/json")))]
pub async fn add_payer(
    State(state): State<AppState>,
    Auth(actor): Auth,
    body: JsonBody<NewPayerJson>,
) -> ApiResult<(StatusCode, Json<PayerJson>)> {
    let r = body.value;
    let cmd = NewPayer::parse(&r.code, &r.name, &r.region)?;
    let p = benefits::add_payer(state.store.as_ref(), &state.ctx(actor, None), &cmd).await?;
    let json = PayerJson { code: p.code, name: p.name, region: p.region, account_id: p.account_id };
    Ok((StatusCode::CREATED, Json(json)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProgramJson {
    pub code: String,
    pub name: String,
    /// pension | unemployment | injury | subsidy | tax_refund | housing
    pub kind: String,
    /// Lines of this program are paid only to persons certified within the last 12 months.
    #[serde(default)]
    pub needs_certification: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProgramJson {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub needs_certification: bool,
}

/// Add a benefit program (admin).
#[utoipa::path(post, path = "/api/v1/benefits/programs", tag = "benefits", request_body = NewProgramJson,
    responses((status = 201, body = ProgramJson), (status = 400, body = crate::error::Problem), (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one"), (status = 403, body = crate::error::Problem), (status = 409, body = crate::error::Problem, description = "the code is taken"), (status = 413, body = crate::error::Problem, description = "the body is over the limit"), (status = 415, body = crate::error::Problem, description = "the body is not application/json")))]
pub async fn add_program(
    State(state): State<AppState>,
    Auth(actor): Auth,
    body: JsonBody<NewProgramJson>,
) -> ApiResult<(StatusCode, Json<ProgramJson>)> {
    let r = body.value;
    let cmd = NewProgram::parse(&r.code, &r.name, &r.kind, r.needs_certification)?;
    let p = benefits::add_program(state.store.as_ref(), &state.ctx(actor, None), &cmd).await?;
    let json = ProgramJson {
        code: p.code,
        name: p.name,
        kind: p.kind.as_str().into(),
        needs_certification: p.needs_certification,
    };
    Ok((StatusCode::CREATED, Json(json)))
}

/// One line of a JSON batch.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchLineJson {
    /// The payer's id of the line, unique in the batch.
    pub line_id: String,
    pub ssn: String,
    pub name: String,
    pub amount_fen: i64,
}

/// A JSON batch: the envelope and its lines.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBatchJson {
    /// The payer's own id for the batch; the same id again answers the first result.
    pub batch_id: String,
    pub program: String,
    /// YYYY-MM
    pub period: String,
    pub declared_lines: u64,
    pub declared_total_fen: i64,
    /// The payer, for an admin submitting on its behalf; payer staff submit for their own.
    pub payer: Option<String>,
    #[schema(min_items = 1, max_items = 10000)]
    pub lines: Vec<BatchLineJson>,
}

/// The envelope of a CSV batch (the body is the CSV), and the payer for an admin.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BatchQuery {
    pub batch_id: Option<String>,
    pub program: Option<String>,
    /// YYYY-MM
    pub period: Option<String>,
    pub declared_lines: Option<u64>,
    pub declared_total_fen: Option<i64>,
    /// The payer (admins and the card office; payer staff default to their own).
    pub payer: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OutcomeJson {
    /// paid | unknown_person | name_mismatch | no_financial_account | deceased | duplicate | certification_overdue
    pub outcome: String,
    pub lines: i64,
    pub total_fen: i64,
}

/// A batch: its envelope, where it stands, and its lines and fen per outcome.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchJson {
    pub payer: String,
    pub batch_id: String,
    pub program: String,
    pub period: String,
    /// receiving | processing | done
    pub status: String,
    pub declared_lines: i64,
    pub declared_total_fen: i64,
    pub received_lines: i64,
    /// Lines paid or refused so far (progress).
    pub decided_lines: i64,
    pub outcomes: Vec<OutcomeJson>,
    pub submitted_by: String,
    pub created_at_ms: i64,
    pub finished_at_ms: Option<i64>,
}

impl From<&BatchSummary> for BatchJson {
    fn from(s: &BatchSummary) -> Self {
        let b = &s.batch;
        BatchJson {
            payer: b.payer_code.clone(),
            batch_id: b.batch_id.clone(),
            program: b.program_code.clone(),
            period: b.period.clone(),
            status: b.status.as_str().into(),
            declared_lines: b.declared_lines,
            declared_total_fen: b.declared_total_fen,
            received_lines: b.received_lines,
            decided_lines: s.decided_lines,
            outcomes: s
                .outcomes
                .iter()
                .map(|o| OutcomeJson { outcome: o.outcome.as_str().into(), lines: o.lines, total_fen: o.total_fen })
                .collect(),
            submitted_by: b.submitted_by.clone(),
            created_at_ms: b.created_at_ms,
            finished_at_ms: b.finished_at_ms,
        }
    }
}

/// The payer a request acts for (the rule is the domain's).
pub(crate) fn payer_for(actor: &Actor, named: Option<&str>) -> ApiResult<String> {
    Ok(sscard_domain::benefits::payer_acted_for(actor, named)?)
}

fn required<T>(v: Option<T>, field: &'static str) -> ApiResult<T> {
    v.ok_or_else(|| ApiError::bad_request("missing_field", field, format!("{field} is required")))
}

/// Submit a batch (payer staff, or an admin naming the payer): a JSON body with its lines
/// (1 to 10,000), or a `text/csv` body (header `line_id,ssn,name,amount_fen`, up to 2,000,000
/// lines, streamed) with the envelope as query parameters. 200: paid (or the first result of
/// the same batch); 202: received, being paid (follow it with GET). A malformed line, or lines
/// that do not match the envelope, refuse the batch whole (nothing paid).
#[utoipa::path(post, path = "/api/v1/benefits/batches", tag = "benefits", params(BatchQuery),
    request_body(description = "application/json: NewBatchJson; text/csv: line_id,ssn,name,amount_fen with the envelope in the query", content(
        (NewBatchJson = "application/json"),
        (String = "text/csv"))),
    responses((status = 200, body = BatchJson, description = "paid, or the first result of this batch"),
        (status = 202, body = BatchJson, description = "received and being paid"),
        (status = 400, body = crate::error::Problem, description = "a bad query, envelope field, body or line (named with its line number and field)"),
        (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one"),
        (status = 403, body = crate::error::Problem, description = "not staff of this payer"),
        (status = 409, body = crate::error::Problem, description = "this batch_id was used for other content, or is being received"),
        (status = 413, body = crate::error::Problem, description = "the body is over the limit"),
        (status = 415, body = crate::error::Problem, description = "the body is neither application/json nor text/csv"),
        (status = 422, body = crate::error::Problem, description = "the lines do not match the envelope (the field says which total)")))]
pub async fn submit(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Query(q): Query<BatchQuery>,
    request: Request,
) -> ApiResult<Response> {
    let content_type =
        request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let ctx = state.ctx(actor, None);
    let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    if is_json_media_type(&content_type) {
        submit_json(&state, ctx, q, request.into_body()).await
    } else if essence == "text/csv" {
        submit_csv(&state, ctx, q, request.into_body()).await
    } else {
        Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send application/json or text/csv",
        ))
    }
}

async fn submit_json(state: &AppState, ctx: Ctx, q: BatchQuery, body: Body) -> ApiResult<Response> {
    let raw = axum::body::to_bytes(body, JSON_BATCH_BYTES).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("a JSON batch is at most {JSON_BATCH_BYTES} bytes; send larger batches as text/csv"),
        )
    })?;
    let r: NewBatchJson = JsonBody::<NewBatchJson>::parse(&raw)?;
    if r.lines.is_empty() || r.lines.len() > MAX_JSON_LINES {
        return Err(ApiError::bad_request(
            "bad_lines",
            "lines",
            format!("a JSON batch has 1 to {MAX_JSON_LINES} lines; send larger batches as text/csv"),
        ));
    }
    let payer = payer_for(&ctx.actor, r.payer.as_deref().or(q.payer.as_deref()))?;
    let env = Envelope::parse(&payer, &r.batch_id, &r.program, &r.period, r.declared_lines, r.declared_total_fen)?;
    let lines: Vec<RawLine> = r
        .lines
        .into_iter()
        .map(|l| RawLine {
            line_id: l.line_id,
            ssn: l.ssn,
            name: l.name,
            amount_fen: l.amount_fen.to_string(),
            file_line: None,
        })
        .collect();
    let store = state.store.as_ref();
    let mut intake = benefits::begin(store, &ctx, env).await?;
    for chunk in lines.chunks(CHUNK_LINES) {
        intake.push(store, chunk).await?;
    }
    let batch = intake.finish(store, &ctx).await?;
    pay_and_answer(state, ctx, batch.batch_no, true).await
}

/// Pays the batch in a task of its own (it finishes even if the client goes away); waits for
/// it when `wait`, else answers 202 with the batch as it stands.
async fn pay_and_answer(state: &AppState, ctx: Ctx, batch_no: i64, wait: bool) -> ApiResult<Response> {
    let store = Arc::clone(&state.store);
    let metrics = Arc::clone(&state.metrics);
    let task_ctx = ctx.clone();
    let task = tokio::spawn(async move {
        let r = pay::run_batch(store.as_ref(), &task_ctx, batch_no, &mut |b| metrics.batch_progress(b)).await;
        if let Err(e) = &r {
            tracing::error!(batch_no, error = %e, "benefit batch stopped; it resumes on restart or resubmission");
        }
        r
    });
    let batch = if wait {
        task.await.map_err(|e| sscard_store::StoreError::Backend(format!("payment task: {e}")))??
    } else {
        let mut tx = state.store.read().await?;
        let b = tx.get_batch_by_no(batch_no, false).await?;
        tx.commit().await?;
        b.ok_or_else(|| sscard_store::StoreError::not_found("batch", batch_no.to_string()))?
    };
    let status = if batch.status == BatchStatus::Done { StatusCode::OK } else { StatusCode::ACCEPTED };
    let summary = pay::summary_of(state.store.as_ref(), batch).await?;
    Ok((status, Json(BatchJson::from(&summary))).into_response())
}

async fn submit_csv(state: &AppState, ctx: Ctx, q: BatchQuery, body: Body) -> ApiResult<Response> {
    let payer = payer_for(&ctx.actor, q.payer.as_deref())?;
    let env = Envelope::parse(
        &payer,
        &required(q.batch_id, "batch_id")?,
        &required(q.program, "program")?,
        &required(q.period, "period")?,
        required(q.declared_lines, "declared_lines")?,
        required(q.declared_total_fen, "declared_total_fen")?,
    )?;
    let declared = env.declared_lines;
    let store = state.store.as_ref();
    let mut intake = benefits::begin(store, &ctx, env).await?;
    let mut chunks = spawn_csv_reader(body);
    loop {
        let chunk = match chunks.recv().await {
            Some(Ok(c)) => c,
            Some(Err(e)) => {
                intake.abort(store).await?;
                return Err(e.into());
            }
            None => Vec::new(),
        };
        if chunk.is_empty() {
            break;
        }
        intake.push(store, &chunk).await?;
    }
    let batch = intake.finish(store, &ctx).await?;
    pay_and_answer(state, ctx, batch.batch_no, declared <= MAX_JSON_LINES as u64).await
}

/// Reads the body's CSV on a blocking thread, a chunk of lines at a time, so the whole file
/// is never in memory; the chunks (or the first error) come back on the channel.
fn spawn_csv_reader(body: Body) -> tokio::sync::mpsc::Receiver<Result<Vec<RawLine>, DomainError>> {
    let (bytes_tx, bytes_rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(8);
    let (lines_tx, lines_rx) = tokio::sync::mpsc::channel(2);
    tokio::spawn(feed_body(body, bytes_tx));
    tokio::task::spawn_blocking(move || {
        let mut csv = CsvLines::new(ChannelReader { rx: bytes_rx, current: Bytes::new() });
        loop {
            let chunk = csv.next_chunk(CHUNK_LINES);
            let last = !matches!(&chunk, Ok(c) if !c.is_empty());
            if lines_tx.blocking_send(chunk).is_err() || last {
                return;
            }
        }
    });
    lines_rx
}

async fn feed_body(body: Body, tx: tokio::sync::mpsc::Sender<std::io::Result<Bytes>>) {
    use http_body_util::BodyExt;
    let mut body = body;
    let mut total: u64 = 0;
    while let Some(frame) = body.frame().await {
        let item = match frame {
            Ok(f) => match f.into_data() {
                Ok(data) => {
                    total += data.len() as u64;
                    if total > CSV_BATCH_BYTES {
                        Err(std::io::Error::other(format!("the CSV is over {CSV_BATCH_BYTES} bytes")))
                    } else {
                        Ok(data)
                    }
                }
                Err(_) => continue,
            },
            Err(e) => Err(std::io::Error::other(format!("the upload broke off: {e}"))),
        };
        let stop = item.is_err();
        if tx.send(item).await.is_err() || stop {
            return;
        }
    }
}

/// A blocking reader over the body's chunks (used on a blocking thread only).
struct ChannelReader {
    rx: tokio::sync::mpsc::Receiver<std::io::Result<Bytes>>,
    current: Bytes,
}

impl std::io::Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(Ok(b)) => self.current = b,
                Some(Err(e)) => return Err(e),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BatchRef {
    /// The payer (payer staff default to their own).
    pub payer: Option<String>,
}

/// A batch: status, progress, lines and fen per outcome (its payer's staff, the card office).
#[utoipa::path(get, path = "/api/v1/benefits/batches/{id}", tag = "benefits", params(("id" = String, Path, description = "the payer's batch_id"), BatchRef),
    responses((status = 200, body = BatchJson), (status = 400, body = crate::error::Problem), (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one"), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem, description = "no such batch")))]
pub async fn get_batch(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    Query(q): Query<BatchRef>,
) -> ApiResult<Json<BatchJson>> {
    let payer = payer_for(&actor, q.payer.as_deref())?;
    let s = pay::summary(state.store.as_ref(), &state.ctx(actor, None), &payer, &id).await?;
    Ok(Json(BatchJson::from(&s)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LinesQuery {
    /// Only lines of this outcome.
    pub outcome: Option<String>,
    /// Lines after this position (the `seq` of the last line of the previous page).
    pub after: Option<i64>,
    /// 1-1000 (JSON) or 1-100000 (CSV); 100 (JSON) or 100000 (CSV) when absent.
    pub limit: Option<u32>,
    /// The payer (payer staff default to their own).
    pub payer: Option<String>,
}

/// One line of a batch with its outcome.
#[derive(Debug, Serialize, ToSchema)]
pub struct LineJson {
    /// Position in the batch (1-based).
    pub seq: i64,
    pub line_id: String,
    pub ssn: String,
    pub name: String,
    pub amount_fen: i64,
    /// Absent while not decided.
    pub outcome: Option<String>,
    /// The credited card's bank (paid lines).
    pub bank_code: Option<String>,
    /// The credited account, masked (paid lines).
    pub account_masked: Option<String>,
    /// The paid line's key (the ISO 20022 EndToEndId).
    pub end_to_end_id: Option<String>,
    /// What the bank answered about a paid line (`credited`, `returned`); absent until it has.
    pub bank_status: Option<String>,
    /// The bank's reason for a returned line (`AC04` closed account, `AC06` blocked, `BE01` name differs).
    pub bank_reason: Option<String>,
}

fn masked_account(account: Option<&str>) -> Option<String> {
    account.and_then(|a| sscard_domain::ids::Pan::parse(a).ok()).map(|p| p.masked())
}

impl From<&LineRow> for LineJson {
    fn from(l: &LineRow) -> Self {
        LineJson {
            seq: l.seq,
            line_id: l.line_id.clone(),
            ssn: l.ssn.clone(),
            name: l.name.clone(),
            amount_fen: l.amount_fen,
            outcome: l.outcome.map(|o| o.as_str().to_string()),
            bank_code: l.bank_code.clone(),
            account_masked: masked_account(l.account_no.as_deref()),
            end_to_end_id: l.end_to_end_id.clone(),
            bank_status: None,
            bank_reason: None,
        }
    }
}

fn parse_outcome(raw: Option<&str>) -> ApiResult<Option<LineOutcome>> {
    raw.map(|o| {
        LineOutcome::parse(o)
            .ok_or_else(|| ApiError::bad_request("bad_outcome", "outcome", format!("unknown outcome {o:?}")))
    })
    .transpose()
}

/// A page of a batch's lines, of one outcome when asked (its payer's staff, the card office).
#[utoipa::path(get, path = "/api/v1/benefits/batches/{id}/lines", tag = "benefits", params(("id" = String, Path, description = "the payer's batch_id"), LinesQuery),
    responses((status = 200, body = [LineJson]), (status = 400, body = crate::error::Problem), (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one"), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem, description = "no such batch")))]
pub async fn lines(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    Query(q): Query<LinesQuery>,
) -> ApiResult<Json<Vec<LineJson>>> {
    let payer = payer_for(&actor, q.payer.as_deref())?;
    let outcome = parse_outcome(q.outcome.as_deref())?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let ctx = state.ctx(actor, None);
    let rows = pay::lines(state.store.as_ref(), &ctx, &payer, &id, outcome, q.after.unwrap_or(0), limit).await?;
    let answers = sscard_app::bank_files::bank_answers(state.store.as_ref(), &rows).await?;
    let with_answer = |l: &LineRow| {
        let mut j = LineJson::from(l);
        if let Some(a) = l.end_to_end_id.as_ref().and_then(|e| answers.get(e)) {
            j.bank_status = Some(a.status.as_str().to_string());
            j.bank_reason = a.reason.clone();
        }
        j
    };
    Ok(Json(rows.iter().map(with_answer).collect()))
}

/// The same page as CSV (`seq,line_id,ssn,name,amount_fen,outcome,bank_code,account_masked,end_to_end_id`).
#[utoipa::path(get, path = "/api/v1/benefits/batches/{id}/lines.csv", tag = "benefits", params(("id" = String, Path, description = "the payer's batch_id"), LinesQuery),
    responses((status = 200, content_type = "text/csv", body = String), (status = 400, body = crate::error::Problem), (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one"), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem, description = "no such batch")))]
pub async fn lines_csv_page(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    Query(q): Query<LinesQuery>,
) -> ApiResult<Response> {
    let payer = payer_for(&actor, q.payer.as_deref())?;
    let outcome = parse_outcome(q.outcome.as_deref())?;
    let limit = q.limit.unwrap_or(100_000).clamp(1, 100_000);
    let ctx = state.ctx(actor, None);
    let store = state.store.as_ref();
    let batch = pay::find_batch(store, &ctx, &payer, &id).await?;
    let mut rows = Vec::new();
    let mut after = q.after.unwrap_or(0);
    while rows.len() < limit as usize {
        let want = (limit as usize - rows.len()).min(10_000) as u32;
        let page = pay::lines(store, &ctx, &payer, &batch.batch_id, outcome, after, want).await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        rows.extend(page);
    }
    let masked: Vec<[String; 9]> = rows
        .iter()
        .map(|l| {
            let j = LineJson::from(l);
            [
                j.seq.to_string(),
                j.line_id,
                j.ssn,
                j.name,
                j.amount_fen.to_string(),
                j.outcome.unwrap_or_default(),
                j.bank_code.unwrap_or_default(),
                j.account_masked.unwrap_or_default(),
                j.end_to_end_id.unwrap_or_default(),
            ]
        })
        .collect();
    let text = lines_csv(&masked);
    let mut resp = (StatusCode::OK, text).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    Ok(resp)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CertifyJson {
    pub person_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CertifiedJson {
    pub person_id: String,
    pub at_ms: i64,
    pub valid_until_ms: i64,
    /// portal (the holder) or counter (the card office)
    pub channel: String,
}

/// Certify eligibility (待遇资格认证): the holder for themself ("certify now"), or the card office
/// at the counter after seeing the card. Valid 12 months (configurable).
#[utoipa::path(post, path = "/api/v1/benefits/certifications", tag = "benefits", request_body = CertifyJson,
    responses((status = 201, body = CertifiedJson), (status = 400, body = crate::error::Problem), (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one"), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem, description = "no such person"), (status = 413, body = crate::error::Problem, description = "the body is over the limit"), (status = 415, body = crate::error::Problem, description = "the body is not application/json")))]
pub async fn certify(
    State(state): State<AppState>,
    Auth(actor): Auth,
    body: JsonBody<CertifyJson>,
) -> ApiResult<(StatusCode, Json<CertifiedJson>)> {
    let c = benefits::certify(state.store.as_ref(), &state.ctx(actor, None), &body.value.person_id).await?;
    let json =
        CertifiedJson { person_id: c.person_id, at_ms: c.at_ms, valid_until_ms: c.valid_until_ms, channel: c.channel };
    Ok((StatusCode::CREATED, Json(json)))
}

/// A benefit received.
#[derive(Debug, Serialize, ToSchema)]
pub struct BenefitJson {
    pub program: String,
    pub program_name: String,
    /// pension | unemployment | injury | subsidy | tax_refund | housing
    pub kind: String,
    pub payer_name: String,
    /// YYYY-MM
    pub period: String,
    pub amount_fen: i64,
    pub paid_at_ms: i64,
    /// The credited account, masked.
    pub account_masked: Option<String>,
    /// paid, or returned by the bank
    pub status: String,
}

impl From<&PersonBenefitRow> for BenefitJson {
    fn from(b: &PersonBenefitRow) -> Self {
        BenefitJson {
            program: b.payment.program_code.clone(),
            program_name: b.program_name.clone(),
            kind: b.program_kind.as_str().into(),
            payer_name: b.payer_name.clone(),
            period: b.payment.period.clone(),
            amount_fen: b.payment.amount_fen,
            paid_at_ms: b.payment.paid_at_ms,
            account_masked: masked_account(Some(&b.payment.account_no)),
            status: b.payment.status.clone(),
        }
    }
}

/// The benefits a person received, newest first (the holder, their guardian, the card office).
#[utoipa::path(get, path = "/api/v1/persons/{id}/benefits", tag = "benefits", params(("id" = String, Path)),
    responses((status = 200, body = [BenefitJson]), (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one"), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem, description = "no such person")))]
pub async fn person_benefits(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<BenefitJson>>> {
    let rows = benefits::person_benefits(state.store.as_ref(), &state.ctx(actor, None), &id, 200).await?;
    Ok(Json(rows.iter().map(BenefitJson::from).collect()))
}
