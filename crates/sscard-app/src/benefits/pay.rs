//! Paying a received batch, one chunk of lines per transaction: each chunk decides its lines
//! (`sscard_domain::benefits::decide_line`), posts one ledger transfer per paid line (payer →
//! the mirror of the paying card's bank account, credited without a lock as a credit is decided
//! on no balance), records the payments, the lines' outcomes, one event (listing the chunk's
//! payments) and one audit record, and moves the batch's `done_through` past the chunk, all in
//! that one transaction. A process killed in the middle loses at most the chunk
//! it was writing, which never committed; [`run_batch`] (on restart, or when the batch is
//! submitted again) goes on after `done_through` and pays nothing twice. Across batches the
//! payments' unique index (payer × program × period × person) backs the `duplicate` rule.

use super::super::{Ctx, Subject, record, record_rows};
use crate::onecard::ledger::{Leg, balance_changes, bank, lock_accounts, org, plan_legs};
use serde::Serialize;
use serde_json::json;
use sscard_domain::benefits::{
    self as rules, BatchLine, BatchStatus, CHUNK_LINES, LineFacts, LineOutcome, decide_line, end_to_end_id,
    marks_retired, transfer_key,
};
use sscard_domain::card::Card;
use sscard_domain::document::Ssn;
use sscard_domain::error::DomainError;
use sscard_domain::ledger::{AccountKind, TransferKind};
use sscard_domain::money::Fen;
use sscard_domain::person::{Person, PersonName};
use sscard_store::benefits::{BatchRow, LineRow, PaymentRow, ProgramRow};
use sscard_store::model::{NewAudit, NewEvent};
use sscard_store::onecard::{BalanceChange, TransferRow, Writes};
use sscard_store::ports::{AuditLog, Benefits, Ledger, MAX_PERSONS_PER_READ, Persons};
use sscard_store::tx::Store;
use sscard_store::{Result, StoreError};
use std::collections::{HashMap, HashSet};

