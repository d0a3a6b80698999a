//! The read of a chunk of benefit lines to pay (see [`ports::Benefits::lines_to_pay`]): each
//! line joined to the person its SSN's blind index finds and to that person's cards (a row per
//! card), with whether the payer already paid them for the program and period (the `paid`
//! partial index, led by the person) and, when asked, their newest certification.
//!
//! The chunk comes back as JSON arrays of a hundred lines each ([`json_rows`]), not as a row
//! per line and card: the driver's per-row path cost about four times what SQLite spent on the join
//! itself (measured: 80–100 ms against 22 ms for 5,000 lines). The rows are put in line and
//! card order here.

use super::json_rows;
use super::tx::SqlTx;
use crate::vault::Vault;
use crate::{Db, Dialect};
use serde::Deserialize;
use sqlx::AssertSqlSafe;
use sscard_domain::benefits::PayeeCard;
use sscard_domain::card::{CancelReason, CardStatus};
use sscard_domain::ids::{BankCode, CardNo, Pan};
use sscard_store::benefits::{BatchRow, LineToPay, Payee};
use sscard_store::{Result, StoreError};
use std::sync::OnceLock;

/// The columns of a chunk's row, in the order of [`ChunkRow`]'s fields.
const COLUMNS: &str = "l_seq, l_line_id, l_name, l_amount_fen, p_id, p_name, p_pension_recorded, p_paid, \
     p_certified_at_ms, card_no, status, temporary, bank_code, pan, produced_at_ms, cancel_reason";

/// One row of the join: a line, its person (when the SSN names one) and one of their cards.
/// Read from a JSON array: serde fills the fields in their order, that of [`COLUMNS`].
#[derive(Debug, Deserialize)]
struct ChunkRow {
    seq: i64,
    line_id: String,
    name: String,
    amount_fen: i64,
    person_id: Option<String>,
    person_name: Option<String>,
    pension_recorded: Option<i64>,
    paid: Option<i64>,
    certified_at_ms: Option<i64>,
    card_no: Option<String>,
    status: Option<String>,
    temporary: Option<i64>,
    bank_code: Option<String>,
    pan: Option<String>,
    produced_at_ms: Option<i64>,
    cancel_reason: Option<String>,
}

/// The joined rows of a chunk. `$1` batch, `$2`..`$3` the sequence range, `$4`..`$6` payer,
/// program and period. The payment already made is a left join on the unique `paid` index (at
/// most one row a person), not an `EXISTS`: with statistics older than the batch, PostgreSQL
/// turned the `EXISTS` into a hashed subplan that read every payment of the period once per
/// chunk (measured: 97 of 282 ms at 145,000 payments, growing with each chunk) where the join
/// probes the index once a line (0.002 ms).
fn inner_sql(certifications: bool) -> String {
    let certified = if certifications {
        "(SELECT CAST(MAX(k.at_ms) AS BIGINT) FROM benefit_certifications k WHERE k.person_id = p.id)"
    } else {
        "CAST(NULL AS BIGINT)"
    };
    format!(
        "SELECT l.seq AS l_seq, l.line_id AS l_line_id, l.name AS l_name, l.amount_fen AS l_amount_fen, \
         p.id AS p_id, p.name AS p_name, p.pension_recorded AS p_pension_recorded, \
         CAST(CASE WHEN b.person_id IS NULL THEN 0 ELSE 1 END AS BIGINT) AS p_paid, \
         {certified} AS p_certified_at_ms, \
         c.card_no, c.status, c.temporary, c.bank_code, c.pan, c.produced_at_ms, c.cancel_reason \
         FROM benefit_lines l LEFT JOIN persons p ON p.ssn_index = l.ssn_index \
         LEFT JOIN benefit_payments b ON b.person_id = p.id AND b.payer_code = $4 AND b.program_code = $5 \
         AND b.period = $6 AND b.status = 'paid' \
         LEFT JOIN cards c ON c.person_id = p.id \
         WHERE l.batch_no = $1 AND l.seq > $2 AND l.seq <= $3"
    )
}

/// The statement that returns the chunk as JSON arrays of rows, a hundred lines each (see
/// [`json_rows`]).
fn chunk_sql(dialect: Dialect, certifications: bool) -> &'static str {
    static SQL: [OnceLock<String>; 4] = [OnceLock::new(), OnceLock::new(), OnceLock::new(), OnceLock::new()];
    let slot = usize::from(certifications) + 2 * usize::from(dialect == Dialect::Postgres);
    SQL[slot].get_or_init(|| json_rows::wrap(dialect, COLUMNS, &inner_sql(certifications), "j.l_seq / 100"))
}

