//! The SQL of [`ports::NationMedical`] (migration 0021): forwarded medical bills at a
//! deployment and the hub's clearing ledger. Same text on SQLite and PostgreSQL. The dynamic
//! SQL is constant column lists and the dialect's row lock; every value is bound.

use super::rows::{int, opt_int, opt_text, text};
use super::tx::SqlTx;
use crate::Db;
use async_trait::async_trait;
use sqlx::AssertSqlSafe;
use sqlx::any::AnyRow;
use sscard_store::Result;
use sscard_store::ports::{self, ClearingRow, NationBillRow};

const BILL_COLS: &str = "side, origin, hospital, bill_id, other, settlement_id, body, answer, person_id, at_ms, refunded_at_ms, refund_answer";
const CLEARING_COLS: &str =
    "origin, hospital, bill_id, kind, decider, body, answer, payer, payee, amount_fen, day, at_ms";

fn bill_row(r: &AnyRow) -> Result<NationBillRow> {
    Ok(NationBillRow {
        side: text(r, "side")?,
        origin: text(r, "origin")?,
        hospital: text(r, "hospital")?,
        bill_id: text(r, "bill_id")?,
        other: text(r, "other")?,
        settlement_id: text(r, "settlement_id")?,
        body: text(r, "body")?,
        answer: text(r, "answer")?,
        person_id: opt_text(r, "person_id")?,
        at_ms: int(r, "at_ms")?,
        refunded_at_ms: opt_int(r, "refunded_at_ms")?,
        refund_answer: opt_text(r, "refund_answer")?,
    })
}

fn clearing_row(r: &AnyRow) -> Result<ClearingRow> {
    Ok(ClearingRow {
        origin: text(r, "origin")?,
        hospital: text(r, "hospital")?,
        bill_id: text(r, "bill_id")?,
        kind: text(r, "kind")?,
        decider: text(r, "decider")?,
        body: text(r, "body")?,
        answer: text(r, "answer")?,
        payer: text(r, "payer")?,
        payee: text(r, "payee")?,
        amount_fen: int(r, "amount_fen")?,
        day: text(r, "day")?,
        at_ms: int(r, "at_ms")?,
    })
}

#[async_trait]
impl ports::NationMedical for SqlTx {
    async fn get_nation_bill(
        &mut self,
        side: &str,
        origin: &str,
        hospital: &str,
        bill_id: &str,
        lock: bool,
    ) -> Result<Option<NationBillRow>> {
        let lock = if lock { self.dialect().for_update() } else { "" };
        let sql = format!(
            "SELECT {BILL_COLS} FROM nation_medical_bills WHERE side = $1 AND origin = $2 AND hospital = $3 AND bill_id = $4{lock}"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(side)
            .bind(origin)
            .bind(hospital)
            .bind(bill_id)
            .fetch_optional(self.conn())
            .await
            .db()?;
        row.as_ref().map(bill_row).transpose()
    }

    async fn nation_bill_by_settlement(&mut self, side: &str, settlement_id: &str) -> Result<Option<NationBillRow>> {
        let sql = format!("SELECT {BILL_COLS} FROM nation_medical_bills WHERE side = $1 AND settlement_id = $2");
        let row =
            sqlx::query(AssertSqlSafe(sql)).bind(side).bind(settlement_id).fetch_optional(self.conn()).await.db()?;
        row.as_ref().map(bill_row).transpose()
    }

    async fn insert_nation_bill(&mut self, b: &NationBillRow) -> Result<bool> {
        let sql = format!(
            "INSERT INTO nation_medical_bills ({BILL_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             ON CONFLICT (side, origin, hospital, bill_id) DO NOTHING"
        );
        let done = sqlx::query(AssertSqlSafe(sql))
            .bind(&b.side)
            .bind(&b.origin)
            .bind(&b.hospital)
            .bind(&b.bill_id)
            .bind(&b.other)
            .bind(&b.settlement_id)
            .bind(&b.body)
            .bind(&b.answer)
            .bind(b.person_id.as_deref())
            .bind(b.at_ms)
            .bind(b.refunded_at_ms)
            .bind(b.refund_answer.as_deref())
            .execute(self.conn())
            .await
            .db()?;
        Ok(done.rows_affected() == 1)
    }

    async fn mark_nation_bill_refunded(
        &mut self,
        side: &str,
        origin: &str,
        hospital: &str,
        bill_id: &str,
        at_ms: i64,
        refund_answer: &str,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE nation_medical_bills SET refunded_at_ms = $5, refund_answer = $6 \
             WHERE side = $1 AND origin = $2 AND hospital = $3 AND bill_id = $4 AND refunded_at_ms IS NULL",
        )
        .bind(side)
        .bind(origin)
        .bind(hospital)
        .bind(bill_id)
        .bind(at_ms)
        .bind(refund_answer)
        .execute(self.conn())
        .await
        .db()?;
        Ok(())
    }

    async fn card_no_by_id_code(&mut self, card_id_code: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT card_no FROM cards WHERE card_id_code = $1")
            .bind(card_id_code)
            .fetch_optional(self.conn())
            .await
            .db()?;
        row.map(|r| text(&r, "card_no")).transpose()
    }

    async fn get_clearing(
        &mut self,
        origin: &str,
        hospital: &str,
        bill_id: &str,
        kind: &str,
    ) -> Result<Option<ClearingRow>> {
        let sql = format!(
            "SELECT {CLEARING_COLS} FROM hub_clearing WHERE origin = $1 AND hospital = $2 AND bill_id = $3 AND kind = $4"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(origin)
            .bind(hospital)
            .bind(bill_id)
            .bind(kind)
            .fetch_optional(self.conn())
            .await
            .db()?;
        row.as_ref().map(clearing_row).transpose()
    }

    async fn insert_clearing(&mut self, c: &ClearingRow) -> Result<bool> {
        let sql = format!(
            "INSERT INTO hub_clearing ({CLEARING_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             ON CONFLICT (origin, hospital, bill_id, kind) DO NOTHING"
        );
        let done = sqlx::query(AssertSqlSafe(sql))
            .bind(&c.origin)
            .bind(&c.hospital)
            .bind(&c.bill_id)
            .bind(&c.kind)
            .bind(&c.decider)
            .bind(&c.body)
            .bind(&c.answer)
            .bind(&c.payer)
            .bind(&c.payee)
            .bind(c.amount_fen)
            .bind(&c.day)
            .bind(c.at_ms)
            .execute(self.conn())
            .await
            .db()?;
        Ok(done.rows_affected() == 1)
    }

    async fn clearing_totals_of_day(&mut self, day: &str, limit: u32) -> Result<Vec<ports::ClearingTotalRow>> {
        let rows = sqlx::query(
            "SELECT payer, payee, CAST(SUM(amount_fen) AS BIGINT) AS amount_fen, COUNT(*) AS entries \
             FROM hub_clearing WHERE day = $1 AND amount_fen > 0 GROUP BY payer, payee ORDER BY payer, payee LIMIT $2",
        )
        .bind(day)
        .bind(i64::from(limit))
        .fetch_all(self.conn())
        .await
        .db()?;
        rows.iter()
            .map(|r| {
                Ok(ports::ClearingTotalRow {
                    payer: text(r, "payer")?,
                    payee: text(r, "payee")?,
                    amount_fen: int(r, "amount_fen")?,
                    entries: int(r, "entries")?,
                })
            })
            .collect()
    }
}
