//! The rows of the banks' side of benefits, as the [`crate::ports::BankReturns`] port takes and
//! gives them: paid lines per bank, a bank's answer about a line, and the reconciliation counts.

use serde::{Deserialize, Serialize};
use sscard_domain::bank_report::BankStatus;
use sscard_domain::benefits::LineOutcome;

/// Paid lines and their total at one bank.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BankTotal {
    pub bank_code: String,
    pub lines: i64,
    pub total_fen: i64,
}

/// A bank's final answer about one paid line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BankStatusRow {
    pub end_to_end_id: String,
    pub batch_no: i64,
    pub bank_code: String,
    pub status: BankStatus,
    /// The ISO status code as the bank sent it (`ACSC`, `RJCT`).
    pub status_code: String,
    /// The bank's reason (`AC04`, or its own text), for a returned line.
    pub reason: Option<String>,
    /// The transfer that took a returned line's money back to the payer.
    pub reversal_transfer_id: Option<String>,
    /// The report's own message id, when it had one.
    pub report_msg_id: Option<String>,
    pub reported_by: String,
    pub reported_at_ms: i64,
}

/// One credit of a bank's file: a paid line, where it went and how much.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreditRow {
    pub seq: i64,
    pub line_id: String,
    /// The line's key (ISO 20022 EndToEndId).
    pub end_to_end_id: String,
    /// The creditor's name as the payer wrote it on the line.
    pub name: String,
    pub bank_code: String,
    pub account_no: String,
    pub amount_fen: i64,
}

/// A payment with the bank's answer about it so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentState {
    pub end_to_end_id: String,
    pub payer_code: String,
    pub person_id: String,
    pub batch_no: i64,
    pub card_no: String,
    pub bank_code: String,
    pub amount_fen: i64,
    /// `paid`, or `returned`.
    pub status: String,
    pub bank_status: Option<BankStatus>,
    /// The bank's reason for a returned payment (`AC04`, or its own text).
    pub bank_reason: Option<String>,
}

/// Lines and fen of a batch per bank, outcome and bank status (`None`s where not set).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReconRow {
    pub bank_code: Option<String>,
    pub outcome: Option<LineOutcome>,
    pub bank_status: Option<BankStatus>,
    pub lines: i64,
    pub total_fen: i64,
}
