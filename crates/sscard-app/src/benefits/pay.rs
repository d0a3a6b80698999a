//! Paying a received batch, one chunk of lines per transaction: each chunk decides its lines
//! (`sscard_domain::benefits::decide_line`), posts one ledger transfer per paid line (payer →
//! the mirror of the paying card's bank account, credited without a lock as a credit is decided
//! on no balance), records the payments, the lines' outcomes, one event (listing the chunk's
//! payments) and one audit record, and moves the batch's `done_through` past the chunk, all in
//! that one transaction. A process killed in the middle loses at most the chunk
//! it was writing, which never committed; [`run_batch`] (on restart, or when the batch is
//! submitted again) goes on after `done_through` and pays nothing twice. Across batches the
//! payments' unique index (payer × program × period × person) backs the `duplicate` rule.
//!
//! The next chunk is read, decided and posted while the current one is written (see
//! [`run_batch`]): the work of a chunk outside its write transaction (the join, opening the
//! sealed names and accounts, the rules, the transfers' rows) is off the writer's path.

use super::super::{Ctx, Subject, record, record_rows};
use crate::onecard::ledger::{Leg, Locked, balance_changes, bank, org, plan_legs};
use serde::Serialize;
use serde_json::json;
use sscard_domain::benefits::{
    self as rules, BatchStatus, LineFacts, LineOutcome, PAY_CHUNK_LINES, PayeeCard, decide_line, end_to_end_id,
    marks_retired, transfer_key,
};
use sscard_domain::error::DomainError;
use sscard_domain::ledger::{AccountKind, TransferKind};
use sscard_domain::money::Fen;
use sscard_domain::person::PersonName;
use sscard_store::benefits::{BatchRow, LineDecision, LineRow, LineToPay, PaymentRow, ProgramRow};
use sscard_store::model::{NewAudit, NewEvent};
use sscard_store::onecard::{BalanceChange, TransferRow, Writes};
use sscard_store::ports::{AuditLog, Benefits, Ledger};
use sscard_store::tx::Store;
use sscard_store::{Result, StoreError};
use std::collections::{HashMap, HashSet};

/// Pays the batch's remaining lines chunk by chunk, telling `progress` after each; returns
/// the batch when it is done.
///
/// Two chunks are in hand at a time: while one chunk's writes run in a write transaction, the
/// next chunk is read and decided in a read transaction of its own (another connection, the
/// other core), so the database's writer does not wait for the reads, the opening of sealed
/// fields and the rules. The next chunk's snapshot may not hold the payments of the chunk being
/// written, so the persons that chunk pays are carried into the next one's decisions (a person
/// paid there counts as paid); chunks before it were committed when the read began. A chunk is
/// written only if the batch's `done_through` is still where its read began: a second runner of
/// the same batch (a restart racing a resubmission) makes the other re-read from there.
pub async fn run_batch(
    store: &dyn Store,
    ctx: &Ctx,
    batch_no: i64,
    progress: &mut (dyn FnMut(&BatchRow) + Send),
) -> Result<BatchRow> {
    let (batch, program) = open_batch(store, batch_no).await?;
    let Some(program) = program else { return Ok(batch) };
    let mut next = prepare(store, ctx, &batch, &program, batch.done_through, HashSet::new()).await?;
    loop {
        let paid_in_next: HashSet<String> = next.paid_persons().collect();
        let following_from = next.from + PAY_CHUNK_LINES as i64;
        let last = next.decided.is_empty();
        let (written, following) = if last {
            (write_prepared(store, ctx, batch_no, &program, next).await?, None)
        } else {
            let (w, f) = tokio::join!(
                write_prepared(store, ctx, batch_no, &program, next),
                prepare(store, ctx, &batch, &program, following_from, paid_in_next)
            );
            (w?, Some(f?))
        };
        let (batch, stale) = written;
        progress(&batch);
        if batch.status != BatchStatus::Processing {
            return Ok(batch);
        }
        next = match following {
            Some(f) if !stale => f,
            // Another runner moved the batch on (or this one was stale): read from where it is.
            _ => prepare(store, ctx, &batch, &program, batch.done_through, HashSet::new()).await?,
        };
    }
}

