//! The port for the ledger.

use crate::Result;
use crate::onecard::{AccountRow, LedgerLine, TransferRow, Writes};
use async_trait::async_trait;
use sscard_domain::ledger::AccountKind;

/// The double-entry ledger: accounts, transfers and the batched writes of an operation.
#[async_trait]
pub trait Ledger: Send {
    /// Creates the account with balance 0 if it does not exist.
    async fn ensure_account(
        &mut self,
        id: &str,
        kind: AccountKind,
        owner: &str,
        person_id: Option<&str>,
        now_ms: i64,
    ) -> Result<()>;
    /// Creates each missing account of `accounts` (id, kind, owner, person) with balance 0, in
    /// few statements where the backend can (a chunk of a batch opens many at once).
    async fn ensure_accounts(
        &mut self,
        accounts: &[(String, AccountKind, String, Option<String>)],
        now_ms: i64,
    ) -> Result<()> {
        for (id, kind, owner, person_id) in accounts {
            self.ensure_account(id, *kind, owner, person_id.as_deref(), now_ms).await?;
        }
        Ok(())
    }
    /// The accounts among `ids` that exist, locked until commit (PostgreSQL) in id order.
    async fn lock_accounts_by_id(&mut self, ids: &[String]) -> Result<Vec<AccountRow>>;
    /// Writes all of `w` (see [`Writes`]); a unique key already taken is a `Duplicate`.
    async fn write_all(&mut self, w: &Writes) -> Result<()>;
    /// `lock`: hold the row until commit (PostgreSQL); callers lock in id order.
    async fn get_account(&mut self, id: &str, lock: bool) -> Result<Option<AccountRow>>;
    async fn accounts_of_person(&mut self, person_id: &str) -> Result<Vec<AccountRow>>;
    async fn transfer_by_key(&mut self, idem_key: &str) -> Result<Option<TransferRow>>;
    /// Transfers from or to any of `accounts`, newest first, at most `limit`.
    async fn transfers_of(
        &mut self,
        accounts: &[String],
        before_ms: Option<i64>,
        limit: u32,
    ) -> Result<Vec<TransferRow>>;
    /// Accounts after `after` in id order with the sums of their transfers.
    async fn ledger_page(&mut self, after: &str, limit: u32) -> Result<Vec<LedgerLine>>;
    /// (number of transfers, sum of their amounts).
    async fn transfer_totals(&mut self) -> Result<(i64, i64)>;
}
