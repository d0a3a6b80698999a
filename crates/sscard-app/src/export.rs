//! Download my data (PIPL): everything held about the holder, read in one transaction so the
//! sections agree with each other. Only the holder's own rows are read, each by their person
//! id (or by the accounts of their cards); nothing is changed or recorded. PIN hashes are never
//! given out, not even to their owner: a hash of six digits is a PIN to whoever holds it.

use crate::Ctx;
use serde::Serialize;
use sscard_domain::access;
use sscard_domain::application::{Application, TimelineEntry};
use sscard_domain::card::Card;
use sscard_domain::ecard::{Authorization, Ecard};
use sscard_domain::person::Person;
use sscard_store::Result;
use sscard_store::benefits::PersonBenefitRow;
use sscard_store::model::PersonRead;
use sscard_store::onecard::{AccountRow, TransferRow, UseRow};
use sscard_store::ports::{Applications, Benefits, Ledger, Uses};
use sscard_store::tx::Store;
use std::collections::HashSet;

/// Most rows of one list section (uses, transfers); a longer history is cut at the newest
/// rows and the section named in [`PersonalData::truncated`].
pub const MAX_SECTION_ROWS: usize = 20_000;
/// Rows asked for per read of a paged section.
const PAGE: u32 = 500;
/// Most staff reads listed (the store keeps the newest 500 per read).
const MAX_READS: u32 = 500;
/// Most benefit payments listed (a monthly pension for over 80 years fits).
const MAX_BENEFITS: u32 = 1_000;

/// An application with its timeline ("where is my card").
#[derive(Debug, Clone, Serialize)]
pub struct ExportedApplication {
    pub application: Application,
    pub timeline: Vec<TimelineEntry>,
}

/// Everything held about one person.
#[derive(Debug, Clone, Serialize)]
pub struct PersonalData {
    pub exported_at_ms: i64,
    /// In full: it is the holder's own.
    pub person: Person,
    /// Without their PIN hashes.
    pub cards: Vec<Card>,
    pub applications: Vec<ExportedApplication>,
    pub ecard: Option<Ecard>,
    /// The holder's channel sign-ins and family authorizations of their e-card.
    pub authorizations: Vec<Authorization>,
    /// Uses of their cards and e-card at terminals, newest first.
    pub uses: Vec<UseRow>,
    pub accounts: Vec<AccountRow>,
    /// Money moved to or from their accounts, newest first.
    pub transfers: Vec<TransferRow>,
    /// Staff looks at their unmasked data (who saw my data), newest first.
    pub staff_reads: Vec<PersonRead>,
    /// Benefits paid to their card's account (pensions, subsidies, refunds), newest first,
    /// with the account in full: it is theirs.
    pub benefits: Vec<PersonBenefitRow>,
    /// When they last certified their eligibility (待遇资格认证), unix milliseconds.
    pub last_certified_at_ms: Option<i64>,
    /// Sections cut at their limit ([`MAX_SECTION_ROWS`], 500 staff reads).
    pub truncated: Vec<&'static str>,
}

/// The holder's own data, read in one transaction.
pub async fn export_me(store: &dyn Store, ctx: &Ctx) -> Result<PersonalData> {
    let person_id = access::may_export_own_data(&ctx.actor)?.to_string();
    let mut tx = store.read().await?;
    let person = tx.get_person(&person_id, false).await?.ok_or_else(|| crate::not_found("person", &person_id))?;
    let cards: Vec<Card> =
        tx.cards_of_person(&person_id).await?.into_iter().map(|c| Card { pin_hash: None, ..c }).collect();
    let applications = applications(tx.as_mut(), &person_id).await?;
    let ecard = tx.ecard_of_person(&person_id).await?;
    let authorizations = tx.authorizations_of_person(&person_id).await?;
    let mut truncated = Vec::new();
    let (uses, cut) = uses(tx.as_mut(), &person_id).await?;
    if cut {
        truncated.push("uses");
    }
    let accounts = tx.accounts_of_person(&person_id).await?;
    let (transfers, cut) = transfers(tx.as_mut(), &accounts).await?;
    if cut {
        truncated.push("transfers");
    }
    let staff_reads = tx.reads_of_person(&person_id, MAX_READS).await?;
    if staff_reads.len() >= MAX_READS as usize {
        truncated.push("staff_reads");
    }
    let benefits = tx.benefits_of_person(&person_id, MAX_BENEFITS).await?;
    if benefits.len() >= MAX_BENEFITS as usize {
        truncated.push("benefits");
    }
    let last_certified_at_ms = last_certified(tx.as_mut(), &person_id).await?;
    tx.commit().await?;
    let exported_at_ms = ctx.now_ms;
    Ok(PersonalData {
        exported_at_ms,
        person,
        cards,
        applications,
        ecard,
        authorizations,
        uses,
        accounts,
        transfers,
        staff_reads,
        benefits,
        last_certified_at_ms,
        truncated,
    })
}