/// The batch and, while it is still being paid, its program.
async fn open_batch(store: &dyn Store, batch_no: i64) -> Result<(BatchRow, Option<ProgramRow>)> {
    let mut tx = store.read().await?;
    let batch = tx
        .get_batch_by_no(batch_no, false)
        .await?
        .ok_or_else(|| StoreError::not_found("batch", batch_no.to_string()))?;
    if batch.status != BatchStatus::Processing {
        tx.commit().await?;
        return Ok((batch, None));
    }
    let program = tx
        .get_program(&batch.program_code)
        .await?
        .ok_or_else(|| StoreError::not_found("program", &batch.program_code))?;
    tx.commit().await?;
    Ok((batch, Some(program)))
}

/// Resumes every batch left in payment (a process stopped in the middle); returns how many.
pub async fn resume_all(store: &dyn Store, ctx: &Ctx) -> Result<usize> {
    let mut tx = store.read().await?;
    let open = tx.batches_in_status(BatchStatus::Processing, 100).await?;
    tx.commit().await?;
    for b in &open {
        tracing::info!(batch_no = b.batch_no, payer = %b.payer_code, batch_id = %b.batch_id, "resuming a benefit batch");
        run_batch(store, ctx, b.batch_no, &mut |_| {}).await?;
    }
    Ok(open.len())
}

/// One decided line: what its row becomes and, when paid, its transfer leg and payment (moved
/// into the chunk's [`Planned`] payments when the chunk is posted, not copied: two chunks are
/// in hand at a time).
struct Decided {
    row: LineDecision,
    paid: Option<Leg>,
    payment: Option<PaymentRow>,
    /// The payee's pension flag before this payment (a pension paid sets it).
    pension_recorded: bool,
}

/// The lines after `from` (one chunk), read, decided and posted, not yet written.
struct Prepared {
    from: i64,
    decided: Vec<Decided>,
    planned: Planned,
}

impl Prepared {
    fn paid_persons(&self) -> impl Iterator<Item = String> + '_ {
        self.decided.iter().filter(|d| d.paid.is_some()).filter_map(|d| d.row.person_id.clone())
    }
}

/// Reads the chunk of lines after `from` in a read transaction and decides it; the persons of
/// `paid_before` (paid by the chunk being written meanwhile) count as paid. The reading (the
/// rows' parsing, the opening of sealed names and accounts) and the deciding run as a task of
/// their own, on another thread than the writes being prepared meanwhile.
async fn prepare(
    store: &dyn Store,
    ctx: &Ctx,
    batch: &BatchRow,
    program: &ProgramRow,
    from: i64,
    paid_before: HashSet<String>,
) -> Result<Prepared> {
    let mut tx = store.read().await?;
    let (ctx, batch, program) = (ctx.clone(), batch.clone(), program.clone());
    let task = tokio::spawn(async move {
        let through = from + PAY_CHUNK_LINES as i64;
        let lines = tx.lines_to_pay(&batch, from, through, program.needs_certification).await?;
        tx.commit().await?;
        let mut decided = decide_chunk(&ctx, &batch, &program, lines, paid_before)?;
        let planned = plan_chunk(&ctx, &batch, &mut decided)?;
        Ok(Prepared { from, decided, planned })
    });
    task.await.map_err(|e| StoreError::Backend(format!("reading a chunk of the batch stopped: {e}")))?
}

/// Writes a prepared chunk (or, when it holds no line, finishes the batch) in one write
/// transaction, if the batch is still where the chunk's read began; returns the batch and
/// whether the chunk was stale (not written).
async fn write_prepared(
    store: &dyn Store,
    ctx: &Ctx,
    batch_no: i64,
    program: &ProgramRow,
    prepared: Prepared,
) -> Result<(BatchRow, bool)> {
    let mut tx = store.write().await?;
    let mut batch = tx
        .get_batch_by_no(batch_no, true)
        .await?
        .ok_or_else(|| StoreError::not_found("batch", batch_no.to_string()))?;
    if batch.status != BatchStatus::Processing || batch.done_through != prepared.from {
        tx.commit().await?;
        return Ok((batch, true));
    }
    if prepared.decided.is_empty() {
        finish_batch(tx.as_mut(), ctx, &mut batch).await?;
    } else {
        write_chunk(tx.as_mut(), ctx, &mut batch, program, prepared.decided, prepared.planned).await?;
    }
    tx.commit().await?;
    Ok((batch, false))
}

/// Every line is decided: the batch is done (its outcomes in the event).
async fn finish_batch(tx: &mut (impl Benefits + AuditLog + ?Sized), ctx: &Ctx, batch: &mut BatchRow) -> Result<()> {
    batch.status = BatchStatus::Done;
    batch.finished_at_ms = Some(ctx.now_ms);
    batch.updated_at_ms = ctx.now_ms;
    tx.update_batch(batch).await?;
    let subject = Subject { entity: "benefit_batch", entity_id: &batch.batch_id, person_id: "", region: String::new() };
    let counts = tx.outcome_counts(batch.batch_no).await?;
    let payload = json!({ "batch_no": batch.batch_no, "outcomes": counts });
    record(tx, ctx, "benefits.batch_done", &subject, payload).await
}

