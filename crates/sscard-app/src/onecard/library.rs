//! Library: patrons without deposit, loans and returns anywhere in the network (the operator's
//! libraries), the loan limit and due dates of the network's own policy (set by an admin,
//! 10 items for 30 days when unset), and the overdue list. A visitor of another deployment of
//! the nation borrows with their e-card QR code, without registering (this deployment keeps no
//! person for them): their loans are counted and recorded by the issuing deployment and the
//! e-card id, under the network's same limit and period.

use super::{Party, Presentation, holder, live_terminal, party, record_in, terminal_subject, use_row, with_refusals};
use crate::{Ctx, Subject, new_id, record};
use serde::Serialize;
use serde_json::json;
use sscard_domain::access;
use sscard_domain::error::DomainError;
use sscard_domain::library::{LibraryPolicy, check_item, decide_borrow, decide_register, due_at};
use sscard_domain::terminal::{Scenario, Terminal};
use sscard_store::onecard::{Borrower, LoanRow};
use sscard_store::tx::Store;
use sscard_store::{Result, StoreError};

/// A library network's lending rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NetworkPolicy {
    pub operator: String,
    pub loan_limit: u32,
    pub loan_days: u32,
}

/// Sets a library network's loan limit and loan period (admin), parsed at the edge by
/// `LibraryPolicy::new` (1..=100 items, 1..=365 days). The operator must be a library
/// network. Loans already made keep their due dates.
pub async fn set_policy(
    store: &dyn Store,
    ctx: &Ctx,
    operator_code: &str,
    policy: LibraryPolicy,
) -> Result<NetworkPolicy> {
    access::may_administer(&ctx.actor)?;
    let mut tx = store.write().await?;
    let op = tx.get_operator(operator_code).await?.ok_or_else(|| StoreError::not_found("operator", operator_code))?;
    sscard_domain::library::check_library_operator(&op)?;
    tx.put_library_policy(&op.code, &policy, ctx.now_ms).await?;
    let view = NetworkPolicy { operator: op.code.clone(), loan_limit: policy.loan_limit, loan_days: policy.loan_days };
    let subject =
        Subject { entity: "library_policy", entity_id: &op.code, person_id: "", region: op.region.to_string() };
    record(tx.as_mut(), ctx, "library_policy.set", &subject, json!(view)).await?;
    tx.commit().await?;
    Ok(view)
}

/// The lending rules of a library network: its own, or 10 items for 30 days.
pub async fn policy_of(store: &dyn Store, operator_code: &str) -> Result<LibraryPolicy> {
    let mut tx = store.read().await?;
    let found = tx.get_library_policy(operator_code).await?;
    tx.commit().await?;
    Ok(found.unwrap_or_default())
}

/// Registers the presented holder as a patron of the terminal's library network, with no deposit.
pub async fn register(store: &dyn Store, ctx: &Ctx, terminal: &Terminal, p: &Presentation) -> Result<String> {
    let outcome = async {
        let mut tx = store.write().await?;
        let t = live_terminal(tx.as_mut(), &terminal.id, Scenario::Library).await?;
        let h = holder(tx.as_mut(), ctx, &t, p).await?;
        decide_register(tx.is_patron(&t.operator_code, &h.person.id).await?)?;
        tx.insert_patron(&t.operator_code, &h.person.id, ctx.now_ms).await?;
        tx.insert_use(&use_row(ctx, &t, p, Some((&h.person, &h.card)), None)).await?;
        let payload = json!({ "operator": t.operator_code, "deposit_fen": 0 });
        record_in(
            tx.as_mut(),
            ctx,
            "library.patron_registered",
            &terminal_subject("patron", &h.person.id, &h),
            payload,
        )
        .await?;
        tx.commit().await?;
        Ok(h.person.id)
    }
    .await;
    with_refusals(store, ctx, terminal, p, outcome).await
}

