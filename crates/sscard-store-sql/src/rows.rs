//! Turning rows back into domain values. Every stored text is parsed again through
//! the domain's constructors; a value that no longer parses is reported as corruption.

use crate::Db;
use crate::vault::Vault;
use sqlx::Row;
use sqlx::any::AnyRow;
use sscard_domain::access::Role;
use sscard_domain::application::{AppKind, AppStatus, Application, Channel, ReplacementReason, TimelineEntry};
use sscard_domain::card::{CancelReason, Card, CardStatus};
use sscard_domain::document::{DocType, Sex, Ssn};
use sscard_domain::ecard::{AuthKind, AuthStatus, Authorization, Ecard, EcardStatus};
use sscard_domain::ids::{BankCode, Bin, BranchCode, CardIdCode, CardNo, Pan, RegionCode};
use sscard_domain::money::Fen;
use sscard_domain::person::{GuardianLink, Person, PersonName};
use sscard_store::model::*;
use sscard_store::{Result, StoreError};
use time::Date;

const DATE_FORMAT: &[time::format_description::BorrowedFormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]");

pub fn date_text(date: Date) -> String {
    date.format(DATE_FORMAT).unwrap_or_default()
}

fn corrupt(col: &str, value: &str) -> StoreError {
    StoreError::corrupt(format!("column {col} holds {value:?}"))
}

pub(crate) fn text(row: &AnyRow, col: &str) -> Result<String> {
    row.try_get::<String, _>(col).db()
}
pub(crate) fn opt_text(row: &AnyRow, col: &str) -> Result<Option<String>> {
    row.try_get::<Option<String>, _>(col).db()
}
pub(crate) fn int(row: &AnyRow, col: &str) -> Result<i64> {
    row.try_get::<i64, _>(col).db()
}
pub(crate) fn opt_int(row: &AnyRow, col: &str) -> Result<Option<i64>> {
    row.try_get::<Option<i64>, _>(col).db()
}
fn flag(row: &AnyRow, col: &str) -> Result<bool> {
    Ok(int(row, col)? != 0)
}
fn date(row: &AnyRow, col: &str) -> Result<Date> {
    let t = text(row, col)?;
    Date::parse(&t, DATE_FORMAT).map_err(|_| corrupt(col, &t))
}
fn opt_date(row: &AnyRow, col: &str) -> Result<Option<Date>> {
    match opt_text(row, col)? {
        None => Ok(None),
        Some(t) => Date::parse(&t, DATE_FORMAT).map(Some).map_err(|_| corrupt(col, &t)),
    }
}
/// Parses a text column with a domain parser that returns Result.
fn parsed<T, E>(row: &AnyRow, col: &str, parse: impl FnOnce(&str) -> std::result::Result<T, E>) -> Result<T> {
    let t = text(row, col)?;
    parse(&t).map_err(|_| corrupt(col, &t))
}
fn opt_parsed<T, E>(
    row: &AnyRow,
    col: &str,
    parse: impl FnOnce(&str) -> std::result::Result<T, E>,
) -> Result<Option<T>> {
    match opt_text(row, col)? {
        None => Ok(None),
        Some(t) => parse(&t).map(Some).map_err(|_| corrupt(col, &t)),
    }
}
/// Parses a text column with a domain parser that returns Option (the string enums).
fn named<T>(row: &AnyRow, col: &str, parse: impl FnOnce(&str) -> Option<T>) -> Result<T> {
    let t = text(row, col)?;
    parse(&t).ok_or_else(|| corrupt(col, &t))
}
fn opt_named<T>(row: &AnyRow, col: &str, parse: impl FnOnce(&str) -> Option<T>) -> Result<Option<T>> {
    match opt_text(row, col)? {
        None => Ok(None),
        Some(t) => parse(&t).map(Some).ok_or_else(|| corrupt(col, &t)),
    }
}

pub fn bank(row: &AnyRow) -> Result<Bank> {
    Ok(Bank {
        code: parsed(row, "code", BankCode::parse)?,
        name: text(row, "name")?,
        bin: parsed(row, "bin", Bin::parse)?,
    })
}

pub fn branch(row: &AnyRow) -> Result<Branch> {
    Ok(Branch {
        bank_code: parsed(row, "bank_code", BankCode::parse)?,
        code: parsed(row, "code", BranchCode::parse)?,
        name: text(row, "name")?,
        region: parsed(row, "region", RegionCode::parse)?,
        has_printer: flag(row, "has_printer")?,
    })
}

