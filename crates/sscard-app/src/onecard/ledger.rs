//! The double-entry ledger in the store: posting transfers (each with its own
//! idempotency key; holder accounts locked in account-id order so that two transactions never
//! wait on each other in a cycle; every balance changed by one increment written with the rest
//! of the operation near its end, in id order, so that no organisation row is a queue),
//! the holder's balances and history,
//! deposits into medical personal accounts, the e-wallet following a replacement card or going
//! back to the bank account when its card ends, and
//! the books check behind `sscard ledger check`.

use super::super::{Ctx, Subject, new_id, record};
use serde::Serialize;
use serde_json::json;
use sscard_domain::access;
use sscard_domain::card::Card;
use sscard_domain::error::DomainError;
use sscard_domain::ledger::{
    AccountId, AccountKind, CashPoint, Finding, KeyVerdict, TransferKind, TransferSpec, check_books, check_key,
    decide_transfer, decide_wallet_migration, decide_wallet_refund, judge_key, migration_key, wallet_refund_key,
};
use sscard_domain::money::Fen;
use sscard_domain::person::Person;
use sscard_store::onecard::{AccountRow, BalanceChange, TransferRow, Writes};
use sscard_store::ports::{AuditLog, Ledger};
use sscard_store::tx::Store;
use sscard_store::{Result, StoreError};
use std::collections::BTreeMap;

/// One movement to post (a pure value of the domain).
pub use sscard_domain::ledger::Leg;

/// Balances of locked accounts, by account (in lock order).
pub(crate) type Locked = BTreeMap<AccountId, i64>;

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

/// The clearing account an operator's takings go to (`clearing:<operator code>`).
/// Its terminals write to it at once without queueing: an organisation account's balance is
/// kept in slots (migration 0005).
pub fn clearing(operator_code: &str) -> Result<AccountId> {
    org(AccountKind::Clearing, operator_code)
}

/// Creates missing holder accounts and cash floats and locks them in id order (one read when
/// they all exist); returns their balances.
///
/// Organisation accounts that may go negative (pool, clearing, fees, payer) are neither read
/// nor locked here: no decision needs their balance, and locking them up front would make
/// every settlement of a region queue on its pool row for the whole transaction. They enter
/// the map at 0, so after posting the map holds their change, which [`balance_changes`] turns
/// into one increment each, written with the rest of the operation near its end (creating the
/// account at its first use). A cash float may not go negative, so its row is locked with the
/// holders' and its whole balance (row and slots) read after the lock, in a statement of its
/// own: on PostgreSQL a statement that waited for the lock still sees the slots as of its start.
pub(crate) async fn lock_accounts(
    tx: &mut (impl Ledger + ?Sized),
    ctx: &Ctx,
    accounts: &[(AccountId, Option<&str>)],
) -> Result<Locked> {
    let mut balances = Locked::new();
    // Keyed by the account: it orders as its text, so the rows lock in id order.
    let mut holders: BTreeMap<&AccountId, Option<&str>> = BTreeMap::new();
    for (a, person) in accounts {
        if a.kind.decided_on_balance() {
            holders.insert(a, *person);
        } else {
            balances.insert(a.clone(), 0);
        }
    }
    let ids: Vec<String> = holders.keys().map(|a| a.to_string()).collect();
    let mut found = tx.lock_accounts_by_id(&ids).await?;
    if found.len() < ids.len() {
        // A first use: create the missing accounts, then lock them all (again) in id order.
        let known: std::collections::HashSet<&str> = found.iter().map(|r| r.id.as_str()).collect();
        // In one multi-row insert: a batch's chunk may open a thousand at once.
        let missing: Vec<(String, AccountKind, String, Option<String>)> = holders
            .iter()
            .map(|(a, person)| (a.to_string(), a.kind, a.owner.clone(), person.map(str::to_string)))
            .filter(|(id, ..)| !known.contains(id.as_str()))
            .collect();
        tx.ensure_accounts(&missing, ctx.now_ms).await?;
        found = tx.lock_accounts_by_id(&ids).await?;
    }
    for row in found {
        if let Ok(a) = AccountId::parse(&row.id)
            && holders.contains_key(&a)
        {
            let balance = match a.kind.is_holder() {
                true => row.balance_fen,
                false => tx.get_account(&row.id, false).await?.map_or(row.balance_fen, |r| r.balance_fen),
            };
            balances.insert(a, balance);
        }
    }
    if let Some(a) = holders.keys().find(|a| !balances.contains_key(**a)) {
        return Err(StoreError::not_found("account", a.to_string()));
    }
    Ok(balances)
}

