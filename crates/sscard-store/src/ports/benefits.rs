//! The port for benefits: payers, programs, batches and their lines, payments, certifications.

use crate::Result;
use crate::benefits::{
    BatchRow, CertificationRow, LineDecision, LineRow, LineToPay, OutcomeCount, PayerRow, PaymentRow, PersonBenefitRow,
    ProgramRow,
};
use crate::onecard::BalanceChange;
use async_trait::async_trait;
use sscard_domain::benefits::{BatchStatus, LineOutcome};

/// Most lines [`Benefits::lines_to_pay`] reads at once.
pub const MAX_LINES_TO_PAY: i64 = 20_000;

/// Benefits paid in batches to the card's bank account.
#[async_trait]
pub trait Benefits: Send {
    async fn insert_payer(&mut self, payer: &PayerRow) -> Result<()>;
    async fn get_payer(&mut self, code: &str) -> Result<Option<PayerRow>>;
    /// Ties a `payer` login to its payer.
    async fn insert_payer_staff(&mut self, username: &str, payer_code: &str) -> Result<()>;
    /// The payer a login works for, if it is payer staff.
    async fn payer_of_user(&mut self, username: &str) -> Result<Option<String>>;
    async fn insert_program(&mut self, program: &ProgramRow) -> Result<()>;
    async fn get_program(&mut self, code: &str) -> Result<Option<ProgramRow>>;
    /// A payer's batch by the payer's own id; `lock` holds the row until commit.
    async fn get_batch(&mut self, payer_code: &str, batch_id: &str, lock: bool) -> Result<Option<BatchRow>>;
    async fn get_batch_by_no(&mut self, batch_no: i64, lock: bool) -> Result<Option<BatchRow>>;
    /// A `(payer, batch_id)` already taken is a `Duplicate`.
    async fn insert_batch(&mut self, batch: &BatchRow) -> Result<()>;
    /// Writes status, hash, counters and times.
    async fn update_batch(&mut self, batch: &BatchRow) -> Result<()>;
    /// Removes a batch that was refused whole, with its lines (none of them was paid).
    async fn delete_batch(&mut self, batch_no: i64) -> Result<()>;
    /// Batches in `status`, oldest first (to resume after a restart).
    async fn batches_in_status(&mut self, status: BatchStatus, limit: u32) -> Result<Vec<BatchRow>>;
    /// The newest batches of one payer (or of every payer), newest first, at most `limit`.
    async fn list_batches(&mut self, payer_code: Option<&str>, limit: u32) -> Result<Vec<BatchRow>>;
    /// Stages received lines (undecided) in one statement per few hundred.
    async fn insert_lines(&mut self, lines: &[LineRow]) -> Result<()>;
    /// The ids among `line_ids` already staged in the batch.
    async fn line_ids_taken(&mut self, batch_no: i64, line_ids: &[String]) -> Result<Vec<String>>;
    /// Lines after `after_seq` in order, at most `limit`; only one outcome's when given.
    async fn batch_lines(
        &mut self,
        batch_no: i64,
        outcome: Option<LineOutcome>,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<LineRow>>;
    /// The lines of `batch` with `after_seq < seq <= through_seq` (at most [`MAX_LINES_TO_PAY`]),
    /// in order, each with its payee: the person its SSN's blind index (kept since intake)
    /// finds, their name, pension flag and cards, whether the batch's payer already paid them
    /// for its program and period, and, when `certifications`, their newest certification.
    /// One read; of the personal data only the names and the cards' PANs are opened.
    async fn lines_to_pay(
        &mut self,
        batch: &BatchRow,
        after_seq: i64,
        through_seq: i64,
        certifications: bool,
    ) -> Result<Vec<LineToPay>>;
    /// Writes the decided lines' outcome and payment columns, and adds the paid ones to their
    /// batch's paid lines and fen (each line is decided once).
    async fn decide_lines(&mut self, lines: &[LineDecision]) -> Result<()>;
    /// A payment already paid for the same payer × program × period × person is a `Duplicate`.
    async fn insert_payments(&mut self, payments: &[PaymentRow]) -> Result<()>;
    /// Credits the card's bank-account mirrors (`id`, card number as owner, person, amount),
    /// creating the missing ones, in one statement. No balance is read: a credit to a mirror
    /// (which may go negative anyway) is decided on nothing, so the rows need no lock first,
    /// and `balance = balance + amount` stays exact under concurrent writers.
    async fn credit_bank_accounts(&mut self, credits: &[BalanceChange], now_ms: i64) -> Result<()>;
    /// Of `person_ids`, those already paid by the payer for the program and period.
    async fn paid_persons(
        &mut self,
        payer_code: &str,
        program_code: &str,
        period: &str,
        person_ids: &[String],
    ) -> Result<Vec<String>>;
    /// Lines and totals per decided outcome (lines not decided yet are not counted).
    async fn outcome_counts(&mut self, batch_no: i64) -> Result<Vec<OutcomeCount>>;
    /// Records that a pension is paid to each of the persons (they count as retired).
    async fn set_pension_recorded(&mut self, person_ids: &[String]) -> Result<()>;
    async fn insert_certification(&mut self, c: &CertificationRow) -> Result<()>;
    /// The newest certification of each of `person_ids` (person id, at_ms).
    async fn last_certifications(&mut self, person_ids: &[String]) -> Result<Vec<(String, i64)>>;
    /// The person's benefits, newest first, at most `limit` (<= 500).
    async fn benefits_of_person(&mut self, person_id: &str, limit: u32) -> Result<Vec<PersonBenefitRow>>;
}
