//! Benefits paid to the card's bank account (待遇发放): payers and their staff, programs,
//! batches ([`intake`] receives them in chunks, [`pay`] pays them in chunks), the annual
//! eligibility certification and the holder's list of benefits received. [`csv_lines`] reads
//! a batch's CSV for the server and the CLI.

pub mod csv_lines;
pub mod intake;
pub mod pay;

use super::{Ctx, Subject, new_id, record};
use crate::onecard::ledger::org;
use crate::onecard::{Presentation, holder, live_terminal, use_row, with_refusals};
use serde::Serialize;
use serde_json::json;
use sscard_domain::access::{self, Role};
use sscard_domain::benefits::{self as rules, ProgramKind, certified_until_ms};
use sscard_domain::error::DomainError;
use sscard_domain::ids::RegionCode;
use sscard_domain::ledger::AccountKind;
use sscard_domain::terminal::{Scenario, Terminal};
use sscard_store::benefits::{CertificationRow, PayerRow, PersonBenefitRow, ProgramRow};
use sscard_store::model::User;
use sscard_store::ports::Benefits;
use sscard_store::tx::Store;
use sscard_store::{Result, StoreError};

pub use intake::{Intake, begin};
pub use pay::{BatchSummary, run_batch, summary};

fn duplicate(e: StoreError, what: String) -> StoreError {
    match e {
        StoreError::Duplicate { .. } => {
            DomainError::conflict("duplicate", format!("{what} already exists"), None).into()
        }
        other => other,
    }
}

/// A new payer: code, name and region, each parsed at the edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPayer {
    pub code: String,
    pub name: String,
    pub region: RegionCode,
}

impl NewPayer {
    pub fn parse(code: &str, name: &str, region: &str) -> std::result::Result<NewPayer, DomainError> {
        let region =
            RegionCode::parse(region).map_err(|e| DomainError::invalid("bad_region", "region", e.to_string()))?;
        Ok(NewPayer { code: rules::parse_code(code, "code")?, name: rules::parse_org_name(name)?, region })
    }
}

/// Adds a payer with its ledger account `payer:<code>` (admin).
pub async fn add_payer(store: &dyn Store, ctx: &Ctx, cmd: &NewPayer) -> Result<PayerRow> {
    rules::may_manage_payers(&ctx.actor)?;
    let account = org(AccountKind::Payer, &cmd.code)?;
    let row = PayerRow {
        code: cmd.code.clone(),
        name: cmd.name.clone(),
        region: cmd.region.to_string(),
        account_id: account.to_string(),
        created_at_ms: ctx.now_ms,
    };
    let mut tx = store.write().await?;
    tx.insert_payer(&row).await.map_err(|e| duplicate(e, format!("payer {}", row.code)))?;
    tx.ensure_account(&row.account_id, AccountKind::Payer, &row.code, None, ctx.now_ms).await?;
    let subject = Subject { entity: "payer", entity_id: &row.code, person_id: "", region: row.region.clone() };
    record(tx.as_mut(), ctx, "payer.added", &subject, json!({ "payer": row })).await?;
    tx.commit().await?;
    Ok(row)
}

/// A new program, parsed at the edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewProgram {
    pub code: String,
    pub name: String,
    pub kind: ProgramKind,
    pub needs_certification: bool,
}

impl NewProgram {
    pub fn parse(
        code: &str,
        name: &str,
        kind: &str,
        needs_certification: bool,
    ) -> std::result::Result<Self, DomainError> {
        let kind = ProgramKind::parse(kind).ok_or_else(|| {
            DomainError::invalid(
                "bad_kind",
                "kind",
                "kind is pension, unemployment, injury, subsidy, tax_refund or housing",
            )
        })?;
        Ok(NewProgram {
            code: rules::parse_code(code, "code")?,
            name: rules::parse_org_name(name)?,
            kind,
            needs_certification,
        })
    }
}

