//! The double-entry ledger (DESIGN §3.6) in the store: posting transfers (each with its own
//! idempotency key; holder balances updated under row locks taken in account-id order so that
//! two transactions never wait on each other in a cycle; organisation balances changed by one
//! increment late in the transaction, in id order, so that no organisation row is a queue),
//! the holder's balances and history,
//! deposits into medical personal accounts, the e-wallet following a replacement card, and
//! the books check behind `sscard ledger check`.

use super::super::{Ctx, Subject, new_id, record};
use crate::onecard::{AccountRow, TransferRow};
use crate::tx::{Store, Tx};
use crate::{Result, StoreError};
use serde::Serialize;
use serde_json::json;
use sscard_domain::access::{self, Role};
use sscard_domain::card::Card;
use sscard_domain::error::DomainError;
use sscard_domain::ledger::{
    AccountId, AccountKind, Finding, KeyVerdict, TransferKind, TransferSpec, check_books, check_key, decide_transfer,
    decide_wallet_migration, judge_key, migration_key,
};
use sscard_domain::money::Fen;
use sscard_domain::person::Person;
use std::collections::BTreeMap;

/// One movement to post.
#[derive(Debug, Clone)]
pub struct Leg {
    pub from: AccountId,
    pub to: AccountId,
    pub amount: Fen,
    pub kind: TransferKind,
    /// Unique per movement; a replay with the same key and body moves nothing.
    pub key: String,
}

/// The account of a holder's e-wallet (per card).
pub fn wallet(card_no: &str) -> Result<AccountId> {
    Ok(AccountId::new(AccountKind::Ewallet, card_no)?)
}
/// The medical personal account (per person: it stays with them across cards).
pub fn medical(person_id: &str) -> Result<AccountId> {
    Ok(AccountId::new(AccountKind::Medical, person_id)?)
}
/// The mirror of the card's bank account.
pub fn bank(card_no: &str) -> Result<AccountId> {
    Ok(AccountId::new(AccountKind::Bank, card_no)?)
}
/// An organisation account.
pub fn org(kind: AccountKind, owner: &str) -> Result<AccountId> {
    Ok(AccountId::new(kind, owner)?)
}

/// The clearing account a terminal's takings go to: one per terminal (`clearing:<terminal id>`),
/// so concurrent terminals never queue on one balance row; an operator's takings are the sum
/// over its terminals.
pub fn clearing(terminal_id: &str) -> Result<AccountId> {
    org(AccountKind::Clearing, terminal_id)
}

/// Creates missing holder accounts and locks them in id order; returns their balances.
///
/// Organisation accounts (pool, clearing, fees, payer) are created if missing but not read nor
/// locked here: they may
/// go negative, so no decision needs their balance, and locking them up front would make every
/// settlement of a region queue on its pool row for the whole transaction. They enter the map
/// at 0, so after posting the map holds their change, which [`post`] (or [`flush_balances`])
/// adds to the stored balance in one statement near the end of the transaction.
pub(crate) async fn lock_accounts(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    accounts: &[(AccountId, Option<&str>)],
) -> Result<BTreeMap<String, i64>> {
    let mut sorted: Vec<&(AccountId, Option<&str>)> = accounts.iter().collect();
    sorted.sort_by_key(|(a, _)| a.to_string());
    sorted.dedup_by_key(|(a, _)| a.to_string());
    let mut balances = BTreeMap::new();
    for (a, person) in sorted {
        let id = a.to_string();
        if !a.kind.is_holder() {
            // Created if missing (the transfers refer to it), without locking an existing row.
            tx.ensure_account(&id, a.kind, &a.owner, *person, ctx.now_ms).await?;
            balances.insert(id, 0);
            continue;
        }
        // Nearly always the account exists: one round trip; a new one is created, then locked.
        let row = match tx.get_account(&id, true).await? {
            Some(row) => row,
            None => {
                tx.ensure_account(&id, a.kind, &a.owner, *person, ctx.now_ms).await?;
                tx.get_account(&id, true).await?.ok_or_else(|| StoreError::not_found("account", id.clone()))?
            }
        };
        balances.insert(id, row.balance_fen);
    }
    Ok(balances)
}

/// Posts the legs in order against `balances` (already locked); zero legs are skipped; a leg
/// whose key was already used with the same body is skipped as a replay.
pub(crate) async fn post(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    balances: &mut BTreeMap<String, i64>,
    legs: &[Leg],
    ref_id: &str,
) -> Result<Vec<TransferRow>> {
    post_with(tx, ctx, balances, legs, ref_id, Posting::Now).await
}

