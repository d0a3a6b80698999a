//! The rows of benefits (待遇发放): payers, programs, batches, their lines, the payments and
//! the eligibility certifications, as the [`crate::ports::Benefits`] port takes and gives them.

use serde::{Deserialize, Serialize};
use sscard_domain::benefits::{BatchStatus, LineOutcome, ProgramKind};

/// A payer organisation (pension fund, tax office, subsidy office) and its ledger account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayerRow {
    pub code: String,
    pub name: String,
    pub region: String,
    /// `payer:<code>`.
    pub account_id: String,
    pub created_at_ms: i64,
}

/// A benefit program.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgramRow {
    pub code: String,
    pub name: String,
    pub kind: ProgramKind,
    pub needs_certification: bool,
    pub created_at_ms: i64,
}

/// A batch: its envelope, where it stands and how far it has been paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchRow {
    /// The platform's number for the batch (part of every paid line's key).
    pub batch_no: i64,
    pub payer_code: String,
    /// The payer's own id for it.
    pub batch_id: String,
    pub program_code: String,
    /// `YYYY-MM`.
    pub period: String,
    pub declared_lines: i64,
    pub declared_total_fen: i64,
    /// SM3 of the envelope and lines (hex), set when the last line arrived; empty while receiving.
    pub content_hash: String,
    pub status: BatchStatus,
    pub received_lines: i64,
    /// Every line with `seq <= done_through` is decided.
    pub done_through: i64,
    pub submitted_by: String,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    pub finished_at_ms: Option<i64>,
}

/// One line of a batch and, once decided, its outcome and where the money went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineRow {
    pub batch_no: i64,
    pub seq: i64,
    pub line_id: String,
    pub ssn: String,
    pub name: String,
    pub amount_fen: i64,
    pub outcome: Option<LineOutcome>,
    pub person_id: Option<String>,
    pub card_no: Option<String>,
    /// The credited card's bank, for a paid line.
    pub bank_code: Option<String>,
    /// The credited account number (PAN), for a paid line.
    pub account_no: Option<String>,
    /// The paid line's stable key (ISO 20022 EndToEndId).
    pub end_to_end_id: Option<String>,
    pub transfer_id: Option<String>,
    pub decided_at_ms: Option<i64>,
}

/// What became of a staged line, as paying its chunk writes it: its outcome and, when paid,
/// where the money went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineDecision {
    pub batch_no: i64,
    pub seq: i64,
    pub outcome: LineOutcome,
    pub person_id: Option<String>,
    pub card_no: Option<String>,
    pub bank_code: Option<String>,
    pub account_no: Option<String>,
    pub end_to_end_id: Option<String>,
    pub transfer_id: Option<String>,
    pub decided_at_ms: i64,
    /// The line's amount: the batch's paid totals count it when the line is paid.
    pub amount_fen: i64,
}

/// A benefit paid: at most one `paid` per payer × program × period × person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentRow {
    pub end_to_end_id: String,
    pub payer_code: String,
    pub program_code: String,
    pub period: String,
    pub person_id: String,
    pub batch_no: i64,
    pub seq: i64,
    pub amount_fen: i64,
    pub card_no: String,
    pub bank_code: String,
    pub account_no: String,
    /// `paid`, or `returned` by the bank.
    pub status: String,
    pub paid_at_ms: i64,
}

/// A payment with its program, as the holder sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PersonBenefitRow {
    pub payment: PaymentRow,
    pub program_name: String,
    pub program_kind: ProgramKind,
    pub payer_name: String,
}

/// An eligibility certification (待遇资格认证).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificationRow {
    pub id: String,
    pub person_id: String,
    pub at_ms: i64,
    /// `portal` (the holder), `counter` (staff) or `terminal` (an agency's identity terminal; `actor` names it).
    pub channel: String,
    pub actor: String,
}

/// Lines and their total, per outcome (`None`: not decided yet).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutcomeCount {
    pub outcome: Option<LineOutcome>,
    pub lines: i64,
    pub total_fen: i64,
}

/// A staged line with everything deciding it needs, read in one go when its chunk is paid
/// ([`crate::ports::Benefits::lines_to_pay`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineToPay {
    pub seq: i64,
    pub line_id: String,
    /// The name the payer sent.
    pub name: String,
    pub amount_fen: i64,
    /// The person the line's SSN names, if any.
    pub payee: Option<Payee>,
}

/// The person a line's SSN names, with only what the rules and the payment use: not their
/// SSN, document number or relationship proof, which the store leaves sealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payee {
    pub person_id: String,
    /// The name on file.
    pub name: String,
    pub pension_recorded: bool,
    /// Their cards, in any status (what the rules look at of them).
    pub cards: Vec<sscard_domain::benefits::PayeeCard>,
    /// Whether the batch's payer already paid them for its program and period.
    pub already_paid: bool,
    /// Their newest certification, when asked for.
    pub certified_at_ms: Option<i64>,
}
