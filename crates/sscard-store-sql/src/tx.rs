//! [`Tx`] over one sqlx transaction. Plain SQL, one statement per primitive.

use super::rows::{self, date_text};
use super::{Dialect, bulk};
use crate::Db;
use crate::vault::Vault;
use async_trait::async_trait;
use sqlx::any::AnyRow;
use sqlx::{Any, AssertSqlSafe, Row, Transaction};
use sscard_domain::application::{Application, TimelineEntry};
use sscard_domain::card::Card;
use sscard_domain::ecard::{Authorization, Ecard};
use sscard_domain::person::Person;
use sscard_store::model::*;
use sscard_store::onecard::UsageCount;
use sscard_store::ports::{self, Outbox};
use sscard_store::tx::Tx;
use sscard_store::{Result, StoreError};
use std::sync::Arc;
use time::Date;

/// One open transaction on a [`super::SqlStore`].
pub struct SqlTx {
    tx: Transaction<'static, Any>,
    dialect: Dialect,
    /// Opened by `Store::write` (SQLite: BEGIN IMMEDIATE).
    writing: bool,
    /// Told the persons of this transaction's events once it commits.
    observers: Option<super::Observers>,
    /// The persons named by the events written so far.
    touched: Vec<String>,
    /// Seals and opens the personal data columns.
    vault: Arc<Vault>,
}

impl SqlTx {
    pub(super) fn new(tx: Transaction<'static, Any>, dialect: Dialect, writing: bool, vault: Arc<Vault>) -> Self {
        Self { tx, dialect, writing, observers: None, touched: Vec::new(), vault }
    }
    pub(super) fn observed_by(mut self, observers: super::Observers) -> Self {
        self.observers = Some(observers);
        self
    }
    pub(super) fn touch(&mut self, person_id: &str) {
        if !person_id.is_empty() && !self.touched.iter().any(|p| p == person_id) {
            self.touched.push(person_id.to_string());
        }
    }
    /// The connection of the transaction, for the primitives in sibling modules.
    pub(super) fn conn(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.tx
    }
    pub(super) fn dialect(&self) -> Dialect {
        self.dialect
    }
    pub(super) fn vault(&self) -> &Vault {
        &self.vault
    }
}

pub(super) const PERSON_COLS: &str = "id, ssn, doc_type, doc_number, name, sex, birth_date, region, guardian_id, relationship_proof, pension_recorded, created_at_ms";
const APP_COLS: &str = "id, person_id, kind, channel, status, fee_fen, bank_code, branch_code, mail_address, reason, card_no, replaces_card_no, submitted_at_ms, updated_at_ms";
pub(super) const CARD_COLS: &str = "card_no, person_id, region, status, generation, temporary, bank_code, pan, card_id_code, channel, application_id, issued_on, expires_on, pin_hash, suspended_at_ms, status_changed_at_ms, produced_at_ms, cancel_reason, destroyed";
pub(super) const ECARD_COLS: &str = "id, person_id, region, card_no, status, created_at_ms, updated_at_ms";
const AUTH_COLS: &str =
    "id, ecard_id, person_id, kind, channel, grantee_person_id, status, created_at_ms, revoked_at_ms";
const KEY_COLS: &str = "key_id, public_key_pem, private_key_sealed, not_before_ms, not_after_ms, created_at_ms";
pub(super) const AUDIT_COLS: &str = "seq, at_ms, actor, action, entity, entity_id, detail, chain_pos, prev_hash, hash";

/// The joined read of an e-card, its card and its holder (columns `e_*`, card columns, `p_*`).
pub(super) fn ecard_with_card_sql() -> &'static str {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SQL.get_or_init(|| {
        let cols = |table: &str, cols: &str, alias: &str| {
            cols.split(", ").map(|c| format!("{table}.{c} AS {alias}{c}")).collect::<Vec<_>>().join(", ")
        };
        format!(
            "SELECT {}, {}, {} FROM ecards e JOIN cards c ON c.card_no = e.card_no JOIN persons p ON p.id = e.person_id WHERE e.id = $1",
            cols("e", ECARD_COLS, "e_"),
            cols("c", CARD_COLS, ""),
            cols("p", PERSON_COLS, "p_"),
        )
    })
}

pub(super) fn ecard_with_card_row(row: &AnyRow, vault: &Vault) -> Result<(Ecard, Card, Person)> {
    Ok((rows::ecard_prefixed(row, "e_")?, rows::card(row, vault)?, rows::person_prefixed(row, "p_", vault)?))
}

fn flag(b: bool) -> i64 {
    b as i64
}

/// `$1, $2, ..., $n`.
fn placeholders(n: usize) -> String {
    (1..=n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// The columns a person row is written with: [`PERSON_COLS`], the data key version and the
/// two blind indexes.
pub(super) const PERSON_INSERT_COLS: &str = "id, ssn, doc_type, doc_number, name, sex, birth_date, region, guardian_id, relationship_proof, pension_recorded, created_at_ms, key_version, ssn_index, doc_index";
/// The columns a card row is written with: [`CARD_COLS`], the data key version, the PAN's index.
pub(super) const CARD_INSERT_COLS: &str = "card_no, person_id, region, status, generation, temporary, bank_code, pan, card_id_code, channel, application_id, issued_on, expires_on, pin_hash, suspended_at_ms, status_changed_at_ms, produced_at_ms, cancel_reason, destroyed, key_version, pan_index";

/// A person's row as stored, in [`PERSON_INSERT_COLS`] order: personal data sealed under the
/// current data key (bound to the row's id), the SSN and document blind-indexed. One place for
/// a single insert and a bulk one, so both write the same.
pub(super) fn person_values<'a>(v: &Vault, p: &'a Person) -> Vec<bulk::V<'a>> {
    use bulk::V;
    let id = [p.id.as_str()];
    let proof = p.guardian.as_ref().map(|g| g.relationship_proof.as_str());
    vec![
        V::Text(&p.id),
        V::Owned(v.seal("persons.ssn", &id, p.ssn.as_str())),
        V::Text(p.doc_type.as_str()),
        V::Owned(v.seal("persons.doc_number", &id, p.doc_number.as_str())),
        V::Owned(v.seal("persons.name", &id, p.name.as_str())),
        V::Text(p.sex.as_str()),
        V::Owned(date_text(p.birth_date)),
        V::Owned(p.region.to_string()),
        V::OptText(p.guardian.as_ref().map(|g| g.guardian_id.as_str())),
        V::OptOwned(v.seal_opt("persons.relationship_proof", &id, proof)),
        V::Int(flag(p.pension_recorded)),
        V::Int(p.created_at_ms),
        V::Int(i64::from(v.current())),
        V::Owned(v.ssn_index(p.ssn.as_str())),
        V::Owned(v.doc_index(p.doc_number.as_str())),
    ]
}