fn corrupt(col: &str, v: &str) -> StoreError {
    StoreError::corrupt(format!("benefit chunk {col}: {v}"))
}

/// What the rules look at of a card (see [`PayeeCard`]), its account opened.
fn payee_card(row: &ChunkRow, card_no: &str, vault: &Vault) -> Result<PayeeCard> {
    let pan = vault.open_opt("cards.pan", &[card_no], row.pan.clone())?;
    let status = row.status.as_deref().unwrap_or_default();
    Ok(PayeeCard {
        pan: pan.map(|p| Pan::parse(&p)).transpose().map_err(|_| corrupt("pan", card_no))?,
        card_no: CardNo::parse(card_no).map_err(|_| corrupt("card_no", card_no))?,
        status: CardStatus::parse(status).ok_or_else(|| corrupt("status", status))?,
        temporary: row.temporary.ok_or_else(|| corrupt("temporary", card_no))? != 0,
        bank_code: BankCode::parse(row.bank_code.as_deref().unwrap_or_default())
            .map_err(|_| corrupt("bank_code", card_no))?,
        produced_at_ms: row.produced_at_ms.ok_or_else(|| corrupt("produced_at_ms", card_no))?,
        cancel_reason: row
            .cancel_reason
            .as_deref()
            .map(|r| CancelReason::parse(r).ok_or_else(|| corrupt("cancel_reason", r)))
            .transpose()?,
    })
}

/// The first row of a line: the line and its payee, without cards yet.
fn line_to_pay(row: &mut ChunkRow, batch_no: i64, vault: &Vault) -> Result<LineToPay> {
    let seq = row.seq;
    let key = super::benefits::line_key(batch_no, seq);
    let key = [key[0].as_str(), key[1].as_str()];
    let payee = match row.person_id.take() {
        None => None,
        Some(person_id) => Some(Payee {
            name: vault.open("persons.name", &[&person_id], row.person_name.as_deref().unwrap_or_default())?,
            person_id,
            pension_recorded: row.pension_recorded.unwrap_or(0) != 0,
            cards: Vec::new(),
            already_paid: row.paid.unwrap_or(0) != 0,
            certified_at_ms: row.certified_at_ms,
        }),
    };
    Ok(LineToPay {
        seq,
        line_id: std::mem::take(&mut row.line_id),
        name: vault.open("benefit_lines.name", &key, &row.name)?,
        amount_fen: row.amount_fen,
        payee,
    })
}

/// The lines of a chunk's rows, in line and card order (consecutive rows of one line carry its
/// cards), opening the line's and the person's names and the cards' PANs, nothing else.
fn lines_of_rows(mut rows: Vec<ChunkRow>, batch_no: i64, vault: &Vault) -> Result<Vec<LineToPay>> {
    rows.sort_unstable_by(|a, b| (a.seq, &a.card_no).cmp(&(b.seq, &b.card_no)));
    let mut out: Vec<LineToPay> = Vec::new();
    for mut row in rows {
        if out.last().is_none_or(|l| l.seq != row.seq) {
            out.push(line_to_pay(&mut row, batch_no, vault)?);
        }
        if let Some(card_no) = row.card_no.as_deref()
            && let Some(payee) = out.last_mut().and_then(|l| l.payee.as_mut())
        {
            payee.cards.push(payee_card(&row, card_no, vault)?);
        }
    }
    Ok(out)
}

impl SqlTx {
    /// The lines of `batch` with `after` < seq <= `through` (`seqs`) with their payees (the
    /// SSN blind index of every line already filled).
    pub(crate) async fn read_lines_to_pay(
        &mut self,
        batch: &BatchRow,
        seqs: (i64, i64),
        certifications: bool,
    ) -> Result<Vec<LineToPay>> {
        let (after_seq, through_seq) = seqs;
        let sql = chunk_sql(self.dialect(), certifications);
        let pieces: Vec<String> = sqlx::query_scalar(AssertSqlSafe(sql))
            .persistent(true)
            .bind(batch.batch_no)
            .bind(after_seq)
            .bind(through_seq)
            .bind(batch.payer_code.as_str())
            .bind(batch.program_code.as_str())
            .bind(batch.period.as_str())
            .fetch_all(self.conn())
            .await
            .db()?;
        lines_of_rows(json_rows::parse("benefit chunk", pieces)?, batch.batch_no, self.vault())
    }
}