/// Posts the legs in order against `balances` (already locked) and writes the transfers and
/// the balance changes at once; zero legs are skipped; a leg whose key was already used with
/// the same body is skipped as a replay.
pub(crate) async fn post(
    tx: &mut (impl Ledger + ?Sized),
    ctx: &Ctx,
    balances: &mut Locked,
    legs: &[Leg],
    ref_id: &str,
) -> Result<Vec<TransferRow>> {
    let mut fresh = Vec::with_capacity(legs.len());
    for leg in legs.iter().filter(|l| !l.amount.is_zero()) {
        check_key(&leg.key)?;
        let existing = tx.transfer_by_key(&leg.key).await?.map(|t| to_spec(&t)).transpose()?;
        if judge_key(existing.as_ref(), &leg.spec())? != KeyVerdict::Replay {
            fresh.push(leg.clone());
        }
    }
    let locked = balances.clone();
    let transfers = plan_legs(ctx, balances, &fresh, ref_id)?;
    let writes = Writes {
        balances: balance_changes(&locked, balances),
        transfers: transfers.clone(),
        now_ms: ctx.now_ms,
        ..Writes::default()
    };
    tx.write_all(&writes).await?;
    Ok(transfers)
}

/// Decides the legs in order against `balances` (already locked) and updates them; returns
/// the transfers to write. No replay check: the caller knows no transfer holds these keys yet
/// (each embeds an id made in this transaction, or the batch line was checked as new); the
/// unique index on the key stays the backstop.
pub(crate) fn plan_legs(ctx: &Ctx, balances: &mut Locked, legs: &[Leg], ref_id: &str) -> Result<Vec<TransferRow>> {
    let mut done = Vec::with_capacity(legs.len());
    for leg in legs.iter().filter(|l| !l.amount.is_zero()) {
        check_key(&leg.key)?;
        let not_locked = |a: &AccountId| StoreError::Backend(format!("account {a} not locked"));
        let fb = *balances.get(&leg.from).ok_or_else(|| not_locked(&leg.from))?;
        let tb = *balances.get(&leg.to).ok_or_else(|| not_locked(&leg.to))?;
        let (fa, ta) = decide_transfer(&leg.spec(), Fen::new(fb), Fen::new(tb))?;
        balances.insert(leg.from.clone(), fa.value());
        balances.insert(leg.to.clone(), ta.value());
        done.push(TransferRow {
            id: new_id(),
            idem_key: leg.key.clone(),
            from_account: leg.from.to_string(),
            to_account: leg.to.to_string(),
            amount_fen: leg.amount.value(),
            kind: leg.kind.as_str().to_string(),
            ref_id: Some(ref_id.to_string()),
            at_ms: ctx.now_ms,
        });
    }
    Ok(done)
}

/// The balance changes since `locked`: holder accounts that moved, and every organisation
/// account (also unchanged, so that one named by a transfer exists before the transfer is
/// written).
pub(crate) fn balance_changes(locked: &Locked, now: &Locked) -> Vec<BalanceChange> {
    let mut out = Vec::new();
    for (account, balance) in now {
        let delta = balance - locked.get(account).copied().unwrap_or(0);
        if account.kind.is_holder() && delta == 0 {
            continue;
        }
        out.push(BalanceChange::new(account, None, delta));
    }
    out
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
    let mut tx = store.read().await?;
    crate::persons::check_accounts_access(tx.as_mut(), ctx, person_id).await?;
    let accounts = tx.accounts_of_person(person_id).await?;
    let ids: Vec<String> = accounts.iter().map(|a| a.id.clone()).collect();
    let history = tx.transfers_of(&ids, None, limit.clamp(1, 500)).await?;
    tx.commit().await?;
    Ok(Balances { person_id: person_id.to_string(), accounts, history })
}

/// A deposit command: whose medical account, how much, and the payer's reference (the
/// same reference again is a replay).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deposit {
    pub person_id: String,
    pub amount: Fen,
    pub reference: String,
}

impl Deposit {
    /// The command from a request's fields: a bad amount is refused naming `amount_fen`.
    pub fn parse(person_id: &str, amount_fen: i64, reference: &str) -> std::result::Result<Deposit, DomainError> {
        let amount = Fen::parse_amount(amount_fen).map_err(|e| DomainError::from(e).with_field("amount_fen"))?;
        Ok(Deposit { person_id: person_id.to_string(), amount, reference: reference.to_string() })
    }
}

