//! Cash floats: what a service point paid in so that it can take cash.
//!
//! A point that takes cash (a bank's desks, the card office's desk, a terminal operator) keeps
//! the customer's banknotes; on the platform's books each cash top-up, fee or self-pay draws the
//! point's `cash` account, its prepaid float, which never goes negative (`sscard_domain::ledger`).
//! A clerk or an admin records the money a point paid in: one transfer from the point's float
//! source (`clearing:FLOAT-<owner>`) to its float (`cash:<owner>`), once per caller's key.

use super::ledger::{Leg, lock_accounts, post};
use crate::{Ctx, Subject, record};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sscard_domain::access;
use sscard_domain::error::DomainError;
use sscard_domain::ledger::{CashPoint, TransferSpec, check_key, decide_float_funding, float_key, judge_key};
use sscard_domain::money::Fen;
use sscard_store::onecard::TransferRow;
use sscard_store::ports::{Banks, Terminals};
use sscard_store::tx::Store;
use sscard_store::{Result, StoreError};

/// A funding command, parsed at the edge: which point, how much, the caller's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FundFloat {
    pub point: CashPoint,
    pub spec: TransferSpec,
    pub key: String,
}

impl FundFloat {
    /// The command from a request's fields: a bad field is refused naming it (`owner`,
    /// `amount_fen`, `idempotency_key`).
    pub fn parse(owner: &str, amount_fen: i64, key: &str) -> std::result::Result<FundFloat, DomainError> {
        let point = CashPoint::parse_owner(owner)?;
        let spec = decide_float_funding(&point, amount_fen)?;
        check_key(key)?;
        Ok(FundFloat { point, spec, key: key.to_string() })
    }
}

/// The answer to a funding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FloatView {
    pub transfer_id: String,
    /// The point's float account (`cash:<owner>`).
    pub account: String,
    /// Where the money came from (`clearing:FLOAT-<owner>`).
    pub source: String,
    pub amount_fen: i64,
    /// The float after the funding (for a replay: now).
    pub float_fen: i64,
    /// True when this answers a key used before: nothing moved.
    pub replayed: bool,
}

/// Records money a point paid into its float (clerk or admin). The point must exist (a bank
/// for `CASH-<bank>`, a terminal operator, or the office). The same key again with the same
/// body answers the first funding and moves nothing; with another body it is a 409.
pub async fn fund_float(store: &dyn Store, ctx: &Ctx, cmd: &FundFloat) -> Result<FloatView> {
    access::may_fund_float(&ctx.actor)?;
    let key = transfer_key(&ctx.actor.name, &cmd.key);
    let mut tx = store.write().await?;
    check_point(tx.as_mut(), &cmd.point).await?;
    if let Some(first) = tx.transfer_by_key(&key).await? {
        judge_key(Some(&spec_of(&first)?), &cmd.spec)?;
        let now = tx.get_account(&first.to_account, false).await?.map_or(0, |a| a.balance_fen);
        tx.commit().await?;
        return Ok(view(first, now, true));
    }
    let (from, to) = (cmd.spec.from.clone(), cmd.spec.to.clone());
    let mut balances = lock_accounts(tx.as_mut(), ctx, &[(from.clone(), None), (to.clone(), None)]).await?;
    let leg = Leg { from, to: to.clone(), amount: cmd.spec.amount, kind: cmd.spec.kind, key };
    let owner = cmd.point.owner();
    let rows = post(tx.as_mut(), ctx, &mut balances, std::slice::from_ref(&leg), &owner).await?;
    let row = rows.into_iter().next().ok_or_else(|| StoreError::Backend("float funding not posted".into()))?;
    let subject = Subject { entity: "account", entity_id: &row.to_account, person_id: "", region: String::new() };
    record(tx.as_mut(), ctx, "ledger.float_funded", &subject, json!({ "transfer": row, "owner": owner })).await?;
    tx.commit().await?;
    let float = balances.get(&to).copied().unwrap_or(0);
    Ok(view(row, float, false))
}

/// The transfer key of a funding: the caller's name and key, or (a long name with a long key,
/// past the 160 characters of a transfer key, or a name beyond ASCII) their SM3 digest, so
/// every accepted Idempotency-Key works for every login.
fn transfer_key(actor: &str, key: &str) -> String {
    let key = float_key(actor, key);
    if check_key(&key).is_ok() {
        return key;
    }
    let digest: String = sscard_gm::sm3::sm3(key.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    format!("float:sm3:{digest}")
}

/// The point exists: the office always, a bank desk when the bank does, an operator when known.
async fn check_point(tx: &mut (impl Banks + Terminals + ?Sized), point: &CashPoint) -> Result<()> {
    let known = match point {
        CashPoint::Office => true,
        CashPoint::BankDesk(bank) => tx.get_bank(bank).await?.is_some(),
        CashPoint::Operator(code) => tx.get_operator(code).await?.is_some(),
    };
    if known { Ok(()) } else { Err(StoreError::not_found("cash point", point.owner())) }
}

fn spec_of(t: &TransferRow) -> Result<TransferSpec> {
    Ok(TransferSpec {
        from: sscard_domain::ledger::AccountId::parse(&t.from_account)?,
        to: sscard_domain::ledger::AccountId::parse(&t.to_account)?,
        amount: Fen::new(t.amount_fen),
        kind: sscard_domain::ledger::TransferKind::parse(&t.kind)
            .ok_or_else(|| StoreError::corrupt(format!("transfer kind {}", t.kind)))?,
    })
}

fn view(row: TransferRow, float_fen: i64, replayed: bool) -> FloatView {
    FloatView {
        transfer_id: row.id,
        account: row.to_account,
        source: row.from_account,
        amount_fen: row.amount_fen,
        float_fen,
        replayed,
    }
}
