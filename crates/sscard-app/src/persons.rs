//! Registering and finding persons, and the newborn one-step registration (新生儿出生一件事).

use super::applications::{ApplicationView, take_application};
use super::{Ctx, Subject, new_id, not_found, record, remember_answer};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sscard_domain::access;
use sscard_domain::application::{AppKind, ApplicationInput, Channel};
use sscard_domain::disclosure::{Disclosure, Relation, disclosure};
use sscard_domain::document::{DocumentNumber, Ssn};
use sscard_domain::error::DomainError;
use sscard_domain::ids::{BankCode, BranchCode};
use sscard_domain::person::{Person, RegistrationInput, check_identity, decide_registration};
use sscard_store::model::PersonRead;
use sscard_store::ports::{AuditLog, Persons};
use sscard_store::tx::Store;
use sscard_store::{Result, StoreError};

/// Registers a person: document checks, SSN uniqueness (409), guardian rules.
pub async fn register(store: &dyn Store, ctx: &Ctx, input: RegistrationInput) -> Result<Person> {
    access::may_register(&ctx.actor)?;
    let mut tx = store.write().await?;
    let person = register_in(tx.as_mut(), ctx, &input).await?;
    remember_answer(tx.as_mut(), ctx, &person).await?;
    tx.commit().await?;
    Ok(person)
}

/// The registration steps inside an open transaction (shared with newborns and imports).
pub(crate) async fn register_in(
    tx: &mut (impl AuditLog + Persons + ?Sized),
    ctx: &Ctx,
    input: &RegistrationInput,
) -> Result<Person> {
    let identity = check_identity(input, ctx.today())?;
    let ssn = match identity.document.ssn() {
        Some(ssn) => ssn,
        None => Ssn::assigned(input.region, tx.next_serial(&format!("ssn:{}", input.region)).await?),
    };
    if let Some(existing) = tx.find_person_by_ssn(ssn.as_str()).await? {
        return Err(DomainError::conflict(
            "person_exists",
            format!("a person with social security number {} is already registered", ssn.masked()),
            Some(existing.id),
        )
        .into());
    }
    let guardian = match &input.guardian_id {
        Some(id) => tx.get_person(id, false).await?,
        None => None,
    };
    let person = decide_registration(input, identity, ssn, guardian.as_ref(), new_id(), ctx.today(), ctx.now_ms)?;
    tx.insert_person(&person).await.map_err(|e| match e {
        StoreError::Duplicate { .. } => {
            StoreError::Domain(DomainError::conflict("person_exists", "this document is already registered", None))
        }
        other => other,
    })?;
    let subject =
        Subject { entity: "person", entity_id: &person.id, person_id: &person.id, region: person.region.to_string() };
    record(
        tx,
        ctx,
        "person.registered",
        &subject,
        json!({ "doc_type": person.doc_type.as_str(), "ssn": person.ssn.masked() }),
    )
    .await?;
    Ok(person)
}

/// A person as the caller may see them: the record, and whether its identity numbers are
/// shown in full or masked (decided by `sscard_domain::disclosure`).
#[derive(Debug, Clone)]
pub struct SeenPerson {
    pub person: Person,
    pub disclosure: Disclosure,
}

/// How much of `person` the actor sees, in the caller's transaction.
async fn seen(
    tx: &mut (impl Persons + ?Sized),
    ctx: &Ctx,
    person: Person,
    found_by_number: bool,
) -> Result<SeenPerson> {
    access::may_view_person(&ctx.actor, &person.id)?;
    let serving_banks = serving_banks(tx, ctx, &person.id).await?;
    let rel = Relation { person: &person, serving_banks: &serving_banks, found_by_number };
    let disclosure = disclosure(&ctx.actor, &rel);
    Ok(SeenPerson { person, disclosure })
}

/// The banks serving the person, read only when the actor's rules depend on them.
async fn serving_banks(tx: &mut (impl Persons + ?Sized), ctx: &Ctx, person_id: &str) -> Result<Vec<String>> {
    if sscard_domain::disclosure::needs_serving_banks(&ctx.actor) {
        tx.banks_serving(person_id).await
    } else {
        Ok(Vec::new())
    }
}

/// Refuses unless the actor may see the person's uses and balances (the holder, their
/// guardian, the card office, a teller of a bank that serves them); 404 for no such person.
pub(crate) async fn check_accounts_access(tx: &mut (impl Persons + ?Sized), ctx: &Ctx, person_id: &str) -> Result<()> {
    access::may_view_person(&ctx.actor, person_id)?;
    let person = tx.get_person(person_id, false).await?.ok_or_else(|| not_found("person", person_id))?;
    let serving_banks = serving_banks(tx, ctx, person_id).await?;
    let rel = Relation { person: &person, serving_banks: &serving_banks, found_by_number: false };
    Ok(sscard_domain::disclosure::may_view_accounts(&ctx.actor, &rel)?)
}