/// Adds a benefit program (admin).
pub async fn add_program(store: &dyn Store, ctx: &Ctx, cmd: &NewProgram) -> Result<ProgramRow> {
    rules::may_manage_payers(&ctx.actor)?;
    let row = ProgramRow {
        code: cmd.code.clone(),
        name: cmd.name.clone(),
        kind: cmd.kind,
        needs_certification: cmd.needs_certification,
        created_at_ms: ctx.now_ms,
    };
    let mut tx = store.write().await?;
    tx.insert_program(&row).await.map_err(|e| duplicate(e, format!("program {}", row.code)))?;
    let subject = Subject { entity: "program", entity_id: &row.code, person_id: "", region: String::new() };
    record(tx.as_mut(), ctx, "benefits.program_added", &subject, json!({ "program": row })).await?;
    tx.commit().await?;
    Ok(row)
}

/// Creates a `payer` login working for `payer_code` (admin).
pub async fn add_payer_user(
    store: &dyn Store,
    ctx: &Ctx,
    username: &str,
    password: &str,
    payer_code: &str,
) -> Result<User> {
    access::may_administer(&ctx.actor)?;
    let username = access::check_login(username, password)?;
    let payer_code = rules::parse_code(payer_code, "payer_code")?;
    let mut tx = store.write().await?;
    tx.get_payer(&payer_code)
        .await?
        .ok_or_else(|| DomainError::invalid("unknown_payer", "payer_code", format!("no payer {payer_code}")))?;
    let user = User {
        username: username.to_string(),
        password_hash: sscard_gm::password::hash_password(password, ctx.hash_iterations),
        role: Role::Payer,
        person_id: None,
        bank_code: None,
        branch_code: None,
        created_at_ms: ctx.now_ms,
    };
    tx.insert_user(&user).await.map_err(|e| duplicate(e, format!("user {username}")))?;
    tx.insert_payer_staff(username, &payer_code).await?;
    let subject = Subject { entity: "user", entity_id: &user.username, person_id: "", region: String::new() };
    record(tx.as_mut(), ctx, "user.added", &subject, json!({ "role": "payer", "payer_code": payer_code })).await?;
    tx.commit().await?;
    Ok(user)
}

/// A certification made, and until when it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Certified {
    pub person_id: String,
    pub at_ms: i64,
    pub valid_until_ms: i64,
    pub channel: String,
    /// The terminal it was made at (channel `terminal`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub terminal_id: Option<String>,
}

/// The person certifies their eligibility (待遇资格认证): the holder in the portal, or the card
/// office at the counter after seeing the card. Holds `policy.certification_valid_months`.
pub async fn certify(store: &dyn Store, ctx: &Ctx, person_id: &str) -> Result<Certified> {
    rules::may_certify(&ctx.actor, person_id)?;
    let channel = if ctx.actor.role == Role::Holder { "portal" } else { "counter" };
    let mut tx = store.write().await?;
    let person = tx.get_person(person_id, true).await?.ok_or_else(|| StoreError::not_found("person", person_id))?;
    let row = CertificationRow {
        id: new_id(),
        person_id: person.id.clone(),
        at_ms: ctx.now_ms,
        channel: channel.to_string(),
        actor: ctx.actor.name.clone(),
    };
    tx.insert_certification(&row).await?;
    let out = Certified {
        person_id: person.id.clone(),
        at_ms: row.at_ms,
        valid_until_ms: certified_until_ms(row.at_ms, ctx.policy.certification_valid_months),
        channel: row.channel.clone(),
        terminal_id: None,
    };
    let subject =
        Subject { entity: "person", entity_id: &person.id, person_id: &person.id, region: person.region.to_string() };
    record(tx.as_mut(), ctx, "benefits.certified", &subject, json!({ "certification": out })).await?;
    tx.commit().await?;
    Ok(out)
}

