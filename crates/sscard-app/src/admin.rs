//! Banks, branches, user accounts and the overview statistics.

use super::{Ctx, Subject, record};
use serde_json::json;
use sscard_domain::access::{self, Role};
use sscard_domain::bank::check_bin_free;
use sscard_domain::error::DomainError;
use sscard_domain::ids::{BankCode, BranchCode};
use sscard_store::model::{Bank, Branch, Overview, User};
use sscard_store::tx::Store;
use sscard_store::{Result, StoreError};

/// Longest bank or branch name.
pub const MAX_NAME_CHARS: usize = 100;

fn check_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            "bad_name",
            "name",
            format!("a name must be 1-{MAX_NAME_CHARS} printable characters"),
        )
        .into());
    }
    Ok(name.to_string())
}

fn duplicate(e: StoreError, what: &str) -> StoreError {
    match e {
        StoreError::Duplicate { .. } => {
            DomainError::conflict("duplicate", format!("{what} already exists"), None).into()
        }
        other => other,
    }
}

pub async fn add_bank(store: &dyn Store, ctx: &Ctx, mut bank: Bank) -> Result<Bank> {
    access::may_administer(&ctx.actor)?;
    bank.name = check_name(&bank.name)?;
    let mut tx = store.write().await?;
    let registered = tx.list_banks().await?;
    check_bin_free(&bank.bin, registered.iter().filter(|b| b.code != bank.code).map(|b| (&b.code, &b.bin)))?;
    tx.insert_bank(&bank).await.map_err(|e| duplicate(e, &format!("bank {}", bank.code)))?;
    let subject = Subject { entity: "bank", entity_id: bank.code.as_str(), person_id: "", region: String::new() };
    record(tx.as_mut(), ctx, "bank.added", &subject, json!({ "name": bank.name, "bin": bank.bin.as_str() })).await?;
    tx.commit().await?;
    Ok(bank)
}

pub async fn add_branch(store: &dyn Store, ctx: &Ctx, mut branch: Branch) -> Result<Branch> {
    access::may_administer(&ctx.actor)?;
    branch.name = check_name(&branch.name)?;
    let mut tx = store.write().await?;
    if tx.get_bank(branch.bank_code.as_str()).await?.is_none() {
        return Err(DomainError::invalid(
            "unknown_bank",
            "bank_code",
            format!("no bank {} is registered", branch.bank_code),
        )
        .into());
    }
    tx.insert_branch(&branch)
        .await
        .map_err(|e| duplicate(e, &format!("branch {} of bank {}", branch.code, branch.bank_code)))?;
    let id = format!("{}/{}", branch.bank_code, branch.code);
    let subject = Subject { entity: "branch", entity_id: &id, person_id: "", region: branch.region.to_string() };
    record(tx.as_mut(), ctx, "branch.added", &subject, json!({ "printer": branch.has_printer })).await?;
    tx.commit().await?;
    Ok(branch)
}

pub async fn banks(store: &dyn Store) -> Result<(Vec<Bank>, Vec<Branch>)> {
    let mut tx = store.read().await?;
    let banks = tx.list_banks().await?;
    let branches = tx.list_branches(None).await?;
    tx.commit().await?;
    Ok((banks, branches))
}

/// Creates a login. Holders must be linked to a person, tellers to a bank.
pub async fn add_user(
    store: &dyn Store,
    ctx: &Ctx,
    username: &str,
    password: &str,
    role: Role,
    person_id: Option<String>,
    bank_code: Option<BankCode>,
) -> Result<User> {
    let links = UserLinks { person_id, bank_code, branch_code: None };
    add_user_with(store, ctx, username, password, role, links).await
}

/// What a new login is linked to: a holder's person, a teller's bank and own branch.
#[derive(Debug, Clone, Default)]
pub struct UserLinks {
    pub person_id: Option<String>,
    pub bank_code: Option<BankCode>,
    pub branch_code: Option<BranchCode>,
}