/// A card's row as stored, in [`CARD_INSERT_COLS`] order: the PAN sealed and indexed.
pub(super) fn card_values<'a>(v: &Vault, c: &'a Card) -> Vec<bulk::V<'a>> {
    use bulk::V;
    let pan = c.pan.as_ref().map(|p| p.as_str());
    vec![
        V::Text(c.card_no.as_str()),
        V::Text(&c.person_id),
        V::Owned(c.region.to_string()),
        V::Text(c.status.as_str()),
        V::Int(c.generation as i64),
        V::Int(flag(c.temporary)),
        V::Text(c.bank_code.as_str()),
        V::OptOwned(v.seal_opt("cards.pan", &[c.card_no.as_str()], pan)),
        V::OptText(c.card_id_code.as_ref().map(|p| p.as_str())),
        V::OptText(c.channel.map(|ch| ch.as_str())),
        V::OptText(c.application_id.as_deref()),
        V::OptOwned(c.issued_on.map(date_text)),
        V::Owned(date_text(c.expires_on)),
        V::OptText(c.pin_hash.as_deref()),
        V::OptInt(c.suspended_at_ms),
        V::Int(c.status_changed_at_ms),
        V::Int(c.produced_at_ms),
        V::OptText(c.cancel_reason.map(|r| r.as_str())),
        V::Int(flag(c.destroyed)),
        V::Int(i64::from(v.current())),
        V::OptOwned(pan.map(|p| v.pan_index(p))),
    ]
}

/// An e-card's row, in [`ECARD_COLS`] order.
pub(super) fn ecard_values(e: &Ecard) -> Vec<bulk::V<'_>> {
    use bulk::V;
    vec![
        V::Text(&e.id),
        V::Text(&e.person_id),
        V::Owned(e.region.to_string()),
        V::Text(e.card_no.as_str()),
        V::Text(e.status.as_str()),
        V::Int(e.created_at_ms),
        V::Int(e.updated_at_ms),
    ]
}

/// Maps a unique violation to a named duplicate.
fn dup(what: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |e| match crate::error::store_error(e) {
        StoreError::Duplicate { detail, .. } => StoreError::Duplicate { what, detail },
        other => other,
    }
}

/// `n` parameters for an `IN (...)` list: `$1, ..., $n` on PostgreSQL, `?` on SQLite (which
/// looks every `$n` up among the names before it).
fn in_list(dialect: Dialect, n: usize) -> String {
    match dialect {
        Dialect::Postgres => (1..=n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", "),
        Dialect::Sqlite => vec!["?"; n].join(", "),
    }
}

fn all<T>(rows: Vec<AnyRow>, map: impl Fn(&AnyRow) -> Result<T>) -> Result<Vec<T>> {
    rows.iter().map(map).collect()
}

#[async_trait]
impl Tx for SqlTx {
    async fn commit(self: Box<Self>) -> Result<()> {
        let SqlTx { tx, observers, touched, .. } = *self;
        tx.commit().await.db()?;
        if let Some(observers) = observers.filter(|_| !touched.is_empty()) {
            for o in observers.read().unwrap_or_else(|p| p.into_inner()).iter() {
                o.committed(&touched);
            }
        }
        Ok(())
    }

    fn excludes_other_writers(&self) -> bool {
        self.dialect == Dialect::Sqlite && self.writing
    }

    async fn execute_unchecked(&mut self, sql: &str) -> Result<u64> {
        self.execute_unchecked_sql(sql).await
    }
}

