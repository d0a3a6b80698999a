//! The storage primitives of "one card for everything": operators and
//! terminals, the double-entry ledger, medical settlements, transit taps, library loans,
//! parks and the usage records. [`OnecardTx`] is a supertrait of [`crate::Tx`], so every
//! transaction has these primitives; the rows here are what they store.

use crate::model::{NewAudit, NewEvent};
use serde::Serialize;
use sscard_domain::ledger::{AccountId, AccountKind};
use sscard_domain::medical::{MedicalPolicy, YearToDate};
use sscard_domain::park::ParkRule;
use sscard_domain::terminal::UseResult;
use sscard_domain::transit::TapStatus;

/// A ledger account and its balance (credits minus debits).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountRow {
    pub id: String,
    pub kind: AccountKind,
    pub owner: String,
    pub person_id: Option<String>,
    pub balance_fen: i64,
}

/// A stored transfer: `amount_fen` moved from `from_account` to `to_account`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TransferRow {
    pub id: String,
    pub idem_key: String,
    pub from_account: String,
    pub to_account: String,
    pub amount_fen: i64,
    pub kind: String,
    pub ref_id: Option<String>,
    pub at_ms: i64,
}

/// One page of the books check: each account's stored balance and the sums of its transfers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerLine {
    pub account: String,
    pub balance_fen: i64,
    pub credits_fen: i64,
    pub debits_fen: i64,
}

/// A stored medical settlement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SettlementRow {
    pub id: String,
    pub operator_code: String,
    pub terminal_id: String,
    pub bill_id: String,
    pub person_id: String,
    pub card_no: String,
    pub insured_region: String,
    pub locality: String,
    pub year: i64,
    pub bill_fen: i64,
    pub pool_fen: i64,
    pub account_fen: i64,
    pub self_pay_fen: i64,
    pub deductible_applied_fen: i64,
    pub ratio_bp: i64,
    pub at_ms: i64,
    pub refunded_at_ms: Option<i64>,
}

/// A transit tap, online (`seq` None) or from an offline batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TapRow {
    pub id: String,
    pub terminal_id: String,
    pub seq: Option<i64>,
    pub card_no: Option<String>,
    pub person_id: Option<String>,
    pub fare_fen: i64,
    pub at_ms: i64,
    /// `applied` or `refused`.
    pub status: TapStatus,
    pub reason: Option<String>,
    pub recorded_at_ms: i64,
}

/// A library loan: to a person of this deployment (`person_id`, `card_no`), or to a visitor
/// of another deployment of the nation (`deployment`, `ecard_id`; migration 0027).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoanRow {
    pub id: String,
    pub operator_code: String,
    pub item_id: String,
    pub person_id: Option<String>,
    pub card_no: Option<String>,
    /// The deployment that issued a visitor's e-card.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployment: Option<String>,
    /// A visitor's e-card at its deployment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ecard_id: Option<String>,
    pub terminal_id: String,
    pub borrowed_at_ms: i64,
    pub due_at_ms: i64,
    pub returned_at_ms: Option<i64>,
    pub returned_terminal_id: Option<String>,
}

/// Who holds loans at a library network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Borrower<'a> {
    /// A person of this deployment.
    Person(&'a str),
    /// A visitor: their e-card at its deployment.
    Visitor { deployment: &'a str, ecard_id: &'a str },
}

/// A park and the operator that runs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParkRow {
    pub operator_code: String,
    pub rule: ParkRule,
}

/// An annual pass.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PassRow {
    pub id: String,
    pub park_code: String,
    pub person_id: String,
    pub card_no: String,
    pub start_ms: i64,
    pub end_ms: i64,
    pub price_fen: i64,
    pub at_ms: i64,
}

/// A park entry: of a person of this deployment (`person_id`, `card_no`), or of a visitor of
/// another deployment of the nation (`deployment`, `ecard_id`; migration 0027).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntryRow {
    pub id: String,
    pub park_code: String,
    pub terminal_id: String,
    pub person_id: Option<String>,
    pub card_no: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ecard_id: Option<String>,
    pub admitted: bool,
    pub price_fen: i64,
    pub reason: String,
    pub at_ms: i64,
}

