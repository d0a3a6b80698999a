//! Operators and terminals: registration by an admin (the terminal's secret is returned once
//! and only its SM3 hash is kept), disabling, and authentication by the secret.

use super::super::{Ctx, Subject, new_id, record};
use serde::Serialize;
use serde_json::json;
use sscard_domain::access;
use sscard_domain::error::DomainError;
use sscard_domain::ids::RegionCode;
use sscard_domain::terminal::{Operator, OperatorKind, Scenario, Scope, Terminal, check_operator, decide_terminal};
use sscard_store::tx::Store;
use sscard_store::{Result, StoreError};

/// Prefix of terminal secrets, so they are recognisable in configuration files.
pub const SECRET_PREFIX: &str = "sst_";

/// SM3 of a terminal secret, as stored.
pub fn secret_hash(secret: &str) -> String {
    hex::encode(sscard_gm::sm3::sm3(secret.as_bytes()))
}

/// Registers an operator (admin).
pub async fn add_operator(store: &dyn Store, ctx: &Ctx, op: Operator) -> Result<Operator> {
    access::may_administer(&ctx.actor)?;
    check_operator(&op.code, &op.name)?;
    let mut tx = store.write().await?;
    tx.insert_operator(&op, ctx.now_ms).await.map_err(|e| match e {
        StoreError::Duplicate { .. } => {
            DomainError::conflict("operator_exists", format!("operator {} already exists", op.code), None).into()
        }
        other => other,
    })?;
    let subject = Subject { entity: "operator", entity_id: &op.code, person_id: "", region: op.region.to_string() };
    record(tx.as_mut(), ctx, "operator.created", &subject, json!({ "code": op.code, "kind": op.kind.as_str() }))
        .await?;
    tx.commit().await?;
    Ok(op)
}

/// What `POST /terminals` asks for: the operator's code, and the parsed scenario, region and scope.
#[derive(Debug, Clone)]
pub struct NewTerminal {
    pub operator: String,
    pub scenario: Scenario,
    pub region: RegionCode,
    pub scope: Scope,
}

impl NewTerminal {
    /// The command from a request's fields (for the server and the CLI): a bad field is
    /// refused naming it (`scenario`, `region`, `scope`).
    pub fn parse<S: AsRef<str>>(
        operator: &str,
        scenario: &str,
        region: &str,
        scope: &[S],
    ) -> std::result::Result<NewTerminal, DomainError> {
        let scenario = Scenario::parse(scenario).ok_or_else(|| {
            DomainError::invalid(
                "bad_scenario",
                "scenario",
                "scenario is one of identity, medical, transit, library, park",
            )
        })?;
        let region = RegionCode::parse(region).map_err(|e| DomainError::from(e).with_field("region"))?;
        let scope = Scope::parse(scope)?;
        Ok(NewTerminal { operator: operator.to_string(), scenario, region, scope })
    }
}

/// A created terminal and its secret, shown this once.
#[derive(Debug, Clone, Serialize)]
pub struct CreatedTerminal {
    pub terminal: Terminal,
    pub secret: String,
}

/// Registers a terminal of an existing operator (admin).
pub async fn add_terminal(store: &dyn Store, ctx: &Ctx, req: NewTerminal) -> Result<CreatedTerminal> {
    access::may_administer(&ctx.actor)?;
    let NewTerminal { operator, scenario, region, scope } = req;
    let mut tx = store.write().await?;
    let op = tx.get_operator(&operator).await?.ok_or_else(|| {
        DomainError::invalid("unknown_operator", "operator", format!("no operator {operator} is registered"))
    })?;
    decide_terminal(&op, scenario)?;
    let secret = new_secret();
    let terminal = Terminal {
        id: format!("T-{}", new_id()),
        operator_code: op.code.clone(),
        scenario,
        region,
        scope,
        disabled: false,
        created_at_ms: ctx.now_ms,
    };
    tx.insert_terminal(&terminal, &secret_hash(&secret)).await?;
    let subject = Subject { entity: "terminal", entity_id: &terminal.id, person_id: "", region: region.to_string() };
    let payload = json!({ "operator": op.code, "scenario": scenario.as_str(), "scope": terminal.scope.to_stored() });
    record(tx.as_mut(), ctx, "terminal.created", &subject, payload).await?;
    tx.commit().await?;
    Ok(CreatedTerminal { terminal, secret })
}

/// Disables (or re-enables) a terminal (admin); its secret stops working at once.
pub async fn set_disabled(store: &dyn Store, ctx: &Ctx, id: &str, disabled: bool) -> Result<Terminal> {
    access::may_administer(&ctx.actor)?;
    let mut tx = store.write().await?;
    let mut t = tx.get_terminal(id).await?.ok_or_else(|| StoreError::not_found("terminal", id))?;
    tx.set_terminal_disabled(id, disabled).await?;
    t.disabled = disabled;
    let subject = Subject { entity: "terminal", entity_id: id, person_id: "", region: t.region.to_string() };
    let kind = if disabled { "terminal.disabled" } else { "terminal.enabled" };
    record(tx.as_mut(), ctx, kind, &subject, json!({ "disabled": disabled })).await?;
    tx.commit().await?;
    Ok(t)
}

/// A fresh terminal secret: the prefix and 24 random bytes in hex.
fn new_secret() -> String {
    format!("{SECRET_PREFIX}{}", hex::encode(sscard_gm::rand::random_bytes::<24>()))
}

/// Gives a terminal a new secret (admin), shown this once; the old secret stops working at
/// once. For a secret that was lost or leaked, or never seen (a demo start that failed).
pub async fn rotate_secret(store: &dyn Store, ctx: &Ctx, id: &str) -> Result<CreatedTerminal> {
    access::may_administer(&ctx.actor)?;
    let mut tx = store.write().await?;
    let terminal = tx.get_terminal(id).await?.ok_or_else(|| StoreError::not_found("terminal", id))?;
    let secret = new_secret();
    tx.set_terminal_secret(id, &secret_hash(&secret)).await?;
    let subject = Subject { entity: "terminal", entity_id: id, person_id: "", region: terminal.region.to_string() };
    record(tx.as_mut(), ctx, "terminal.secret_rotated", &subject, json!({})).await?;
    tx.commit().await?;
    Ok(CreatedTerminal { terminal, secret })
}

/// The terminal whose secret this is (disabled ones too: the use case refuses them with 403).
pub async fn authenticate(store: &dyn Store, secret: &str) -> Result<Option<Terminal>> {
    if !secret.starts_with(SECRET_PREFIX) {
        return Ok(None);
    }
    let mut tx = store.read().await?;
    let t = tx.terminal_by_secret(&secret_hash(secret)).await?;
    tx.commit().await?;
    Ok(t)
}

/// All terminals (admin), at most `limit`.
pub async fn list(store: &dyn Store, ctx: &Ctx, limit: u32) -> Result<Vec<Terminal>> {
    access::may_administer(&ctx.actor)?;
    let mut tx = store.read().await?;
    let t = tx.list_terminals(limit).await?;
    tx.commit().await?;
    Ok(t)
}

/// Parses an operator kind for the CLI and HTTP, refused naming `kind`.
pub fn operator_kind(s: &str) -> std::result::Result<OperatorKind, DomainError> {
    OperatorKind::parse(s).ok_or_else(|| {
        DomainError::invalid(
            "bad_operator_kind",
            "kind",
            "kind is one of hospital, pharmacy, transit, library, park, agency",
        )
    })
}
