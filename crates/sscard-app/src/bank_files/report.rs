//! A bank's report applied to the paid lines it answers about. The file (pain.002 or its CSV)
//! is read whole first, so a malformed one changes nothing; then each chunk of records is one
//! transaction: the records decided by `sscard_domain::bank_report::decide_report`, a returned
//! line's money moved back to the payer by a reversal transfer (bank-account mirror → payer, one
//! key per line), the line's bank status written (and its payment marked returned, so a later
//! batch may pay the person again), an event and audit record per changed line. A report sent
//! again finds every line already in its status and changes nothing.

use crate::onecard::ledger::{Leg, balance_changes, bank, lock_accounts, org, plan_legs};
use crate::{Ctx, Subject, record_rows};
use serde::Serialize;
use serde_json::json;
use sscard_domain::bank_report::{
    self as rules, BankStatus, MAX_LISTED_REFUSALS, MAX_REPORT_LINES, REPORT_CHUNK, ReportRefusal, Verdict,
    classify_status, decide_report, reversal_key,
};
use sscard_domain::error::DomainError;
use sscard_domain::ledger::{AccountId, AccountKind, TransferKind};
use sscard_domain::money::Fen;
use sscard_iso20022::{Pain002Reader, ReportError, StatusCsvReader, StatusRecord};
use sscard_store::bank_returns::{BankStatusRow, PaymentState};
use sscard_store::onecard::{TransferRow, Writes};
use sscard_store::ports::{AuditLog, BankReturns, Ledger};
use sscard_store::tx::Store;
use sscard_store::{Result, StoreError};
use std::collections::HashMap;

/// A bank's report, read and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankReport {
    /// The report's own message id (pain.002 `GrpHdr/MsgId`).
    pub msg_id: Option<String>,
    pub records: Vec<StatusRecord>,
}

fn refused(e: &ReportError) -> DomainError {
    DomainError::invalid("bad_report", "body", format!("the bank report is refused {e}"))
}

/// Reads a report, pain.002 XML (first byte `<` after any BOM and blanks) or CSV
/// `end_to_end_id,status,reason`; a malformed one is refused whole (400 `bad_report`, naming
/// the byte or line), as is one of more than 2,000,000 records.
pub fn read_report(bytes: &[u8]) -> std::result::Result<BankReport, DomainError> {
    let start = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let is_xml = start.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<');
    let too_many =
        || DomainError::invalid("bad_report", "body", format!("a report has at most {MAX_REPORT_LINES} records"));
    let mut records = Vec::new();
    let msg_id = if is_xml {
        let mut reader = Pain002Reader::new(bytes);
        for r in reader.by_ref() {
            records.push(r.map_err(|e| refused(&e))?);
            if records.len() > MAX_REPORT_LINES {
                return Err(too_many());
            }
        }
        reader.message_id().map(str::to_owned)
    } else {
        for r in StatusCsvReader::new(bytes) {
            records.push(r.map_err(|e| refused(&e))?);
            if records.len() > MAX_REPORT_LINES {
                return Err(too_many());
            }
        }
        None
    };
    if records.is_empty() {
        return Err(DomainError::invalid("bad_report", "body", "the report names no transaction"));
    }
    Ok(BankReport { msg_id, records })
}

/// A record that changed nothing, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RefusedRecord {
    pub end_to_end_id: String,
    pub status: String,
    pub reason: ReportRefusal,
}

/// What a report did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReportOutcome {
    pub records: usize,
    /// Lines newly marked credited.
    pub credited: usize,
    /// Lines newly returned (their money back to the payer).
    pub returned: usize,
    pub returned_fen: i64,
    /// Records naming a line already in that status (a report sent again).
    pub unchanged: usize,
    /// Records whose bank has not finished.
    pub pending: usize,
    /// Records that cannot apply (all counted here, the first 1,000 listed).
    pub refused: usize,
    pub refusals: Vec<RefusedRecord>,
}

/// Applies a bank's report to the lines it names (the card office).
pub async fn apply_report(store: &dyn Store, ctx: &Ctx, report: &BankReport) -> Result<ReportOutcome> {
    rules::may_report(&ctx.actor)?;
    let mut outcome = ReportOutcome { records: report.records.len(), ..ReportOutcome::default() };
    for chunk in report.records.chunks(REPORT_CHUNK) {
        let mut tx = store.write().await?;
        let mut ids: Vec<String> = chunk.iter().map(|r| r.end_to_end_id.clone()).collect();
        ids.sort_unstable();
        ids.dedup();
        let states: HashMap<String, PaymentState> =
            tx.payment_states(&ids).await?.into_iter().map(|s| (s.end_to_end_id.clone(), s)).collect();
        let plan = decide_chunk(ctx, report, chunk, states, &mut outcome)?;
        write_chunk(tx.as_mut(), ctx, plan, &mut outcome).await?;
        tx.commit().await?;
    }
    Ok(outcome)
}

