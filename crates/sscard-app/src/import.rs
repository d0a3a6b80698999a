//! Importing older-generation (2nd generation) cards: they keep working until the
//! holder activates a third-generation card, which then replaces them.

use super::cards::subject;
use super::persons::register_in;
use super::{Ctx, record};
use serde_json::json;
use sscard_domain::access;
use sscard_domain::card::{Card, CardStatus};
use sscard_domain::document::Document;
use sscard_domain::error::DomainError;
use sscard_domain::ids::{BankCode, CardNo};
use sscard_domain::person::RegistrationInput;
use sscard_store::Result;
use sscard_store::tx::Store;
use time::Date;

/// Rows accepted in one import call.
pub const MAX_ROWS: usize = 1_000_000;

/// One line of the import file.
#[derive(Debug, Clone)]
pub struct ImportRow {
    pub person: RegistrationInput,
    pub card_no: String,
    pub bank_code: String,
    pub issued_on: Date,
    pub expires_on: Date,
}

/// What became of one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowOutcome {
    Imported,
    Skipped(String),
}

/// Imports one row in its own transaction: the person is registered if new, the card is stored active.
pub async fn import_row(store: &dyn Store, ctx: &Ctx, row: &ImportRow) -> Result<RowOutcome> {
    access::may_administer(&ctx.actor)?;
    let card_no = CardNo::parse(&row.card_no)?;
    let bank_code = BankCode::parse(&row.bank_code)?;
    let mut tx = store.write().await?;
    if tx.get_bank(bank_code.as_str()).await?.is_none() {
        return Ok(RowOutcome::Skipped(format!("no bank {bank_code}")));
    }
    if tx.get_card(card_no.as_str(), false).await?.is_some() {
        return Ok(RowOutcome::Skipped(format!("card {card_no} was already imported")));
    }
    let document =
        Document::parse(row.person.doc_type, &row.person.doc_number, ctx.today()).map_err(DomainError::from)?;
    let existing = match document.ssn() {
        Some(ssn) => tx.find_person_by_ssn(ssn.as_str()).await?,
        None => None,
    };
    let person = match existing {
        Some(p) => p,
        None => register_in(tx.as_mut(), ctx, &row.person).await?,
    };
    let person = tx.get_person(&person.id, true).await?.unwrap_or(person);
    let cards = tx.cards_of_person(&person.id).await?;
    if let Some(live) = cards.iter().find(|c| c.status.is_live()) {
        return Ok(RowOutcome::Skipped(format!("the person already has usable card {}", live.card_no)));
    }
    let status = if row.expires_on < ctx.today() { CardStatus::Cancelled } else { CardStatus::Active };
    let card = Card {
        card_no,
        person_id: person.id.clone(),
        status,
        generation: 2,
        temporary: false,
        bank_code,
        pan: None,
        card_id_code: None,
        region: person.region,
        channel: None,
        application_id: None,
        issued_on: Some(row.issued_on),
        expires_on: row.expires_on,
        pin_hash: None,
        suspended_at_ms: None,
        status_changed_at_ms: ctx.now_ms,
        produced_at_ms: ctx.now_ms,
        cancel_reason: None,
        destroyed: false,
    };
    tx.insert_card(&card).await?;
    record(
        tx.as_mut(),
        ctx,
        "card.imported",
        &subject(&card, &person),
        json!({ "generation": 2, "status": status.as_str() }),
    )
    .await?;
    super::ecard::sync_in(tx.as_mut(), ctx, &person).await?;
    tx.commit().await?;
    Ok(RowOutcome::Imported)
}
