//! The SQL of benefits (the [`ports::Benefits`] port): payers, programs, batches staged and
//! paid in chunks, payments, certifications. Same text on SQLite and PostgreSQL; the lines and
//! payments of a chunk go in multi-row inserts (`bulk`).

use super::bulk::{Section, V};
use super::rows::{int, opt_int, opt_text, text};
use super::tx::SqlTx;
use crate::Db;
use crate::vault::Vault;
use async_trait::async_trait;
use sqlx::AssertSqlSafe;
use sqlx::any::AnyRow;
use sscard_domain::benefits::{BatchStatus, LineOutcome, ProgramKind};
use sscard_store::benefits::*;
use sscard_store::onecard::BalanceChange;
use sscard_store::ports;
use sscard_store::{Result, StoreError};

const BATCH_COLS: &str = "batch_no, payer_code, batch_id, program_code, period, declared_lines, declared_total_fen, content_hash, status, received_lines, done_through, submitted_by, created_at_ms, updated_at_ms, finished_at_ms";
const LINE_COLS: &str = "batch_no, seq, line_id, ssn, name, amount_fen, outcome, person_id, card_no, bank_code, account_no, end_to_end_id, transfer_id, decided_at_ms";
const PAYMENT_COLS: &str = "end_to_end_id, payer_code, program_code, period, person_id, batch_no, seq, amount_fen, card_no, bank_code, account_no, status, paid_at_ms";

fn corrupt(col: &str, v: &str) -> StoreError {
    StoreError::corrupt(format!("column {col} holds {v:?}"))
}
fn named<T>(row: &AnyRow, col: &str, parse: impl FnOnce(&str) -> Option<T>) -> Result<T> {
    let t = text(row, col)?;
    parse(&t).ok_or_else(|| corrupt(col, &t))
}
fn dup(what: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |e| match crate::error::store_error(e) {
        StoreError::Duplicate { detail, .. } => StoreError::Duplicate { what, detail },
        other => other,
    }
}
/// Parameter `i` of a statement: `$i` on PostgreSQL, `?` on SQLite (the parameters bound in
/// order), as SQLite looks every `$n` up among the names before it, which is quadratic in a
/// list of a thousand.
fn param(dialect: crate::Dialect, i: usize) -> String {
    match dialect {
        crate::Dialect::Postgres => format!("${i}"),
        crate::Dialect::Sqlite => "?".to_string(),
    }
}
/// Parameters `first` to `first + n - 1` (see [`param`]).
fn placeholders(dialect: crate::Dialect, first: usize, n: usize) -> String {
    (first..first + n).map(|i| param(dialect, i)).collect::<Vec<_>>().join(", ")
}