/// The holder certifies by presenting the card or the e-card QR at an identity terminal of an
/// `agency` operator: recorded with channel `terminal` and the terminal (as its actor), and as
/// a use of the card. A card that cannot be used there now is refused (422 with its reason),
/// and the refusal is a recorded use too.
pub async fn certify_at_terminal(
    store: &dyn Store,
    ctx: &Ctx,
    terminal: &Terminal,
    p: &Presentation,
) -> Result<Certified> {
    let outcome = async {
        let mut tx = store.write().await?;
        let t = live_terminal(tx.as_mut(), &terminal.id, Scenario::Identity).await?;
        let op = tx
            .get_operator(&t.operator_code)
            .await?
            .ok_or_else(|| StoreError::not_found("operator", &t.operator_code))?;
        rules::may_certify_at(&op, &t)?;
        let h = holder(tx.as_mut(), ctx, &t, p).await?;
        let row = CertificationRow {
            id: new_id(),
            person_id: h.person.id.clone(),
            at_ms: ctx.now_ms,
            channel: "terminal".to_string(),
            actor: ctx.actor.name.clone(),
        };
        tx.insert_certification(&row).await?;
        tx.insert_use(&use_row(ctx, &t, p, Some((&h.person, &h.card)), None)).await?;
        let out = Certified {
            person_id: h.person.id.clone(),
            at_ms: row.at_ms,
            valid_until_ms: certified_until_ms(row.at_ms, ctx.policy.certification_valid_months),
            channel: row.channel.clone(),
            terminal_id: Some(t.id.clone()),
        };
        let region = h.person.region.to_string();
        let subject = Subject { entity: "person", entity_id: &h.person.id, person_id: &h.person.id, region };
        record(tx.as_mut(), ctx, "benefits.certified", &subject, json!({ "certification": out })).await?;
        tx.commit().await?;
        Ok(out)
    }
    .await;
    with_refusals(store, ctx, terminal, p, outcome).await
}

/// The benefits a person received, newest first: the holder, their guardian, the card office.
pub async fn person_benefits(
    store: &dyn Store,
    ctx: &Ctx,
    person_id: &str,
    limit: u32,
) -> Result<Vec<PersonBenefitRow>> {
    let mut tx = store.read().await?;
    let person = tx.get_person(person_id, false).await?.ok_or_else(|| StoreError::not_found("person", person_id))?;
    rules::may_view_benefits(&ctx.actor, &person)?;
    let rows = tx.benefits_of_person(person_id, limit).await?;
    tx.commit().await?;
    Ok(rows)
}

/// Batches listed at most at once.
pub const MAX_LISTED_BATCHES: u32 = 200;

/// The newest batches with their progress and outcomes: payer staff their own payer's, the
/// card office every payer's (the rules say which).
pub async fn list_batches(store: &dyn Store, ctx: &Ctx, limit: u32) -> Result<Vec<BatchSummary>> {
    let scope = rules::batch_list_scope(&ctx.actor)?;
    let mut tx = store.read().await?;
    let batches = tx.list_batches(scope.as_deref(), limit.clamp(1, MAX_LISTED_BATCHES)).await?;
    tx.commit().await?;
    let mut out = Vec::with_capacity(batches.len());
    for batch in batches {
        out.push(pay::summary_of(store, batch).await?);
    }
    Ok(out)
}

/// The payer a `payer` login works for, read at login (the actor carries it as its organisation).
pub async fn payer_of_user(tx: &mut (impl Benefits + ?Sized), username: &str) -> Result<Option<String>> {
    tx.payer_of_user(username).await
}

/// Receives and pays a batch whose lines are all at hand (a JSON body, a test): the envelope,
/// the lines in chunks, then the payment; answers the batch's summary. The same batch again
/// answers its first result (resuming its payment if it was interrupted).
pub async fn submit_lines(
    store: &dyn Store,
    ctx: &Ctx,
    env: rules::Envelope,
    lines: &[rules::RawLine],
) -> Result<BatchSummary> {
    let mut intake = begin(store, ctx, env).await?;
    for chunk in lines.chunks(rules::CHUNK_LINES) {
        intake.push(store, chunk).await?;
    }
    let batch = intake.finish(store, ctx).await?;
    let batch = run_batch(store, ctx, batch.batch_no, &mut |_| {}).await?;
    pay::summary_of(store, batch).await
}
