//! The store and its transactions. Every primitive runs in a transaction opened by
//! [`Store::write`] (serialised against other writers where the backend needs it)
//! or [`Store::read`]; nothing is visible to others until [`Tx::commit`].

use crate::Result;
use crate::ports;
use async_trait::async_trait;
use sscard_domain::card::Card;
use sscard_domain::ecard::Ecard;
use sscard_domain::person::Person;

/// A database that sscard can run on.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// "sqlite" or "postgres".
    fn backend(&self) -> &'static str;
    /// A transaction that will write. SQLite takes the write lock at once (BEGIN IMMEDIATE).
    async fn write(&self) -> Result<Box<dyn Tx>>;
    /// A transaction that only reads.
    async fn read(&self) -> Result<Box<dyn Tx>>;
    /// Closes the pool, flushing the SQLite WAL.
    async fn close(&self);
    /// Tell `observer`, after every write transaction commits, the persons its events named.
    /// Answers false when the backend cannot (then the caller must not cache person state).
    fn observe_commits(&self, observer: std::sync::Arc<dyn crate::CommitObserver>) -> bool {
        let _ = observer;
        false
    }
    /// An e-card with its card and holder, read at once (one statement, so one consistent
    /// snapshot): the online-verification hot path. Backends may skip the explicit transaction.
    async fn ecard_with_card(&self, id: &str) -> Result<Option<(Ecard, Card, Person)>> {
        let mut tx = self.read().await?;
        let found = tx.ecard_with_card(id).await?;
        tx.commit().await?;
        Ok(found)
    }
}

/// The primitives of one transaction. Dropping it without commit rolls back.
#[async_trait]
pub trait Tx:
    ports::Banks
    + ports::Persons
    + ports::Applications
    + ports::Cards
    + ports::Ecards
    + ports::IssuerKeys
    + ports::Outbox
    + ports::AuditLog
    + ports::Users
    + ports::Idempotency
    + ports::Stats
    + ports::Terminals
    + ports::Ledger
    + ports::Medical
    + ports::Transit
    + ports::Library
    + ports::Parks
    + ports::Uses
    + ports::Benefits
    + ports::BankReturns
    + ports::Hub
    + ports::HubSecrets
    + ports::Inbox
    + ports::NationMedical
    + Send
{
    async fn commit(self: Box<Self>) -> Result<()>;
    /// True when the transaction already excludes every other writer (SQLite's BEGIN
    /// IMMEDIATE), so a row read in it needs no second, locking read.
    fn excludes_other_writers(&self) -> bool {
        false
    }
    /// Runs one SQL statement as given. For operator maintenance and for tests that
    /// simulate tampering with the database behind sscard's back; never fed with input.
    async fn execute_unchecked(&mut self, sql: &str) -> Result<u64>;
}