/// A contribution into a person's medical personal account from the region's fund (payer or admin).
pub async fn deposit_medical(store: &dyn Store, ctx: &Ctx, cmd: &Deposit) -> Result<TransferRow> {
    let (person_id, amount, key) = (cmd.person_id.as_str(), cmd.amount, cmd.reference.as_str());
    access::may_deposit_medical(&ctx.actor)?;
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
    tx: &mut (impl AuditLog + Ledger + ?Sized),
    ctx: &Ctx,
    person: &Person,
    old: &Card,
    new: &Card,
) -> Result<Option<TransferRow>> {
    let (from, to) = (wallet(old.card_no.as_str())?, wallet(new.card_no.as_str())?);
    let key = migration_key(old.card_no.as_str(), new.card_no.as_str());
    let decide = |balance| decide_wallet_migration(&from, &to, balance);
    let Some(row) = move_wallet_in(tx, ctx, person, (&from, &to), decide, key, new.card_no.as_str()).await? else {
        return Ok(None);
    };
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

/// Gives the e-wallet of a card that ended (stopped or cancelled) back to the holder: the whole
/// balance to the mirror of the card's bank account, in the caller's transaction (the card's
/// change), with its event and audit record; once per card (the key is the card number).
pub(crate) async fn refund_wallet_in(
    tx: &mut (impl AuditLog + Ledger + ?Sized),
    ctx: &Ctx,
    person: &Person,
    card: &Card,
) -> Result<Option<TransferRow>> {
    let no = card.card_no.as_str();
    let (from, to) = (wallet(no)?, bank(no)?);
    let decide = |balance| decide_wallet_refund(no, card.pan.is_some(), balance);
    let Some(row) = move_wallet_in(tx, ctx, person, (&from, &to), decide, wallet_refund_key(no), no).await? else {
        return Ok(None);
    };
    let subject = Subject {
        entity: "account",
        entity_id: &row.from_account,
        person_id: &person.id,
        region: person.region.to_string(),
    };
    let payload = json!({ "transfer": row, "card_no": no, "card_status": card.status.as_str() });
    record(tx, ctx, "ewallet.refunded", &subject, payload).await?;
    Ok(Some(row))
}

/// Moves what `decide` makes of the balance of the holder's e-wallet `from` to `to` (both of
/// `person`), under `key`; `None` when the wallet never existed or nothing moves.
async fn move_wallet_in(
    tx: &mut (impl Ledger + ?Sized),
    ctx: &Ctx,
    person: &Person,
    (from, to): (&AccountId, &AccountId),
    decide: impl FnOnce(Fen) -> std::result::Result<Option<TransferSpec>, DomainError>,
    key: String,
    ref_id: &str,
) -> Result<Option<TransferRow>> {
    // Nothing to lock when the wallet never existed.
    if tx.get_account(&from.to_string(), false).await?.is_none() {
        return Ok(None);
    }
    let mut balances =
        lock_accounts(tx, ctx, &[(from.clone(), Some(&person.id)), (to.clone(), Some(&person.id))]).await?;
    let balance = Fen::new(balances.get(from).copied().unwrap_or(0));
    let Some(spec) = decide(balance)? else { return Ok(None) };
    let leg = Leg { from: spec.from, to: spec.to, amount: spec.amount, kind: spec.kind, key };
    let rows = post(tx, ctx, &mut balances, std::slice::from_ref(&leg), ref_id).await?;
    Ok(rows.into_iter().next())
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
/// float (the bank keeps the banknotes; a short float refuses it, `float_exhausted`) into its
/// fee account, once per application (the key is the application).
/// A second collection answers the first transfer and moves nothing.
pub async fn collect_fee(store: &dyn Store, ctx: &Ctx, application_id: &str) -> Result<TransferRow> {
    let mut tx = store.write().await?;
    let app = tx
        .get_application(application_id, true)
        .await?
        .ok_or_else(|| StoreError::not_found("application", application_id))?;
    access::may_step(&ctx.actor, &app, sscard_domain::application::AppStep::Collect)?;
    sscard_domain::application::decide_fee_collection(app.fee_fen)?;
    let key = format!("fee:{application_id}");
    if let Some(done) = tx.transfer_by_key(&key).await? {
        return Ok(done);
    }
    let from = CashPoint::BankDesk(app.bank_code.to_string()).float()?;
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
