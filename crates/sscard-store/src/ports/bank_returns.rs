//! The port for the banks' side of benefits: the paid lines a bank's credit file lists, the
//! banks' answers about them, and the counts a reconciliation adds up. Apart from
//! [`super::Benefits`] so that the batch's own port stays the batch's.

use crate::Result;
use crate::bank_returns::{BankStatusRow, BankTotal, CreditRow, PaymentState, ReconRow};
use async_trait::async_trait;

/// What the banks were told and what they answered.
#[async_trait]
pub trait BankReturns: Send {
    /// The paid lines of a batch credited at `bank_code` (all banks when `None`), after
    /// `after_seq` in order, at most `limit` (<= 10,000).
    async fn bank_credits(
        &mut self,
        batch_no: i64,
        bank_code: Option<&str>,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<CreditRow>>;
    /// Paid lines and their total per bank, by bank code.
    async fn bank_totals(&mut self, batch_no: i64) -> Result<Vec<BankTotal>>;
    /// The payments named by `end_to_end_ids` (at most 1,000), with the bank's answer so far;
    /// unknown ids are left out.
    async fn payment_states(&mut self, end_to_end_ids: &[String]) -> Result<Vec<PaymentState>>;
    /// Records banks' final answers; an id already answered is a `Duplicate`.
    async fn insert_bank_statuses(&mut self, rows: &[BankStatusRow]) -> Result<()>;
    /// Marks payments returned, so the person may be paid again for the same month.
    async fn mark_payments_returned(&mut self, end_to_end_ids: &[String]) -> Result<()>;
    /// A batch's lines and fen per bank, outcome and bank status.
    async fn reconciliation(&mut self, batch_no: i64) -> Result<Vec<ReconRow>>;
}
