//! The banks' side of benefit batches over HTTP: each bank's credit file of a finished batch
//! (ISO 20022 pain.001 or CSV), the banks' reports (pain.002 or CSV) applied by the card office,
//! and the reconciliation per bank. Parse, call `sscard_app::bank_files`, render.

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::routes::benefits::{BatchRef, payer_for};
use crate::state::AppState;
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sscard_app::bank_files::report::{ReportOutcome, apply_report, read_report};
use sscard_app::bank_files::{self, BankRecon, Count, FileFormat, Reconciliation};
use utoipa::ToSchema;

/// Largest report body: 2,000,000 records of a pain.002 take about 400 MiB; a CSV far less.
pub const REPORT_BYTES: usize = 512 * 1024 * 1024;

async fn credit_file(
    state: AppState,
    actor: sscard_domain::access::Actor,
    (id, bank): (String, String),
    q: BatchRef,
    format: FileFormat,
) -> ApiResult<Response> {
    let payer = payer_for(&actor, q.payer.as_deref())?;
    let ctx = state.ctx(actor, None);
    let store = state.store.as_ref();
    let files = bank_files::bank_files(store, &ctx, &payer, &id).await?;
    let bank = bank.trim().to_ascii_uppercase();
    let body = bank_files::write_bank_file(store, &files, &bank, format, Vec::new()).await?;
    let kind = match format {
        FileFormat::Pain001 => "application/xml; charset=utf-8",
        FileFormat::Csv => "text/csv; charset=utf-8",
    };
    let mut resp = (StatusCode::OK, body).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    Ok(resp)
}

/// One bank's credit instructions of a finished batch as ISO 20022 `pain.001.001.09`
/// (CustomerCreditTransferInitiation: NbOfTxs, CtrlSum, one PmtInf, a CdtTrfTxInf per paid line
/// with EndToEndId = the line's key, InstdAmt in CNY); its payer's staff and the card office.
#[utoipa::path(get, path = "/api/v1/benefits/batches/{id}/banks/{bank_code}/pain.001", tag = "benefits",
    params(("id" = String, Path, description = "the payer's batch_id"), ("bank_code" = String, Path, description = "the bank"), BatchRef),
    responses((status = 200, content_type = "application/xml", body = String),
        (status = 400, body = crate::error::Problem), (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one"),
        (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem, description = "no such batch, or the batch paid nothing to this bank"),
        (status = 409, body = crate::error::Problem, description = "batch_not_done: the batch is still being paid")))]
pub async fn pain001(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(path): Path<(String, String)>,
    Query(q): Query<BatchRef>,
) -> ApiResult<Response> {
    credit_file(state, actor, path, q, FileFormat::Pain001).await
}

/// The same credits as CSV (`end_to_end_id,creditor_name,creditor_account,amount,currency`).
#[utoipa::path(get, path = "/api/v1/benefits/batches/{id}/banks/{bank_code}/credits.csv", tag = "benefits",
    params(("id" = String, Path, description = "the payer's batch_id"), ("bank_code" = String, Path, description = "the bank"), BatchRef),
    responses((status = 200, content_type = "text/csv", body = String),
        (status = 400, body = crate::error::Problem), (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one"),
        (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem, description = "no such batch, or the batch paid nothing to this bank"),
        (status = 409, body = crate::error::Problem, description = "batch_not_done: the batch is still being paid")))]
