//! Cross-province medical settlement (跨省异地就医直接结算, docs/NATION.md): the three sides of
//! one bill, each one transaction with its event and audit record.
//!
//! - The origin (the hospital's deployment, [`settle_at_origin`]): asks the hub, then records
//!   the self-pay and the hospital's receivable against `clearing:NATION-<decider>`.
//! - The hub ([`settle_at_hub`]): passes the bill to the decider, then keeps the clearing entry.
//! - The decider (the card's deployment, [`settle_at_decider`]): its own policy splits the bill,
//!   the pool and personal-account parts move to `clearing:NATION-<origin>`.
//!
//! Each side keeps the bill id with its body and answer, so the same bill again answers the
//! first result without asking further, another body is a 409 (`sscard_domain::nation::medical`),
//! and a side that failed after the next one succeeded is healed by sending the bill again. The
//! hops between the sides are the server's HTTP, behind [`MedicalHub`] and [`MedicalDecider`].

use crate::national::{DEPLOYMENT_UNAVAILABLE, ForwardTarget};
use crate::onecard::ledger::{lock_accounts, post};
use crate::onecard::{Presentation, live_terminal, lookup, refusal_of};
use crate::{Ctx, Subject, new_id};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sscard_domain::error::DomainError;
use sscard_domain::ids::CardIdCode;
use sscard_domain::ledger::AccountId;
use sscard_domain::medical::{
    Locality, MedicalPolicy, after_refund, after_settlement, choose_policy, judge_repeated_bill, policy_regions, split,
};
use sscard_domain::money::Fen;
use sscard_domain::nation::forward::Route;
use sscard_domain::nation::medical::{
    self as rules, ClearingEntry, Decided, PairNet, Presented, RemoteBill, clearing_entry, legs_at_decider,
    legs_at_origin, origin_self_pay_account,
};
use sscard_domain::nation::wire::DeploymentCode;
use sscard_domain::terminal::{Scenario, Terminal, check_presentation};
use sscard_store::ports::{ClearingRow, MAX_CLEARING_PAIRS, Medical, NationBillRow, NationMedical};
use sscard_store::tx::{Store, Tx};
use sscard_store::{Result, StoreError};
use std::collections::BTreeMap;

const ORIGIN: &str = "origin";
const DECIDER: &str = "decider";
const SETTLE: &str = "settle";
const REFUND: &str = "refund";

/// What the decider answered for a bill; the hub and the origin keep it as it came.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// The decider's settlement id.
    pub settlement_id: String,
    pub decider: DeploymentCode,
    pub card_no: String,
    pub insured_region: String,
    #[serde(flatten)]
    pub decided: Decided,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refunded_at_ms: Option<i64>,
}

/// The hub, as the origin sees it (the server calls `POST /api/v1/hub/forward`).
#[async_trait]
pub trait MedicalHub: Send + Sync {
    async fn settle(&self, bill: &RemoteBill) -> Result<Decision>;
    async fn refund(&self, hospital: &str, bill_id: &str) -> Result<Decision>;
}

/// A deciding deployment, as the hub sees it (the server calls its `POST /api/v1/hub-inbound`).
#[async_trait]
pub trait MedicalDecider: Send + Sync {
    async fn settle(&self, to: &DeploymentCode, from: &DeploymentCode, bill: &RemoteBill) -> Result<Decision>;
    async fn refund(
        &self,
        to: &DeploymentCode,
        from: &DeploymentCode,
        hospital: &str,
        bill_id: &str,
    ) -> Result<Decision>;
}

fn to_json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Backend(format!("json: {e}")))
}

fn from_json<T: for<'de> Deserialize<'de>>(s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| StoreError::Backend(format!("stored json: {e}")))
}

/// The first answer to `bill` when this side has it already (another body: 409).
fn replay(prior: &NationBillRow, bill: &RemoteBill) -> Result<Decision> {
    rules::judge_repeated(&bill.bill_id, &from_json(&prior.body)?, bill)?;
    from_json(&prior.answer)
}

