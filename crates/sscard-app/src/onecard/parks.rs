//! Parks: entries by the park's rules (free for retirees, free with an annual pass, otherwise
//! the price from the card's e-wallet) and annual passes bought with the card. A visitor of
//! another deployment of the nation enters where that costs nothing (a free park, or free for
//! retirees by their deployment's flag); a paid entry and a pass would move money on a card
//! whose accounts are kept elsewhere, and are refused (`foreign_card_not_payable`).

use super::ledger::{Leg, lock_accounts, post, wallet};
use super::{Presentation, holder, live_terminal, record_in, terminal_subject, use_row, with_refusals};
use crate::{Ctx, Subject, new_id, record};
use serde::Serialize;
use serde_json::json;
use sscard_domain::access;
use sscard_domain::error::DomainError;
use sscard_domain::ledger::TransferKind;
use sscard_domain::money::Fen;
use sscard_domain::nation::visitor::{Visitor, check_visitor, decide_visitor_entry};
use sscard_domain::park::{check_code, check_rule, decide_entry, decide_pass};
use sscard_domain::terminal::{Scenario, Terminal};
use sscard_domain::transit::decide_fare;
use sscard_store::onecard::{EntryRow, ParkRow, PassRow};
use sscard_store::ports::Parks;
use sscard_store::tx::Store;
use sscard_store::{Result, StoreError};

/// Creates or changes a park (admin); the operator must exist.
pub async fn put_park(store: &dyn Store, ctx: &Ctx, park: ParkRow) -> Result<ParkRow> {
    access::may_administer(&ctx.actor)?;
    check_rule(&park.rule)?;
    let mut tx = store.write().await?;
    let op = tx.get_operator(&park.operator_code).await?.ok_or_else(|| {
        DomainError::invalid("unknown_operator", "operator", format!("no operator {}", park.operator_code))
    })?;
    tx.upsert_park(&park).await?;
    let subject = Subject { entity: "park", entity_id: &park.rule.code, person_id: "", region: op.region.to_string() };
    record(tx.as_mut(), ctx, "park.set", &subject, json!(park)).await?;
    tx.commit().await?;
    Ok(park)
}

async fn park_of(tx: &mut (impl Parks + ?Sized), t: &Terminal, code: &str) -> Result<ParkRow> {
    check_code(code)?;
    let park = tx.get_park(code).await?.ok_or_else(|| StoreError::not_found("park", code))?;
    sscard_domain::park::check_park_operator(code, &park.operator_code, &t.operator_code)?;
    Ok(park)
}

/// The answer at the park gate.
#[derive(Debug, Clone, Serialize)]
pub struct EntryView {
    pub admitted: bool,
    pub price_fen: i64,
    /// `retiree`, `annual_pass`, `free`, `paid`, or why not admitted.
    pub reason: String,
    pub balance_fen: Option<i64>,
}

/// An entry at a park gate; a refused entry (e.g. too little in the e-wallet) is recorded too.
pub async fn entry(
    store: &dyn Store,
    ctx: &Ctx,
    terminal: &Terminal,
    p: &Presentation,
    park_code: &str,
) -> Result<EntryView> {
    if let Presentation::Visitor(v) = p {
        let outcome = visitor_entry(store, ctx, terminal, p, v, park_code).await;
        return with_refusals(store, ctx, terminal, p, outcome).await;
    }
    let outcome = async {
        let mut tx = store.write().await?;
        let t = live_terminal(tx.as_mut(), &terminal.id, Scenario::Park).await?;
        let park = park_of(tx.as_mut(), &t, park_code).await?;
        let h = holder(tx.as_mut(), ctx, &t, p).await?;
        let retired = h.person.is_retired(ctx.today(), &ctx.policy);
        let pass = tx.pass_end(&h.person.id, park_code).await?.is_some_and(|end| end > ctx.now_ms);
        let w = wallet(h.card.card_no.as_str())?;
        let clearing = super::ledger::clearing(&t.operator_code)?;
        let mut balances =
            lock_accounts(tx.as_mut(), ctx, &[(w.clone(), Some(&h.person.id)), (clearing.clone(), None)]).await?;
        let d = decide_entry(&park.rule, retired, pass, Fen::new(balances.get(&w).copied().unwrap_or(0)));
        let id = new_id();
        let mut transfers = Vec::new();
        if d.admitted && d.price_fen > 0 {
            let leg = Leg {
                from: w.clone(),
                to: clearing,
                amount: Fen::new(d.price_fen),
                kind: TransferKind::ParkEntry,
                key: format!("park:{id}"),
            };
            transfers = post(tx.as_mut(), ctx, &mut balances, std::slice::from_ref(&leg), &id).await?;
        }
        let row = EntryRow {
            id: id.clone(),
            park_code: park_code.to_string(),
            terminal_id: t.id.clone(),
            person_id: Some(h.person.id.clone()),
            card_no: Some(h.card.card_no.as_str().to_string()),
            deployment: None,
            ecard_id: None,
            admitted: d.admitted,
            price_fen: if d.admitted { d.price_fen } else { 0 },
            reason: d.reason.to_string(),
            at_ms: ctx.now_ms,
        };
        tx.insert_entry(&row).await?;
        let refusal = (!d.admitted).then_some(d.reason);
        tx.insert_use(&use_row(ctx, &t, p, Some((&h.person, &h.card)), refusal)).await?;
        record_in(
            tx.as_mut(),
            ctx,
            "park.entry",
            &terminal_subject("park_entry", &id, &h),
            json!({ "entry": row, "transfers": transfers }),
        )
        .await?;
        tx.commit().await?;
        Ok(EntryView {
            admitted: d.admitted,
            price_fen: d.price_fen,
            reason: d.reason.to_string(),
            balance_fen: balances.get(&w).copied(),
        })
    }
    .await;
    with_refusals(store, ctx, terminal, p, outcome).await
}