pub async fn credits_csv(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(path): Path<(String, String)>,
    Query(q): Query<BatchRef>,
) -> ApiResult<Response> {
    credit_file(state, actor, path, q, FileFormat::Csv).await
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RefusedRecordJson {
    pub end_to_end_id: String,
    pub status: String,
    /// unknown_line, unknown_status or contradicts
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReportOutcomeJson {
    pub records: usize,
    /// Lines newly credited (ACSC).
    pub credited: usize,
    /// Lines newly returned (RJCT): their money went back to the payer.
    pub returned: usize,
    pub returned_fen: i64,
    /// Records naming a line already in that status (the same report again).
    pub unchanged: usize,
    /// Records whose bank has not finished (PDNG, ACSP, ...).
    pub pending: usize,
    pub refused: usize,
    /// The first 1,000 refused records.
    pub refusals: Vec<RefusedRecordJson>,
}

impl From<ReportOutcome> for ReportOutcomeJson {
    fn from(o: ReportOutcome) -> Self {
        let refusals = o
            .refusals
            .into_iter()
            .map(|r| RefusedRecordJson {
                end_to_end_id: r.end_to_end_id,
                status: r.status,
                reason: r.reason.to_string(),
            })
            .collect();
        ReportOutcomeJson {
            records: o.records,
            credited: o.credited,
            returned: o.returned,
            returned_fen: o.returned_fen,
            unchanged: o.unchanged,
            pending: o.pending,
            refused: o.refused,
            refusals,
        }
    }
}

/// A bank's status report, ISO 20022 `pain.002` (TxInfAndSts: OrgnlEndToEndId, TxSts ACSC or
/// RJCT, StsRsnInf/Rsn/Cd such as AC04) or CSV `end_to_end_id,status,reason` (the card office).
/// A returned line's money goes back to the payer and the line may be paid again by a later
/// batch; the same report again changes nothing; a malformed file is refused whole (400
/// `bad_report`, naming the byte or line).
#[utoipa::path(post, path = "/api/v1/benefits/bank-reports", tag = "benefits",
    request_body(content = String, content_type = "application/xml", description = "pain.002 XML, or text/csv end_to_end_id,status,reason"),
    responses((status = 200, body = ReportOutcomeJson),
        (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one"),
        (status = 403, body = crate::error::Problem, description = "not the card office"),
        (status = 413, body = crate::error::Problem, description = "larger than 512 MiB"),
        (status = 400, body = crate::error::Problem, description = "bad_report: not a readable pain.002 or CSV report (the byte or line named)")))]
pub async fn bank_report(
    State(state): State<AppState>,
    Auth(actor): Auth,
    body: Body,
) -> ApiResult<Json<ReportOutcomeJson>> {
    sscard_domain::bank_report::may_report(&actor)?;
    let bytes = axum::body::to_bytes(body, REPORT_BYTES).await.map_err(|_| {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", "a bank report is at most 512 MiB")
    })?;
    let report = read_report(&bytes)?;
    let outcome = apply_report(state.store.as_ref(), &state.ctx(actor, None), &report).await?;
    Ok(Json(outcome.into()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CountJson {
    pub lines: i64,
    pub fen: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BankReconJson {
    /// Null for lines refused before a bank was chosen (unknown person, no account, ...).
    pub bank_code: Option<String>,
    pub declared: CountJson,
    pub paid: CountJson,
    /// Of the paid, those the bank confirmed (ACSC).
    pub credited: CountJson,
    pub refused: CountJson,
    pub returned: CountJson,
    /// Lines not decided yet (the batch is still being paid).
    pub undecided: CountJson,
    /// declared = paid + refused + returned + undecided, in lines and fen.
    pub balanced: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReconciliationJson {
    pub batch_id: String,
    pub payer: String,
    pub status: String,
    pub declared_lines: i64,
    pub declared_total_fen: i64,
    pub banks: Vec<BankReconJson>,
    /// All banks; balanced also means the lines add up to the batch's envelope.
    pub total: BankReconJson,
}

fn count(c: Count) -> CountJson {
    CountJson { lines: c.lines, fen: c.fen }
}

fn bank_json(b: BankRecon) -> BankReconJson {
    BankReconJson {
        bank_code: b.bank_code,
        declared: count(b.declared),
        paid: count(b.paid),
        credited: count(b.credited),
        refused: count(b.refused),
        returned: count(b.returned),
        undecided: count(b.undecided),
        balanced: b.balanced,
    }
}

impl From<Reconciliation> for ReconciliationJson {
    fn from(r: Reconciliation) -> Self {
        ReconciliationJson {
            batch_id: r.batch_id,
            payer: r.payer,
            status: r.status.to_string(),
            declared_lines: r.declared_lines,
            declared_total_fen: r.declared_total_fen,
            banks: r.banks.into_iter().map(bank_json).collect(),
            total: bank_json(r.total),
        }
    }
}

/// Per bank, declared = paid + refused + returned, in lines and fen (its payer's staff, the card office).
#[utoipa::path(get, path = "/api/v1/benefits/batches/{id}/reconciliation", tag = "benefits",
    params(("id" = String, Path, description = "the payer's batch_id"), BatchRef),
    responses((status = 200, body = ReconciliationJson), (status = 400, body = crate::error::Problem),
        (status = 401, body = crate::error::Problem, description = "no token, or an unknown or expired one"),
        (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem, description = "no such batch")))]
pub async fn reconciliation(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    Query(q): Query<BatchRef>,
) -> ApiResult<Json<ReconciliationJson>> {
    let payer = payer_for(&actor, q.payer.as_deref())?;
    let r = bank_files::reconciliation(state.store.as_ref(), &state.ctx(actor, None), &payer, &id).await?;
    Ok(Json(r.into()))
}