/// One line's change: its status row and, when returned, the reversal leg.
struct Change {
    row: BankStatusRow,
    state: PaymentState,
    reversal: Option<Leg>,
}

fn decide_chunk(
    ctx: &Ctx,
    report: &BankReport,
    chunk: &[StatusRecord],
    mut states: HashMap<String, PaymentState>,
    outcome: &mut ReportOutcome,
) -> Result<Vec<Change>> {
    let mut changes: Vec<Change> = Vec::new();
    for rec in chunk {
        let verdict = match states.get(&rec.end_to_end_id) {
            None => Verdict::Refuse(ReportRefusal::UnknownLine),
            Some(s) => decide_report(s.bank_status, classify_status(rec.status.as_str())),
        };
        let status = match verdict {
            Verdict::Credit => BankStatus::Credited,
            Verdict::Return => BankStatus::Returned,
            Verdict::Unchanged => {
                outcome.unchanged += 1;
                continue;
            }
            Verdict::Pending => {
                outcome.pending += 1;
                continue;
            }
            Verdict::Refuse(reason) => {
                outcome.refused += 1;
                if outcome.refusals.len() < MAX_LISTED_REFUSALS {
                    let (end_to_end_id, status) = (rec.end_to_end_id.clone(), rec.status.to_string());
                    outcome.refusals.push(RefusedRecord { end_to_end_id, status, reason });
                }
                continue;
            }
        };
        let Some(state) = states.get_mut(&rec.end_to_end_id) else { continue };
        // A second record for the same line in this chunk sees the first one's status.
        state.bank_status = Some(status);
        let state = state.clone();
        let reversal = match status {
            BankStatus::Returned => Some(Leg {
                from: bank(&state.card_no)?,
                to: org(AccountKind::Payer, &state.payer_code)?,
                amount: Fen::new(state.amount_fen),
                kind: TransferKind::Benefit,
                key: reversal_key(&state.end_to_end_id),
            }),
            BankStatus::Credited => None,
        };
        let row = BankStatusRow {
            end_to_end_id: state.end_to_end_id.clone(),
            batch_no: state.batch_no,
            bank_code: state.bank_code.clone(),
            status,
            status_code: rec.status.to_string(),
            reason: rec.reason.as_ref().map(ToString::to_string),
            reversal_transfer_id: None,
            report_msg_id: report.msg_id.clone(),
            reported_by: ctx.actor.name.clone(),
            reported_at_ms: ctx.now_ms,
        };
        changes.push(Change { row, state, reversal });
    }
    Ok(changes)
}

async fn write_chunk(
    tx: &mut (impl Ledger + BankReturns + AuditLog + ?Sized),
    ctx: &Ctx,
    mut changes: Vec<Change>,
    outcome: &mut ReportOutcome,
) -> Result<()> {
    let mut accounts: Vec<(AccountId, Option<&str>)> = Vec::new();
    for c in &changes {
        if let Some(leg) = &c.reversal {
            accounts.push((leg.from.clone(), Some(c.state.person_id.as_str())));
            accounts.push((leg.to.clone(), None));
        }
    }
    let mut balances = lock_accounts(tx, ctx, &accounts).await?;
    let locked = balances.clone();
    let mut transfers: Vec<TransferRow> = Vec::new();
    for c in changes.iter_mut() {
        let Some(leg) = &c.reversal else { continue };
        let posted = plan_legs(ctx, &mut balances, std::slice::from_ref(leg), &c.state.end_to_end_id)?;
        c.row.reversal_transfer_id = posted.first().map(|t| t.id.clone());
        transfers.extend(posted);
    }
    let writes =
        Writes { balances: balance_changes(&locked, &balances), transfers, now_ms: ctx.now_ms, ..Writes::default() };
    tx.write_all(&writes).await?;
    let rows: Vec<BankStatusRow> = changes.iter().map(|c| c.row.clone()).collect();
    tx.insert_bank_statuses(&rows).await.map_err(|e| match e {
        StoreError::Duplicate { .. } => StoreError::Backend("a bank status was written meanwhile; send again".into()),
        other => other,
    })?;
    let returned: Vec<String> =
        changes.iter().filter(|c| c.reversal.is_some()).map(|c| c.state.end_to_end_id.clone()).collect();
    tx.mark_payments_returned(&returned).await?;
    for c in &changes {
        let kind = match c.row.status {
            BankStatus::Credited => {
                outcome.credited += 1;
                "benefits.credited"
            }
            BankStatus::Returned => {
                outcome.returned += 1;
                outcome.returned_fen += c.state.amount_fen;
                "benefits.returned"
            }
        };
        let subject = Subject {
            entity: "benefit_payment",
            entity_id: &c.row.end_to_end_id,
            person_id: &c.state.person_id,
            region: String::new(),
        };
        let (event, audit) = record_rows(ctx, kind, &subject, json!({ "bank_status": c.row }));
        tx.append_record(&event, &audit).await?;
    }
    Ok(())
}
