//! The banks' side of a benefit batch: the credit file each bank receives (ISO 20022 pain.001
//! or CSV, written by `sscard_iso20022` while the paid lines are read page by page, so a
//! million lines need no big buffer), the banks' reports applied to the lines (`report`), and
//! the reconciliation per bank: declared = paid + refused + returned, in lines and fen.

pub mod report;

use super::Ctx;
use crate::benefits::pay;
use serde::Serialize;
use sscard_domain::bank_report::{Bucket, bucket};
use sscard_domain::benefits as rules;
use sscard_domain::clock::china_date;
use sscard_domain::error::DomainError;
use sscard_domain::money::Fen;
use sscard_iso20022::pain001::{CreditTransfer, DebtorAgent, Pain001Header, Pain001Writer, WriteError};
use sscard_iso20022::text::{AccountId, Id35, Name140};
use sscard_iso20022::{CreditCsvWriter, TextError};
use sscard_store::bank_returns::BankTotal;
use sscard_store::benefits::BatchRow;
use sscard_store::tx::Store;
use sscard_store::{Result, StoreError};
use std::io::Write;
use time::OffsetDateTime;

/// Lines read per page while a file is written.
const PAGE_LINES: u32 = 5_000;

/// The two forms of a bank's credit file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// ISO 20022 `pain.001.001.09`.
    Pain001,
    /// `end_to_end_id,creditor_name,creditor_account,amount,currency`.
    Csv,
}

/// A finished batch and the banks its paid lines went to, with their lines and fen.
#[derive(Debug, Clone)]
pub struct BankFiles {
    pub batch: BatchRow,
    pub payer_name: String,
    pub banks: Vec<BankTotal>,
}

/// The batch's banks, for its payer's staff and the card office. A batch still being paid has
/// no files yet (409 `batch_not_done`).
pub async fn bank_files(store: &dyn Store, ctx: &Ctx, payer: &str, batch_id: &str) -> Result<BankFiles> {
    let batch = pay::find_batch(store, ctx, payer, batch_id).await?;
    if batch.status != rules::BatchStatus::Done {
        return Err(DomainError::conflict(
            "batch_not_done",
            "the batch is still being paid: its bank files come when it is done",
            Some(batch.status.to_string()),
        )
        .into());
    }
    let mut tx = store.read().await?;
    let banks = tx.bank_totals(batch.batch_no).await?;
    let payer_row = tx.get_payer(&batch.payer_code).await?;
    tx.commit().await?;
    let payer_name = payer_row.map_or_else(|| batch.payer_code.clone(), |p| p.name);
    Ok(BankFiles { batch, payer_name, banks })
}

fn text_err(e: TextError) -> StoreError {
    StoreError::Backend(format!("a bank file field does not fit ISO 20022: {e}"))
}

fn write_err(e: WriteError) -> StoreError {
    match e {
        WriteError::Io(io) => StoreError::Backend(format!("writing the bank file failed: {io}")),
        other => StoreError::Backend(format!("the bank file cannot be written: {other}")),
    }
}

/// The header of the pain.001 for one bank: ids from the batch number and the bank, the time
/// the batch finished (so the same file comes out every time), the payer as debtor.
async fn header(store: &dyn Store, files: &BankFiles, total: &BankTotal) -> Result<Pain001Header> {
    let mut tx = store.read().await?;
    let bank = tx.get_bank(&total.bank_code).await?;
    tx.commit().await?;
    let bank_name = bank.map_or_else(|| total.bank_code.clone(), |b| b.name);
    let b = &files.batch;
    let id = format!("SSB{}-{}", b.batch_no, total.bank_code);
    let at_ms = b.finished_at_ms.unwrap_or(b.updated_at_ms);
    let created_at = OffsetDateTime::from_unix_timestamp(at_ms.div_euclid(1000))
        .map_err(|e| StoreError::corrupt(format!("batch time: {e}")))?
        .to_offset(time::UtcOffset::from_hms(8, 0, 0).map_err(|e| StoreError::corrupt(e.to_string()))?);
    Ok(Pain001Header {
        msg_id: Id35::new(&id, "MsgId").map_err(text_err)?,
        created_at,
        initiating_party: Name140::new(&files.payer_name, "InitgPty/Nm").map_err(text_err)?,
        payment_info_id: Id35::new(&id, "PmtInfId").map_err(text_err)?,
        execution_date: china_date(at_ms),
        debtor_name: Name140::new(&files.payer_name, "Dbtr/Nm").map_err(text_err)?,
        debtor_account: AccountId::new(&format!("payer:{}", b.payer_code), "DbtrAcct").map_err(text_err)?,
        debtor_agent: DebtorAgent {
            name: Name140::new(&bank_name, "DbtrAgt/Nm").map_err(text_err)?,
            code: Id35::new(&total.bank_code, "DbtrAgt/Othr/Id").map_err(text_err)?,
        },
        transactions: u64::try_from(total.lines).map_err(|_| StoreError::corrupt("bank lines"))?,
        control_sum: Fen::new(total.total_fen),
    })
}

