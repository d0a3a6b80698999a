//! Medical settlement at a medical terminal: the insured region's policy splits the bill
//! (sscard_domain::medical), the pool, the personal medical account and the self-pay part
//! move to the institution's clearing account, the policy year is updated, all in one
//! transaction. A bill id settles once per operator: the same bill again returns the first
//! split, a different bill under the same id is a 409. Refunds reverse a settlement exactly.

use super::ledger::{Locked, balance_changes, lock_accounts, plan_legs, post};
use super::{Holder, Presentation, live_terminal, terminal_and_holder, terminal_subject, use_row, with_refusals};
use crate::{Ctx, Subject, new_id, record_rows};
use serde::Serialize;
use serde_json::json;
use sscard_domain::access;
use sscard_domain::error::DomainError;
use sscard_domain::ids::RegionCode;
use sscard_domain::ledger::AccountId;
use sscard_domain::medical::{
    Locality, MedicalPolicy, SettlementAccounts, Split, YearToDate, after_refund, after_settlement, check_bill_id,
    choose_policy, decide_refund, judge_repeated_bill, policy_regions, refund_legs, settlement_legs, split,
};
use sscard_domain::money::Fen;
use sscard_domain::terminal::{Scenario, Terminal};
use sscard_store::onecard::{MedicalYearRow, SettlementRow, Writes};
use sscard_store::ports::{Ecards, Ledger, Medical, Persons, Terminals};
use sscard_store::tx::Store;
use sscard_store::{Result, StoreError};

/// A settlement as answered to the terminal.
#[derive(Debug, Clone, Serialize)]
pub struct SettlementView {
    #[serde(flatten)]
    pub row: SettlementRow,
    /// True when this is the answer to a repeated bill.
    pub replayed: bool,
}

/// The balances of `accounts` when every holder account among them was read (organisation
/// accounts enter at 0, as in [`lock_accounts`]); `None` when one does not exist yet, or when
/// one is a cash float, whose balance only [`lock_accounts`] reads.
fn balances_read(accounts: &[(AccountId, Option<&str>)], read: &[(String, i64)]) -> Option<Locked> {
    let mut out = Locked::new();
    for (a, _) in accounts {
        let id = a.to_string();
        let balance = match (a.kind.is_holder(), a.kind.decided_on_balance()) {
            (true, _) => read.iter().find(|(r, _)| *r == id)?.1,
            // A cash float (self-pay in cash): read under its own lock by `lock_accounts`.
            (false, true) => return None,
            (false, false) => 0,
        };
        out.insert(a.clone(), balance);
    }
    Some(out)
}

/// Sets a region's policy (admin).
pub async fn set_policy(store: &dyn Store, ctx: &Ctx, p: MedicalPolicy) -> Result<MedicalPolicy> {
    access::may_administer(&ctx.actor)?;
    p.validate()?;
    let mut tx = store.write().await?;
    tx.put_medical_policy(&p, ctx.now_ms).await?;
    let region = p.region.to_string();
    let subject = Subject { entity: "medical_policy", entity_id: &region, person_id: "", region: region.clone() };
    crate::record(tx.as_mut(), ctx, "medical_policy.set", &subject, json!(p)).await?;
    tx.commit().await?;
    Ok(p)
}

/// A settlement command: the institution's bill and its amount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settle {
    pub bill_id: String,
    pub amount: Fen,
}

impl Settle {
    /// The command from a request's fields (for the server and the CLI): a bad field is
    /// refused naming it (`bill_id`, `amount_fen`).
    pub fn parse(bill_id: &str, amount_fen: i64) -> std::result::Result<Settle, DomainError> {
        check_bill_id(bill_id)?;
        let amount = Fen::parse_amount(amount_fen).map_err(|e| DomainError::from(e).with_field("amount_fen"))?;
        Ok(Settle { bill_id: bill_id.to_string(), amount })
    }
}

/// Settles the command's bill for the presented holder.
pub async fn settle(
    store: &dyn Store,
    ctx: &Ctx,
    terminal: &Terminal,
    p: &Presentation,
    cmd: &Settle,
) -> Result<SettlementView> {
    let outcome = settle_inner(store, ctx, terminal, p, &cmd.bill_id, cmd.amount).await;
    with_refusals(store, ctx, terminal, p, outcome).await
}