async fn last_certified(tx: &mut (impl Benefits + ?Sized), person_id: &str) -> Result<Option<i64>> {
    let ids = [person_id.to_string()];
    let last = tx.last_certifications(&ids).await?;
    Ok(last.into_iter().filter(|(id, _)| id == person_id).map(|(_, at)| at).max())
}

async fn applications(tx: &mut (impl Applications + ?Sized), person_id: &str) -> Result<Vec<ExportedApplication>> {
    let mut out = Vec::new();
    for application in tx.applications_of_person(person_id).await? {
        let timeline = tx.timeline(&application.id).await?;
        out.push(ExportedApplication { application, timeline });
    }
    Ok(out)
}

/// Pages newest first by time: each next page asks for rows up to and including the oldest
/// time seen (rows of one millisecond may straddle pages) and skips the ids already taken.
/// Answers the rows and whether the section was cut at [`MAX_SECTION_ROWS`].
fn take_page<T>(out: &mut Vec<T>, seen: &mut HashSet<String>, page: Vec<T>, id: impl Fn(&T) -> &str) -> bool {
    let full = page.len() >= PAGE as usize;
    let mut fresh = false;
    for row in page {
        if out.len() >= MAX_SECTION_ROWS {
            return false;
        }
        if seen.insert(id(&row).to_string()) {
            out.push(row);
            fresh = true;
        }
    }
    full && fresh
}

async fn uses(tx: &mut (impl Uses + ?Sized), person_id: &str) -> Result<(Vec<UseRow>, bool)> {
    let (mut out, mut seen, mut before) = (Vec::new(), HashSet::new(), None);
    // Bounded: every page adds a new row or ends the loop.
    for _ in 0..(MAX_SECTION_ROWS * 2) {
        let page = tx.uses_of_person(person_id, before, PAGE).await?;
        before = page.last().map(|u| u.at_ms + 1);
        if !take_page(&mut out, &mut seen, page, |u| u.id.as_str()) {
            break;
        }
    }
    let cut = out.len() >= MAX_SECTION_ROWS;
    Ok((out, cut))
}

async fn transfers(tx: &mut (impl Ledger + ?Sized), accounts: &[AccountRow]) -> Result<(Vec<TransferRow>, bool)> {
    let (mut out, mut seen) = (Vec::new(), HashSet::new());
    // The store reads the transfers of at most 20 accounts at once.
    for chunk in accounts.chunks(20) {
        let ids: Vec<String> = chunk.iter().map(|a| a.id.clone()).collect();
        let mut before = None;
        for _ in 0..(MAX_SECTION_ROWS * 2) {
            let page = tx.transfers_of(&ids, before, PAGE).await?;
            before = page.last().map(|t| t.at_ms + 1);
            if !take_page(&mut out, &mut seen, page, |t| t.id.as_str()) {
                break;
            }
        }
    }
    out.sort_by(|a, b| (b.at_ms, &b.id).cmp(&(a.at_ms, &a.id)));
    let cut = out.len() >= MAX_SECTION_ROWS;
    if out.len() > MAX_SECTION_ROWS {
        out.truncate(MAX_SECTION_ROWS);
    }
    Ok((out, cut))
}

impl PersonalData {
    /// The person the data is about.
    pub fn person_id(&self) -> &str {
        &self.person.id
    }
}