// ---------------------------------------------------------------------------------------------
// The decider
// ---------------------------------------------------------------------------------------------

/// At the card's deployment: settles `bill` of one of its persons at `from`'s hospital under its
/// own policy. `p` is the card as presented (the QR verified here against its own keys); a card
/// identification code is looked up here.
pub async fn settle_at_decider(
    store: &dyn Store,
    ctx: &Ctx,
    own: &DeploymentCode,
    from: &DeploymentCode,
    bill: &RemoteBill,
    p: Option<Presentation>,
) -> Result<Decision> {
    let amount = bill.check()?;
    let mut tx = store.write().await?;
    if let Some(prior) = tx.get_nation_bill(DECIDER, from.as_str(), &bill.hospital, &bill.bill_id, true).await? {
        return replay(&prior, bill);
    }
    let p = presentation(tx.as_mut(), p, &bill.presented).await?;
    let (person, card) = lookup(tx.as_mut(), &p).await?.map_err(|r| refusal_of(&p, r))?;
    // The holder's row serialises every writer of the medical account and policy year.
    let person = tx.get_person(&person.id, true).await?.ok_or_else(|| StoreError::not_found("person", &person.id))?;
    let usable = match &p {
        Presentation::Ecard { ecard_id } => tx.get_ecard(ecard_id).await?.map(|e| e.usable()),
        _ => None,
    };
    check_presentation(&card, usable, bill.institution_region, ctx.today())?;
    let year = i64::from(ctx.today().year());
    let policy = policy_of(tx.as_mut(), person.region).await?;
    let (pool, account) =
        (AccountId::parse(&format!("pool:{}", person.region))?, crate::onecard::ledger::medical(&person.id)?);
    let nation = rules::nation_clearing(from)?;
    let mut balances =
        lock_accounts(tx.as_mut(), ctx, &[(pool.clone(), None), (account.clone(), Some(&person.id)), (nation, None)])
            .await?;
    let ytd = tx.get_medical_year(&person.id, year).await?.unwrap_or_default();
    let balance = Fen::new(balances.get(&account).copied().unwrap_or(0));
    let s = split(amount, &policy, Locality::of(person.region, bill.institution_region), ytd, balance)?;
    let id = new_id();
    let transfers =
        post(tx.as_mut(), ctx, &mut balances, &legs_at_decider(&id, from, &pool, &account, &s, false)?, &id).await?;
    tx.put_medical_year(&person.id, year, &after_settlement(ytd, &s)).await?;
    let decided = Decided { split: s, has_bank_account: card.pan.is_some() };
    let d = Decision {
        settlement_id: id.clone(),
        decider: own.clone(),
        card_no: card.card_no.as_str().to_string(),
        insured_region: person.region.to_string(),
        decided,
        refunded_at_ms: None,
    };
    let row = NationBillRow {
        side: DECIDER.into(),
        origin: from.to_string(),
        hospital: bill.hospital.clone(),
        bill_id: bill.bill_id.clone(),
        other: from.to_string(),
        settlement_id: id.clone(),
        body: to_json(bill)?,
        answer: to_json(&d)?,
        person_id: Some(person.id.clone()),
        at_ms: ctx.now_ms,
        refunded_at_ms: None,
        refund_answer: None,
    };
    tx.insert_nation_bill(&row).await?;
    let subject =
        Subject { entity: "settlement", entity_id: &id, person_id: &person.id, region: person.region.to_string() };
    let payload = json!({ "origin": from, "hospital": bill.hospital, "bill_id": bill.bill_id, "split": s, "transfers": transfers });
    crate::record(tx.as_mut(), ctx, "medical.remote_settled", &subject, payload).await?;
    tx.commit().await?;
    Ok(d)
}