/// What a settlement needs, read in few round trips with the holder's row locked.
struct SettleLoad {
    t: Terminal,
    h: Holder,
    year: i64,
    accounts: SettlementAccounts,
    balances: Locked,
    prior: Option<SettlementRow>,
    policies: Vec<MedicalPolicy>,
    ytd: YearToDate,
}

async fn settle_inner(
    store: &dyn Store,
    ctx: &Ctx,
    terminal: &Terminal,
    p: &Presentation,
    bill_id: &str,
    amount: Fen,
) -> Result<SettlementView> {
    let mut tx = store.write().await?;
    let l = load_settlement(tx.as_mut(), ctx, terminal, p, bill_id).await?;
    if let Some(first) = l.prior {
        judge_repeated_bill(bill_id, first.card_no == l.h.card.card_no.as_str(), first.bill_fen == amount.value())?;
        return Ok(SettlementView { row: first, replayed: true });
    }
    crate::nation_medical::refuse_remote_bill(tx.as_mut(), &l.t.operator_code, bill_id).await?;
    let (person, t) = (&l.h.person, &l.t);
    let policy = choose_policy(person.region, l.policies);
    let balance = Fen::new(l.balances.get(&l.accounts.account).copied().unwrap_or(0));
    let s = split(amount, &policy, Locality::of(person.region, t.region), l.ytd, balance)?;
    let id = new_id();
    let mut balances = l.balances.clone();
    let transfers = plan_legs(ctx, &mut balances, &settlement_legs(&id, &l.accounts, &s), &id)?;
    let row = settlement_row(ctx, t, &l.h, &id, bill_id, l.year, &s);
    let payload = json!({ "settlement": row, "transfers": transfers });
    let record = record_rows(ctx, "medical.settled", &terminal_subject("settlement", &id, &l.h), payload);
    let ytd = after_settlement(l.ytd, &s);
    tx.write_all(&Writes {
        balances: balance_changes(&l.balances, &balances),
        transfers,
        settlement: Some(row.clone()),
        medical_year: Some(MedicalYearRow { person_id: person.id.clone(), year: l.year, ytd }),
        uses: vec![use_row(ctx, t, p, Some((person, &l.h.card)), None)],
        record: Some(record),
        now_ms: ctx.now_ms,
        ..Writes::default()
    })
    .await?;
    tx.commit().await?;
    Ok(SettlementView { row, replayed: false })
}

/// The terminal and the holder (the person's row locked: it serialises every writer of the
/// person's medical account and policy year, settlements, refunds and deposits, so what is read
/// here stays current until commit and the second settlement of one bill sees the first), then
/// the bill, the policy year, the policies and the holder's balances in one read.
async fn load_settlement(
    tx: &mut (impl Ecards + Ledger + Medical + Persons + Terminals + ?Sized),
    ctx: &Ctx,
    terminal: &Terminal,
    p: &Presentation,
    bill_id: &str,
) -> Result<SettleLoad> {
    let (t, h) = terminal_and_holder(tx, ctx, &terminal.id, Scenario::Medical, p, true).await?;
    let person = &h.person;
    let year = i64::from(ctx.today().year());
    let accounts = SettlementAccounts::new(person.region, &person.id, &h.card, &t.operator_code)?;
    let (acct_id, own_id) = (accounts.account.to_string(), accounts.own.to_string());
    let holder_ids = [acct_id.as_str(), if accounts.own.kind.is_holder() { own_id.as_str() } else { acct_id.as_str() }];
    let (own_region, province) = policy_regions(person.region);
    let (own_region, province) = (own_region.to_string(), province.to_string());
    let regions = [own_region.as_str(), province.as_str()];
    let found = tx.settlement_context(&t.operator_code, bill_id, &person.id, year, regions, holder_ids).await?;
    let locks = accounts_to_lock(&accounts, &person.id);
    let balances = match balances_read(&locks, &found.accounts) {
        Some(read) => read,
        // A first use: create the accounts (and lock them, as everywhere else).
        None => lock_accounts(tx, ctx, &locks).await?,
    };
    let (prior, policies, ytd) = (found.prior, found.policies, found.year.unwrap_or_default());
    Ok(SettleLoad { t, h, year, accounts, balances, prior, policies, ytd })
}