/// [`add_user`] with a teller's own branch, which must be a branch of the teller's bank.
pub async fn add_user_with(
    store: &dyn Store,
    ctx: &Ctx,
    username: &str,
    password: &str,
    role: Role,
    links: UserLinks,
) -> Result<User> {
    let UserLinks { person_id, bank_code, branch_code } = links;
    access::may_administer(&ctx.actor)?;
    let username = access::check_login(username, password)?;
    let link = access::user_link(role, person_id.as_deref(), bank_code.as_ref().map(BankCode::as_str))?;
    access::check_user_branch(role, branch_code.is_some())?;
    let mut tx = store.write().await?;
    if let (Some(bank), Some(branch)) = (&bank_code, &branch_code) {
        tx.get_branch(bank.as_str(), branch.as_str()).await?.ok_or_else(|| {
            DomainError::invalid("unknown_branch", "branch_code", format!("no branch {branch} of bank {bank}"))
        })?;
    }
    match link {
        access::UserLink::Person(id) => {
            tx.get_person(id, false)
                .await?
                .ok_or_else(|| DomainError::invalid("unknown_person", "person_id", format!("no person {id}")))?;
        }
        access::UserLink::Bank(code) => {
            tx.get_bank(code)
                .await?
                .ok_or_else(|| DomainError::invalid("unknown_bank", "bank_code", format!("no bank {code}")))?;
        }
        access::UserLink::None => {}
    }
    let user = User {
        username: username.to_string(),
        password_hash: sscard_gm::password::hash_password(password, ctx.hash_iterations),
        role,
        person_id,
        bank_code: bank_code.map(|b| b.as_str().to_string()),
        branch_code: branch_code.map(|b| b.as_str().to_string()),
        created_at_ms: ctx.now_ms,
    };
    tx.insert_user(&user).await.map_err(|e| duplicate(e, &format!("user {username}")))?;
    let subject = Subject {
        entity: "user",
        entity_id: &user.username,
        person_id: user.person_id.as_deref().unwrap_or(""),
        region: String::new(),
    };
    let payload = json!({ "role": role.as_str(), "branch_code": user.branch_code });
    record(tx.as_mut(), ctx, "user.added", &subject, payload).await?;
    tx.commit().await?;
    Ok(user)
}

/// The acting login's own branch, when it has one (a teller's desk starts from it).
pub async fn own_branch(store: &dyn Store, ctx: &Ctx) -> Result<Option<BranchCode>> {
    let mut tx = store.read().await?;
    let user = tx.get_user(&ctx.actor.name).await?;
    tx.commit().await?;
    Ok(user.and_then(|u| u.branch_code).and_then(|b| BranchCode::parse(&b).ok()))
}

/// Counts for the overview page and `GET /stats/overview`.
pub async fn overview(store: &dyn Store, ctx: &Ctx) -> Result<Overview> {
    access::may_read_stats(&ctx.actor)?;
    let mut tx = store.read().await?;
    let overview = tx.overview().await?;
    tx.commit().await?;
    Ok(overview)
}

/// The dashboard's time series: applications per week and channel over the last `weeks`
/// weeks (oldest first), and the e-card issuance rate.
#[derive(Debug, Clone, Default)]
pub struct Trends {
    pub weeks: u32,
    /// channel -> count per week, oldest week first.
    pub by_channel: Vec<(String, Vec<i64>)>,
    pub ecards_usable: i64,
    pub cards_active: i64,
}

pub async fn trends(store: &dyn Store, ctx: &Ctx, weeks: u32) -> Result<Trends> {
    access::may_read_stats(&ctx.actor)?;
    let weeks = weeks.clamp(1, 104);
    let week_ms = 7 * sscard_domain::clock::DAY_MS;
    // The window ends now, so "now" falls in the last week of it.
    let since = ctx.now_ms - weeks as i64 * week_ms + 1;
    let mut tx = store.read().await?;
    let rows = tx.applications_over_time(since, week_ms).await?;
    let (ecards_usable, cards_active) = tx.ecard_rate().await?;
    tx.commit().await?;
    let mut by_channel: Vec<(String, Vec<i64>)> = Vec::new();
    for (period, channel, n) in rows {
        let Ok(i) = usize::try_from(period) else { continue };
        if i >= weeks as usize {
            continue;
        }
        let slot = match by_channel.iter().position(|(c, _)| *c == channel) {
            Some(p) => p,
            None => {
                by_channel.push((channel, vec![0; weeks as usize]));
                by_channel.len() - 1
            }
        };
        by_channel[slot].1[i] += n;
    }
    Ok(Trends { weeks, by_channel, ecards_usable, cards_active })
}