/// Lends `item_id` to the presented patron at any library of the network (or to a visitor of
/// another deployment), within the network's loan limit and for its loan period.
pub async fn borrow(
    store: &dyn Store,
    ctx: &Ctx,
    terminal: &Terminal,
    p: &Presentation,
    item_id: &str,
) -> Result<LoanRow> {
    let outcome = async {
        check_item(item_id)?;
        let mut tx = store.write().await?;
        let t = live_terminal(tx.as_mut(), &terminal.id, Scenario::Library).await?;
        let who = party(tx.as_mut(), ctx, &t, p).await?;
        let borrower = match &who {
            Party::Local(h) => {
                tx.get_person(&h.person.id, true).await?;
                sscard_domain::library::check_patron(tx.is_patron(&t.operator_code, &h.person.id).await?)?;
                Borrower::Person(&h.person.id)
            }
            Party::Visitor(v) => Borrower::Visitor { deployment: &v.deployment, ecard_id: &v.ecard_id },
        };
        let on_loan = tx.open_loan_of_item(&t.operator_code, item_id).await?.is_some();
        // Each network lends by its own rules: only its own loans count.
        let (open, overdue) = tx.loan_counts(&t.operator_code, borrower, ctx.now_ms).await?;
        let policy = &tx.get_library_policy(&t.operator_code).await?.unwrap_or_default();
        decide_borrow(on_loan, open, overdue, policy)?;
        let (person_id, card_no, deployment, ecard_id) = who.columns();
        let loan = LoanRow {
            id: new_id(),
            operator_code: t.operator_code.clone(),
            item_id: item_id.to_string(),
            person_id,
            card_no,
            deployment,
            ecard_id,
            terminal_id: t.id.clone(),
            borrowed_at_ms: ctx.now_ms,
            due_at_ms: due_at(ctx.now_ms, policy),
            returned_at_ms: None,
            returned_terminal_id: None,
        };
        tx.insert_loan(&loan).await?;
        tx.insert_use(&use_row(ctx, &t, p, who.who(), None)).await?;
        record_in(tx.as_mut(), ctx, "library.borrowed", &who.subject("loan", &loan.id, &t), json!(loan)).await?;
        tx.commit().await?;
        Ok(loan)
    }
    .await;
    with_refusals(store, ctx, terminal, p, outcome).await
}

/// Takes `item_id` back at any library of the network.
pub async fn give_back(store: &dyn Store, ctx: &Ctx, terminal: &Terminal, item_id: &str) -> Result<LoanRow> {
    check_item(item_id)?;
    let mut tx = store.write().await?;
    let t = live_terminal(tx.as_mut(), &terminal.id, Scenario::Library).await?;
    let mut loan = tx.open_loan_of_item(&t.operator_code, item_id).await?.ok_or_else(|| {
        StoreError::Domain(DomainError::conflict("not_on_loan", format!("item {item_id} is not on loan"), None))
    })?;
    tx.close_loan(&loan.id, ctx.now_ms, &t.id).await?;
    loan.returned_at_ms = Some(ctx.now_ms);
    loan.returned_terminal_id = Some(t.id.clone());
    // A visitor's loan has no person here.
    let person_id = loan.person_id.as_deref().unwrap_or_default();
    let subject = Subject { entity: "loan", entity_id: &loan.id, person_id, region: t.region.to_string() };
    let overdue_days = sscard_domain::library::overdue_days(loan.due_at_ms, ctx.now_ms);
    record(tx.as_mut(), ctx, "library.returned", &subject, json!({ "loan": loan, "overdue_days": overdue_days }))
        .await?;
    tx.commit().await?;
    Ok(loan)
}

/// Open loans of the terminal's network past their due date, oldest due first.
pub async fn overdue(store: &dyn Store, ctx: &Ctx, terminal: &Terminal, limit: u32) -> Result<Vec<LoanRow>> {
    let mut tx = store.read().await?;
    let t = live_terminal(tx.as_mut(), &terminal.id, Scenario::Library).await?;
    let found = tx.overdue_loans(&t.operator_code, ctx.now_ms, limit).await?;
    tx.commit().await?;
    Ok(found)
}
