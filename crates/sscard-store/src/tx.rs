//! The repository trait. Every primitive runs in a transaction opened by
//! [`Store::write`] (serialised against other writers where the backend needs it)
//! or [`Store::read`]; nothing is visible to others until [`Tx::commit`].

use crate::Result;
use crate::model::*;
use async_trait::async_trait;
use sscard_domain::application::{Application, TimelineEntry};
use sscard_domain::card::Card;
use sscard_domain::ecard::{Authorization, Ecard};
use sscard_domain::person::Person;
use time::Date;

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
    fn observe_commits(&self, observer: std::sync::Arc<dyn crate::live::CommitObserver>) -> bool {
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
pub trait Tx: crate::onecard::OnecardTx + Send {
    async fn commit(self: Box<Self>) -> Result<()>;

    /// Next value of a named counter (card serials, assigned SSNs): 1, 2, 3, ...
    async fn next_serial(&mut self, name: &str) -> Result<u64>;

    async fn insert_bank(&mut self, bank: &Bank) -> Result<()>;
    async fn get_bank(&mut self, code: &str) -> Result<Option<Bank>>;
    async fn list_banks(&mut self) -> Result<Vec<Bank>>;
    async fn insert_branch(&mut self, branch: &Branch) -> Result<()>;
    async fn get_branch(&mut self, bank_code: &str, code: &str) -> Result<Option<Branch>>;
    async fn list_branches(&mut self, bank_code: Option<&str>) -> Result<Vec<Branch>>;

    async fn insert_person(&mut self, person: &Person) -> Result<()>;
    /// `lock`: hold the row until commit (serialises actions on one person's cards).
    async fn get_person(&mut self, id: &str, lock: bool) -> Result<Option<Person>>;
    async fn find_person_by_ssn(&mut self, ssn: &str) -> Result<Option<Person>>;
    /// Persons whose document (of any type) has this number; at most a few.
    async fn find_persons_by_doc_number(&mut self, doc_number: &str) -> Result<Vec<Person>>;
    /// The holder of a card, optionally locked, in one step where the backend can.
    async fn get_person_of_card(&mut self, card_no: &str, lock: bool) -> Result<Option<Person>> {
        let Some(card) = self.get_card(card_no, false).await? else { return Ok(None) };
        self.get_person(&card.person_id, lock).await
    }
    async fn list_persons(&mut self, page: &Page) -> Result<Vec<Person>>;

    async fn insert_application(&mut self, app: &Application, region: &str) -> Result<()>;
    async fn get_application(&mut self, id: &str, lock: bool) -> Result<Option<Application>>;
    async fn update_application(&mut self, app: &Application) -> Result<()>;
    async fn applications_of_person(&mut self, person_id: &str) -> Result<Vec<Application>>;
    async fn list_applications(&mut self, filter: &AppFilter) -> Result<Vec<Application>>;
    async fn append_step(&mut self, application_id: &str, entry: &TimelineEntry) -> Result<()>;
    async fn timeline(&mut self, application_id: &str) -> Result<Vec<TimelineEntry>>;

    async fn insert_card(&mut self, card: &Card) -> Result<()>;
    async fn get_card(&mut self, card_no: &str, lock: bool) -> Result<Option<Card>>;
    async fn update_card(&mut self, card: &Card) -> Result<()>;
    async fn cards_of_person(&mut self, person_id: &str) -> Result<Vec<Card>>;
    /// Cards in `status` whose status changed before `changed_before_ms`, oldest first, for the jobs.
    async fn cards_in_status(&mut self, status: &str, changed_before_ms: i64, limit: u32) -> Result<Vec<Card>>;
    /// Non-final temporary cards that expire before `date`.
    async fn temporary_cards_expiring_before(&mut self, date: Date, limit: u32) -> Result<Vec<Card>>;

    /// Appends an outbox event; returns its sequence number.
    async fn append_event(&mut self, event: &NewEvent) -> Result<i64>;
    /// Committed events after `seq` in order, at most `limit`.
    async fn events_after(&mut self, seq: i64, limit: u32) -> Result<Vec<Event>>;

    async fn append_audit(&mut self, record: &NewAudit) -> Result<()>;
    /// Appends a change's outbox event and its audit record together; returns the event's
    /// sequence number. Backends that can do it in one statement override this.
    async fn append_record(&mut self, event: &NewEvent, audit: &NewAudit) -> Result<i64> {
        let seq = self.append_event(event).await?;
        self.append_audit(audit).await?;
        Ok(seq)
    }
    /// True when the transaction already excludes every other writer (SQLite's BEGIN
    /// IMMEDIATE), so a row read in it needs no second, locking read.
    fn excludes_other_writers(&self) -> bool {
        false
    }
    /// Audit rows not yet sealed into the chain, by sequence.
    async fn unsealed_audit(&mut self, limit: u32) -> Result<Vec<AuditRow>>;
    /// The chain head (position, hash), locked until commit so only one sealer runs.
    async fn lock_audit_head(&mut self) -> Result<(i64, String)>;
    async fn seal_audit(&mut self, seq: i64, chain_pos: i64, prev_hash: &str, hash: &str) -> Result<()>;
    async fn set_audit_head(&mut self, chain_pos: i64, hash: &str) -> Result<()>;
    /// Sealed rows with chain position after `after_pos`, in chain order.
    async fn audit_chain(&mut self, after_pos: i64, limit: u32) -> Result<Vec<AuditRow>>;
    async fn audit_of_entity(&mut self, entity: &str, entity_id: &str, limit: u32) -> Result<Vec<AuditRow>>;

    async fn insert_user(&mut self, user: &User) -> Result<()>;
    async fn get_user(&mut self, username: &str) -> Result<Option<User>>;
    async fn insert_session(&mut self, session: &Session) -> Result<()>;
    async fn get_session(&mut self, token_hash: &str) -> Result<Option<Session>>;
    async fn delete_session(&mut self, token_hash: &str) -> Result<()>;

    async fn get_idempotency(&mut self, scope: &str, key: &str) -> Result<Option<IdemRecord>>;
    async fn put_idempotency(&mut self, record: &IdemRecord) -> Result<()>;

    async fn overview(&mut self) -> Result<Overview>;
    /// Applications submitted since `since_ms`, counted per period of `period_ms` and channel:
    /// `(period index from since_ms, channel, count)`.
    async fn applications_over_time(&mut self, since_ms: i64, period_ms: i64) -> Result<Vec<(i64, String, i64)>>;
    /// E-cards usable now and cards active now (the e-card issuance rate).
    async fn ecard_rate(&mut self) -> Result<(i64, i64)>;

    async fn insert_ecard(&mut self, ecard: &Ecard) -> Result<()>;
    async fn update_ecard(&mut self, ecard: &Ecard) -> Result<()>;
    async fn get_ecard(&mut self, id: &str) -> Result<Option<Ecard>>;
    async fn ecard_of_person(&mut self, person_id: &str) -> Result<Option<Ecard>>;
    /// An e-card with its card and holder in one read (the online verification hot path).
    async fn ecard_with_card(&mut self, id: &str) -> Result<Option<(Ecard, Card, Person)>>;
    /// Ids of stopped e-cards after `after_id` in id order, at most `limit` (<= 10,000).
    async fn stopped_ecards(&mut self, after_id: Option<&str>, limit: u32) -> Result<Vec<String>>;
    /// Committed e-card events (entity `ecard`) after `seq` in order, at most `limit`.
    async fn ecard_events_after(&mut self, seq: i64, limit: u32) -> Result<Vec<Event>>;
    /// The highest committed (visible, as for [`Tx::events_after`]) event sequence number, 0 if none.
    async fn max_event_seq(&mut self) -> Result<i64>;

    async fn insert_authorization(&mut self, auth: &Authorization) -> Result<()>;
    async fn get_authorization(&mut self, id: &str) -> Result<Option<Authorization>>;
    async fn update_authorization(&mut self, auth: &Authorization) -> Result<()>;
    /// Authorizations a person granted, newest first (at most 200).
    async fn authorizations_of_person(&mut self, person_id: &str) -> Result<Vec<Authorization>>;
    /// Live family authorizations granted to `grantee_person_id` (at most 200).
    async fn family_grants_to(&mut self, grantee_person_id: &str) -> Result<Vec<Authorization>>;

    async fn insert_issuer_key(&mut self, key: &IssuerKeyRow) -> Result<()>;
    /// All issuer keys by id (at most 1000).
    async fn issuer_keys(&mut self) -> Result<Vec<IssuerKeyRow>>;
    async fn set_issuer_key_not_after(&mut self, key_id: u32, not_after_ms: i64) -> Result<()>;

    /// Login accounts linked to a person (at most 20).
    async fn users_of_person(&mut self, person_id: &str) -> Result<Vec<User>>;

    /// Runs one SQL statement as given. For operator maintenance and for tests that
    /// simulate tampering with the database behind sscard's back; never fed with input.
    async fn execute_unchecked(&mut self, sql: &str) -> Result<u64>;
}