/// A visitor's entry: admitted free (a free park, or a retiree where retirees enter free),
/// recorded with their deployment and e-card; a paid entry is refused (422
/// `foreign_card_not_payable`, recorded as a refused use by the caller), nothing written.
async fn visitor_entry(
    store: &dyn Store,
    ctx: &Ctx,
    terminal: &Terminal,
    p: &Presentation,
    v: &Visitor,
    park_code: &str,
) -> Result<EntryView> {
    let mut tx = store.write().await?;
    let t = live_terminal(tx.as_mut(), &terminal.id, Scenario::Park).await?;
    let park = park_of(tx.as_mut(), &t, park_code).await?;
    check_visitor(v, t.region)?;
    let d = decide_visitor_entry(&park.rule, v)?;
    let id = new_id();
    let row = EntryRow {
        id: id.clone(),
        park_code: park_code.to_string(),
        terminal_id: t.id.clone(),
        person_id: None,
        card_no: None,
        deployment: Some(v.deployment.clone()),
        ecard_id: Some(v.ecard_id.clone()),
        admitted: d.admitted,
        price_fen: d.price_fen,
        reason: d.reason.to_string(),
        at_ms: ctx.now_ms,
    };
    tx.insert_entry(&row).await?;
    tx.insert_use(&use_row(ctx, &t, p, None, None)).await?;
    let subject = Subject { entity: "park_entry", entity_id: &id, person_id: "", region: t.region.to_string() };
    record_in(tx.as_mut(), ctx, "park.entry", &subject, json!({ "entry": row, "transfers": [] })).await?;
    tx.commit().await?;
    Ok(EntryView { admitted: d.admitted, price_fen: d.price_fen, reason: d.reason.to_string(), balance_fen: None })
}

/// Sells an annual pass onto the presented card, paid from its e-wallet.
pub async fn buy_pass(
    store: &dyn Store,
    ctx: &Ctx,
    terminal: &Terminal,
    p: &Presentation,
    park_code: &str,
) -> Result<PassRow> {
    let outcome = async {
        let mut tx = store.write().await?;
        let t = live_terminal(tx.as_mut(), &terminal.id, Scenario::Park).await?;
        let park = park_of(tx.as_mut(), &t, park_code).await?;
        let h = holder(tx.as_mut(), ctx, &t, p).await?;
        tx.get_person(&h.person.id, true).await?;
        let current = tx.pass_end(&h.person.id, park_code).await?;
        let (price, start, end) = decide_pass(&park.rule, current, ctx.now_ms)?;
        let w = wallet(h.card.card_no.as_str())?;
        let clearing = super::ledger::clearing(&t.operator_code)?;
        let mut balances =
            lock_accounts(tx.as_mut(), ctx, &[(w.clone(), Some(&h.person.id)), (clearing.clone(), None)]).await?;
        decide_fare(price, Fen::new(balances.get(&w).copied().unwrap_or(0)))?;
        let id = new_id();
        let leg = Leg { from: w, to: clearing, amount: price, kind: TransferKind::ParkPass, key: format!("pass:{id}") };
        let transfers = post(tx.as_mut(), ctx, &mut balances, std::slice::from_ref(&leg), &id).await?;
        let pass = PassRow {
            id: id.clone(),
            park_code: park_code.to_string(),
            person_id: h.person.id.clone(),
            card_no: h.card.card_no.as_str().to_string(),
            start_ms: start,
            end_ms: end,
            price_fen: price.value(),
            at_ms: ctx.now_ms,
        };
        tx.insert_pass(&pass).await?;
        tx.insert_use(&use_row(ctx, &t, p, Some((&h.person, &h.card)), None)).await?;
        record_in(
            tx.as_mut(),
            ctx,
            "park.pass_bought",
            &terminal_subject("park_pass", &id, &h),
            json!({ "pass": pass, "transfers": transfers }),
        )
        .await?;
        tx.commit().await?;
        Ok(pass)
    }
    .await;
    with_refusals(store, ctx, terminal, p, outcome).await
}