/// Decides each line of the chunk by the rules (a person of `paid_now`, or paid by an earlier
/// line of the chunk, counts as paid) and makes the paid lines' transfer legs and payments.
fn decide_chunk(
    ctx: &Ctx,
    batch: &BatchRow,
    program: &ProgramRow,
    lines: Vec<LineToPay>,
    mut paid_now: HashSet<String>,
) -> Result<Vec<Decided>> {
    let payer = org(AccountKind::Payer, &batch.payer_code)?;
    let mut out = Vec::with_capacity(lines.len());
    for line in lines {
        let line_name = PersonName::from_stored(line.name)?;
        let on_file = line.payee.as_ref().map(|p| PersonName::from_stored(p.name.clone())).transpose()?;
        let payee = line.payee.as_ref();
        let cards = payee.map_or(&[][..], |p| p.cards.as_slice());
        let facts = LineFacts {
            person_name: on_file.as_ref(),
            cards,
            already_paid: payee.is_some_and(|p| p.already_paid || paid_now.contains(&p.person_id)),
            needs_certification: program.needs_certification,
            certified_at_ms: payee.and_then(|p| p.certified_at_ms),
            now_ms: ctx.now_ms,
            certification_valid_months: ctx.policy.certification_valid_months,
        };
        let mut row = LineDecision {
            batch_no: batch.batch_no,
            seq: line.seq,
            outcome: LineOutcome::UnknownPerson,
            person_id: payee.map(|p| p.person_id.clone()),
            card_no: None,
            bank_code: None,
            account_no: None,
            end_to_end_id: None,
            transfer_id: None,
            decided_at_ms: ctx.now_ms,
            amount_fen: line.amount_fen,
        };
        let pension_recorded = payee.is_some_and(|p| p.pension_recorded);
        let verdict = decide_line(&line_name, &facts);
        let (Some(payee), Ok(card)) = (payee, verdict) else {
            row.outcome = verdict.err().unwrap_or(LineOutcome::UnknownPerson);
            out.push(Decided { row, paid: None, payment: None, pension_recorded });
            continue;
        };
        paid_now.insert(payee.person_id.clone());
        let (leg, payment) = pay_line(batch, &payer, &mut row, line.amount_fen, &payee.person_id, card)?;
        out.push(Decided { row, paid: Some(leg), payment: Some(payment), pension_recorded });
    }
    Ok(out)
}

/// Fills a paid line's columns and makes its transfer leg and payment.
fn pay_line(
    batch: &BatchRow,
    payer: &sscard_domain::ledger::AccountId,
    row: &mut LineDecision,
    amount_fen: i64,
    person_id: &str,
    card: &PayeeCard,
) -> Result<(Leg, PaymentRow)> {
    let seq = u64::try_from(row.seq).map_err(|_| StoreError::corrupt("line seq"))?;
    let e2e = end_to_end_id(u64::try_from(batch.batch_no).unwrap_or(0), seq);
    let pan =
        card.pan.as_ref().ok_or_else(|| DomainError::refused("no_financial_account", "the card has no account"))?;
    row.outcome = LineOutcome::Paid;
    row.card_no = Some(card.card_no.to_string());
    row.bank_code = Some(card.bank_code.to_string());
    row.account_no = Some(pan.as_str().to_string());
    row.end_to_end_id = Some(e2e.clone());
    let leg = Leg {
        from: payer.clone(),
        to: bank(card.card_no.as_str())?,
        amount: Fen::new(amount_fen),
        kind: TransferKind::Benefit,
        key: transfer_key(&e2e),
    };
    let payment = PaymentRow {
        end_to_end_id: e2e,
        payer_code: batch.payer_code.clone(),
        program_code: batch.program_code.clone(),
        period: batch.period.clone(),
        person_id: person_id.to_string(),
        batch_no: batch.batch_no,
        seq: row.seq,
        amount_fen,
        card_no: card.card_no.to_string(),
        bank_code: card.bank_code.to_string(),
        account_no: pan.as_str().to_string(),
        status: "paid".to_string(),
        paid_at_ms: 0,
    };
    Ok((leg, payment))
}