fn payer(row: &AnyRow) -> Result<PayerRow> {
    Ok(PayerRow {
        code: text(row, "code")?,
        name: text(row, "name")?,
        region: text(row, "region")?,
        account_id: text(row, "account_id")?,
        created_at_ms: int(row, "created_at_ms")?,
    })
}
fn program(row: &AnyRow) -> Result<ProgramRow> {
    Ok(ProgramRow {
        code: text(row, "code")?,
        name: text(row, "name")?,
        kind: named(row, "kind", ProgramKind::parse)?,
        needs_certification: int(row, "needs_certification")? != 0,
        created_at_ms: int(row, "created_at_ms")?,
    })
}
fn batch(row: &AnyRow) -> Result<BatchRow> {
    Ok(BatchRow {
        batch_no: int(row, "batch_no")?,
        payer_code: text(row, "payer_code")?,
        batch_id: text(row, "batch_id")?,
        program_code: text(row, "program_code")?,
        period: text(row, "period")?,
        declared_lines: int(row, "declared_lines")?,
        declared_total_fen: int(row, "declared_total_fen")?,
        content_hash: text(row, "content_hash")?,
        status: named(row, "status", BatchStatus::parse)?,
        received_lines: int(row, "received_lines")?,
        done_through: int(row, "done_through")?,
        submitted_by: text(row, "submitted_by")?,
        created_at_ms: int(row, "created_at_ms")?,
        updated_at_ms: int(row, "updated_at_ms")?,
        finished_at_ms: opt_int(row, "finished_at_ms")?,
    })
}
fn outcome(row: &AnyRow, col: &str) -> Result<Option<LineOutcome>> {
    match opt_text(row, col)? {
        None => Ok(None),
        Some(t) => LineOutcome::parse(&t).map(Some).ok_or_else(|| corrupt(col, &t)),
    }
}
/// The associated-data row key of a benefit line (its batch and sequence number).
pub(crate) fn line_key(batch_no: i64, seq: i64) -> [String; 2] {
    [batch_no.to_string(), seq.to_string()]
}
fn line(row: &AnyRow, vault: &Vault) -> Result<LineRow> {
    let (batch_no, seq) = (int(row, "batch_no")?, int(row, "seq")?);
    let key = line_key(batch_no, seq);
    let key = [key[0].as_str(), key[1].as_str()];
    Ok(LineRow {
        batch_no,
        seq,
        line_id: text(row, "line_id")?,
        ssn: vault.open("benefit_lines.ssn", &key, &text(row, "ssn")?)?,
        name: vault.open("benefit_lines.name", &key, &text(row, "name")?)?,
        amount_fen: int(row, "amount_fen")?,
        outcome: outcome(row, "outcome")?,
        person_id: opt_text(row, "person_id")?,
        card_no: opt_text(row, "card_no")?,
        bank_code: opt_text(row, "bank_code")?,
        account_no: vault.open_opt("benefit_lines.account_no", &key, opt_text(row, "account_no")?)?,
        end_to_end_id: opt_text(row, "end_to_end_id")?,
        transfer_id: opt_text(row, "transfer_id")?,
        decided_at_ms: opt_int(row, "decided_at_ms")?,
    })
}
fn payment(row: &AnyRow, vault: &Vault) -> Result<PaymentRow> {
    let end_to_end_id = text(row, "end_to_end_id")?;
    let account_no = vault.open("benefit_payments.account_no", &[&end_to_end_id], &text(row, "account_no")?)?;
    Ok(PaymentRow {
        end_to_end_id,
        payer_code: text(row, "payer_code")?,
        program_code: text(row, "program_code")?,
        period: text(row, "period")?,
        person_id: text(row, "person_id")?,
        batch_no: int(row, "batch_no")?,
        seq: int(row, "seq")?,
        amount_fen: int(row, "amount_fen")?,
        card_no: text(row, "card_no")?,
        bank_code: text(row, "bank_code")?,
        account_no,
        status: text(row, "status")?,
        paid_at_ms: int(row, "paid_at_ms")?,
    })
}

impl SqlTx {
    /// Fills the SSN blind index of the lines of `batch_no` in `after_seq < seq <= through_seq`
    /// staged before the lines kept it (migration 0025): opens their SSN, indexes it.
    async fn index_staged_ssns(&mut self, batch_no: i64, after_seq: i64, through_seq: i64) -> Result<()> {
        let rows = sqlx::query(
            "SELECT seq, ssn FROM benefit_lines WHERE batch_no = $1 AND seq > $2 AND seq <= $3 AND ssn_index IS NULL",
        )
        .bind(batch_no)
        .bind(after_seq)
        .bind(through_seq)
        .fetch_all(self.conn())
        .await
        .db()?;
        if rows.is_empty() {
            return Ok(());
        }
        let mut s = Section::new(
            "UPDATE benefit_lines SET ssn_index = v.column3 FROM (",
            3,
            ") AS v WHERE benefit_lines.batch_no = v.column1 AND benefit_lines.seq = v.column2",
            "line",
        );
        let vault = self.vault();
        for r in &rows {
            let seq = int(r, "seq")?;
            let key = line_key(batch_no, seq);
            let ssn = vault.open("benefit_lines.ssn", &[&key[0], &key[1]], &text(r, "ssn")?)?;
            s.row([V::Int(batch_no), V::Int(seq), V::Owned(vault.ssn_index(&ssn))]);
        }
        let dialect = self.dialect();
        super::bulk::run(self.conn(), dialect, vec![s]).await
    }