/// The card as presented: the QR the caller verified, or a card identification code looked
/// up here (an unknown one is refused).
async fn presentation(tx: &mut dyn Tx, p: Option<Presentation>, presented: &Presented) -> Result<Presentation> {
    Ok(match (p, presented) {
        (Some(p), _) => p,
        (None, Presented::CardIdCode { code }) => match tx.card_no_by_id_code(code.as_str()).await? {
            Some(no) => Presentation::CardNo(no),
            None => return Err(DomainError::refused("unknown_card", "no card has this identification code").into()),
        },
        (None, Presented::Qr { .. }) => Presentation::RefusedQr { reason: "malformed", ecard_id: None },
    })
}

/// The insured region's policy, as a local settlement chooses it (its own, its province's, the default).
async fn policy_of(tx: &mut dyn Tx, region: sscard_domain::ids::RegionCode) -> Result<MedicalPolicy> {
    let (own, province) = policy_regions(region);
    let (own, province) = (own.to_string(), province.to_string());
    let found = tx.settlement_context("", "", "", 0, [own.as_str(), province.as_str()], ["", ""]).await?;
    Ok(choose_policy(region, found.policies))
}

/// At the card's deployment: refunds a bill it settled for `from`'s hospital, in full, once;
/// asked again, it answers the refund it made.
pub async fn refund_at_decider(
    store: &dyn Store,
    ctx: &Ctx,
    from: &DeploymentCode,
    hospital: &str,
    bill_id: &str,
) -> Result<Decision> {
    let mut tx = store.write().await?;
    let mut row = tx
        .get_nation_bill(DECIDER, from.as_str(), hospital, bill_id, true)
        .await?
        .ok_or_else(|| StoreError::not_found("bill", bill_id))?;
    if let Some(done) = &row.refund_answer {
        return from_json(done);
    }
    let mut d: Decision = from_json(&row.answer)?;
    let person_id = row.person_id.clone().ok_or_else(|| StoreError::not_found("person", bill_id))?;
    tx.get_person(&person_id, true).await?.ok_or_else(|| StoreError::not_found("person", &person_id))?;
    let (pool, account) =
        (AccountId::parse(&format!("pool:{}", d.insured_region))?, crate::onecard::ledger::medical(&person_id)?);
    let nation = rules::nation_clearing(from)?;
    let mut balances =
        lock_accounts(tx.as_mut(), ctx, &[(pool.clone(), None), (account.clone(), Some(&person_id)), (nation, None)])
            .await?;
    let s = d.decided.split;
    let legs = legs_at_decider(&row.settlement_id, from, &pool, &account, &s, true)?;
    let transfers = post(tx.as_mut(), ctx, &mut balances, &legs, &row.settlement_id).await?;
    let year = i64::from(sscard_domain::clock::china_date(row.at_ms).year());
    let ytd = tx.get_medical_year(&person_id, year).await?.unwrap_or_default();
    tx.put_medical_year(&person_id, year, &after_refund(ytd, &s)).await?;
    d.refunded_at_ms = Some(ctx.now_ms);
    let answer = to_json(&d)?;
    tx.mark_nation_bill_refunded(DECIDER, from.as_str(), hospital, bill_id, ctx.now_ms, &answer).await?;
    row.refund_answer = Some(answer);
    let id = row.settlement_id.as_str();
    let subject =
        Subject { entity: "settlement", entity_id: id, person_id: &person_id, region: d.insured_region.clone() };
    let payload = json!({ "origin": from, "hospital": hospital, "bill_id": bill_id, "transfers": transfers });
    crate::record(tx.as_mut(), ctx, "medical.remote_refunded", &subject, payload).await?;
    tx.commit().await?;
    Ok(d)
}

// ---------------------------------------------------------------------------------------------
// The hub
// ---------------------------------------------------------------------------------------------

fn replay_clearing(prior: &ClearingRow, bill: &RemoteBill) -> Result<Decision> {
    rules::judge_repeated(&bill.bill_id, &from_json(&prior.body)?, bill)?;
    from_json(&prior.answer)
}