/// The accounts of a settlement with the person each holder account belongs to.
fn accounts_to_lock<'a>(a: &SettlementAccounts, person_id: &'a str) -> [(AccountId, Option<&'a str>); 4] {
    [
        (a.pool.clone(), None),
        (a.account.clone(), Some(person_id)),
        (a.own.clone(), a.own.kind.is_holder().then_some(person_id)),
        (a.clearing.clone(), None),
    ]
}

/// The settlement as stored.
fn settlement_row(ctx: &Ctx, t: &Terminal, h: &Holder, id: &str, bill_id: &str, year: i64, s: &Split) -> SettlementRow {
    SettlementRow {
        id: id.to_string(),
        operator_code: t.operator_code.clone(),
        terminal_id: t.id.clone(),
        bill_id: bill_id.to_string(),
        person_id: h.person.id.clone(),
        card_no: h.card.card_no.as_str().to_string(),
        insured_region: h.person.region.to_string(),
        locality: s.locality.as_str().to_string(),
        year,
        bill_fen: s.bill_fen,
        pool_fen: s.pool_fen,
        account_fen: s.account_fen,
        self_pay_fen: s.self_pay_fen,
        deductible_applied_fen: s.deductible_applied_fen,
        ratio_bp: i64::from(s.ratio_bp),
        at_ms: ctx.now_ms,
        refunded_at_ms: None,
    }
}

/// The split a stored settlement made (its locality plays no part in a refund).
fn split_of(s: &SettlementRow) -> Split {
    Split {
        bill_fen: s.bill_fen,
        pool_fen: s.pool_fen,
        account_fen: s.account_fen,
        self_pay_fen: s.self_pay_fen,
        deductible_applied_fen: s.deductible_applied_fen,
        ratio_bp: u32::try_from(s.ratio_bp).unwrap_or(0),
        locality: Locality::parse(&s.locality).unwrap_or(Locality::Local),
    }
}

/// Refunds a settlement in full, from a medical terminal of the same operator: every part goes
/// back where it came from and the policy year is restored.
pub async fn refund(store: &dyn Store, ctx: &Ctx, terminal: &Terminal, settlement_id: &str) -> Result<SettlementRow> {
    let mut tx = store.write().await?;
    let t = live_terminal(tx.as_mut(), &terminal.id, Scenario::Medical).await?;
    let mut s = tx
        .get_settlement(settlement_id, true)
        .await?
        .filter(|s| s.operator_code == t.operator_code)
        .ok_or_else(|| StoreError::not_found("settlement", settlement_id))?;
    decide_refund(s.refunded_at_ms.is_some())?;
    // Every writer of a medical account and a policy year locks the person first (see settle).
    tx.get_person(&s.person_id, true).await?.ok_or_else(|| StoreError::not_found("person", &s.person_id))?;
    let card = tx.get_card(&s.card_no, false).await?.ok_or_else(|| StoreError::not_found("card", &s.card_no))?;
    let region = RegionCode::parse(&s.insured_region)?;
    let accounts = SettlementAccounts::new(region, &s.person_id, &card, &s.operator_code)?;
    let mut balances = lock_accounts(tx.as_mut(), ctx, &accounts_to_lock(&accounts, &s.person_id)).await?;
    let split = split_of(&s);
    let id = &s.id;
    let transfers = post(tx.as_mut(), ctx, &mut balances, &refund_legs(id, &accounts, &split), id).await?;
    let ytd = tx.get_medical_year(&s.person_id, s.year).await?.unwrap_or_default();
    tx.put_medical_year(&s.person_id, s.year, &after_refund(ytd, &split)).await?;
    tx.mark_refunded(id, ctx.now_ms).await?;
    s.refunded_at_ms = Some(ctx.now_ms);
    let subject = Subject { entity: "settlement", entity_id: id, person_id: &s.person_id, region: region.to_string() };
    let payload = json!({ "settlement_id": id, "transfers": transfers });
    crate::record(tx.as_mut(), ctx, "medical.refunded", &subject, payload).await?;
    tx.commit().await?;
    Ok(s)
}