pub fn person(row: &AnyRow, vault: &Vault) -> Result<Person> {
    person_prefixed(row, "", vault)
}

/// A sealed text column that must be present.
fn required(col: &str, value: Option<String>) -> Result<String> {
    value.ok_or_else(|| StoreError::corrupt(format!("column {col} is NULL")))
}

/// A person from columns named `{prefix}id`, `{prefix}ssn`, ... (joined queries); the sealed
/// columns are opened with `vault`.
pub fn person_prefixed(row: &AnyRow, prefix: &str, vault: &Vault) -> Result<Person> {
    person_with(row, prefix, &|col, id, value| vault.open_opt(&format!("persons.{col}"), &[id], value))
}

/// A person whose personal columns hold clear text (the benchmark's clear baseline).
pub fn person_in_clear(row: &AnyRow) -> Result<Person> {
    person_with(row, "", &|_, _, value| Ok(value))
}

/// What turns the stored text of a personal column (`col` of person `id`) into clear text.
type Opener<'a> = dyn Fn(&str, &str, Option<String>) -> Result<Option<String>> + 'a;

fn person_with(row: &AnyRow, prefix: &str, opener: &Opener<'_>) -> Result<Person> {
    let c = |name: &str| format!("{prefix}{name}");
    let id = text(row, &c("id"))?;
    let open = |col: &str| opener(col, &id, opt_text(row, &c(col))?);
    let guardian = match (opt_text(row, &c("guardian_id"))?, open("relationship_proof")?) {
        (Some(guardian_id), Some(relationship_proof)) => Some(GuardianLink { guardian_id, relationship_proof }),
        _ => None,
    };
    let ssn = required("ssn", open("ssn")?)?;
    let name = required("name", open("name")?)?;
    Ok(Person {
        ssn: Ssn::parse(&ssn).map_err(|_| StoreError::corrupt(format!("person {id}: sealed ssn does not parse")))?,
        doc_type: parsed(row, &c("doc_type"), DocType::parse)?,
        doc_number: required("doc_number", open("doc_number")?)?,
        name: PersonName::from_stored(name)
            .map_err(|_| StoreError::corrupt(format!("person {id}: sealed name does not parse")))?,
        sex: parsed(row, &c("sex"), Sex::parse)?,
        birth_date: date(row, &c("birth_date"))?,
        region: parsed(row, &c("region"), RegionCode::parse)?,
        guardian,
        pension_recorded: flag(row, &c("pension_recorded"))?,
        created_at_ms: int(row, &c("created_at_ms"))?,
        id,
    })
}

pub fn application(row: &AnyRow, vault: &Vault) -> Result<Application> {
    let id = text(row, "id")?;
    Ok(Application {
        mail_address: vault.open_opt("applications.mail_address", &[&id], opt_text(row, "mail_address")?)?,
        id,
        person_id: text(row, "person_id")?,
        kind: named(row, "kind", AppKind::parse)?,
        channel: named(row, "channel", Channel::parse)?,
        status: named(row, "status", AppStatus::parse)?,
        fee_fen: Fen::new(int(row, "fee_fen")?),
        bank_code: parsed(row, "bank_code", BankCode::parse)?,
        branch_code: opt_parsed(row, "branch_code", BranchCode::parse)?,
        reason: opt_named(row, "reason", ReplacementReason::parse)?,
        card_no: opt_text(row, "card_no")?,
        replaces_card_no: opt_text(row, "replaces_card_no")?,
        submitted_at_ms: int(row, "submitted_at_ms")?,
        updated_at_ms: int(row, "updated_at_ms")?,
    })
}

pub fn timeline_entry(row: &AnyRow) -> Result<TimelineEntry> {
    Ok(TimelineEntry {
        status: named(row, "status", AppStatus::parse)?,
        at_ms: int(row, "at_ms")?,
        actor: text(row, "actor")?,
    })
}