    /// Adds the paid ones of `lines` to their batch's paid lines and fen, in the transaction
    /// that decides them (a chunk's lines are of one batch: one statement).
    async fn count_paid(&mut self, lines: &[LineDecision]) -> Result<()> {
        let mut per_batch: Vec<(i64, i64, i64)> = Vec::new();
        for l in lines.iter().filter(|l| l.outcome == LineOutcome::Paid) {
            match per_batch.iter_mut().find(|(b, _, _)| *b == l.batch_no) {
                Some((_, n, fen)) => {
                    *n += 1;
                    *fen += l.amount_fen;
                }
                None => per_batch.push((l.batch_no, 1, l.amount_fen)),
            }
        }
        for (batch_no, n, fen) in per_batch {
            sqlx::query(
                "UPDATE benefit_batches SET paid_lines = paid_lines + $2, paid_fen = paid_fen + $3 WHERE batch_no = $1",
            )
            .bind(batch_no)
            .bind(n)
            .bind(fen)
            .execute(self.conn())
            .await
            .db()?;
        }
        Ok(())
    }
}

#[async_trait]
impl ports::Benefits for SqlTx {
    async fn insert_payer(&mut self, p: &PayerRow) -> Result<()> {
        sqlx::query("INSERT INTO payers (code, name, region, account_id, created_at_ms) VALUES ($1, $2, $3, $4, $5)")
            .bind(p.code.as_str())
            .bind(p.name.as_str())
            .bind(p.region.as_str())
            .bind(p.account_id.as_str())
            .bind(p.created_at_ms)
            .execute(self.conn())
            .await
            .map_err(dup("payer"))?;
        Ok(())
    }

    async fn get_payer(&mut self, code: &str) -> Result<Option<PayerRow>> {
        let row = sqlx::query("SELECT code, name, region, account_id, created_at_ms FROM payers WHERE code = $1")
            .bind(code)
            .fetch_optional(self.conn())
            .await
            .db()?;
        row.as_ref().map(payer).transpose()
    }

    async fn insert_payer_staff(&mut self, username: &str, payer_code: &str) -> Result<()> {
        sqlx::query("INSERT INTO payer_staff (username, payer_code) VALUES ($1, $2)")
            .bind(username)
            .bind(payer_code)
            .execute(self.conn())
            .await
            .map_err(dup("payer staff"))?;
        Ok(())
    }

    async fn payer_of_user(&mut self, username: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT payer_code FROM payer_staff WHERE username = $1")
            .bind(username)
            .fetch_optional(self.conn())
            .await
            .db()?;
        row.as_ref().map(|r| text(r, "payer_code")).transpose()
    }

    async fn insert_program(&mut self, p: &ProgramRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO benefit_programs (code, name, kind, needs_certification, created_at_ms) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(p.code.as_str())
        .bind(p.name.as_str())
        .bind(p.kind.as_str())
        .bind(i64::from(p.needs_certification))
        .bind(p.created_at_ms)
        .execute(self.conn())
        .await
        .map_err(dup("program"))?;
        Ok(())
    }

    async fn get_program(&mut self, code: &str) -> Result<Option<ProgramRow>> {
        let row = sqlx::query(
            "SELECT code, name, kind, needs_certification, created_at_ms FROM benefit_programs WHERE code = $1",
        )
        .bind(code)
        .fetch_optional(self.conn())
        .await
        .db()?;
        row.as_ref().map(program).transpose()
    }

    async fn get_batch(&mut self, payer_code: &str, batch_id: &str, lock: bool) -> Result<Option<BatchRow>> {
        let lock = if lock { self.dialect().for_update() } else { "" };
        let sql = format!("SELECT {BATCH_COLS} FROM benefit_batches WHERE payer_code = $1 AND batch_id = $2{lock}");
        let row =
            sqlx::query(AssertSqlSafe(sql)).bind(payer_code).bind(batch_id).fetch_optional(self.conn()).await.db()?;
        row.as_ref().map(batch).transpose()
    }