async fn write_chunk(
    tx: &mut (impl Ledger + Benefits + AuditLog + ?Sized),
    ctx: &Ctx,
    batch: &mut BatchRow,
    program: &ProgramRow,
    decided: Vec<Decided>,
    planned: Planned,
) -> Result<()> {
    let Planned { transfers, credits, others, payments } = planned;
    // The mirrors first: the transfers name them.
    tx.credit_bank_accounts(&credits, ctx.now_ms).await?;
    let writes = Writes { balances: others, transfers, now_ms: ctx.now_ms, ..Writes::default() };
    tx.write_all(&writes).await?;
    tx.insert_payments(&payments).await.map_err(|e| match e {
        StoreError::Duplicate { .. } => {
            StoreError::Backend("a payment for the same person, program and period was written meanwhile".into())
        }
        other => other,
    })?;
    let retiring: Vec<String> = if marks_retired(program.kind) {
        decided
            .iter()
            .filter(|d| d.paid.is_some() && !d.pension_recorded)
            .filter_map(|d| d.row.person_id.clone())
            .collect()
    } else {
        Vec::new()
    };
    let rows: Vec<LineDecision> = decided.into_iter().map(|d| d.row).collect();
    tx.decide_lines(&rows).await?;
    if !retiring.is_empty() {
        tx.set_pension_recorded(&retiring).await?;
    }
    let first_seq = rows.first().map_or(batch.done_through, |r| r.seq);
    batch.done_through = rows.last().map_or(batch.done_through, |r| r.seq);
    batch.updated_at_ms = ctx.now_ms;
    if !payments.is_empty() {
        tx.append_records(&chunk_records(ctx, batch, first_seq, &payments)).await?;
    }
    tx.update_batch(batch).await
}

/// What a chunk's paid lines write besides the lines: their transfers, the mirrors credited,
/// the other balance changes (the payer's account) and the payments.
struct Planned {
    transfers: Vec<TransferRow>,
    credits: Vec<BalanceChange>,
    others: Vec<BalanceChange>,
    payments: Vec<PaymentRow>,
}

/// Posts the chunk's paid lines against the payer's account and the payees' mirrors. Reads
/// nothing: the payer's account may go negative (it is decided on nothing) and the mirrors
/// are only credited, so each starts from zero here and the changes are added to the stored
/// balances by the writes.
fn plan_chunk(ctx: &Ctx, batch: &BatchRow, decided: &mut [Decided]) -> Result<Planned> {
    let payer = org(AccountKind::Payer, &batch.payer_code)?;
    debug_assert!(!payer.kind.decided_on_balance(), "a payer's account is debited without a balance check");
    let mut balances: Locked = Locked::new();
    balances.insert(payer, 0);
    let mut owners: HashMap<String, String> = HashMap::new();
    for (leg, payment) in decided.iter().filter_map(|d| d.paid.as_ref().zip(d.payment.as_ref())) {
        balances.insert(leg.to.clone(), 0);
        owners.insert(leg.to.to_string(), payment.person_id.clone());
    }
    let start = balances.clone();
    let mut transfers: Vec<TransferRow> = Vec::new();
    let mut payments = Vec::new();
    for d in decided.iter_mut() {
        let (Some(leg), Some(mut payment)) = (d.paid.as_ref(), d.payment.take()) else { continue };
        let posted = plan_legs(ctx, &mut balances, std::slice::from_ref(leg), &payment.end_to_end_id)?;
        d.row.transfer_id = posted.first().map(|t| t.id.clone());
        payment.paid_at_ms = ctx.now_ms;
        payments.push(payment);
        transfers.extend(posted);
    }
    let (mut credits, mut others) = (Vec::new(), Vec::new());
    for mut change in balance_changes(&start, &balances) {
        if change.kind == AccountKind::Bank {
            change.person_id = owners.get(&change.id).cloned();
            credits.push(change);
        } else {
            others.push(change);
        }
    }
    Ok(Planned { transfers, credits, others, payments })
}

/// Payments an event lists at most: an event stays under a message broker's usual 1 MB.
const PAYMENTS_PER_EVENT: usize = 1_000;