/// One sink, whichever form.
enum Sink<W: Write> {
    Xml(Pain001Writer<W>),
    Csv(Box<CreditCsvWriter<W>>),
}

/// Writes the credit file of one bank of the batch to `out`, reading its paid lines page by
/// page; returns `out` once the file is complete. A bank the batch paid nothing to is 404.
pub async fn write_bank_file<W: Write + Send>(
    store: &dyn Store,
    files: &BankFiles,
    bank_code: &str,
    format: FileFormat,
    out: W,
) -> Result<W> {
    let total = files
        .banks
        .iter()
        .find(|t| t.bank_code == bank_code)
        .ok_or_else(|| StoreError::not_found("bank file", bank_code))?;
    let mut sink = match format {
        FileFormat::Pain001 => {
            Sink::Xml(Pain001Writer::start(out, &header(store, files, total).await?).map_err(write_err)?)
        }
        FileFormat::Csv => Sink::Csv(Box::new(CreditCsvWriter::start(out).map_err(write_err)?)),
    };
    let mut after = 0;
    loop {
        let mut tx = store.read().await?;
        let page = tx.bank_credits(files.batch.batch_no, Some(bank_code), after, PAGE_LINES).await?;
        tx.commit().await?;
        for c in &page {
            let credit = CreditTransfer {
                end_to_end_id: &c.end_to_end_id,
                amount: Fen::new(c.amount_fen),
                creditor_name: &c.name,
                creditor_account: &c.account_no,
            };
            sink.push(&credit)?;
        }
        match page.last() {
            Some(last) if page.len() == PAGE_LINES as usize => after = last.seq,
            _ => break,
        }
    }
    sink.finish()
}

/// Writes every bank's credit files of the batch in one pass over its paid lines: for each
/// bank of `files.banks`, its pain.001 and its CSV into the writers `open` gives for (bank
/// code, form); each line is read, and its name and account opened, once for all of them.
/// Returns the finished writers, each with its bank and form, in `files.banks` order.
pub async fn write_all_bank_files<W: Write + Send>(
    store: &dyn Store,
    files: &BankFiles,
    mut open: impl FnMut(&str, FileFormat) -> std::io::Result<W> + Send,
) -> Result<Vec<(String, FileFormat, W)>> {
    let io = |e: std::io::Error| StoreError::Backend(format!("cannot create a bank file: {e}"));
    let mut sinks: Vec<(Sink<W>, Sink<W>)> = Vec::with_capacity(files.banks.len());
    for total in &files.banks {
        let xml = open(&total.bank_code, FileFormat::Pain001).map_err(io)?;
        let xml = Pain001Writer::start(xml, &header(store, files, total).await?).map_err(write_err)?;
        let csv = open(&total.bank_code, FileFormat::Csv).map_err(io)?;
        let csv = CreditCsvWriter::start(csv).map_err(write_err)?;
        sinks.push((Sink::Xml(xml), Sink::Csv(Box::new(csv))));
    }
    let bank_of: std::collections::HashMap<&str, usize> =
        files.banks.iter().enumerate().map(|(i, t)| (t.bank_code.as_str(), i)).collect();
    let batch_no = files.batch.batch_no;
    let mut next = Some(read_page(store, batch_no, 0).await?);
    while let Some(reading) = next.take() {
        let page =
            reading.await.map_err(|e| StoreError::Backend(format!("reading a bank file's page stopped: {e}")))??;
        // The next page is read (its names and accounts opened) while this one is written.
        if let Some(last) = page.last().filter(|_| page.len() == PAGE_LINES as usize) {
            next = Some(read_page(store, batch_no, last.seq).await?);
        }
        for c in &page {
            let i = *bank_of.get(c.bank_code.as_str()).ok_or_else(|| StoreError::corrupt("a paid line's bank"))?;
            let credit = CreditTransfer {
                end_to_end_id: &c.end_to_end_id,
                amount: Fen::new(c.amount_fen),
                creditor_name: &c.name,
                creditor_account: &c.account_no,
            };
            let (xml, csv) = &mut sinks[i];
            xml.push(&credit)?;
            csv.push(&credit)?;
        }
    }
    let mut out = Vec::with_capacity(sinks.len() * 2);
    for (total, (xml, csv)) in files.banks.iter().zip(sinks) {
        out.push((total.bank_code.clone(), FileFormat::Pain001, xml.finish()?));
        out.push((total.bank_code.clone(), FileFormat::Csv, csv.finish()?));
    }
    Ok(out)
}

/// A page of the batch's paid lines after `after`, read in a task of its own.
async fn read_page(
    store: &dyn Store,
    batch_no: i64,
    after: i64,
) -> Result<tokio::task::JoinHandle<Result<Vec<sscard_store::bank_returns::CreditRow>>>> {
    let mut tx = store.read().await?;
    Ok(tokio::spawn(async move {
        let page = tx.bank_credits(batch_no, None, after, PAGE_LINES).await?;
        tx.commit().await?;
        Ok(page)
    }))
}

