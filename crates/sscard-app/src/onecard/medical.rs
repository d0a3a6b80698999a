//! Medical settlement at a medical terminal: the insured region's policy splits the bill
//! (sscard_domain::medical), the pool, the personal medical account and the self-pay part
//! move to the institution's clearing account, the policy year is updated, all in one
//! transaction. A bill id settles once per operator: the same bill again returns the first
//! split, a different bill under the same id is a 409. Refunds reverse a settlement exactly.

use super::ledger::{Leg, balance_changes, bank, lock_accounts, medical, org, plan_legs, post};
use super::{Presentation, live_terminal, terminal_and_holder, terminal_subject, use_row, with_refusals};
use crate::{Ctx, Subject, new_id, record_rows};
use serde::Serialize;
use serde_json::json;
use sscard_domain::access;
use sscard_domain::error::DomainError;
use sscard_domain::ids::RegionCode;
use sscard_domain::ledger::{AccountId, AccountKind, TransferKind};
use sscard_domain::medical::{
    Locality, MedicalPolicy, YearToDate, after_refund, after_settlement, check_bill_id, decide_refund, split,
};
use sscard_domain::money::Fen;
use sscard_domain::terminal::{Scenario, Terminal};
use sscard_store::onecard::{MedicalYearRow, SettlementRow, Writes};
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
/// accounts enter at 0, as in [`lock_accounts`]); `None` when one does not exist yet.
fn balances_read(
    accounts: &[(AccountId, Option<&str>)],
    read: &[(String, i64)],
) -> Option<std::collections::BTreeMap<String, i64>> {
    let mut out = std::collections::BTreeMap::new();
    for (a, _) in accounts {
        let id = a.to_string();
        let balance = match a.kind.is_holder() {
            true => read.iter().find(|(r, _)| *r == id)?.1,
            false => 0,
        };
        out.insert(id, balance);
    }
    Some(out)
}

/// The regions whose policies apply to `region`: its own and its province's.
fn policy_regions(region: RegionCode) -> (String, String) {
    let province = RegionCode::of_province(region.province()).unwrap_or(region);
    (region.to_string(), province.to_string())
}