/// How [`post_with`] treats balances and keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Posting {
    /// Check each key for a replay and write both balances at once.
    Now,
    /// As `Now` without the replay check: every key embeds an id made in this transaction, so
    /// no transfer can hold it yet (a unique index on the key stays the backstop).
    NewKeys,
    /// For many legs in one transaction (an offline batch): the caller knows no transfer has
    /// these keys yet (it checked the batch lines), and writes the balances once at the end
    /// with [`flush_balances`].
    Deferred,
}

/// [`post`] in the chosen [`Posting`] mode.
pub(crate) async fn post_with(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    balances: &mut BTreeMap<String, i64>,
    legs: &[Leg],
    ref_id: &str,
    mode: Posting,
) -> Result<Vec<TransferRow>> {
    let mut done = Vec::new();
    let org_before: BTreeMap<String, i64> =
        balances.iter().filter(|(id, _)| !is_holder_account(id)).map(|(id, b)| (id.clone(), *b)).collect();
    for leg in legs.iter().filter(|l| !l.amount.is_zero()) {
        check_key(&leg.key)?;
        let spec = TransferSpec { from: leg.from.clone(), to: leg.to.clone(), amount: leg.amount, kind: leg.kind };
        if mode == Posting::Now {
            let existing = tx.transfer_by_key(&leg.key).await?.map(|t| to_spec(&t)).transpose()?;
            if judge_key(existing.as_ref(), &spec)? == KeyVerdict::Replay {
                continue;
            }
        }
        let (from, to) = (leg.from.to_string(), leg.to.to_string());
        let fb = *balances.get(&from).ok_or_else(|| StoreError::Backend(format!("account {from} not locked")))?;
        let tb = *balances.get(&to).ok_or_else(|| StoreError::Backend(format!("account {to} not locked")))?;
        let (fa, ta) = decide_transfer(&spec, Fen::new(fb), Fen::new(tb))?;
        if mode != Posting::Deferred {
            for (id, balance) in [(&from, fa), (&to, ta)] {
                if is_holder_account(id) {
                    tx.set_balance(id, balance.value()).await?;
                }
            }
        }
        balances.insert(from.clone(), fa.value());
        balances.insert(to.clone(), ta.value());
        let row = TransferRow {
            id: new_id(),
            idem_key: leg.key.clone(),
            from_account: from,
            to_account: to,
            amount_fen: leg.amount.value(),
            kind: leg.kind.as_str().to_string(),
            ref_id: Some(ref_id.to_string()),
            at_ms: ctx.now_ms,
        };
        tx.insert_transfer(&row).await?;
        done.push(row);
    }
    if mode != Posting::Deferred {
        // In id order (the map is sorted), so two transactions never wait on each other in turn.
        for (id, before) in &org_before {
            let delta = balances.get(id).copied().unwrap_or(*before) - before;
            add_to_organisation(tx, ctx, id, delta).await?;
        }
    }
    Ok(done)
}

fn is_holder_account(id: &str) -> bool {
    AccountId::parse(id).map(|a| a.kind.is_holder()).unwrap_or(true)
}

/// Adds `delta_fen` to an organisation account, creating it at its first use.
async fn add_to_organisation(tx: &mut dyn Tx, ctx: &Ctx, id: &str, delta_fen: i64) -> Result<()> {
    if delta_fen == 0 || tx.add_to_balance(id, delta_fen).await? {
        return Ok(());
    }
    let a = AccountId::parse(id)?;
    tx.ensure_account(id, a.kind, &a.owner, None, ctx.now_ms).await?;
    if tx.add_to_balance(id, delta_fen).await? { Ok(()) } else { Err(StoreError::not_found("account", id)) }
}

/// Writes the balances that differ from when they were locked (after [`Posting::Deferred`]):
/// holder accounts as they are now, organisation accounts by their change.
pub(crate) async fn flush_balances(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    locked: &BTreeMap<String, i64>,
    now: &BTreeMap<String, i64>,
) -> Result<()> {
    for (account, balance) in now {
        let before = locked.get(account).copied().unwrap_or(0);
        if before == *balance {
            continue;
        }
        if is_holder_account(account) {
            tx.set_balance(account, *balance).await?;
        } else {
            add_to_organisation(tx, ctx, account, balance - before).await?;
        }
    }
    Ok(())
}

fn to_spec(t: &TransferRow) -> Result<TransferSpec> {
    Ok(TransferSpec {
        from: AccountId::parse(&t.from_account)?,
        to: AccountId::parse(&t.to_account)?,
        amount: Fen::new(t.amount_fen),
        kind: TransferKind::parse(&t.kind).ok_or_else(|| StoreError::corrupt(format!("transfer kind {}", t.kind)))?,
    })
}