#[async_trait]
impl ports::Persons for SqlTx {
    async fn insert_read(&mut self, r: &PersonRead) -> Result<()> {
        sqlx::query(
            "INSERT INTO person_reads (id, person_id, at_ms, actor, role, bank_code, what) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(r.id.as_str())
        .bind(r.person_id.as_str())
        .bind(r.at_ms)
        .bind(r.actor.as_str())
        .bind(r.role.as_str())
        .bind(r.bank_code.clone())
        .bind(r.what.as_str())
        .execute(&mut *self.tx)
        .await
        .db()?;
        Ok(())
    }

    async fn reads_of_person(&mut self, person_id: &str, limit: u32) -> Result<Vec<PersonRead>> {
        let rows = sqlx::query(
            "SELECT id, person_id, at_ms, actor, role, bank_code, what FROM person_reads \
             WHERE person_id = $1 ORDER BY at_ms DESC, id DESC LIMIT $2",
        )
        .bind(person_id)
        .bind(i64::from(limit.clamp(1, 500)))
        .fetch_all(&mut *self.tx)
        .await
        .db()?;
        rows.iter()
            .map(|r| {
                Ok(PersonRead {
                    id: rows::text(r, "id")?,
                    person_id: rows::text(r, "person_id")?,
                    at_ms: rows::int(r, "at_ms")?,
                    actor: rows::text(r, "actor")?,
                    role: rows::text(r, "role")?,
                    bank_code: rows::opt_text(r, "bank_code")?,
                    what: rows::text(r, "what")?,
                })
            })
            .collect()
    }

    async fn banks_serving(&mut self, person_id: &str) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT bank_code FROM cards WHERE person_id = $1 \
             UNION SELECT bank_code FROM applications WHERE person_id = $1 ORDER BY 1 LIMIT 50",
        )
        .bind(person_id)
        .fetch_all(&mut *self.tx)
        .await
        .db()?;
        rows.iter().map(|r| rows::text(r, "bank_code")).collect()
    }

    async fn next_serial(&mut self, name: &str) -> Result<u64> {
        sqlx::query("INSERT INTO counters (name, value) VALUES ($1, 0) ON CONFLICT (name) DO NOTHING")
            .bind(name)
            .execute(&mut *self.tx)
            .await
            .db()?;
        let row = sqlx::query("UPDATE counters SET value = value + 1 WHERE name = $1 RETURNING value")
            .bind(name)
            .fetch_one(&mut *self.tx)
            .await
            .db()?;
        let value = rows::int(&row, "value")?;
        u64::try_from(value).map_err(|_| StoreError::corrupt(format!("counter {name} is {value}")))
    }

    async fn insert_person(&mut self, p: &Person) -> Result<()> {
        let sql = format!("INSERT INTO persons ({PERSON_INSERT_COLS}) VALUES ({})", placeholders(15));
        let values = person_values(&self.vault, p);
        bulk::bind(sqlx::query(AssertSqlSafe(sql)), values).execute(&mut *self.tx).await.map_err(dup("person"))?;
        Ok(())
    }

    async fn get_person(&mut self, id: &str, lock: bool) -> Result<Option<Person>> {
        let lock = if lock { self.dialect.for_update() } else { "" };
        let sql = format!("SELECT {PERSON_COLS} FROM persons WHERE id = $1{lock}");
        let row = sqlx::query(AssertSqlSafe(sql)).bind(id).fetch_optional(&mut *self.tx).await.db()?;
        row.as_ref().map(|r| rows::person(r, &self.vault)).transpose()
    }

    async fn get_person_of_card(&mut self, card_no: &str, lock: bool) -> Result<Option<Person>> {
        let lock = if lock { self.dialect.for_update() } else { "" };
        let sql = format!(
            "SELECT {PERSON_COLS} FROM persons WHERE id = (SELECT person_id FROM cards WHERE card_no = $1){lock}"
        );
        let row = sqlx::query(AssertSqlSafe(sql)).bind(card_no).fetch_optional(&mut *self.tx).await.db()?;
        row.as_ref().map(|r| rows::person(r, &self.vault)).transpose()
    }

    async fn find_persons_by_doc_number(&mut self, doc_number: &str) -> Result<Vec<Person>> {
        let sql = format!("SELECT {PERSON_COLS} FROM persons WHERE doc_index = $1 ORDER BY id LIMIT 10");
        let index = self.vault.doc_index(doc_number);
        let found = sqlx::query(AssertSqlSafe(sql)).bind(index).fetch_all(&mut *self.tx).await.db()?;
        all(found, |r| rows::person(r, &self.vault))
    }

    async fn find_person_by_ssn(&mut self, ssn: &str) -> Result<Option<Person>> {
        let sql = format!("SELECT {PERSON_COLS} FROM persons WHERE ssn_index = $1");
        let index = self.vault.ssn_index(ssn);
        let row = sqlx::query(AssertSqlSafe(sql)).bind(index).fetch_optional(&mut *self.tx).await.db()?;
        row.as_ref().map(|r| rows::person(r, &self.vault)).transpose()
    }

    async fn find_persons_by_ssns(&mut self, ssns: &[String]) -> Result<Vec<Person>> {
        let ssns = &ssns[..ssns.len().min(ports::MAX_PERSONS_PER_READ)];
        if ssns.is_empty() {
            return Ok(Vec::new());
        }
        // One read through the blind index for the whole list.
        let list = in_list(self.dialect, ssns.len());
        let sql = format!("SELECT {PERSON_COLS} FROM persons WHERE ssn_index IN ({list})");
        let mut q = sqlx::query(AssertSqlSafe(sql)).persistent(false);
        for ssn in ssns {
            q = q.bind(self.vault.ssn_index(ssn));
        }
        let found = q.fetch_all(&mut *self.tx).await.db()?;
        all(found, |r| rows::person(r, &self.vault))
    }

    async fn list_persons(&mut self, page: &Page) -> Result<Vec<Person>> {
        let sql = format!("SELECT {PERSON_COLS} FROM persons WHERE ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2");
        let found = sqlx::query(AssertSqlSafe(sql))
            .bind(page.after.as_deref())
            .bind(page.bounded_limit())
            .fetch_all(&mut *self.tx)
            .await
            .db()?;
        all(found, |r| rows::person(r, &self.vault))
    }
}

#[async_trait]
impl ports::Banks for SqlTx {
    async fn insert_bank(&mut self, bank: &Bank) -> Result<()> {
        sqlx::query("INSERT INTO banks (code, name, bin) VALUES ($1, $2, $3)")
            .bind(bank.code.as_str())
            .bind(bank.name.as_str())
            .bind(bank.bin.as_str())
            .execute(&mut *self.tx)
            .await
            .map_err(dup("bank"))?;
        Ok(())
    }

    async fn get_bank(&mut self, code: &str) -> Result<Option<Bank>> {
        let row = sqlx::query("SELECT code, name, bin FROM banks WHERE code = $1")
            .bind(code)
            .fetch_optional(&mut *self.tx)
            .await
            .db()?;
        row.as_ref().map(rows::bank).transpose()
    }

    async fn list_banks(&mut self) -> Result<Vec<Bank>> {
        let found = sqlx::query("SELECT code, name, bin FROM banks ORDER BY code LIMIT 1000")
            .fetch_all(&mut *self.tx)
            .await
            .db()?;
        all(found, rows::bank)
    }

    async fn insert_branch(&mut self, b: &Branch) -> Result<()> {
        sqlx::query("INSERT INTO branches (bank_code, code, name, region, has_printer) VALUES ($1, $2, $3, $4, $5)")
            .bind(b.bank_code.as_str())
            .bind(b.code.as_str())
            .bind(b.name.as_str())
            .bind(b.region.to_string())
            .bind(flag(b.has_printer))
            .execute(&mut *self.tx)
            .await
            .map_err(dup("branch"))?;
        Ok(())
    }

    async fn get_branch(&mut self, bank_code: &str, code: &str) -> Result<Option<Branch>> {
        let row = sqlx::query(
            "SELECT bank_code, code, name, region, has_printer FROM branches WHERE bank_code = $1 AND code = $2",
        )
        .bind(bank_code)
        .bind(code)
        .fetch_optional(&mut *self.tx)
        .await
        .db()?;
        row.as_ref().map(rows::branch).transpose()
    }

    async fn list_branches(&mut self, bank_code: Option<&str>) -> Result<Vec<Branch>> {
        let found = sqlx::query(
            "SELECT bank_code, code, name, region, has_printer FROM branches WHERE ($1 IS NULL OR bank_code = $1) ORDER BY bank_code, code LIMIT 5000",
        )
        .bind(bank_code)
        .fetch_all(&mut *self.tx)
        .await.db()?;
        all(found, rows::branch)
    }
}

#[async_trait]
impl ports::Applications for SqlTx {
    async fn insert_application(&mut self, a: &Application, region: &str) -> Result<()> {
        let sql = format!(
            "INSERT INTO applications ({APP_COLS}, region, key_version) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
        );
        let mail_address = self.vault.seal_opt("applications.mail_address", &[&a.id], a.mail_address.as_deref());
        sqlx::query(AssertSqlSafe(sql))
            .bind(a.id.as_str())
            .bind(a.person_id.as_str())
            .bind(a.kind.as_str())
            .bind(a.channel.as_str())
            .bind(a.status.as_str())
            .bind(a.fee_fen.value())
            .bind(a.bank_code.as_str())
            .bind(a.branch_code.as_ref().map(|b| b.as_str().to_string()))
            .bind(mail_address)
            .bind(a.reason.map(|r| r.as_str()))
            .bind(a.card_no.clone())
            .bind(a.replaces_card_no.clone())
            .bind(a.submitted_at_ms)
            .bind(a.updated_at_ms)
            .bind(region)
            .bind(i64::from(self.vault.current()))
            .execute(&mut *self.tx)
            .await
            .map_err(dup("application"))?;
        Ok(())
    }