/// One event and one audit record per [`PAYMENTS_PER_EVENT`] payments of a chunk (not one per
/// line: a million-line batch would write two million records). The event lists each payment
/// (its EndToEndId, person, amount and bank; the account stays only in the sealed payment
/// row); the audit record says which lines were paid and how much, the payments being in
/// `benefit_payments`.
fn chunk_records(ctx: &Ctx, batch: &BatchRow, first_seq: i64, payments: &[PaymentRow]) -> Vec<(NewEvent, NewAudit)> {
    let mut from_seq = first_seq;
    let parts = payments.chunks(PAYMENTS_PER_EVENT);
    let last = parts.len().saturating_sub(1);
    parts
        .enumerate()
        .map(|(i, part)| {
            // The last part covers the chunk's refused lines after its last payment too.
            let through_seq = if i == last { batch.done_through } else { part.last().map_or(from_seq, |p| p.seq) };
            let record = part_record(ctx, batch, from_seq, through_seq, part);
            from_seq = through_seq + 1;
            record
        })
        .collect()
}

fn part_record(
    ctx: &Ctx,
    batch: &BatchRow,
    from_seq: i64,
    through_seq: i64,
    payments: &[PaymentRow],
) -> (NewEvent, NewAudit) {
    let total: i64 = payments.iter().map(|p| p.amount_fen).sum();
    let subject = Subject { entity: "benefit_batch", entity_id: &batch.batch_id, person_id: "", region: String::new() };
    let summary = json!({
        "batch_no": batch.batch_no, "payer": batch.payer_code, "program": batch.program_code,
        "period": batch.period, "from_seq": from_seq, "through_seq": through_seq,
        "paid_lines": payments.len(), "paid_fen": total,
    });
    let (mut event, mut audit) = record_rows(ctx, "benefits.paid", &subject, summary.clone());
    let listed: Vec<serde_json::Value> = payments
        .iter()
        .map(|p| json!({ "end_to_end_id": p.end_to_end_id, "person_id": p.person_id, "amount_fen": p.amount_fen, "bank_code": p.bank_code }))
        .collect();
    if let Some(fields) = event.payload.as_object_mut() {
        fields.insert("payments".into(), serde_json::Value::Array(listed));
    }
    audit.detail = summary;
    (event, audit)
}

/// Lines and fen of one outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutcomeTotal {
    pub outcome: LineOutcome,
    pub lines: i64,
    pub total_fen: i64,
}

/// A batch, how far it is paid, and its lines and fen per outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BatchSummary {
    pub batch: BatchRow,
    /// Lines decided so far (paid or refused).
    pub decided_lines: i64,
    pub outcomes: Vec<OutcomeTotal>,
}

/// Finds a payer's batch for a reader allowed to see it.
pub async fn find_batch(store: &dyn Store, ctx: &Ctx, payer: &str, batch_id: &str) -> Result<BatchRow> {
    rules::may_view_batch(&ctx.actor, payer)?;
    let mut tx = store.read().await?;
    let batch = tx.get_batch(payer, batch_id, false).await?;
    tx.commit().await?;
    batch.ok_or_else(|| StoreError::not_found("batch", batch_id))
}

/// The summary of a payer's batch (its staff, the card office).
pub async fn summary(store: &dyn Store, ctx: &Ctx, payer: &str, batch_id: &str) -> Result<BatchSummary> {
    let batch = find_batch(store, ctx, payer, batch_id).await?;
    summary_of(store, batch).await
}

/// The summary of a batch already found.
pub async fn summary_of(store: &dyn Store, batch: BatchRow) -> Result<BatchSummary> {
    let mut tx = store.read().await?;
    let counts = tx.outcome_counts(batch.batch_no).await?;
    tx.commit().await?;
    let mut outcomes: Vec<OutcomeTotal> =
        LineOutcome::ALL.iter().map(|o| OutcomeTotal { outcome: *o, lines: 0, total_fen: 0 }).collect();
    let mut decided_lines = 0;
    for c in counts {
        let Some(o) = c.outcome else { continue };
        decided_lines += c.lines;
        if let Some(t) = outcomes.iter_mut().find(|t| t.outcome == o) {
            t.lines = c.lines;
            t.total_fen = c.total_fen;
        }
    }
    Ok(BatchSummary { batch, decided_lines, outcomes })
}

/// A page of a batch's lines after `after_seq`, of one outcome when given.
pub async fn lines(
    store: &dyn Store,
    ctx: &Ctx,
    payer: &str,
    batch_id: &str,
    outcome: Option<LineOutcome>,
    after_seq: i64,
    limit: u32,
) -> Result<Vec<LineRow>> {
    let batch = find_batch(store, ctx, payer, batch_id).await?;
    let mut tx = store.read().await?;
    let rows = tx.batch_lines(batch.batch_no, outcome, after_seq, limit).await?;
    tx.commit().await?;
    Ok(rows)
}