/// Of the policies set for the region and its province, the region's own, else the province's
/// (for this region), else the default.
fn choose_policy(region: RegionCode, set: Vec<MedicalPolicy>) -> MedicalPolicy {
    if let Some(p) = set.iter().find(|p| p.region == region) {
        return p.clone();
    }
    match set.into_iter().next() {
        Some(p) => MedicalPolicy { region, ..p },
        None => MedicalPolicy::default_for(region),
    }
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

/// The source of the self-pay part: the card's bank account, or cash at the desk for a
/// card without the financial function (a temporary card).
fn self_pay_source(card: &sscard_domain::card::Card, operator: &str) -> Result<AccountId> {
    if card.pan.is_some() { bank(card.card_no.as_str()) } else { org(AccountKind::Cash, operator) }
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

async fn settle_inner(
    store: &dyn Store,
    ctx: &Ctx,
    terminal: &Terminal,
    p: &Presentation,
    bill_id: &str,
    amount: Fen,
) -> Result<SettlementView> {
    let mut tx = store.write().await?;
    // The person's row lock serialises every writer of the person's medical account and policy
    // year (settlements, refunds, deposits), so what is read below stays current until commit,
    // and the second settlement of one bill sees the first.
    let (t, h) = terminal_and_holder(tx.as_mut(), ctx, &terminal.id, Scenario::Medical, p, true).await?;
    let person = &h.person;
    let year = i64::from(ctx.today().year());
    let id = new_id();
    let pool = org(AccountKind::Pool, &person.region.to_string())?;
    let acct = medical(&person.id)?;
    let own = self_pay_source(&h.card, &t.operator_code)?;
    let clearing = super::ledger::clearing(&t.operator_code)?;
    let (acct_id, own_id) = (acct.to_string(), own.to_string());
    let holder_ids = [acct_id.as_str(), if own.kind.is_holder() { own_id.as_str() } else { acct_id.as_str() }];
    let (own_region, province) = policy_regions(person.region);
    let regions = [own_region.as_str(), province.as_str()];
    let found = tx.settlement_context(&t.operator_code, bill_id, &person.id, year, regions, holder_ids).await?;
    let accounts = [
        (pool.clone(), None),
        (acct.clone(), Some(person.id.as_str())),
        (own.clone(), own.kind.is_holder().then_some(person.id.as_str())),
        (clearing.clone(), None),
    ];
    let mut balances = match balances_read(&accounts, &found.accounts) {
        Some(read) => read,
        // A first use: create the accounts (and lock them, as everywhere else).
        None => lock_accounts(tx.as_mut(), ctx, &accounts).await?,
    };
    if let Some(first) = found.prior {
        if first.card_no == h.card.card_no.as_str() && first.bill_fen == amount.value() {
            return Ok(SettlementView { row: first, replayed: true });
        }
        return Err(DomainError::conflict(
            "bill_settled",
            format!("bill {bill_id} was already settled with other details"),
            Some("settled".into()),
        )
        .into());
    }
    let policy = choose_policy(person.region, found.policies);
    let locality = Locality::of(person.region, t.region);
    let ytd = found.year.unwrap_or_default();
    let balance = Fen::new(balances.get(&acct.to_string()).copied().unwrap_or(0));
    let s = split(amount, &policy, locality, ytd, balance)?;
    let legs = [
        Leg {
            from: pool,
            to: clearing.clone(),
            amount: Fen::new(s.pool_fen),
            kind: TransferKind::MedicalPool,
            key: format!("settlement:{id}:pool"),
        },
        Leg {
            from: acct,
            to: clearing.clone(),
            amount: Fen::new(s.account_fen),
            kind: TransferKind::MedicalAccount,
            key: format!("settlement:{id}:account"),
        },
        Leg {
            from: own,
            to: clearing,
            amount: Fen::new(s.self_pay_fen),
            kind: TransferKind::MedicalSelfPay,
            key: format!("settlement:{id}:self"),
        },
    ];
    let locked = balances.clone();
    let transfers = plan_legs(ctx, &mut balances, &legs, &id)?;
    let row = SettlementRow {
        id: id.clone(),
        operator_code: t.operator_code.clone(),
        terminal_id: t.id.clone(),
        bill_id: bill_id.to_string(),
        person_id: person.id.clone(),
        card_no: h.card.card_no.as_str().to_string(),
        insured_region: person.region.to_string(),
        locality: locality.as_str().to_string(),
        year,
        bill_fen: s.bill_fen,
        pool_fen: s.pool_fen,
        account_fen: s.account_fen,
        self_pay_fen: s.self_pay_fen,
        deductible_applied_fen: s.deductible_applied_fen,
        ratio_bp: i64::from(s.ratio_bp),
        at_ms: ctx.now_ms,
        refunded_at_ms: None,
    };
    let payload = json!({ "settlement": row, "transfers": transfers });
    let record = record_rows(ctx, "medical.settled", &terminal_subject("settlement", &id, &h), payload);
    tx.write_all(&Writes {
        balances: balance_changes(&locked, &balances),
        transfers,
        settlement: Some(row.clone()),
        medical_year: Some(MedicalYearRow { person_id: person.id.clone(), year, ytd: after_settlement(ytd, &s) }),
        uses: vec![use_row(ctx, &t, p, Some((&h.person, &h.card)), None)],
        record: Some(record),
        now_ms: ctx.now_ms,
        ..Writes::default()
    })
    .await?;
    tx.commit().await?;
    Ok(SettlementView { row, replayed: false })
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
    let pool = org(AccountKind::Pool, &s.insured_region)?;
    let acct = medical(&s.person_id)?;
    let own = self_pay_source(&card, &s.operator_code)?;
    let clearing = super::ledger::clearing(&s.operator_code)?;
    let mut balances = lock_accounts(
        tx.as_mut(),
        ctx,
        &[
            (pool.clone(), None),
            (acct.clone(), Some(&s.person_id)),
            (own.clone(), own.kind.is_holder().then_some(s.person_id.as_str())),
            (clearing.clone(), None),
        ],
    )
    .await?;
    let id = &s.id;
    let legs = [
        Leg {
            from: clearing.clone(),
            to: pool,
            amount: Fen::new(s.pool_fen),
            kind: TransferKind::MedicalRefund,
            key: format!("settlement:{id}:refund:pool"),
        },
        Leg {
            from: clearing.clone(),
            to: acct,
            amount: Fen::new(s.account_fen),
            kind: TransferKind::MedicalRefund,
            key: format!("settlement:{id}:refund:account"),
        },
        Leg {
            from: clearing,
            to: own,
            amount: Fen::new(s.self_pay_fen),
            kind: TransferKind::MedicalRefund,
            key: format!("settlement:{id}:refund:self"),
        },
    ];
    let transfers = post(tx.as_mut(), ctx, &mut balances, &legs, id).await?;
    let ytd = tx.get_medical_year(&s.person_id, s.year).await?.unwrap_or_default();
    let split = sscard_domain::medical::Split {
        bill_fen: s.bill_fen,
        pool_fen: s.pool_fen,
        account_fen: s.account_fen,
        self_pay_fen: s.self_pay_fen,
        deductible_applied_fen: s.deductible_applied_fen,
        ratio_bp: u32::try_from(s.ratio_bp).unwrap_or(0),
        locality: Locality::Local,
    };
    let restored: YearToDate = after_refund(ytd, &split);
    tx.put_medical_year(&s.person_id, s.year, &restored).await?;
    tx.mark_refunded(id, ctx.now_ms).await?;
    s.refunded_at_ms = Some(ctx.now_ms);
    let subject = Subject { entity: "settlement", entity_id: id, person_id: &s.person_id, region: region.to_string() };
    crate::record(
        tx.as_mut(),
        ctx,
        "medical.refunded",
        &subject,
        json!({ "settlement_id": id, "transfers": transfers }),
    )
    .await?;
    tx.commit().await?;
    Ok(s)
}