    async fn get_application(&mut self, id: &str, lock: bool) -> Result<Option<Application>> {
        let lock = if lock { self.dialect.for_update() } else { "" };
        let sql = format!("SELECT {APP_COLS} FROM applications WHERE id = $1{lock}");
        let row = sqlx::query(AssertSqlSafe(sql)).bind(id).fetch_optional(&mut *self.tx).await.db()?;
        row.as_ref().map(|r| rows::application(r, &self.vault)).transpose()
    }

    async fn update_application(&mut self, a: &Application) -> Result<()> {
        let done = sqlx::query("UPDATE applications SET status = $2, card_no = $3, updated_at_ms = $4 WHERE id = $1")
            .bind(a.id.as_str())
            .bind(a.status.as_str())
            .bind(a.card_no.clone())
            .bind(a.updated_at_ms)
            .execute(&mut *self.tx)
            .await
            .db()?;
        if done.rows_affected() != 1 {
            return Err(StoreError::not_found("application", a.id.clone()));
        }
        Ok(())
    }

    async fn applications_of_person(&mut self, person_id: &str) -> Result<Vec<Application>> {
        let sql = format!("SELECT {APP_COLS} FROM applications WHERE person_id = $1 ORDER BY id LIMIT 200");
        let found = sqlx::query(AssertSqlSafe(sql)).bind(person_id).fetch_all(&mut *self.tx).await.db()?;
        all(found, |r| rows::application(r, &self.vault))
    }

    async fn list_applications(&mut self, f: &AppFilter) -> Result<Vec<Application>> {
        let sql = format!(
            "SELECT {APP_COLS} FROM applications WHERE ($1 IS NULL OR status = $1) AND ($2 IS NULL OR bank_code = $2) \
             AND ($3 IS NULL OR person_id = $3) AND ($4 IS NULL OR id > $4) ORDER BY id LIMIT $5"
        );
        let found = sqlx::query(AssertSqlSafe(sql))
            .bind(f.status.as_deref())
            .bind(f.bank_code.as_deref())
            .bind(f.person_id.as_deref())
            .bind(f.page.after.as_deref())
            .bind(f.page.bounded_limit())
            .fetch_all(&mut *self.tx)
            .await
            .db()?;
        all(found, |r| rows::application(r, &self.vault))
    }

    async fn append_step(&mut self, application_id: &str, e: &TimelineEntry) -> Result<()> {
        sqlx::query(
            "INSERT INTO application_steps (application_id, seq, status, at_ms, actor) \
             SELECT $1, COALESCE(MAX(seq), 0) + 1, $2, $3, $4 FROM application_steps WHERE application_id = $1",
        )
        .bind(application_id)
        .bind(e.status.as_str())
        .bind(e.at_ms)
        .bind(e.actor.as_str())
        .execute(&mut *self.tx)
        .await
        .db()?;
        Ok(())
    }

    async fn timeline(&mut self, application_id: &str) -> Result<Vec<TimelineEntry>> {
        let found = sqlx::query(
            "SELECT status, at_ms, actor FROM application_steps WHERE application_id = $1 ORDER BY seq LIMIT 100",
        )
        .bind(application_id)
        .fetch_all(&mut *self.tx)
        .await
        .db()?;
        all(found, rows::timeline_entry)
    }

    async fn insert_app_reason(&mut self, r: &ports::AppReason) -> Result<()> {
        sqlx::query(
            "INSERT INTO application_reasons (application_id, kind, reason, actor, at_ms) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(r.application_id.as_str())
        .bind(r.kind.as_str())
        .bind(r.reason.as_str())
        .bind(r.actor.as_str())
        .bind(r.at_ms)
        .execute(&mut *self.tx)
        .await
        .db()?;
        Ok(())
    }

    async fn app_reasons(&mut self, application_id: &str) -> Result<Vec<ports::AppReason>> {
        let found = sqlx::query(
            "SELECT application_id, kind, reason, actor, at_ms FROM application_reasons \
             WHERE application_id = $1 ORDER BY kind LIMIT 10",
        )
        .bind(application_id)
        .fetch_all(&mut *self.tx)
        .await
        .db()?;
        found
            .iter()
            .map(|r| {
                Ok(ports::AppReason {
                    application_id: r.try_get("application_id").db()?,
                    kind: r.try_get("kind").db()?,
                    reason: r.try_get("reason").db()?,
                    actor: r.try_get("actor").db()?,
                    at_ms: r.try_get("at_ms").db()?,
                })
            })
            .collect()
    }
}

#[async_trait]
impl ports::Cards for SqlTx {
    async fn card_with_person(&mut self, card_no: &str, lock_person: bool) -> Result<Option<(Card, Person)>> {
        self.sql_card_with_person(card_no, lock_person).await
    }

    async fn cards_with_persons(&mut self, card_nos: &[String]) -> Result<Vec<(Card, Person)>> {
        self.sql_cards_with_persons(card_nos).await
    }

    async fn insert_card(&mut self, c: &Card) -> Result<()> {
        let sql = format!("INSERT INTO cards ({CARD_INSERT_COLS}) VALUES ({})", placeholders(21));
        let values = card_values(&self.vault, c);
        bulk::bind(sqlx::query(AssertSqlSafe(sql)), values).execute(&mut *self.tx).await.map_err(dup("card"))?;
        Ok(())
    }

    async fn get_card(&mut self, card_no: &str, lock: bool) -> Result<Option<Card>> {
        let lock = if lock { self.dialect.for_update() } else { "" };
        let sql = format!("SELECT {CARD_COLS} FROM cards WHERE card_no = $1{lock}");
        let row = sqlx::query(AssertSqlSafe(sql)).bind(card_no).fetch_optional(&mut *self.tx).await.db()?;
        row.as_ref().map(|r| rows::card(r, &self.vault)).transpose()
    }

