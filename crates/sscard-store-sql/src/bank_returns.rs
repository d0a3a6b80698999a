//! The SQL of the banks' side of benefits (the [`ports::BankReturns`] port): the paid lines a
//! bank's credit file lists, the banks' answers (`benefit_bank_statuses`, migration 0013), the
//! payments a return frees for a later batch, and the reconciliation counts. Same text on SQLite
//! and PostgreSQL.

use super::bulk::{Section, V};
use super::rows::{int, opt_text, text};
use super::tx::SqlTx;
use crate::Db;
use crate::vault::Vault;
use async_trait::async_trait;
use sqlx::AssertSqlSafe;
use sqlx::any::AnyRow;
use sscard_domain::bank_report::BankStatus;
use sscard_domain::benefits::LineOutcome;
use sscard_store::bank_returns::{BankStatusRow, BankTotal, CreditRow, PaymentState, ReconRow};
use sscard_store::ports;
use sscard_store::{Result, StoreError};

/// Most ids in one `IN (...)`.
const MAX_IDS: usize = 1_000;

fn corrupt(col: &str, v: &str) -> StoreError {
    StoreError::corrupt(format!("column {col} holds {v:?}"))
}

fn opt_enum<T>(row: &AnyRow, col: &str, parse: impl FnOnce(&str) -> Option<T>) -> Result<Option<T>> {
    match opt_text(row, col)? {
        None => Ok(None),
        Some(t) => parse(&t).map(Some).ok_or_else(|| corrupt(col, &t)),
    }
}

/// `$first, ..., $(first + n - 1)`.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// The columns of a credit line read, in the order of [`CreditTuple`]'s fields.
const CREDIT_COLS: &str = "seq, line_id, end_to_end_id, name, bank_code, account_no, amount_fen";

/// A paid line as read: seq, line id, EndToEndId, sealed name, bank, sealed account, amount.
type CreditTuple = (i64, String, String, String, String, String, i64);

/// A paid line of batch `batch_no`, its name and account opened (sealed at rest, 0014).
fn credit(row: CreditTuple, batch_no: i64, vault: &Vault) -> Result<CreditRow> {
    let (seq, line_id, end_to_end_id, name, bank_code, account_no, amount_fen) = row;
    let key = super::benefits::line_key(batch_no, seq);
    let key = [key[0].as_str(), key[1].as_str()];
    Ok(CreditRow {
        seq,
        line_id,
        end_to_end_id,
        name: vault.open("benefit_lines.name", &key, &name)?,
        bank_code,
        account_no: vault.open("benefit_lines.account_no", &key, &account_no)?,
        amount_fen,
    })
}

fn state(row: &AnyRow) -> Result<PaymentState> {
    Ok(PaymentState {
        end_to_end_id: text(row, "end_to_end_id")?,
        payer_code: text(row, "payer_code")?,
        person_id: text(row, "person_id")?,
        batch_no: int(row, "batch_no")?,
        card_no: text(row, "card_no")?,
        bank_code: text(row, "bank_code")?,
        amount_fen: int(row, "amount_fen")?,
        status: text(row, "status")?,
        bank_status: opt_enum(row, "bank_status", BankStatus::parse)?,
        bank_reason: opt_text(row, "bank_reason")?,
    })
}

fn recon(row: &AnyRow) -> Result<ReconRow> {
    Ok(ReconRow {
        bank_code: opt_text(row, "bank_code")?,
        outcome: opt_enum(row, "outcome", LineOutcome::parse)?,
        bank_status: opt_enum(row, "bank_status", BankStatus::parse)?,
        lines: int(row, "n")?,
        total_fen: int(row, "total")?,
    })
}