/// Records a staff look at a person's unmasked data (who saw my data) before it is shown: if
/// the record cannot be written, the data is not shown.
async fn log_read(store: &dyn Store, ctx: &Ctx, seen: SeenPerson, what: &str) -> Result<SeenPerson> {
    if !sscard_domain::disclosure::is_recorded_read(&ctx.actor, seen.disclosure) {
        return Ok(seen);
    }
    let read = PersonRead {
        id: new_id(),
        person_id: seen.person.id.clone(),
        at_ms: ctx.now_ms,
        actor: ctx.actor.name.clone(),
        role: ctx.actor.role.as_str().to_string(),
        bank_code: ctx.actor.bank_code.clone(),
        what: what.to_string(),
    };
    let mut tx = store.write().await?;
    tx.insert_read(&read).await?;
    tx.commit().await?;
    Ok(seen)
}

/// Who saw the person's unmasked data, newest first (the holder, their guardian, the office).
pub async fn reads(store: &dyn Store, ctx: &Ctx, person_id: &str, limit: u32) -> Result<Vec<PersonRead>> {
    access::may_view_person(&ctx.actor, person_id)?;
    let mut tx = store.read().await?;
    let person = tx.get_person(person_id, false).await?.ok_or_else(|| not_found("person", person_id))?;
    sscard_domain::disclosure::may_list_reads(&ctx.actor, &person)?;
    let found = tx.reads_of_person(person_id, limit).await?;
    tx.commit().await?;
    Ok(found)
}

/// A person by id, if the actor may see them.
pub async fn get(store: &dyn Store, ctx: &Ctx, id: &str) -> Result<SeenPerson> {
    let mut tx = store.read().await?;
    let person = tx.get_person(id, false).await?.ok_or_else(|| not_found("person", id))?;
    let found = seen(tx.as_mut(), ctx, person, false).await?;
    tx.commit().await?;
    log_read(store, ctx, found, "person").await
}

/// A person by SSN (or resident ID number), if the actor may see them.
pub async fn find_by_ssn(store: &dyn Store, ctx: &Ctx, ssn: &Ssn) -> Result<SeenPerson> {
    let mut tx = store.read().await?;
    let person = tx.find_person_by_ssn(ssn.as_str()).await?.ok_or_else(|| not_found("person", &ssn.masked()))?;
    let found = seen(tx.as_mut(), ctx, person, true).await?;
    tx.commit().await?;
    log_read(store, ctx, found, "person_by_number").await
}

/// A person by social security number or by the number of any document (a passport, a
/// travel permit), as a desk types it; if the actor may see them.
pub async fn find_by_number(store: &dyn Store, ctx: &Ctx, number: &DocumentNumber) -> Result<SeenPerson> {
    let number = number.as_str();
    if let Ok(ssn) = Ssn::parse(number) {
        match find_by_ssn(store, ctx, &ssn).await {
            Err(StoreError::NotFound { .. }) => {}
            other => return other,
        }
    }
    let mut tx = store.read().await?;
    let found = tx.find_persons_by_doc_number(number).await?;
    let person =
        found.into_iter().next().ok_or_else(|| not_found("person", &sscard_domain::document::mask_id(number)))?;
    let found = seen(tx.as_mut(), ctx, person, true).await?;
    tx.commit().await?;
    log_read(store, ctx, found, "person_by_number").await
}

/// What a newborn registration carries besides the child's identity.
#[derive(Debug, Clone)]
pub struct NewbornInput {
    pub child: RegistrationInput,
    pub bank_code: BankCode,
    pub branch_code: Option<BranchCode>,
    pub mail_address: Option<String>,
}

/// The person and their first application, created together.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewbornResult {
    pub person: Person,
    pub application: ApplicationView,
}

/// Newborn registration: person (with guardian and birth certificate as proof) and first application, one transaction.
pub async fn register_newborn(store: &dyn Store, ctx: &Ctx, input: NewbornInput) -> Result<NewbornResult> {
    access::may_register(&ctx.actor)?;
    // The first application goes to a bank: a teller may only take it for their own.
    access::may_apply(&ctx.actor, "", input.bank_code.as_str())?;
    if input.child.guardian_id.is_none() || input.child.relationship_proof.is_none() {
        return Err(DomainError::invalid(
            "guardian_required",
            "guardian_id",
            "a newborn needs a guardian and the birth certificate number",
        )
        .into());
    }
    let mut tx = store.write().await?;
    let person = register_in(tx.as_mut(), ctx, &input.child).await?;
    let app_input = ApplicationInput {
        kind: AppKind::First,
        channel: Channel::Newborn,
        bank_code: input.bank_code,
        branch_code: input.branch_code,
        mail_address: input.mail_address,
        reason: None,
    };
    let application = take_application(tx.as_mut(), ctx, &person, app_input).await?;
    let result = NewbornResult { person, application };
    remember_answer(tx.as_mut(), ctx, &result).await?;
    tx.commit().await?;
    Ok(result)
}