    async fn update_card(&mut self, c: &Card) -> Result<()> {
        let done = sqlx::query(
            "UPDATE cards SET status = $2, issued_on = $3, expires_on = $4, pin_hash = $5, suspended_at_ms = $6, \
             status_changed_at_ms = $7, cancel_reason = $8, destroyed = $9 WHERE card_no = $1",
        )
        .bind(c.card_no.as_str())
        .bind(c.status.as_str())
        .bind(c.issued_on.map(date_text))
        .bind(date_text(c.expires_on))
        .bind(c.pin_hash.clone())
        .bind(c.suspended_at_ms)
        .bind(c.status_changed_at_ms)
        .bind(c.cancel_reason.map(|r| r.as_str()))
        .bind(flag(c.destroyed))
        .execute(&mut *self.tx)
        .await
        .map_err(dup("live card of this person"))?;
        if done.rows_affected() != 1 {
            return Err(StoreError::not_found("card", c.card_no.to_string()));
        }
        Ok(())
    }

    async fn cards_of_person(&mut self, person_id: &str) -> Result<Vec<Card>> {
        let sql =
            format!("SELECT {CARD_COLS} FROM cards WHERE person_id = $1 ORDER BY produced_at_ms, card_no LIMIT 100");
        let found = sqlx::query(AssertSqlSafe(sql)).bind(person_id).fetch_all(&mut *self.tx).await.db()?;
        all(found, |r| rows::card(r, &self.vault))
    }

    async fn cards_of_persons(&mut self, person_ids: &[String]) -> Result<Vec<Card>> {
        let ids = &person_ids[..person_ids.len().min(ports::MAX_PERSONS_PER_READ)];
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = in_list(self.dialect, ids.len());
        let sql = format!(
            "SELECT {CARD_COLS} FROM cards WHERE person_id IN ({list}) ORDER BY person_id, produced_at_ms, card_no"
        );
        let mut q = sqlx::query(AssertSqlSafe(sql)).persistent(false);
        for id in ids {
            q = q.bind(id.as_str());
        }
        let found = q.fetch_all(&mut *self.tx).await.db()?;
        all(found, |r| rows::card(r, &self.vault))
    }

    async fn cards_in_status(
        &mut self,
        status: sscard_domain::card::CardStatus,
        changed_before_ms: i64,
        limit: u32,
    ) -> Result<Vec<Card>> {
        // The status (one of the enum's fixed names) is written into the statement so the
        // planner can use the partial index of the swept statuses (migration 0028), which a
        // bound parameter would not prove.
        let status = status.as_str();
        let sql = format!(
            "SELECT {CARD_COLS} FROM cards WHERE status = '{status}' AND status_changed_at_ms < $1 \
             ORDER BY status_changed_at_ms, card_no LIMIT $2"
        );
        let found = sqlx::query(AssertSqlSafe(sql))
            .bind(changed_before_ms)
            .bind(limit.clamp(1, 10_000) as i64)
            .fetch_all(&mut *self.tx)
            .await
            .db()?;
        all(found, |r| rows::card(r, &self.vault))
    }

    async fn temporary_cards_expiring_before(&mut self, date: Date, limit: u32) -> Result<Vec<Card>> {
        let sql = format!(
            "SELECT {CARD_COLS} FROM cards WHERE temporary = 1 AND status NOT IN ('replaced','stopped','cancelled') AND expires_on < $1 ORDER BY expires_on, card_no LIMIT $2"
        );
        let found = sqlx::query(AssertSqlSafe(sql))
            .bind(date_text(date))
            .bind(limit.clamp(1, 10_000) as i64)
            .fetch_all(&mut *self.tx)
            .await
            .db()?;
        all(found, |r| rows::card(r, &self.vault))
    }
}

#[async_trait]
impl ports::Outbox for SqlTx {
    async fn append_event(&mut self, e: &NewEvent) -> Result<i64> {
        self.touch(&e.person_id);
        let row = sqlx::query(
            "INSERT INTO events (at_ms, kind, entity, entity_id, person_id, region, payload) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING seq",
        )
        .bind(e.at_ms)
        .bind(e.kind.as_str())
        .bind(e.entity)
        .bind(e.entity_id.as_str())
        .bind(e.person_id.as_str())
        .bind(e.region.as_str())
        .bind(e.payload.to_string())
        .fetch_one(&mut *self.tx)
        .await.db()?;
        rows::int(&row, "seq")
    }

    async fn events_after(&mut self, seq: i64, limit: u32) -> Result<Vec<Event>> {
        let visible = self.dialect.events_visible();
        let sql = format!(
            "SELECT seq, at_ms, kind, entity, entity_id, person_id, region, payload FROM events WHERE seq > $1{visible} ORDER BY seq LIMIT $2"
        );
        let found = sqlx::query(AssertSqlSafe(sql))
            .bind(seq)
            .bind(limit.clamp(1, 10_000) as i64)
            .fetch_all(&mut *self.tx)
            .await
            .db()?;
        all(found, rows::event)
    }

    async fn max_event_seq(&mut self) -> Result<i64> {
        let visible = self.dialect.events_visible();
        let sql = format!("SELECT CAST(COALESCE(MAX(seq), 0) AS BIGINT) AS n FROM events WHERE 1 = 1{visible}");
        let row = sqlx::query(AssertSqlSafe(sql)).fetch_one(&mut *self.tx).await.db()?;
        rows::int(&row, "n")
    }
}

#[async_trait]
impl ports::AuditLog for SqlTx {
    async fn card_audits(&mut self, card_nos: &[String], n: u32) -> Result<Vec<AuditRow>> {
        self.sql_card_audits(card_nos, n).await
    }

    async fn append_record(&mut self, e: &NewEvent, a: &NewAudit) -> Result<i64> {
        if self.dialect != Dialect::Postgres {
            let seq = self.append_event(e).await?;
            self.append_audit(a).await?;
            return Ok(seq);
        }
        self.touch(&e.person_id);
        // One round trip on PostgreSQL: the event and the audit record in one statement.
        let row = sqlx::query(
            "WITH ev AS (INSERT INTO events (at_ms, kind, entity, entity_id, person_id, region, payload) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING seq), \
             au AS (INSERT INTO audit_log (at_ms, actor, action, entity, entity_id, detail) VALUES ($8, $9, $10, $11, $12, $13)) \
             SELECT seq FROM ev",
        )
        .bind(e.at_ms)
        .bind(e.kind.as_str())
        .bind(e.entity)
        .bind(e.entity_id.as_str())
        .bind(e.person_id.as_str())
        .bind(e.region.as_str())
        .bind(e.payload.to_string())
        .bind(a.at_ms)
        .bind(a.actor.as_str())
        .bind(a.action.as_str())
        .bind(a.entity)
        .bind(a.entity_id.as_str())
        .bind(a.detail.to_string())
        .fetch_one(&mut *self.tx)
        .await.db()?;
        rows::int(&row, "seq")
    }