    async fn get_batch_by_no(&mut self, batch_no: i64, lock: bool) -> Result<Option<BatchRow>> {
        let lock = if lock { self.dialect().for_update() } else { "" };
        let sql = format!("SELECT {BATCH_COLS} FROM benefit_batches WHERE batch_no = $1{lock}");
        let row = sqlx::query(AssertSqlSafe(sql)).bind(batch_no).fetch_optional(self.conn()).await.db()?;
        row.as_ref().map(batch).transpose()
    }

    async fn insert_batch(&mut self, b: &BatchRow) -> Result<()> {
        let sql = format!(
            "INSERT INTO benefit_batches ({BATCH_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(b.batch_no)
            .bind(b.payer_code.as_str())
            .bind(b.batch_id.as_str())
            .bind(b.program_code.as_str())
            .bind(b.period.as_str())
            .bind(b.declared_lines)
            .bind(b.declared_total_fen)
            .bind(b.content_hash.as_str())
            .bind(b.status.as_str())
            .bind(b.received_lines)
            .bind(b.done_through)
            .bind(b.submitted_by.as_str())
            .bind(b.created_at_ms)
            .bind(b.updated_at_ms)
            .bind(b.finished_at_ms)
            .execute(self.conn())
            .await
            .map_err(dup("batch"))?;
        Ok(())
    }

    async fn update_batch(&mut self, b: &BatchRow) -> Result<()> {
        sqlx::query(
            "UPDATE benefit_batches SET content_hash = $2, status = $3, received_lines = $4, done_through = $5, \
             updated_at_ms = $6, finished_at_ms = $7 WHERE batch_no = $1",
        )
        .bind(b.batch_no)
        .bind(b.content_hash.as_str())
        .bind(b.status.as_str())
        .bind(b.received_lines)
        .bind(b.done_through)
        .bind(b.updated_at_ms)
        .bind(b.finished_at_ms)
        .execute(self.conn())
        .await
        .db()?;
        Ok(())
    }

    async fn delete_batch(&mut self, batch_no: i64) -> Result<()> {
        for sql in ["DELETE FROM benefit_lines WHERE batch_no = $1", "DELETE FROM benefit_batches WHERE batch_no = $1"]
        {
            sqlx::query(sql).bind(batch_no).execute(self.conn()).await.db()?;
        }
        Ok(())
    }

    async fn batches_in_status(&mut self, status: BatchStatus, limit: u32) -> Result<Vec<BatchRow>> {
        let sql = format!("SELECT {BATCH_COLS} FROM benefit_batches WHERE status = $1 ORDER BY batch_no LIMIT $2");
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(status.as_str())
            .bind(i64::from(limit.clamp(1, 1000)))
            .fetch_all(self.conn())
            .await
            .db()?;
        rows.iter().map(batch).collect()
    }

    async fn list_batches(&mut self, payer_code: Option<&str>, limit: u32) -> Result<Vec<BatchRow>> {
        // One statement for both: no payer named matches every payer.
        let sql = format!(
            "SELECT {BATCH_COLS} FROM benefit_batches WHERE ($1 IS NULL OR payer_code = $1) \
             ORDER BY batch_no DESC LIMIT $2"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(payer_code)
            .bind(i64::from(limit.clamp(1, 1000)))
            .fetch_all(self.conn())
            .await
            .db()?;
        rows.iter().map(batch).collect()
    }

    async fn insert_lines(&mut self, lines: &[LineRow]) -> Result<()> {
        let mut s = Section::new(
            "INSERT INTO benefit_lines (batch_no, seq, line_id, ssn, name, amount_fen, key_version, ssn_index)",
            8,
            "",
            "line",
        );
        let vault = self.vault();
        let version = i64::from(vault.current());
        for l in lines {
            let key = line_key(l.batch_no, l.seq);
            let key = [key[0].as_str(), key[1].as_str()];
            s.row([
                V::Int(l.batch_no),
                V::Int(l.seq),
                V::Text(&l.line_id),
                V::Owned(vault.seal("benefit_lines.ssn", &key, &l.ssn)),
                V::Owned(vault.seal("benefit_lines.name", &key, &l.name)),
                V::Int(l.amount_fen),
                V::Int(version),
                // Kept so that paying the line finds its person without opening the SSN again.
                V::Owned(vault.ssn_index(&l.ssn)),
            ]);
        }
        let dialect = self.dialect();
        super::bulk::run(self.conn(), dialect, vec![s]).await
    }

    async fn line_ids_taken(&mut self, batch_no: i64, line_ids: &[String]) -> Result<Vec<String>> {
        if line_ids.is_empty() {
            return Ok(Vec::new());
        }
        let d = self.dialect();
        let sql = format!(
            "SELECT line_id FROM benefit_lines WHERE batch_no = {} AND line_id IN ({})",
            param(d, 1),
            placeholders(d, 2, line_ids.len())
        );
        let mut q = sqlx::query(AssertSqlSafe(sql)).persistent(false).bind(batch_no);
        for id in line_ids {
            q = q.bind(id.as_str());
        }
        let rows = q.fetch_all(self.conn()).await.db()?;
        rows.iter().map(|r| text(r, "line_id")).collect()
    }

    async fn batch_lines(
        &mut self,
        batch_no: i64,
        outcome: Option<LineOutcome>,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<LineRow>> {
        // An outcome is read through the partial index of paid or of refused lines: the query
        // repeats its predicate so that both databases choose it (a bound value proves none).
        let filter = match outcome {
            None => "",
            Some(LineOutcome::Paid) => " AND outcome = $4 AND outcome = 'paid'",
            Some(_) => " AND outcome = $4 AND outcome <> 'paid'",
        };
        let sql = format!(
            "SELECT {LINE_COLS} FROM benefit_lines WHERE batch_no = $1 AND seq > $2{filter} ORDER BY seq LIMIT $3"
        );
        let mut q =
            sqlx::query(AssertSqlSafe(sql)).bind(batch_no).bind(after_seq).bind(i64::from(limit.clamp(1, 10_000)));
        if let Some(o) = outcome {
            q = q.bind(o.as_str());
        }
        let rows = q.fetch_all(self.conn()).await.db()?;
        let vault = self.vault();
        rows.iter().map(|r| line(r, vault)).collect()
    }

    async fn lines_to_pay(
        &mut self,
        batch: &BatchRow,
        after_seq: i64,
        through_seq: i64,
        certifications: bool,
    ) -> Result<Vec<LineToPay>> {
        let through_seq = through_seq.min(after_seq.saturating_add(ports::MAX_LINES_TO_PAY));
        self.index_staged_ssns(batch.batch_no, after_seq, through_seq).await?;
        self.read_lines_to_pay(batch, (after_seq, through_seq), certifications).await
    }

    async fn decide_lines(&mut self, lines: &[LineDecision]) -> Result<()> {
        // One multi-row UPDATE ... FROM (VALUES ...) per few thousand lines. The row keeps the
        // older of its key versions, so a rotation still finds and re-seals it.
        let mut s = Section::new(
            "UPDATE benefit_lines SET outcome = v.column3, person_id = v.column4, card_no = v.column5, \
             bank_code = v.column6, account_no = v.column7, end_to_end_id = v.column8, transfer_id = v.column9, \
             decided_at_ms = v.column10, \
             key_version = CASE WHEN benefit_lines.key_version > v.column11 THEN v.column11 ELSE benefit_lines.key_version END \
             FROM (",
            11,
            ") AS v WHERE benefit_lines.batch_no = v.column1 AND benefit_lines.seq = v.column2",
            "line",
        );
        let vault = self.vault();
        let version = i64::from(vault.current());
        for l in lines {
            let key = line_key(l.batch_no, l.seq);
            let account_no = vault.seal_opt("benefit_lines.account_no", &[&key[0], &key[1]], l.account_no.as_deref());
            s.row([
                V::Int(l.batch_no),
                V::Int(l.seq),
                V::Text(l.outcome.as_str()),
                V::OptText(l.person_id.as_deref()),
                V::OptText(l.card_no.as_deref()),
                V::OptText(l.bank_code.as_deref()),
                account_no.map_or(V::OptText(None), V::Owned),
                V::OptText(l.end_to_end_id.as_deref()),
                V::OptText(l.transfer_id.as_deref()),
                V::Int(l.decided_at_ms),
                V::Int(version),
            ]);
        }
        let dialect = self.dialect();
        super::bulk::run(self.conn(), dialect, vec![s]).await?;
        self.count_paid(lines).await
    }

    async fn insert_payments(&mut self, payments: &[PaymentRow]) -> Result<()> {
        let mut s =
            Section::new(format!("INSERT INTO benefit_payments ({PAYMENT_COLS}, key_version)"), 14, "", "payment");
        let vault = self.vault();
        let version = i64::from(vault.current());
        for p in payments {
            s.row([
                V::Text(&p.end_to_end_id),
                V::Text(&p.payer_code),
                V::Text(&p.program_code),
                V::Text(&p.period),
                V::Text(&p.person_id),
                V::Int(p.batch_no),
                V::Int(p.seq),
                V::Int(p.amount_fen),
                V::Text(&p.card_no),
                V::Text(&p.bank_code),
                V::Owned(vault.seal("benefit_payments.account_no", &[&p.end_to_end_id], &p.account_no)),
                V::Text(&p.status),
                V::Int(p.paid_at_ms),
                V::Int(version),
            ]);
        }
        let dialect = self.dialect();
        super::bulk::run(self.conn(), dialect, vec![s]).await
    }

    async fn credit_bank_accounts(&mut self, credits: &[BalanceChange], now_ms: i64) -> Result<()> {
        let mut s = Section::new(
            "INSERT INTO accounts (id, kind, owner, person_id, balance, may_go_negative, created_at_ms)",
            7,
            " ON CONFLICT (id) DO UPDATE SET balance = accounts.balance + excluded.balance",
            "account",
        );
        // In id order, so concurrent writers take the row locks in one order.
        let mut sorted: Vec<&BalanceChange> = credits.iter().collect();
        sorted.sort_by(|a, b| a.id.cmp(&b.id));
        for c in sorted {
            s.row([
                V::Text(&c.id),
                V::Text(c.kind.as_str()),
                V::Text(&c.owner),
                V::OptText(c.person_id.as_deref()),
                V::Int(c.delta_fen),
                V::Int(i64::from(c.kind.may_go_negative())),
                V::Int(now_ms),
            ]);
        }
        let dialect = self.dialect();
        super::bulk::run(self.conn(), dialect, vec![s]).await
    }

    async fn paid_persons(
        &mut self,
        payer_code: &str,
        program_code: &str,
        period: &str,
        person_ids: &[String],
    ) -> Result<Vec<String>> {
        if person_ids.is_empty() {
            return Ok(Vec::new());
        }
        let d = self.dialect();
        let sql = format!(
            "SELECT person_id FROM benefit_payments WHERE payer_code = {} AND program_code = {} AND period = {} \
             AND status = 'paid' AND person_id IN ({})",
            param(d, 1),
            param(d, 2),
            param(d, 3),
            placeholders(d, 4, person_ids.len())
        );
        let mut q = sqlx::query(AssertSqlSafe(sql)).persistent(false).bind(payer_code).bind(program_code).bind(period);
        for id in person_ids {
            q = q.bind(id.as_str());
        }
        let rows = q.fetch_all(self.conn()).await.db()?;
        rows.iter().map(|r| text(r, "person_id")).collect()
    }

    async fn outcome_counts(&mut self, batch_no: i64) -> Result<Vec<OutcomeCount>> {
        // The paid lines are counted on the batch as they are decided (migration 0029); the
        // refused ones are few and read through their own index, whose predicate the query
        // repeats so that both databases choose it.
        let paid = sqlx::query("SELECT paid_lines, paid_fen FROM benefit_batches WHERE batch_no = $1")
            .bind(batch_no)
            .fetch_optional(self.conn())
            .await
            .db()?;
        let mut counts = Vec::new();
        if let Some(r) = &paid {
            let (lines, total_fen) = (int(r, "paid_lines")?, int(r, "paid_fen")?);
            if lines > 0 {
                counts.push(OutcomeCount { outcome: Some(LineOutcome::Paid), lines, total_fen });
            }
        }
        let rows = sqlx::query(
            "SELECT outcome, CAST(COUNT(*) AS BIGINT) AS n, CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) AS total \
             FROM benefit_lines WHERE batch_no = $1 AND outcome <> 'paid' GROUP BY outcome ORDER BY outcome",
        )
        .bind(batch_no)
        .fetch_all(self.conn())
        .await
        .db()?;
        for r in &rows {
            counts.push(OutcomeCount {
                outcome: outcome(r, "outcome")?,
                lines: int(r, "n")?,
                total_fen: int(r, "total")?,
            });
        }
        Ok(counts)
    }

    async fn set_pension_recorded(&mut self, person_ids: &[String]) -> Result<()> {
        let mut s = Section::new(
            "UPDATE persons SET pension_recorded = 1 FROM (",
            1,
            ") AS v WHERE persons.id = v.column1 AND persons.pension_recorded = 0",
            "person",
        );
        for id in person_ids {
            s.row([V::Text(id)]);
        }
        let dialect = self.dialect();
        super::bulk::run(self.conn(), dialect, vec![s]).await?;
        for id in person_ids {
            self.touch(id);
        }
        Ok(())
    }

    async fn insert_certification(&mut self, c: &CertificationRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO benefit_certifications (id, person_id, at_ms, channel, actor) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(c.id.as_str())
        .bind(c.person_id.as_str())
        .bind(c.at_ms)
        .bind(c.channel.as_str())
        .bind(c.actor.as_str())
        .execute(self.conn())
        .await
        .db()?;
        Ok(())
    }

    async fn last_certifications(&mut self, person_ids: &[String]) -> Result<Vec<(String, i64)>> {
        if person_ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT person_id, CAST(MAX(at_ms) AS BIGINT) AS at_ms FROM benefit_certifications \
             WHERE person_id IN ({}) GROUP BY person_id",
            placeholders(self.dialect(), 1, person_ids.len())
        );
        let mut q = sqlx::query(AssertSqlSafe(sql)).persistent(false);
        for id in person_ids {
            q = q.bind(id.as_str());
        }
        let rows = q.fetch_all(self.conn()).await.db()?;
        rows.iter().map(|r| Ok((text(r, "person_id")?, int(r, "at_ms")?))).collect()
    }

    async fn benefits_of_person(&mut self, person_id: &str, limit: u32) -> Result<Vec<PersonBenefitRow>> {
        let cols: Vec<String> = PAYMENT_COLS.split(", ").map(|c| format!("b.{c}")).collect();
        let sql = format!(
            "SELECT {}, g.name AS program_name, g.kind AS program_kind, y.name AS payer_name \
             FROM benefit_payments b JOIN benefit_programs g ON g.code = b.program_code \
             JOIN payers y ON y.code = b.payer_code WHERE b.person_id = $1 \
             ORDER BY b.paid_at_ms DESC, b.end_to_end_id DESC LIMIT $2",
            cols.join(", ")
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(person_id)
            .bind(i64::from(limit.clamp(1, 500)))
            .fetch_all(self.conn())
            .await
            .db()?;
        let vault = self.vault();
        rows.iter()
            .map(|r| {
                Ok(PersonBenefitRow {
                    payment: payment(r, vault)?,
                    program_name: text(r, "program_name")?,
                    program_kind: named(r, "program_kind", ProgramKind::parse)?,
                    payer_name: text(r, "payer_name")?,
                })
            })
            .collect()
    }
}