/// A holder's accounts and their latest movements.
#[derive(Debug, Clone, Serialize)]
pub struct Balances {
    pub person_id: String,
    pub accounts: Vec<AccountRow>,
    /// Newest first.
    pub history: Vec<TransferRow>,
}

/// The holder (or staff) sees the person's balances and the latest `limit` transfers.
pub async fn balances(store: &dyn Store, ctx: &Ctx, person_id: &str, limit: u32) -> Result<Balances> {
    access::may_view_person(&ctx.actor, person_id)?;
    let mut tx = store.read().await?;
    if tx.get_person(person_id, false).await?.is_none() {
        return Err(StoreError::not_found("person", person_id));
    }
    let accounts = tx.accounts_of_person(person_id).await?;
    let ids: Vec<String> = accounts.iter().map(|a| a.id.clone()).collect();
    let history = tx.transfers_of(&ids, None, limit.clamp(1, 500)).await?;
    tx.commit().await?;
    Ok(Balances { person_id: person_id.to_string(), accounts, history })
}

/// A contribution into a person's medical personal account from the region's fund (payer or admin).
pub async fn deposit_medical(
    store: &dyn Store,
    ctx: &Ctx,
    person_id: &str,
    amount_fen: i64,
    key: &str,
) -> Result<TransferRow> {
    if !matches!(ctx.actor.role, Role::Admin | Role::Payer) {
        return Err(DomainError::forbidden("only payers and admins deposit into medical accounts").into());
    }
    let amount = Fen::parse_amount(amount_fen).map_err(DomainError::from)?;
    check_key(key)?;
    let key = format!("deposit:{key}");
    let mut tx = store.write().await?;
    let person = tx.get_person(person_id, true).await?.ok_or_else(|| StoreError::not_found("person", person_id))?;
    if let Some(done) = tx.transfer_by_key(&key).await? {
        let again = TransferSpec {
            from: org(AccountKind::Payer, &format!("MEDFUND-{}", person.region))?,
            to: medical(person_id)?,
            amount,
            kind: TransferKind::Deposit,
        };
        judge_key(Some(&to_spec(&done)?), &again)?;
        return Ok(done);
    }
    let from = org(AccountKind::Payer, &format!("MEDFUND-{}", person.region))?;
    let to = medical(person_id)?;
    let mut balances = lock_accounts(tx.as_mut(), ctx, &[(from.clone(), None), (to.clone(), Some(person_id))]).await?;
    let leg = Leg { from, to, amount, kind: TransferKind::Deposit, key };
    let rows = post(tx.as_mut(), ctx, &mut balances, std::slice::from_ref(&leg), person_id).await?;
    let row = rows.into_iter().next().ok_or_else(|| StoreError::Backend("deposit not posted".into()))?;
    let subject =
        Subject { entity: "account", entity_id: &row.to_account, person_id, region: person.region.to_string() };
    record(tx.as_mut(), ctx, "ledger.deposited", &subject, json!({ "transfer": row })).await?;
    tx.commit().await?;
    Ok(row)
}

/// Moves the whole e-wallet of the `old` card to the `new` card that replaced it, in the
/// caller's transaction (the activation that made `old` replaced), with its event and audit
/// record. An empty or never-used wallet moves nothing. The key is derived from the two card
/// numbers, so the move happens once per pair of cards.
pub(crate) async fn migrate_wallet_in(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    person: &Person,
    old: &Card,
    new: &Card,
) -> Result<Option<TransferRow>> {
    let from = wallet(old.card_no.as_str())?;
    let to = wallet(new.card_no.as_str())?;
    // Nothing to lock when the old card never had a wallet.
    if tx.get_account(&from.to_string(), false).await?.is_none() {
        return Ok(None);
    }
    let mut balances =
        lock_accounts(tx, ctx, &[(from.clone(), Some(&person.id)), (to.clone(), Some(&person.id))]).await?;
    let old_balance = Fen::new(balances.get(&from.to_string()).copied().unwrap_or(0));
    let Some(spec) = decide_wallet_migration(&from, &to, old_balance)? else { return Ok(None) };
    let key = migration_key(old.card_no.as_str(), new.card_no.as_str());
    let leg = Leg { from: spec.from, to: spec.to, amount: spec.amount, kind: spec.kind, key };
    let rows = post(tx, ctx, &mut balances, std::slice::from_ref(&leg), new.card_no.as_str()).await?;
    let Some(row) = rows.into_iter().next() else { return Ok(None) };
    let subject = Subject {
        entity: "account",
        entity_id: &row.to_account,
        person_id: &person.id,
        region: person.region.to_string(),
    };
    let payload = json!({ "transfer": row, "from_card": old.card_no.as_str(), "to_card": new.card_no.as_str() });
    record(tx, ctx, "ewallet.migrated", &subject, payload).await?;
    Ok(Some(row))
}