    async fn append_records(&mut self, records: &[(NewEvent, NewAudit)]) -> Result<()> {
        for (e, _) in records {
            self.touch(&e.person_id);
        }
        let dialect = self.dialect;
        let sections = super::bulk::records(records);
        super::bulk::run(self.conn(), dialect, sections.into()).await
    }

    async fn append_audit(&mut self, a: &NewAudit) -> Result<()> {
        sqlx::query(
            "INSERT INTO audit_log (at_ms, actor, action, entity, entity_id, detail) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(a.at_ms)
        .bind(a.actor.as_str())
        .bind(a.action.as_str())
        .bind(a.entity)
        .bind(a.entity_id.as_str())
        .bind(a.detail.to_string())
        .execute(&mut *self.tx)
        .await
        .db()?;
        Ok(())
    }

    async fn unsealed_audit(&mut self, limit: u32) -> Result<Vec<AuditRow>> {
        let sql = format!("SELECT {AUDIT_COLS} FROM audit_log WHERE chain_pos IS NULL ORDER BY seq LIMIT $1");
        let found =
            sqlx::query(AssertSqlSafe(sql)).bind(limit.clamp(1, 10_000) as i64).fetch_all(&mut *self.tx).await.db()?;
        all(found, rows::audit)
    }

    async fn lock_audit_head(&mut self) -> Result<(i64, String)> {
        let sql = format!("SELECT chain_pos, hash FROM audit_head WHERE id = 1{}", self.dialect.for_update());
        let row = sqlx::query(AssertSqlSafe(sql)).fetch_one(&mut *self.tx).await.db()?;
        Ok((rows::int(&row, "chain_pos")?, rows::text(&row, "hash")?))
    }

    async fn seal_audit(&mut self, seq: i64, chain_pos: i64, prev_hash: &str, hash: &str) -> Result<()> {
        sqlx::query(
            "UPDATE audit_log SET chain_pos = $2, prev_hash = $3, hash = $4 WHERE seq = $1 AND chain_pos IS NULL",
        )
        .bind(seq)
        .bind(chain_pos)
        .bind(prev_hash)
        .bind(hash)
        .execute(&mut *self.tx)
        .await
        .db()?;
        Ok(())
    }

    async fn set_audit_head(&mut self, chain_pos: i64, hash: &str) -> Result<()> {
        sqlx::query("UPDATE audit_head SET chain_pos = $1, hash = $2 WHERE id = 1")
            .bind(chain_pos)
            .bind(hash)
            .execute(&mut *self.tx)
            .await
            .db()?;
        Ok(())
    }

    async fn audit_chain(&mut self, after_pos: i64, limit: u32) -> Result<Vec<AuditRow>> {
        let sql = format!("SELECT {AUDIT_COLS} FROM audit_log WHERE chain_pos > $1 ORDER BY chain_pos LIMIT $2");
        let found = sqlx::query(AssertSqlSafe(sql))
            .bind(after_pos)
            .bind(limit.clamp(1, 10_000) as i64)
            .fetch_all(&mut *self.tx)
            .await
            .db()?;
        all(found, rows::audit)
    }

    async fn audit_of_entity(&mut self, entity: &str, entity_id: &str, limit: u32) -> Result<Vec<AuditRow>> {
        let sql =
            format!("SELECT {AUDIT_COLS} FROM audit_log WHERE entity = $1 AND entity_id = $2 ORDER BY seq LIMIT $3");
        let found = sqlx::query(AssertSqlSafe(sql))
            .bind(entity)
            .bind(entity_id)
            .bind(limit.clamp(1, 1000) as i64)
            .fetch_all(&mut *self.tx)
            .await
            .db()?;
        all(found, rows::audit)
    }
}

#[async_trait]
impl ports::Users for SqlTx {
    async fn insert_user(&mut self, u: &User) -> Result<()> {
        sqlx::query("INSERT INTO users (username, password_hash, role, person_id, bank_code, created_at_ms, branch_code) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(u.username.as_str())
            .bind(u.password_hash.as_str())
            .bind(u.role.as_str())
            .bind(u.person_id.clone())
            .bind(u.bank_code.clone())
            .bind(u.created_at_ms)
            .bind(u.branch_code.clone())
            .execute(&mut *self.tx)
            .await
            .map_err(dup("user"))?;
        Ok(())
    }

    async fn get_user(&mut self, username: &str) -> Result<Option<User>> {
        let row = sqlx::query(
            "SELECT username, password_hash, role, person_id, bank_code, branch_code, created_at_ms FROM users WHERE username = $1",
        )
        .bind(username)
        .fetch_optional(&mut *self.tx)
        .await
        .db()?;
        row.as_ref().map(rows::user).transpose()
    }

    async fn insert_session(&mut self, s: &Session) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, username, created_at_ms, expires_at_ms) VALUES ($1, $2, $3, $4)",
        )
        .bind(s.token_hash.as_str())
        .bind(s.username.as_str())
        .bind(s.created_at_ms)
        .bind(s.expires_at_ms)
        .execute(&mut *self.tx)
        .await
        .db()?;
        Ok(())
    }

    async fn get_session(&mut self, token_hash: &str) -> Result<Option<Session>> {
        let row = sqlx::query(
            "SELECT token_hash, username, created_at_ms, expires_at_ms FROM sessions WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&mut *self.tx)
        .await
        .db()?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(Session {
            token_hash: rows::text(&row, "token_hash")?,
            username: rows::text(&row, "username")?,
            created_at_ms: rows::int(&row, "created_at_ms")?,
            expires_at_ms: rows::int(&row, "expires_at_ms")?,
        }))
    }

    async fn delete_session(&mut self, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(&mut *self.tx).await.db()?;
        Ok(())
    }

    async fn users_of_person(&mut self, person_id: &str) -> Result<Vec<User>> {
        let found = sqlx::query(
            "SELECT username, password_hash, role, person_id, bank_code, branch_code, created_at_ms FROM users WHERE person_id = $1 ORDER BY username LIMIT 20",
        )
        .bind(person_id)
        .fetch_all(&mut *self.tx)
        .await.db()?;
        all(found, rows::user)
    }
}

