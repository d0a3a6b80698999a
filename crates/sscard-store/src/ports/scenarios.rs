//! The port for the one-card scenarios (medical, transit, library, parks) and the record of uses.

use crate::Result;
use crate::onecard::{Borrower, EntryRow, LoanRow, ParkRow, PassRow, SettlementContext, SettlementRow, TapRow, UseRow};
use async_trait::async_trait;
use sscard_domain::library::LibraryPolicy;
use sscard_domain::medical::MedicalPolicy;
use sscard_domain::medical::YearToDate;

/// Medical policies, policy years and settlements.
#[async_trait]
pub trait Medical: Send {
    async fn put_medical_policy(&mut self, p: &MedicalPolicy, now_ms: i64) -> Result<()>;
    async fn get_medical_year(&mut self, person_id: &str, year: i64) -> Result<Option<YearToDate>>;
    async fn put_medical_year(&mut self, person_id: &str, year: i64, ytd: &YearToDate) -> Result<()>;
    async fn get_settlement(&mut self, id: &str, lock: bool) -> Result<Option<SettlementRow>>;
    /// The operator's settlement of `bill_id` for one of this deployment's cards, if any
    /// (a bill id is the operator's once, whether its patient is insured here or elsewhere).
    async fn settlement_of_bill(&mut self, operator_code: &str, bill_id: &str) -> Result<Option<SettlementRow>>;
    async fn mark_refunded(&mut self, id: &str, at_ms: i64) -> Result<()>;
    /// In one read: the operator's settlement of `bill_id`, the person's policy year, the
    /// policies set for `regions` (the insured region and its province) and the balances of
    /// the holder `accounts` that exist (unlocked: the caller holds the person's lock, which
    /// every writer of a medical account and a policy year takes first).
    async fn settlement_context(
        &mut self,
        operator_code: &str,
        bill_id: &str,
        person_id: &str,
        year: i64,
        regions: [&str; 2],
        accounts: [&str; 2],
    ) -> Result<SettlementContext>;
}

/// Transit taps.
#[async_trait]
pub trait Transit: Send {
    async fn get_tap(&mut self, terminal_id: &str, seq: i64) -> Result<Option<TapRow>>;
    /// The terminal's taps with sequence numbers in `from..=to` (at most `limit`), by seq.
    async fn taps_between(&mut self, terminal_id: &str, from: i64, to: i64, limit: u32) -> Result<Vec<TapRow>>;
}

/// Library networks: policies, patrons and loans.
#[async_trait]
pub trait Library: Send {
    /// The lending rules a library network set, if it set any.
    async fn get_library_policy(&mut self, operator_code: &str) -> Result<Option<LibraryPolicy>>;
    async fn put_library_policy(&mut self, operator_code: &str, p: &LibraryPolicy, now_ms: i64) -> Result<()>;
    async fn insert_patron(&mut self, operator_code: &str, person_id: &str, now_ms: i64) -> Result<()>;
    async fn is_patron(&mut self, operator_code: &str, person_id: &str) -> Result<bool>;
    async fn insert_loan(&mut self, l: &LoanRow) -> Result<()>;
    async fn open_loan_of_item(&mut self, operator_code: &str, item_id: &str) -> Result<Option<LoanRow>>;
    /// (open loans, open loans overdue at `now_ms`) of a person or a visitor at one library network.
    async fn loan_counts(&mut self, operator_code: &str, who: Borrower<'_>, now_ms: i64) -> Result<(u32, u32)>;
    async fn close_loan(&mut self, id: &str, at_ms: i64, terminal_id: &str) -> Result<()>;
    async fn overdue_loans(&mut self, operator_code: &str, now_ms: i64, limit: u32) -> Result<Vec<LoanRow>>;
}

/// Parks, annual passes and entries.
#[async_trait]
pub trait Parks: Send {
    async fn upsert_park(&mut self, p: &ParkRow) -> Result<()>;
    async fn get_park(&mut self, code: &str) -> Result<Option<ParkRow>>;
    async fn insert_pass(&mut self, p: &PassRow) -> Result<()>;
    /// The latest end of the person's passes for the park.
    async fn pass_end(&mut self, person_id: &str, park_code: &str) -> Result<Option<i64>>;
    async fn insert_entry(&mut self, e: &EntryRow) -> Result<()>;
}

/// The record of every use of a card, which its holder can list.
#[async_trait]
pub trait Uses: Send {
    async fn insert_use(&mut self, u: &UseRow) -> Result<()>;
    async fn uses_of_person(&mut self, person_id: &str, before_ms: Option<i64>, limit: u32) -> Result<Vec<UseRow>>;
}