/// The result of `sscard ledger check`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BooksReport {
    pub accounts: u64,
    pub transfers: i64,
    pub transfers_total_fen: i64,
    /// Sum of all balances (must be 0).
    pub balance_sum_fen: i128,
    pub findings: Vec<Finding>,
}

impl BooksReport {
    pub fn clean(&self) -> bool {
        self.findings.is_empty()
    }
}

/// Most findings listed.
const MAX_FINDINGS: usize = 1000;

/// Checks the books page by page in one read transaction: every balance equals its credits
/// minus debits, none forbidden is negative, all balances sum to zero and the credits and
/// debits of all accounts both equal the transfers' total.
pub async fn check(store: &dyn Store) -> Result<BooksReport> {
    let mut tx = store.read().await?;
    let mut report = BooksReport::default();
    let (n, total) = tx.transfer_totals().await?;
    report.transfers = n;
    report.transfers_total_fen = total;
    let (mut credits, mut debits) = (0i128, 0i128);
    let mut after = String::new();
    // Bounded: 10,000 pages of 10,000 accounts.
    for _ in 0..10_000 {
        let page = tx.ledger_page(&after, 10_000).await?;
        let Some(last) = page.last() else { break };
        after = last.account.clone();
        let balances: Vec<(String, i64)> = page.iter().map(|l| (l.account.clone(), l.balance_fen)).collect();
        let moves: Vec<(String, i128)> =
            page.iter().map(|l| (l.account.clone(), i128::from(l.credits_fen) - i128::from(l.debits_fen))).collect();
        for f in check_books(&balances, &moves) {
            if !matches!(f, Finding::SumNotZero { .. }) && report.findings.len() < MAX_FINDINGS {
                report.findings.push(f);
            }
        }
        for l in &page {
            report.balance_sum_fen += i128::from(l.balance_fen);
            credits += i128::from(l.credits_fen);
            debits += i128::from(l.debits_fen);
        }
        report.accounts += page.len() as u64;
    }
    tx.commit().await?;
    if report.balance_sum_fen != 0 {
        report.findings.push(Finding::SumNotZero { sum: report.balance_sum_fen });
    }
    if credits != i128::from(total) || debits != i128::from(total) {
        report.findings.push(Finding::BalanceMismatch {
            account: "(all transfers)".into(),
            stored: total,
            from_transfers: credits.max(debits),
        });
    }
    Ok(report)
}

/// The fee of an application (a replacement) paid in cash at the desk: from the bank's cash
/// desk account into its fee account, once per application (the key is the application).
/// A second collection answers the first transfer and moves nothing.
pub async fn collect_fee(store: &dyn Store, ctx: &Ctx, application_id: &str) -> Result<TransferRow> {
    let mut tx = store.write().await?;
    let app = tx
        .get_application(application_id, true)
        .await?
        .ok_or_else(|| StoreError::not_found("application", application_id))?;
    access::may_step(&ctx.actor, &app, sscard_domain::application::AppStep::Collect)?;
    if !app.fee_fen.is_positive() {
        return Err(DomainError::refused("no_fee", "this application costs nothing").into());
    }
    let key = format!("fee:{application_id}");
    if let Some(done) = tx.transfer_by_key(&key).await? {
        return Ok(done);
    }
    let from = org(AccountKind::Cash, &format!("CASH-{}", app.bank_code))?;
    let to = org(AccountKind::Fees, &format!("FEES-{}", app.bank_code))?;
    let mut balances = lock_accounts(tx.as_mut(), ctx, &[(from.clone(), None), (to.clone(), None)]).await?;
    let leg = Leg { from, to, amount: app.fee_fen, kind: TransferKind::Fee, key };
    let rows = post(tx.as_mut(), ctx, &mut balances, std::slice::from_ref(&leg), application_id).await?;
    let row = rows.into_iter().next().ok_or_else(|| StoreError::Backend("fee not posted".into()))?;
    let person = tx.get_person(&app.person_id, false).await?;
    let region = person.map(|p| p.region.to_string()).unwrap_or_default();
    let subject = Subject { entity: "application", entity_id: &app.id, person_id: &app.person_id, region };
    record(tx.as_mut(), ctx, "application.fee_collected", &subject, json!({ "transfer": row })).await?;
    tx.commit().await?;
    Ok(row)
}

/// Whether the fee of an application has been collected.
pub async fn fee_paid(store: &dyn Store, application_id: &str) -> Result<bool> {
    let mut tx = store.read().await?;
    let found = tx.transfer_by_key(&format!("fee:{application_id}")).await?;
    tx.commit().await?;
    Ok(found.is_some())
}