#[async_trait]
impl ports::Idempotency for SqlTx {
    async fn get_idempotency(&mut self, scope: &str, key: &str) -> Result<Option<IdemRecord>> {
        let row = sqlx::query(
            "SELECT scope, key, request_hash, status, body, created_at_ms FROM idempotency WHERE scope = $1 AND key = $2",
        )
        .bind(scope)
        .bind(key)
        .fetch_optional(&mut *self.tx)
        .await
        .db()?;
        let Some(row) = row else { return Ok(None) };
        let (scope, key) = (rows::text(&row, "scope")?, rows::text(&row, "key")?);
        let at = [scope.as_str(), key.as_str()];
        let body = self.vault.open("idempotency.body", &at, &rows::text(&row, "body")?)?;
        let request_hash = self.vault.open("idempotency.request_hash", &at, &rows::text(&row, "request_hash")?)?;
        // Status 0: a typed outcome. Nonzero: an answer stored before typed outcomes.
        let outcome = match rows::int(&row, "status")? {
            0 => IdemOutcome::Typed(body),
            status => IdemOutcome::Legacy {
                status: u16::try_from(status)
                    .map_err(|_| StoreError::corrupt(format!("idempotency status {status}")))?,
                body,
            },
        };
        Ok(Some(IdemRecord { scope, key, request_hash, outcome, created_at_ms: rows::int(&row, "created_at_ms")? }))
    }

    async fn put_idempotency(&mut self, r: &IdemRecord) -> Result<()> {
        // A typed outcome is stored with status 0 (the server picks the status); only a
        // legacy answer carries its own.
        let (status, body) = match &r.outcome {
            IdemOutcome::Typed(body) => (0, body.as_str()),
            IdemOutcome::Legacy { status, body } => (i64::from(*status), body.as_str()),
        };
        // The answer carries whatever the request answered (names, full SSNs): sealed, as is
        // the hash of the request, which would confirm a guessed request body.
        let at = [r.scope.as_str(), r.key.as_str()];
        sqlx::query(
            "INSERT INTO idempotency (scope, key, request_hash, status, body, created_at_ms, key_version) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(r.scope.as_str())
        .bind(r.key.as_str())
        .bind(self.vault.seal("idempotency.request_hash", &at, &r.request_hash))
        .bind(status)
        .bind(self.vault.seal("idempotency.body", &at, body))
        .bind(r.created_at_ms)
        .bind(i64::from(self.vault.current()))
        .execute(&mut *self.tx)
        .await
        .map_err(dup("idempotency key"))?;
        Ok(())
    }
}

#[async_trait]
impl ports::Ecards for SqlTx {
    async fn insert_ecard(&mut self, e: &Ecard) -> Result<()> {
        let sql = format!("INSERT INTO ecards ({ECARD_COLS}) VALUES ({})", placeholders(7));
        let values = ecard_values(e);
        bulk::bind(sqlx::query(AssertSqlSafe(sql)), values).execute(&mut *self.tx).await.map_err(dup("e-card"))?;
        Ok(())
    }

    async fn update_ecard(&mut self, e: &Ecard) -> Result<()> {
        let done = sqlx::query("UPDATE ecards SET card_no = $2, status = $3, updated_at_ms = $4 WHERE id = $1")
            .bind(e.id.as_str())
            .bind(e.card_no.as_str())
            .bind(e.status.as_str())
            .bind(e.updated_at_ms)
            .execute(&mut *self.tx)
            .await
            .db()?;
        if done.rows_affected() != 1 {
            return Err(StoreError::not_found("e-card", e.id.clone()));
        }
        Ok(())
    }

    async fn get_ecard(&mut self, id: &str) -> Result<Option<Ecard>> {
        let sql = format!("SELECT {ECARD_COLS} FROM ecards WHERE id = $1");
        let row = sqlx::query(AssertSqlSafe(sql)).bind(id).fetch_optional(&mut *self.tx).await.db()?;
        row.as_ref().map(rows::ecard).transpose()
    }

    async fn ecard_of_person(&mut self, person_id: &str) -> Result<Option<Ecard>> {
        let sql = format!("SELECT {ECARD_COLS} FROM ecards WHERE person_id = $1");
        let row = sqlx::query(AssertSqlSafe(sql)).bind(person_id).fetch_optional(&mut *self.tx).await.db()?;
        row.as_ref().map(rows::ecard).transpose()
    }

    async fn ecard_with_card(&mut self, id: &str) -> Result<Option<(Ecard, Card, Person)>> {
        let row =
            sqlx::query(AssertSqlSafe(ecard_with_card_sql())).bind(id).fetch_optional(&mut *self.tx).await.db()?;
        row.as_ref().map(|r| ecard_with_card_row(r, &self.vault)).transpose()
    }

    async fn stopped_ecards(&mut self, after_id: Option<&str>, limit: u32) -> Result<Vec<String>> {
        let found = sqlx::query(
            "SELECT id FROM ecards WHERE status = 'stopped' AND ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2",
        )
        .bind(after_id)
        .bind(limit.clamp(1, 10_000) as i64)
        .fetch_all(&mut *self.tx)
        .await
        .db()?;
        found.iter().map(|r| rows::text(r, "id")).collect()
    }

    async fn ecard_events_after(&mut self, seq: i64, limit: u32) -> Result<Vec<Event>> {
        let visible = self.dialect.events_visible();
        let sql = format!(
            "SELECT seq, at_ms, kind, entity, entity_id, person_id, region, payload FROM events WHERE entity = 'ecard' AND seq > $1{visible} ORDER BY seq LIMIT $2"
        );
        let found = sqlx::query(AssertSqlSafe(sql))
            .bind(seq)
            .bind(limit.clamp(1, 10_000) as i64)
            .fetch_all(&mut *self.tx)
            .await
            .db()?;
        all(found, rows::event)
    }

    async fn insert_authorization(&mut self, a: &Authorization) -> Result<()> {
        let sql = format!("INSERT INTO ecard_authorizations ({AUTH_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)");
        sqlx::query(AssertSqlSafe(sql))
            .bind(a.id.as_str())
            .bind(a.ecard_id.as_str())
            .bind(a.person_id.as_str())
            .bind(a.kind.as_str())
            .bind(a.channel.clone())
            .bind(a.grantee_person_id.clone())
            .bind(a.status.as_str())
            .bind(a.created_at_ms)
            .bind(a.revoked_at_ms)
            .execute(&mut *self.tx)
            .await
            .map_err(dup("authorization"))?;
        Ok(())
    }

    async fn get_authorization(&mut self, id: &str) -> Result<Option<Authorization>> {
        let sql = format!("SELECT {AUTH_COLS} FROM ecard_authorizations WHERE id = $1{}", self.dialect.for_update());
        let row = sqlx::query(AssertSqlSafe(sql)).bind(id).fetch_optional(&mut *self.tx).await.db()?;
        row.as_ref().map(rows::authorization).transpose()
    }