impl<W: Write> Sink<W> {
    fn push(&mut self, credit: &CreditTransfer<'_>) -> Result<()> {
        match self {
            Sink::Xml(w) => w.push(credit),
            Sink::Csv(w) => w.push(credit),
        }
        .map_err(write_err)
    }
    fn finish(self) -> Result<W> {
        match self {
            Sink::Xml(w) => w.finish(),
            Sink::Csv(w) => (*w).finish(),
        }
        .map_err(write_err)
    }
}

/// Lines and fen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Count {
    pub lines: i64,
    pub fen: i64,
}

impl Count {
    fn add(&mut self, lines: i64, fen: i64) {
        self.lines += lines;
        self.fen += fen;
    }
}

/// One bank's reconciliation (`bank_code` null: lines refused before any bank was chosen).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BankRecon {
    pub bank_code: Option<String>,
    pub declared: Count,
    pub paid: Count,
    /// Of the paid, those the bank confirmed (ACSC).
    pub credited: Count,
    pub refused: Count,
    pub returned: Count,
    pub undecided: Count,
    /// declared = paid + refused + returned + undecided, in lines and in fen.
    pub balanced: bool,
}

/// A batch's reconciliation per bank and in total.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reconciliation {
    pub batch_id: String,
    pub payer: String,
    pub status: rules::BatchStatus,
    pub declared_lines: i64,
    pub declared_total_fen: i64,
    pub banks: Vec<BankRecon>,
    pub total: BankRecon,
}

fn recon_of(bank_code: Option<String>) -> BankRecon {
    BankRecon {
        bank_code,
        declared: Count::default(),
        paid: Count::default(),
        credited: Count::default(),
        refused: Count::default(),
        returned: Count::default(),
        undecided: Count::default(),
        balanced: false,
    }
}

fn settle(r: &mut BankRecon) {
    let sum = |f: fn(&Count) -> i64| f(&r.paid) + f(&r.refused) + f(&r.returned) + f(&r.undecided);
    r.balanced = r.declared.lines == sum(|c| c.lines) && r.declared.fen == sum(|c| c.fen);
}

/// Per bank, declared = paid + refused + returned, in lines and fen (its payer's staff, the
/// card office); the total also against the batch's envelope.
pub async fn reconciliation(store: &dyn Store, ctx: &Ctx, payer: &str, batch_id: &str) -> Result<Reconciliation> {
    let batch = pay::find_batch(store, ctx, payer, batch_id).await?;
    let mut tx = store.read().await?;
    let rows = tx.reconciliation(batch.batch_no).await?;
    tx.commit().await?;
    let mut banks: Vec<BankRecon> = Vec::new();
    let mut total = recon_of(None);
    for r in rows {
        let i = match banks.iter().position(|b| b.bank_code == r.bank_code) {
            Some(i) => i,
            None => {
                banks.push(recon_of(r.bank_code.clone()));
                banks.len() - 1
            }
        };
        for b in [&mut banks[i], &mut total] {
            b.declared.add(r.lines, r.total_fen);
            match bucket(r.outcome, r.bank_status) {
                Bucket::Paid => b.paid.add(r.lines, r.total_fen),
                Bucket::Refused => b.refused.add(r.lines, r.total_fen),
                Bucket::Returned => b.returned.add(r.lines, r.total_fen),
                Bucket::Undecided => b.undecided.add(r.lines, r.total_fen),
            }
            if r.bank_status == Some(sscard_domain::bank_report::BankStatus::Credited) {
                b.credited.add(r.lines, r.total_fen);
            }
        }
    }
    banks.sort_by(|a, b| a.bank_code.cmp(&b.bank_code));
    banks.iter_mut().for_each(settle);
    settle(&mut total);
    total.balanced &= total.declared.lines == batch.declared_lines && total.declared.fen == batch.declared_total_fen;
    Ok(Reconciliation {
        batch_id: batch.batch_id,
        payer: batch.payer_code,
        status: batch.status,
        declared_lines: batch.declared_lines,
        declared_total_fen: batch.declared_total_fen,
        banks,
        total,
    })
}

/// What the bank answered about a paid line: its status and, for a return, its reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BankAnswer {
    pub status: sscard_domain::bank_report::BankStatus,
    pub reason: Option<String>,
}

/// The banks' answers about the paid lines among `lines`, by end-to-end id; lines the bank has
/// not answered yet are left out. Read in pages of the port's limit (1,000 ids).
pub async fn bank_answers(
    store: &dyn Store,
    lines: &[sscard_store::benefits::LineRow],
) -> Result<std::collections::HashMap<String, BankAnswer>> {
    let ids: Vec<String> = lines.iter().filter_map(|l| l.end_to_end_id.clone()).collect();
    let mut out = std::collections::HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let mut tx = store.read().await?;
    for page in ids.chunks(1_000) {
        for s in tx.payment_states(page).await? {
            if let Some(status) = s.bank_status {
                out.insert(s.end_to_end_id, BankAnswer { status, reason: s.bank_reason });
            }
        }
    }
    tx.commit().await?;
    Ok(out)
}
