//! A claim: may this deployment take this person on (approve a first, upgrade or replacement
//! application)? Decided in one transaction on the person's locked index row, so two claims
//! for one person at the same moment give one go and one wait.

use super::{audit, send_command};
use crate::new_id;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sscard_domain::error::DomainError;
use sscard_domain::nation::hub::{ClaimDecision, decide_claim, take};
use sscard_domain::nation::wire::CommandKind;
use sscard_store::Result;
use sscard_store::ports::{DeploymentRow, RemoteStop};
use sscard_store::tx::Store;

/// Longest id a deployment may send (its person and application ids are UUIDs).
const MAX_ID_CHARS: usize = 64;

/// What a deployment asks the hub.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimInput {
    /// The national blind index of the person's SSN (hex).
    pub person_index: String,
    /// The claiming deployment's own person id.
    pub person_id: String,
    /// The application that waits for the answer.
    pub application_id: String,
}

impl ClaimInput {
    /// Checks the fields, naming the one at fault.
    pub fn check(&self) -> std::result::Result<(), DomainError> {
        let ix = &self.person_index;
        if !(16..=128).contains(&ix.len()) || !ix.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            return Err(DomainError::invalid("bad_person_index", "person_index", "16-128 lowercase hex characters"));
        }
        let id_ok = |s: &str| {
            !s.is_empty()
                && s.len() <= MAX_ID_CHARS
                && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        if !id_ok(&self.person_id) {
            return Err(DomainError::invalid(
                "bad_person_id",
                "person_id",
                "1-64 characters of A-Z, a-z, 0-9, - and _",
            ));
        }
        if !id_ok(&self.application_id) {
            return Err(DomainError::invalid(
                "bad_application_id",
                "application_id",
                "1-64 characters of A-Z, a-z, 0-9, - and _",
            ));
        }
        Ok(())
    }
}

/// The hub's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum ClaimOutcome {
    /// Approve: the person is the claimant's now.
    Go,
    /// Put the application in `awaiting_remote_stop`: `held_by` was told to release the person,
    /// and `resume_application` follows once it has.
    Wait { remote_stop_id: String, held_by: String },
}

/// Decides a claim and writes its effect: the index entry (go), or a remote stop and a
/// `release_person` command for the holder (wait); with audit records, all in one transaction.
/// A claim repeated for an application that already waits answers the same remote stop.
pub async fn claim(store: &dyn Store, by: &DeploymentRow, input: &ClaimInput, now_ms: i64) -> Result<ClaimOutcome> {
    input.check()?;
    let me = &by.info.code;
    let actor = format!("deployment:{me}");
    let mut tx = store.write().await?;
    let mut entry = tx.lock_index_entry(&input.person_index, now_ms).await?;
    let waiting = tx.waiting_stops(&input.person_index).await?;
    if let Some(s) = waiting.iter().find(|s| s.requester == me.as_str() && s.application_id == input.application_id) {
        let outcome = ClaimOutcome::Wait { remote_stop_id: s.id.clone(), held_by: s.holder.clone() };
        tx.commit().await?;
        return Ok(outcome);
    }
    let outcome = match decide_claim(&entry, me) {
        ClaimDecision::Go => {
            take(&mut entry, me, &input.person_id, &input.application_id);
            tx.put_index_entry(&entry, now_ms).await?;
            let detail = json!({ "application_id": input.application_id, "person_id": input.person_id });
            tx.append_audit(&audit(&actor, "hub.claim_granted", "person_index", &input.person_index, now_ms, detail))
                .await?;
            ClaimOutcome::Go
        }
        ClaimDecision::Wait { holder } => {
            let holder_person = entry.holdings.get(&holder).map(|h| h.person_id.clone()).unwrap_or_default();
            let stop = RemoteStop {
                id: new_id(),
                person_index: input.person_index.clone(),
                holder: holder.to_string(),
                requester: me.to_string(),
                person_id: input.person_id.clone(),
                application_id: input.application_id.clone(),
                status: "waiting".into(),
                created_at_ms: now_ms,
                done_at_ms: None,
            };
            tx.insert_remote_stop(&stop).await?;
            let detail = json!({ "remote_stop": stop });
            tx.append_audit(&audit(&actor, "hub.remote_stop_requested", "remote_stop", &stop.id, now_ms, detail))
                .await?;
            let kind = CommandKind::ReleasePerson {
                person_id: holder_person,
                remote_stop_id: stop.id.clone(),
                for_deployment: me.clone(),
            };
            send_command(tx.as_mut(), &actor, &holder, kind, now_ms).await?;
            ClaimOutcome::Wait { remote_stop_id: stop.id, held_by: holder.to_string() }
        }
    };
    tx.commit().await?;
    Ok(outcome)
}