    async fn update_authorization(&mut self, a: &Authorization) -> Result<()> {
        let done = sqlx::query("UPDATE ecard_authorizations SET status = $2, revoked_at_ms = $3 WHERE id = $1")
            .bind(a.id.as_str())
            .bind(a.status.as_str())
            .bind(a.revoked_at_ms)
            .execute(&mut *self.tx)
            .await
            .db()?;
        if done.rows_affected() != 1 {
            return Err(StoreError::not_found("authorization", a.id.clone()));
        }
        Ok(())
    }

    async fn authorizations_of_person(&mut self, person_id: &str) -> Result<Vec<Authorization>> {
        let sql = format!(
            "SELECT {AUTH_COLS} FROM ecard_authorizations WHERE person_id = $1 ORDER BY created_at_ms DESC, id DESC LIMIT 200"
        );
        let found = sqlx::query(AssertSqlSafe(sql)).bind(person_id).fetch_all(&mut *self.tx).await.db()?;
        all(found, rows::authorization)
    }

    async fn family_grants_to(&mut self, grantee_person_id: &str) -> Result<Vec<Authorization>> {
        let sql = format!(
            "SELECT {AUTH_COLS} FROM ecard_authorizations WHERE grantee_person_id = $1 AND kind = 'family' AND status = 'active' ORDER BY id LIMIT 200"
        );
        let found = sqlx::query(AssertSqlSafe(sql)).bind(grantee_person_id).fetch_all(&mut *self.tx).await.db()?;
        all(found, rows::authorization)
    }
}

#[async_trait]
impl ports::IssuerKeys for SqlTx {
    async fn insert_issuer_key(&mut self, k: &IssuerKeyRow) -> Result<()> {
        let sql = format!("INSERT INTO issuer_keys ({KEY_COLS}) VALUES ($1, $2, $3, $4, $5, $6)");
        sqlx::query(AssertSqlSafe(sql))
            .bind(k.key_id as i64)
            .bind(k.public_key_pem.as_str())
            .bind(k.private_key_sealed.as_str())
            .bind(k.not_before_ms)
            .bind(k.not_after_ms)
            .bind(k.created_at_ms)
            .execute(&mut *self.tx)
            .await
            .map_err(dup("issuer key"))?;
        Ok(())
    }

    async fn issuer_keys(&mut self) -> Result<Vec<IssuerKeyRow>> {
        let sql = format!("SELECT {KEY_COLS} FROM issuer_keys ORDER BY key_id LIMIT 1000");
        let found = sqlx::query(AssertSqlSafe(sql)).fetch_all(&mut *self.tx).await.db()?;
        all(found, rows::issuer_key)
    }

    async fn set_issuer_key_not_after(&mut self, key_id: u32, not_after_ms: i64) -> Result<()> {
        let done = sqlx::query("UPDATE issuer_keys SET not_after_ms = $2 WHERE key_id = $1 AND not_before_ms <= $2")
            .bind(key_id as i64)
            .bind(not_after_ms)
            .execute(&mut *self.tx)
            .await
            .db()?;
        if done.rows_affected() != 1 {
            return Err(StoreError::not_found("issuer key", key_id.to_string()));
        }
        Ok(())
    }
}

#[async_trait]
impl ports::Stats for SqlTx {
    async fn usage_counts(&mut self) -> Result<Vec<UsageCount>> {
        self.sql_usage_counts().await
    }

    async fn applications_over_time(&mut self, since_ms: i64, period_ms: i64) -> Result<Vec<(i64, String, i64)>> {
        let found = sqlx::query(
            "SELECT CAST((submitted_at_ms - $1) / $2 AS BIGINT) AS p, channel, COUNT(*) AS n FROM applications \
             WHERE submitted_at_ms >= $1 GROUP BY 1, 2 ORDER BY 1, 2 LIMIT 5000",
        )
        .bind(since_ms)
        .bind(period_ms.max(1))
        .fetch_all(&mut *self.tx)
        .await
        .db()?;
        found.iter().map(|r| Ok((rows::int(r, "p")?, rows::text(r, "channel")?, rows::int(r, "n")?))).collect()
    }

    async fn ecard_rate(&mut self) -> Result<(i64, i64)> {
        let row = sqlx::query(
            // E-cards are active or stopped; the stopped ones have an index of their own.
            "SELECT (SELECT COUNT(*) FROM ecards) - (SELECT COUNT(*) FROM ecards WHERE status = 'stopped') AS e, \
             (SELECT COUNT(*) FROM cards WHERE status = 'active') AS c",
        )
        .fetch_one(&mut *self.tx)
        .await
        .db()?;
        Ok((rows::int(&row, "e")?, rows::int(&row, "c")?))
    }

    async fn overview(&mut self) -> Result<Overview> {
        let persons = sqlx::query("SELECT COUNT(*) AS n FROM persons").fetch_one(&mut *self.tx).await.db()?;
        Ok(Overview {
            persons: rows::int(&persons, "n")?,
            applications_by_channel: self.counts("applications", "channel").await?,
            applications_by_status: self.counts("applications", "status").await?,
            cards_by_status: self.counts("cards", "status").await?,
            cards_by_generation: self.counts("cards", "generation").await?,
            cards_by_bank: self.counts("cards", "bank_code").await?,
        })
    }
}

impl SqlTx {
    async fn execute_unchecked_sql(&mut self, sql: &str) -> Result<u64> {
        // Not kept prepared: such statements are one-off texts (a benchmark's thousand-row
        // inserts, each different, would otherwise stay in every connection's statement cache,
        // hundreds of megabytes of compiled statements).
        let q = sqlx::query(AssertSqlSafe(sql.to_string())).persistent(false);
        let done = q.execute(&mut *self.tx).await.db()?;
        Ok(done.rows_affected())
    }

    /// Group counts of one column; `table` and `column` are fixed names from this file, never input.
    async fn counts(&mut self, table: &'static str, column: &'static str) -> Result<Vec<Count>> {
        let sql = format!(
            "SELECT CAST({column} AS TEXT) AS k, COUNT(*) AS n FROM {table} GROUP BY {column} ORDER BY {column} LIMIT 1000"
        );
        let found = sqlx::query(AssertSqlSafe(sql)).fetch_all(&mut *self.tx).await.db()?;
        found
            .iter()
            .map(|r| Ok(Count { key: r.try_get::<String, _>("k").db()?, count: r.try_get::<i64, _>("n").db()? }))
            .collect()
    }
}