/// Pays the batch's remaining lines chunk by chunk, telling `progress` after each; returns
/// the batch when it is done.
pub async fn run_batch(
    store: &dyn Store,
    ctx: &Ctx,
    batch_no: i64,
    progress: &mut (dyn FnMut(&BatchRow) + Send),
) -> Result<BatchRow> {
    loop {
        let batch = pay_chunk(store, ctx, batch_no).await?;
        progress(&batch);
        if batch.status != BatchStatus::Processing {
            return Ok(batch);
        }
    }
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

/// What the use case loaded for a chunk's lines.
#[derive(Default)]
struct Facts {
    persons: HashMap<String, Person>,
    cards: HashMap<String, Vec<Card>>,
    paid: HashSet<String>,
    certified: HashMap<String, i64>,
}

/// One decided line: its row with the outcome filled in and, when paid, what to write.
struct Decided {
    row: LineRow,
    paid: Option<(Leg, PaymentRow, Person)>,
}

async fn pay_chunk(store: &dyn Store, ctx: &Ctx, batch_no: i64) -> Result<BatchRow> {
    let mut tx = store.write().await?;
    let mut batch = tx
        .get_batch_by_no(batch_no, true)
        .await?
        .ok_or_else(|| StoreError::not_found("batch", batch_no.to_string()))?;
    if batch.status != BatchStatus::Processing {
        tx.commit().await?;
        return Ok(batch);
    }
    let lines = tx.batch_lines(batch_no, None, batch.done_through, CHUNK_LINES as u32).await?;
    if lines.is_empty() {
        batch.status = BatchStatus::Done;
        batch.finished_at_ms = Some(ctx.now_ms);
        batch.updated_at_ms = ctx.now_ms;
        tx.update_batch(&batch).await?;
        let subject =
            Subject { entity: "benefit_batch", entity_id: &batch.batch_id, person_id: "", region: String::new() };
        let counts = tx.outcome_counts(batch_no).await?;
        record(tx.as_mut(), ctx, "benefits.batch_done", &subject, json!({ "batch_no": batch_no, "outcomes": counts }))
            .await?;
        tx.commit().await?;
        return Ok(batch);
    }
    let program = tx
        .get_program(&batch.program_code)
        .await?
        .ok_or_else(|| StoreError::not_found("program", &batch.program_code))?;
    let parsed = lines.iter().map(parse_stored).collect::<Result<Vec<_>>>()?;
    let facts = load_facts(tx.as_mut(), &batch, &program, &parsed).await?;
    let decided = decide_chunk(ctx, &batch, &program, lines, &parsed, facts)?;
    write_chunk(tx.as_mut(), ctx, &mut batch, &program, decided).await?;
    tx.commit().await?;
    Ok(batch)
}

/// A staged line as the domain reads it (it was parsed when received).
fn parse_stored(row: &LineRow) -> Result<BatchLine> {
    Ok(BatchLine {
        seq: u64::try_from(row.seq).map_err(|_| StoreError::corrupt("line seq"))?,
        line_id: row.line_id.clone(),
        ssn: Ssn::parse(&row.ssn).map_err(|e| StoreError::corrupt(format!("line {} ssn: {e}", row.seq)))?,
        name: PersonName::from_stored(row.name.clone())?,
        amount: Fen::new(row.amount_fen),
    })
}

async fn load_facts(
    tx: &mut (impl Persons + Benefits + ?Sized),
    batch: &BatchRow,
    program: &ProgramRow,
    lines: &[BatchLine],
) -> Result<Facts> {
    let mut facts = Facts::default();
    // The chunk's persons in one read (blind indexes IN (...)), then their cards in one.
    let mut ssns: Vec<String> = lines.iter().map(|l| l.ssn.to_string()).collect();
    ssns.sort_unstable();
    ssns.dedup();
    for part in ssns.chunks(MAX_PERSONS_PER_READ) {
        for person in tx.find_persons_by_ssns(part).await? {
            facts.persons.insert(person.ssn.to_string(), person);
        }
    }
    let ids: Vec<String> = facts.persons.values().map(|p| p.id.clone()).collect();
    for part in ids.chunks(MAX_PERSONS_PER_READ) {
        for card in tx.cards_of_persons(part).await? {
            facts.cards.entry(card.person_id.clone()).or_default().push(card);
        }
    }
    for part in ids.chunks(500) {
        let paid = tx.paid_persons(&batch.payer_code, &batch.program_code, &batch.period, part).await?;
        facts.paid.extend(paid);
        if program.needs_certification {
            facts.certified.extend(tx.last_certifications(part).await?);
        }
    }
    Ok(facts)
}

fn decide_chunk(
    ctx: &Ctx,
    batch: &BatchRow,
    program: &ProgramRow,
    rows: Vec<LineRow>,
    lines: &[BatchLine],
    mut facts: Facts,
) -> Result<Vec<Decided>> {
    let payer = org(AccountKind::Payer, &batch.payer_code)?;
    let no_cards: Vec<Card> = Vec::new();
    let mut out = Vec::with_capacity(rows.len());
    for (mut row, line) in rows.into_iter().zip(lines) {
        let person = facts.persons.get(&line.ssn.to_string());
        let cards = person.and_then(|p| facts.cards.get(&p.id)).unwrap_or(&no_cards);
        let line_facts = LineFacts {
            person,
            cards,
            already_paid: person.is_some_and(|p| facts.paid.contains(&p.id)),
            needs_certification: program.needs_certification,
            certified_at_ms: person.and_then(|p| facts.certified.get(&p.id).copied()),
            now_ms: ctx.now_ms,
            certification_valid_months: ctx.policy.certification_valid_months,
        };
        row.person_id = person.map(|p| p.id.clone());
        row.decided_at_ms = Some(ctx.now_ms);
        let (Some(person), Ok(card)) = (person, decide_line(line, &line_facts)) else {
            row.outcome = Some(decide_line(line, &line_facts).err().unwrap_or(LineOutcome::UnknownPerson));
            out.push(Decided { row, paid: None });
            continue;
        };
        let (person, card) = (person.clone(), card.clone());
        facts.paid.insert(person.id.clone());
        let paid = pay_line(batch, &payer, &mut row, &person, &card)?;
        out.push(Decided { row, paid: Some((paid.0, paid.1, person)) });
    }
    Ok(out)
}

/// Fills a paid line's columns and makes its transfer and payment.
fn pay_line(
    batch: &BatchRow,
    payer: &sscard_domain::ledger::AccountId,
    row: &mut LineRow,
    person: &Person,
    card: &Card,
) -> Result<(Leg, PaymentRow)> {
    let seq = u64::try_from(row.seq).map_err(|_| StoreError::corrupt("line seq"))?;
    let e2e = end_to_end_id(u64::try_from(batch.batch_no).unwrap_or(0), seq);
    let pan =
        card.pan.as_ref().ok_or_else(|| DomainError::refused("no_financial_account", "the card has no account"))?;
    row.outcome = Some(LineOutcome::Paid);
    row.card_no = Some(card.card_no.to_string());
    row.bank_code = Some(card.bank_code.to_string());
    row.account_no = Some(pan.as_str().to_string());
    row.end_to_end_id = Some(e2e.clone());
    let leg = Leg {
        from: payer.clone(),
        to: bank(card.card_no.as_str())?,
        amount: Fen::new(row.amount_fen),
        kind: TransferKind::Benefit,
        key: transfer_key(&e2e),
    };
    let payment = PaymentRow {
        end_to_end_id: e2e,
        payer_code: batch.payer_code.clone(),
        program_code: batch.program_code.clone(),
        period: batch.period.clone(),
        person_id: person.id.clone(),
        batch_no: batch.batch_no,
        seq: row.seq,
        amount_fen: row.amount_fen,
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
    mut decided: Vec<Decided>,
) -> Result<()> {
    let (transfers, credits, payments) = plan_chunk(tx, ctx, batch, &mut decided).await?;
    // The mirrors first: the transfers name them.
    tx.credit_bank_accounts(&credits.credits, ctx.now_ms).await?;
    let writes = Writes { balances: credits.others, transfers, now_ms: ctx.now_ms, ..Writes::default() };
    tx.write_all(&writes).await?;
    tx.insert_payments(&payments).await.map_err(|e| match e {
        StoreError::Duplicate { .. } => {
            StoreError::Backend("a payment for the same person, program and period was written meanwhile".into())
        }
        other => other,
    })?;
    let rows: Vec<LineRow> = decided.iter().map(|d| d.row.clone()).collect();
    tx.decide_lines(&rows).await?;
    for (_, _, person) in decided.iter().filter_map(|d| d.paid.as_ref()) {
        if marks_retired(program.kind) && !person.pension_recorded {
            tx.set_pension_recorded(&person.id).await?;
        }
    }
    let first_seq = rows.first().map_or(batch.done_through, |r| r.seq);
    batch.done_through = rows.last().map_or(batch.done_through, |r| r.seq);
    batch.updated_at_ms = ctx.now_ms;
    if !payments.is_empty() {
        tx.append_records(&[chunk_record(ctx, batch, first_seq, &payments)]).await?;
    }
    tx.update_batch(batch).await
}

/// The balance changes of a chunk: the mirrors credited, and the rest (the payer's account).
struct Credits {
    credits: Vec<BalanceChange>,
    others: Vec<BalanceChange>,
}

/// Posts the chunk's paid lines against the payer's account and the payees' mirrors: the
/// transfers, the balance changes and the payments.
async fn plan_chunk(
    tx: &mut (impl Ledger + ?Sized),
    ctx: &Ctx,
    batch: &BatchRow,
    decided: &mut [Decided],
) -> Result<(Vec<TransferRow>, Credits, Vec<PaymentRow>)> {
    // The payer's account may go negative (it is decided on nothing) and the mirrors are only
    // credited: no row is locked and read before, the changes are added in the writes.
    let mut balances = lock_accounts(tx, ctx, &[(org(AccountKind::Payer, &batch.payer_code)?, None)]).await?;
    let mut owners: HashMap<String, String> = HashMap::new();
    for (leg, payment, _) in decided.iter().filter_map(|d| d.paid.as_ref()) {
        balances.insert(leg.to.clone(), 0);
        owners.insert(leg.to.to_string(), payment.person_id.clone());
    }
    let start = balances.clone();
    let mut transfers: Vec<TransferRow> = Vec::new();
    let mut payments = Vec::new();
    for d in decided.iter_mut() {
        let Some((leg, payment, _)) = d.paid.as_mut() else { continue };
        let posted = plan_legs(ctx, &mut balances, std::slice::from_ref(leg), &payment.end_to_end_id)?;
        d.row.transfer_id = posted.first().map(|t| t.id.clone());
        payment.paid_at_ms = ctx.now_ms;
        payments.push(payment.clone());
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
    Ok((transfers, Credits { credits, others }, payments))
}

/// One event and one audit record for a chunk's payments (not one per line: a million-line
/// batch would write two million records). The event lists each payment (its EndToEndId,
/// person, amount and bank; the account stays only in the sealed payment row); the audit
/// record says which lines were paid and how much, the payments being in `benefit_payments`.
fn chunk_record(ctx: &Ctx, batch: &BatchRow, first_seq: i64, payments: &[PaymentRow]) -> (NewEvent, NewAudit) {
    let total: i64 = payments.iter().map(|p| p.amount_fen).sum();
    let subject = Subject { entity: "benefit_batch", entity_id: &batch.batch_id, person_id: "", region: String::new() };
    let summary = json!({
        "batch_no": batch.batch_no, "payer": batch.payer_code, "program": batch.program_code,
        "period": batch.period, "from_seq": first_seq, "through_seq": batch.done_through,
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