/// One use of a card at a terminal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UseRow {
    pub id: String,
    pub at_ms: i64,
    pub scenario: String,
    pub terminal_id: String,
    pub operator_code: String,
    pub person_id: Option<String>,
    pub card_no: Option<String>,
    /// `card` or `qr`.
    pub presented: String,
    /// `ok` or `refused`.
    pub result: UseResult,
    pub reason: Option<String>,
    pub region: String,
    /// For a visitor of another deployment of the nation (no person here): the deployment
    /// that issued the e-card, and the e-card (migration 0027).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ecard_id: Option<String>,
}

/// Uses counted by scenario and by how the card was presented.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UsageCount {
    pub scenario: String,
    pub presented: String,
    /// All uses, refused ones included.
    pub count: i64,
    /// Of those, the refused ones (a card that is not active, a QR code that failed its check, ...).
    pub refused: i64,
}

/// A change of an account's balance by `delta_fen`. The account is created when it does not
/// exist yet, which happens only to organisation accounts (holder accounts are created when
/// they are locked, before any decision reads them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BalanceChange {
    /// The account's id (`kind:owner`).
    pub id: String,
    pub kind: AccountKind,
    pub owner: String,
    pub person_id: Option<String>,
    pub delta_fen: i64,
}

impl BalanceChange {
    pub fn new(account: &AccountId, person_id: Option<&str>, delta_fen: i64) -> Self {
        Self {
            id: account.to_string(),
            kind: account.kind,
            owner: account.owner.clone(),
            person_id: person_id.map(str::to_string),
            delta_fen,
        }
    }
}

/// A person's policy year as written after a settlement or a refund.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MedicalYearRow {
    pub person_id: String,
    pub year: i64,
    pub ytd: YearToDate,
}

/// The rows one one-card operation (or one chunk of an offline batch) writes after its
/// decisions, handed to the store at once so that it can write them in as few statements as
/// the backend allows (PostgreSQL: one statement of data-modifying CTEs for a single
/// operation; multi-row inserts everywhere). Written in this order: balances (which creates
/// missing organisation accounts before transfers name them), transfers, taps, settlement,
/// policy year, uses, event and audit record.
#[derive(Debug, Clone, Default)]
pub struct Writes {
    /// Applied in account-id order, so two transactions never wait on each other in turn.
    pub balances: Vec<BalanceChange>,
    pub transfers: Vec<TransferRow>,
    pub taps: Vec<TapRow>,
    pub settlement: Option<SettlementRow>,
    pub medical_year: Option<MedicalYearRow>,
    pub uses: Vec<UseRow>,
    pub record: Option<(NewEvent, NewAudit)>,
    /// Creation time of accounts created by a balance change.
    pub now_ms: i64,
}

impl Writes {
    pub fn is_empty(&self) -> bool {
        self.balances.is_empty()
            && self.transfers.is_empty()
            && self.taps.is_empty()
            && self.settlement.is_none()
            && self.medical_year.is_none()
            && self.uses.is_empty()
            && self.record.is_none()
    }
}

/// What a settlement reads besides its holder (see [`OnecardTx::settlement_context`]).
#[derive(Debug, Clone, Default)]
pub struct SettlementContext {
    /// The operator's settlement of the same bill, if any.
    pub prior: Option<SettlementRow>,
    /// The person's policy year so far, if it has one.
    pub year: Option<YearToDate>,
    /// The policies set for the asked regions (none, one or both).
    pub policies: Vec<MedicalPolicy>,
    /// (id, balance) of the asked holder accounts that exist.
    pub accounts: Vec<(String, i64)>,
}

/// Most card numbers read in one [`OnecardTx::cards_with_persons`] call.
pub const MAX_CARDS_PER_READ: usize = 1_000;
