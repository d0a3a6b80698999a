//! Cross-province medical settlement's records (migration 0021, docs/NATION.md): the bills a
//! deployment took part in as origin or decider, and the hub's clearing ledger.

use crate::Result;
use async_trait::async_trait;

/// Most directed pairs of deployments one day's totals may have (34 provincial deployments
/// make 1,122); more is refused rather than netted in part.
pub const MAX_CLEARING_PAIRS: u32 = 10_000;

/// A forwarded bill as one deployment keeps it. `side` is `origin` (its hospital's bill of
/// another deployment's person) or `decider` (its person's bill elsewhere); `other` the other
/// deployment; `body` the bill as asked (JSON), `answer` what was answered (JSON).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NationBillRow {
    pub side: String,
    pub origin: String,
    pub hospital: String,
    pub bill_id: String,
    pub other: String,
    pub settlement_id: String,
    pub body: String,
    pub answer: String,
    /// The decider's own person (for the policy year on refund); None at the origin.
    pub person_id: Option<String>,
    pub at_ms: i64,
    pub refunded_at_ms: Option<i64>,
    pub refund_answer: Option<String>,
}

/// One entry of the hub's clearing ledger (`kind` is `settle` or `refund`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClearingRow {
    pub origin: String,
    pub hospital: String,
    pub bill_id: String,
    pub kind: String,
    pub decider: String,
    pub body: String,
    pub answer: String,
    pub payer: String,
    pub payee: String,
    pub amount_fen: i64,
    pub day: String,
    pub at_ms: i64,
}

/// What `payer` owed `payee` over a day: the sum of `entries` entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClearingTotalRow {
    pub payer: String,
    pub payee: String,
    pub amount_fen: i64,
    pub entries: i64,
}

#[async_trait]
pub trait NationMedical: Send {
    /// The bill, its row locked until commit when `lock` (PostgreSQL FOR UPDATE).
    async fn get_nation_bill(
        &mut self,
        side: &str,
        origin: &str,
        hospital: &str,
        bill_id: &str,
        lock: bool,
    ) -> Result<Option<NationBillRow>>;
    /// The bill one side keeps under its settlement id (the id the terminal was answered).
    async fn nation_bill_by_settlement(&mut self, side: &str, settlement_id: &str) -> Result<Option<NationBillRow>>;
    /// Records a bill; false when one with the same key is there already (nothing written).
    async fn insert_nation_bill(&mut self, row: &NationBillRow) -> Result<bool>;
    async fn mark_nation_bill_refunded(
        &mut self,
        side: &str,
        origin: &str,
        hospital: &str,
        bill_id: &str,
        at_ms: i64,
        refund_answer: &str,
    ) -> Result<()>;
    /// The card number of a card identification code, if a card here has it.
    async fn card_no_by_id_code(&mut self, card_id_code: &str) -> Result<Option<String>>;
    async fn get_clearing(
        &mut self,
        origin: &str,
        hospital: &str,
        bill_id: &str,
        kind: &str,
    ) -> Result<Option<ClearingRow>>;
    /// Records an entry; false when one with the same key is there already (nothing written).
    async fn insert_clearing(&mut self, row: &ClearingRow) -> Result<bool>;
    /// A day's entries that moved money, summed per directed pair (payer, payee), at most
    /// `limit` pairs, in code order.
    async fn clearing_totals_of_day(&mut self, day: &str, limit: u32) -> Result<Vec<ClearingTotalRow>>;
}