#[async_trait]
impl ports::BankReturns for SqlTx {
    async fn bank_credits(
        &mut self,
        batch_no: i64,
        bank_code: Option<&str>,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<CreditRow>> {
        let bank = if bank_code.is_some() { " AND bank_code = $4" } else { "" };
        // A page comes back as JSON arrays of a hundred lines (`json_rows`): bank files read
        // every paid line.
        let inner = format!(
            "SELECT {CREDIT_COLS} FROM benefit_lines \
             WHERE batch_no = $1 AND outcome = 'paid' AND seq > $2{bank} ORDER BY seq LIMIT $3"
        );
        let sql = super::json_rows::wrap(self.dialect(), CREDIT_COLS, &inner, "j.seq / 100");
        let mut q = sqlx::query_scalar(AssertSqlSafe(sql))
            .bind(batch_no)
            .bind(after_seq)
            .bind(i64::from(limit.clamp(1, 10_000)));
        if let Some(b) = bank_code {
            q = q.bind(b);
        }
        let page: Vec<String> = q.fetch_all(self.conn()).await.db()?;
        let mut rows: Vec<CreditTuple> = super::json_rows::parse("credit", page)?;
        rows.sort_unstable_by_key(|r| r.0);
        let vault = self.vault();
        rows.into_iter().map(|r| credit(r, batch_no, vault)).collect()
    }

    async fn bank_totals(&mut self, batch_no: i64) -> Result<Vec<BankTotal>> {
        let rows = sqlx::query(
            "SELECT bank_code, CAST(COUNT(*) AS BIGINT) AS n, CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) AS total \
             FROM benefit_lines WHERE batch_no = $1 AND outcome = 'paid' GROUP BY bank_code ORDER BY bank_code",
        )
        .bind(batch_no)
        .fetch_all(self.conn())
        .await
        .db()?;
        rows.iter()
            .map(|r| {
                Ok(BankTotal { bank_code: text(r, "bank_code")?, lines: int(r, "n")?, total_fen: int(r, "total")? })
            })
            .collect()
    }

    async fn payment_states(&mut self, ids: &[String]) -> Result<Vec<PaymentState>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        if ids.len() > MAX_IDS {
            return Err(StoreError::Backend(format!("at most {MAX_IDS} payments at once")));
        }
        let sql = format!(
            "SELECT p.end_to_end_id, p.payer_code, p.person_id, p.batch_no, p.card_no, p.bank_code, p.amount_fen, \
             p.status, s.status AS bank_status, s.reason AS bank_reason FROM benefit_payments p \
             LEFT JOIN benefit_bank_statuses s ON s.end_to_end_id = p.end_to_end_id \
             WHERE p.end_to_end_id IN ({})",
            placeholders(1, ids.len())
        );
        let mut q = sqlx::query(AssertSqlSafe(sql)).persistent(false);
        for id in ids {
            q = q.bind(id.as_str());
        }
        let rows = q.fetch_all(self.conn()).await.db()?;
        rows.iter().map(state).collect()
    }

    async fn insert_bank_statuses(&mut self, rows: &[BankStatusRow]) -> Result<()> {
        let mut s = Section::new(
            "INSERT INTO benefit_bank_statuses (end_to_end_id, batch_no, bank_code, status, status_code, reason, \
             reversal_transfer_id, report_msg_id, reported_by, reported_at_ms)",
            10,
            "",
            "bank status",
        );
        for r in rows {
            s.row([
                V::Text(&r.end_to_end_id),
                V::Int(r.batch_no),
                V::Text(&r.bank_code),
                V::Text(r.status.as_str()),
                V::Text(&r.status_code),
                V::OptText(r.reason.as_deref()),
                V::OptText(r.reversal_transfer_id.as_deref()),
                V::OptText(r.report_msg_id.as_deref()),
                V::Text(&r.reported_by),
                V::Int(r.reported_at_ms),
            ]);
        }
        let dialect = self.dialect();
        super::bulk::run(self.conn(), dialect, vec![s]).await
    }

    async fn mark_payments_returned(&mut self, ids: &[String]) -> Result<()> {
        for part in ids.chunks(MAX_IDS) {
            let sql = format!(
                "UPDATE benefit_payments SET status = 'returned' WHERE end_to_end_id IN ({})",
                placeholders(1, part.len())
            );
            let mut q = sqlx::query(AssertSqlSafe(sql)).persistent(false);
            for id in part {
                q = q.bind(id.as_str());
            }
            q.execute(self.conn()).await.db()?;
        }
        Ok(())
    }

    async fn reconciliation(&mut self, batch_no: i64) -> Result<Vec<ReconRow>> {
        let rows = sqlx::query(
            "SELECT l.bank_code, l.outcome, s.status AS bank_status, CAST(COUNT(*) AS BIGINT) AS n, \
             CAST(COALESCE(SUM(l.amount_fen), 0) AS BIGINT) AS total FROM benefit_lines l \
             LEFT JOIN benefit_bank_statuses s ON s.end_to_end_id = l.end_to_end_id \
             WHERE l.batch_no = $1 GROUP BY l.bank_code, l.outcome, s.status",
        )
        .bind(batch_no)
        .fetch_all(self.conn())
        .await
        .db()?;
        rows.iter().map(recon).collect()
    }
}