/// At the hub: passes `from`'s bill to the deployment that decides it (`decider`, which the
/// caller found in the trust list or the regions) and keeps the clearing entry; the same bill
/// again answers the first result without asking the decider.
pub async fn settle_at_hub(
    store: &dyn Store,
    ctx: &Ctx,
    from: &DeploymentCode,
    decider: &DeploymentCode,
    bill: &RemoteBill,
    link: &dyn MedicalDecider,
) -> Result<Decision> {
    bill.check()?;
    rules::decide_forward(from, decider)?;
    let key = (from.as_str(), bill.hospital.as_str(), bill.bill_id.as_str());
    let mut tx = store.read().await?;
    let prior = tx.get_clearing(key.0, key.1, key.2, SETTLE).await?;
    tx.commit().await?;
    if let Some(prior) = prior {
        return replay_clearing(&prior, bill);
    }
    // Outside any transaction: the decider is idempotent by the bill, so a second call made
    // by a concurrent or retried request answers the same.
    let d = link.settle(decider, from, bill).await?;
    let entry = clearing_entry(from, decider, d.decided.owed_fen(), &day_of(ctx), false);
    record_clearing(store, ctx, key, SETTLE, decider, &to_json(bill)?, &d, entry).await?;
    Ok(d)
}

fn day_of(ctx: &Ctx) -> String {
    ctx.today().to_string()
}

/// At the hub: how to call deployment `to` (its URL and its own secret, sealed at the hub); a
/// deployment the hub keeps no way to call is 503 `deployment_unavailable`, nothing asked.
pub async fn reach(store: &dyn Store, to: &DeploymentCode) -> Result<ForwardTarget> {
    let mut tx = store.read().await?;
    let found = tx.get_deployment(to.as_str()).await?;
    let secret = tx.deployment_secret(to.as_str()).await?;
    tx.commit().await?;
    match (found, secret) {
        (Some(d), Some(secret)) => {
            Ok(ForwardTarget { route: Route { to: to.clone(), person_id: None }, url: d.info.url, secret })
        }
        _ => Err(StoreError::Unavailable {
            code: DEPLOYMENT_UNAVAILABLE,
            detail: format!("the hub keeps no way to call deployment {to}"),
        }),
    }
}

/// Keeps the entry (or the replay of a concurrent one) with its event and audit record.
#[allow(clippy::too_many_arguments)]
async fn record_clearing(
    store: &dyn Store,
    ctx: &Ctx,
    (origin, hospital, bill_id): (&str, &str, &str),
    kind: &str,
    decider: &DeploymentCode,
    body: &str,
    d: &Decision,
    entry: Option<ClearingEntry>,
) -> Result<()> {
    let (payer, payee, amount) = match &entry {
        Some(e) => (e.payer.to_string(), e.payee.to_string(), e.amount_fen),
        None => (decider.to_string(), origin.to_string(), 0),
    };
    let row = ClearingRow {
        origin: origin.into(),
        hospital: hospital.into(),
        bill_id: bill_id.into(),
        kind: kind.into(),
        decider: decider.to_string(),
        body: body.into(),
        answer: to_json(d)?,
        payer,
        payee,
        amount_fen: amount,
        day: day_of(ctx),
        at_ms: ctx.now_ms,
    };
    let mut tx = store.write().await?;
    if tx.insert_clearing(&row).await? {
        let id = format!("{origin}/{hospital}/{bill_id}");
        let subject = Subject { entity: "clearing", entity_id: &id, person_id: "", region: String::new() };
        let payload =
            json!({ "kind": kind, "payer": row.payer, "payee": row.payee, "amount_fen": amount, "day": row.day });
        crate::record(tx.as_mut(), ctx, "hub.clearing_recorded", &subject, payload).await?;
    }
    tx.commit().await
}