pub fn card(row: &AnyRow, vault: &Vault) -> Result<Card> {
    let generation = int(row, "generation")?;
    let card_no = text(row, "card_no")?;
    let pan = vault.open_opt("cards.pan", &[&card_no], opt_text(row, "pan")?)?;
    Ok(Card {
        pan: pan
            .map(|p| Pan::parse(&p))
            .transpose()
            .map_err(|_| StoreError::corrupt(format!("card {card_no}: sealed pan does not parse")))?,
        card_no: CardNo::parse(&card_no).map_err(|_| corrupt("card_no", &card_no))?,
        person_id: text(row, "person_id")?,
        status: named(row, "status", CardStatus::parse)?,
        generation: u8::try_from(generation).map_err(|_| corrupt("generation", &generation.to_string()))?,
        temporary: flag(row, "temporary")?,
        bank_code: parsed(row, "bank_code", BankCode::parse)?,
        card_id_code: opt_parsed(row, "card_id_code", CardIdCode::parse)?,
        region: parsed(row, "region", RegionCode::parse)?,
        channel: opt_named(row, "channel", Channel::parse)?,
        application_id: opt_text(row, "application_id")?,
        issued_on: opt_date(row, "issued_on")?,
        expires_on: date(row, "expires_on")?,
        pin_hash: opt_text(row, "pin_hash")?,
        suspended_at_ms: opt_int(row, "suspended_at_ms")?,
        status_changed_at_ms: int(row, "status_changed_at_ms")?,
        produced_at_ms: int(row, "produced_at_ms")?,
        cancel_reason: opt_named(row, "cancel_reason", CancelReason::parse)?,
        destroyed: flag(row, "destroyed")?,
    })
}

pub fn event(row: &AnyRow) -> Result<Event> {
    let payload = text(row, "payload")?;
    Ok(Event {
        seq: int(row, "seq")?,
        at_ms: int(row, "at_ms")?,
        kind: text(row, "kind")?,
        entity: text(row, "entity")?,
        entity_id: text(row, "entity_id")?,
        person_id: text(row, "person_id")?,
        region: text(row, "region")?,
        payload: serde_json::from_str(&payload).map_err(|_| corrupt("payload", &payload))?,
    })
}

pub fn audit(row: &AnyRow) -> Result<AuditRow> {
    Ok(AuditRow {
        seq: int(row, "seq")?,
        at_ms: int(row, "at_ms")?,
        actor: text(row, "actor")?,
        action: text(row, "action")?,
        entity: text(row, "entity")?,
        entity_id: text(row, "entity_id")?,
        detail: text(row, "detail")?,
        chain_pos: opt_int(row, "chain_pos")?,
        prev_hash: opt_text(row, "prev_hash")?,
        hash: opt_text(row, "hash")?,
    })
}

pub fn user(row: &AnyRow) -> Result<User> {
    Ok(User {
        username: text(row, "username")?,
        password_hash: text(row, "password_hash")?,
        role: named(row, "role", Role::parse)?,
        person_id: opt_text(row, "person_id")?,
        bank_code: opt_text(row, "bank_code")?,
        branch_code: opt_text(row, "branch_code")?,
        created_at_ms: int(row, "created_at_ms")?,
    })
}

pub fn ecard(row: &AnyRow) -> Result<Ecard> {
    ecard_prefixed(row, "")
}

/// An e-card from columns named `{prefix}id`, ... (joined queries).
pub fn ecard_prefixed(row: &AnyRow, prefix: &str) -> Result<Ecard> {
    let c = |name: &str| format!("{prefix}{name}");
    Ok(Ecard {
        id: text(row, &c("id"))?,
        person_id: text(row, &c("person_id"))?,
        region: parsed(row, &c("region"), RegionCode::parse)?,
        card_no: parsed(row, &c("card_no"), CardNo::parse)?,
        status: named(row, &c("status"), EcardStatus::parse)?,
        created_at_ms: int(row, &c("created_at_ms"))?,
        updated_at_ms: int(row, &c("updated_at_ms"))?,
    })
}

pub fn authorization(row: &AnyRow) -> Result<Authorization> {
    Ok(Authorization {
        id: text(row, "id")?,
        ecard_id: text(row, "ecard_id")?,
        person_id: text(row, "person_id")?,
        kind: named(row, "kind", AuthKind::parse)?,
        channel: opt_text(row, "channel")?,
        grantee_person_id: opt_text(row, "grantee_person_id")?,
        status: named(row, "status", AuthStatus::parse)?,
        created_at_ms: int(row, "created_at_ms")?,
        revoked_at_ms: opt_int(row, "revoked_at_ms")?,
    })
}

pub fn issuer_key(row: &AnyRow) -> Result<IssuerKeyRow> {
    let key_id = int(row, "key_id")?;
    Ok(IssuerKeyRow {
        key_id: u32::try_from(key_id).map_err(|_| corrupt("key_id", &key_id.to_string()))?,
        public_key_pem: text(row, "public_key_pem")?,
        private_key_sealed: text(row, "private_key_sealed")?,
        not_before_ms: int(row, "not_before_ms")?,
        not_after_ms: int(row, "not_after_ms")?,
        created_at_ms: int(row, "created_at_ms")?,
    })
}