/// At the hub: passes the refund of a bill it cleared to its decider and keeps the reverse entry.
pub async fn refund_at_hub(
    store: &dyn Store,
    ctx: &Ctx,
    from: &DeploymentCode,
    hospital: &str,
    bill_id: &str,
    link: &dyn MedicalDecider,
) -> Result<Decision> {
    let mut tx = store.read().await?;
    let settled = tx.get_clearing(from.as_str(), hospital, bill_id, SETTLE).await?;
    let prior = tx.get_clearing(from.as_str(), hospital, bill_id, REFUND).await?;
    tx.commit().await?;
    let settled = settled.ok_or_else(|| StoreError::not_found("bill", bill_id))?;
    if let Some(prior) = prior {
        return from_json(&prior.answer);
    }
    let decider = DeploymentCode::parse(&settled.decider).map_err(|_| StoreError::Backend("stored decider".into()))?;
    let d = link.refund(&decider, from, hospital, bill_id).await?;
    let entry = clearing_entry(from, &decider, d.decided.owed_fen(), &day_of(ctx), true);
    record_clearing(store, ctx, (from.as_str(), hospital, bill_id), REFUND, &decider, &settled.body, &d, entry).await?;
    Ok(d)
}

/// A day of the hub's clearing ledger: the net per pair of deployments and each deployment's
/// position (which sum to zero).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClearingDay {
    pub day: String,
    pub pairs: Vec<PairNet>,
    pub positions: BTreeMap<DeploymentCode, i64>,
    pub entries: usize,
}

impl ClearingDay {
    /// The day as one deployment sees it: the pairs it is in and its own position (the whole
    /// day, whose positions sum to zero, is the hub's admin's).
    pub fn seen_by(self, code: &DeploymentCode) -> ClearingDay {
        let pairs: Vec<PairNet> = self.pairs.into_iter().filter(|p| &p.debtor == code || &p.creditor == code).collect();
        let positions = self.positions.into_iter().filter(|(c, _)| c == code).collect();
        let entries = pairs.iter().map(|p| p.entries).sum();
        ClearingDay { day: self.day, pairs, positions, entries }
    }
}

/// Nets a day of the hub's clearing ledger.
pub async fn clearing_day(store: &dyn Store, day: &str) -> Result<ClearingDay> {
    rules::check_day(day)?;
    let mut tx = store.read().await?;
    let rows = tx.clearing_totals_of_day(day, MAX_CLEARING_PAIRS + 1).await?;
    tx.commit().await?;
    if rows.len() > MAX_CLEARING_PAIRS as usize {
        // Netting part of a day would answer a wrong figure; say so instead.
        return Err(StoreError::Backend(format!("more than {MAX_CLEARING_PAIRS} pairs of deployments on {day}")));
    }
    let code = |s: &str| DeploymentCode::parse(s).map_err(|_| StoreError::Backend(format!("stored deployment {s:?}")));
    let totals = rows
        .iter()
        .map(|r| {
            Ok(rules::DirectedTotal {
                payer: code(&r.payer)?,
                payee: code(&r.payee)?,
                amount_fen: r.amount_fen,
                entries: usize::try_from(r.entries).unwrap_or(0),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(ClearingDay {
        day: day.into(),
        pairs: rules::net_totals(&totals),
        positions: rules::positions(&totals),
        entries: totals.iter().map(|t| t.entries).sum(),
    })
}

// ---------------------------------------------------------------------------------------------
// The origin
// ---------------------------------------------------------------------------------------------

/// A remote settlement as the hospital's terminal sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RemoteView {
    /// The origin's own settlement id.
    pub id: String,
    pub bill_id: String,
    #[serde(flatten)]
    pub decision: Decision,
    pub replayed: bool,
}

/// At the hospital's deployment: settles a bill of another deployment's person at a medical
/// terminal (the caller found that the card is not its own). Asks the hub first, outside any
/// transaction; then the self-pay and the receivable move here in one transaction. When the hub
/// or the decider cannot be reached, nothing moved here.
pub async fn settle_at_origin(
    store: &dyn Store,
    ctx: &Ctx,
    terminal: &Terminal,
    bill_id: &str,
    amount_fen: i64,
    presented: Presented,
    hub: &dyn MedicalHub,
) -> Result<RemoteView> {
    let mut tx = store.read().await?;
    let t = live_terminal(tx.as_mut(), &terminal.id, Scenario::Medical).await?;
    let bill = RemoteBill {
        bill_id: bill_id.into(),
        amount_fen,
        hospital: t.operator_code.clone(),
        institution_region: t.region,
        presented,
    };
    bill.check()?;
    let prior = tx.get_nation_bill(ORIGIN, "", &t.operator_code, bill_id, false).await?;
    refuse_local_bill(tx.as_mut(), &t.operator_code, bill_id).await?;
    tx.commit().await?;
    if let Some(prior) = prior {
        let decision = replay(&prior, &bill)?;
        return Ok(RemoteView { id: prior.settlement_id, bill_id: bill.bill_id, decision, replayed: true });
    }
    let d = hub.settle(&bill).await?;
    record_at_origin(store, ctx, &t, &bill, d).await
}

async fn record_at_origin(
    store: &dyn Store,
    ctx: &Ctx,
    t: &Terminal,
    bill: &RemoteBill,
    d: Decision,
) -> Result<RemoteView> {
    let mut tx = store.write().await?;
    if let Some(prior) = tx.get_nation_bill(ORIGIN, "", &t.operator_code, &bill.bill_id, true).await? {
        // A concurrent request for the same bill recorded it first.
        let decision = replay(&prior, bill)?;
        return Ok(RemoteView { id: prior.settlement_id, bill_id: bill.bill_id.clone(), decision, replayed: true });
    }
    refuse_local_bill(tx.as_mut(), &t.operator_code, &bill.bill_id).await?;
    let own = origin_self_pay_account(&d.card_no, d.decided.has_bank_account, &t.operator_code)?;
    let id = new_id();
    let legs = legs_at_origin(&id, &d.decider, &t.operator_code, &own, &d.decided, false)?;
    let mut balances = lock_accounts(
        tx.as_mut(),
        ctx,
        &[(legs[0].from.clone(), None), (own.clone(), None), (legs[0].to.clone(), None)],
    )
    .await?;
    let transfers = post(tx.as_mut(), ctx, &mut balances, &legs, &id).await?;
    let row = NationBillRow {
        side: ORIGIN.into(),
        origin: String::new(),
        hospital: t.operator_code.clone(),
        bill_id: bill.bill_id.clone(),
        other: d.decider.to_string(),
        settlement_id: id.clone(),
        body: to_json(bill)?,
        answer: to_json(&d)?,
        person_id: None,
        at_ms: ctx.now_ms,
        refunded_at_ms: None,
        refund_answer: None,
    };
    tx.insert_nation_bill(&row).await?;
    let subject = Subject { entity: "settlement", entity_id: &id, person_id: "", region: t.region.to_string() };
    let payload =
        json!({ "decider": d.decider, "bill_id": bill.bill_id, "split": d.decided.split, "transfers": transfers });
    crate::record(tx.as_mut(), ctx, "medical.remote_settled", &subject, payload).await?;
    tx.commit().await?;
    Ok(RemoteView { id, bill_id: bill.bill_id.clone(), decision: d, replayed: false })
}

/// At the hospital's deployment: refunds a remote settlement of this terminal's hospital, in
/// full, once: the hub and the decider first, then the parts here go back.
pub async fn refund_at_origin(
    store: &dyn Store,
    ctx: &Ctx,
    terminal: &Terminal,
    bill_id: &str,
    hub: &dyn MedicalHub,
) -> Result<RemoteView> {
    let mut tx = store.read().await?;
    let t = live_terminal(tx.as_mut(), &terminal.id, Scenario::Medical).await?;
    let prior = tx.get_nation_bill(ORIGIN, "", &t.operator_code, bill_id, false).await?;
    tx.commit().await?;
    let prior = prior.ok_or_else(|| StoreError::not_found("bill", bill_id))?;
    rules::decide_refund(prior.hospital == t.operator_code, prior.refunded_at_ms.is_some())?;
    let d = hub.refund(&t.operator_code, bill_id).await?;
    let mut tx = store.write().await?;
    let row = tx
        .get_nation_bill(ORIGIN, "", &t.operator_code, bill_id, true)
        .await?
        .ok_or_else(|| StoreError::not_found("bill", bill_id))?;
    rules::decide_refund(true, row.refunded_at_ms.is_some())?;
    let first: Decision = from_json(&row.answer)?;
    let own = origin_self_pay_account(&first.card_no, first.decided.has_bank_account, &t.operator_code)?;
    let legs = legs_at_origin(&row.settlement_id, &first.decider, &t.operator_code, &own, &first.decided, true)?;
    let mut balances =
        lock_accounts(tx.as_mut(), ctx, &[(legs[0].to.clone(), None), (own, None), (legs[0].from.clone(), None)])
            .await?;
    let transfers = post(tx.as_mut(), ctx, &mut balances, &legs, &row.settlement_id).await?;
    tx.mark_nation_bill_refunded(ORIGIN, "", &t.operator_code, bill_id, ctx.now_ms, &to_json(&d)?).await?;
    let id = row.settlement_id.as_str();
    let subject = Subject { entity: "settlement", entity_id: id, person_id: "", region: t.region.to_string() };
    let payload = json!({ "decider": first.decider, "bill_id": bill_id, "transfers": transfers });
    crate::record(tx.as_mut(), ctx, "medical.remote_refunded", &subject, payload).await?;
    tx.commit().await?;
    Ok(RemoteView { id: row.settlement_id.clone(), bill_id: bill_id.into(), decision: d, replayed: false })
}

/// A bill id is the hospital's once, whoever the patient: one it settled for a card of this
/// deployment is refused when presented again for a card of another (409 `bill_settled`).
async fn refuse_local_bill(tx: &mut (impl Medical + ?Sized), hospital: &str, bill_id: &str) -> Result<()> {
    if tx.settlement_of_bill(hospital, bill_id).await?.is_some() {
        judge_repeated_bill(bill_id, false, false)?;
    }
    Ok(())
}

/// The same the other way: whether `hospital` settled `bill_id` through the hub for a card of
/// another deployment (a local settlement of that bill id is then refused, 409 `bill_settled`).
pub async fn refuse_remote_bill(tx: &mut (impl NationMedical + ?Sized), hospital: &str, bill_id: &str) -> Result<()> {
    if tx.get_nation_bill(ORIGIN, "", hospital, bill_id, false).await?.is_some() {
        judge_repeated_bill(bill_id, false, false)?;
    }
    Ok(())
}

/// At the hospital's deployment: the card number of a card identification code of its own
/// cards (`None`: not a card of this deployment).
pub async fn own_card_by_id_code(store: &dyn Store, code: &CardIdCode) -> Result<Option<String>> {
    let mut tx = store.read().await?;
    let found = tx.card_no_by_id_code(code.as_str()).await?;
    tx.commit().await?;
    Ok(found)
}

/// At the hospital's deployment: the bill id of `hospital`'s remote settlement `settlement_id`
/// (the id its terminal was answered), or `None` when it is not one (another hospital's is
/// as unknown as a local settlement of another operator).
pub async fn remote_bill_id(store: &dyn Store, hospital: &str, settlement_id: &str) -> Result<Option<String>> {
    let mut tx = store.read().await?;
    let found = tx.nation_bill_by_settlement(ORIGIN, settlement_id).await?;
    tx.commit().await?;
    Ok(found.filter(|b| b.hospital == hospital).map(|b| b.bill_id))
}
