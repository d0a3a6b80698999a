//! The deployments' events at the hub: each is applied exactly once (its message id recorded
//! in the same transaction as its effect), updating the national index, releasing the remote
//! stops it makes possible, and feeding the merged revocation feed.

use super::{audit, send_command};
use serde_json::json;
use sscard_domain::nation::hub::{self, Effect, IndexEntry, effect_of, revocation_change, stop_released, take};
use sscard_domain::nation::wire::{CommandKind, DeploymentCode, NationalEvent};
use sscard_store::Result;
use sscard_store::StoreError;
use sscard_store::ports::{AuditLog, Hub, HubCommandRow, MAX_HUB_ROWS, RemoteStop};
use sscard_store::tx::Store;

/// The durable consumer name (and `consumed_messages.consumer`) of the hub's event stream.
pub const HUB_EVENTS_CONSUMER: &str = "hub-events";

/// The actor of what the hub does on its own.
const HUB_ACTOR: &str = "system:hub";

/// Applies one deployment event (message `msg_id`) in one transaction. Answers false when
/// the message was applied before (a redelivery): then nothing changes. Call it before
/// acknowledging the message, and acknowledge only after it returned.
pub async fn apply_event(store: &dyn Store, msg_id: &str, ev: &NationalEvent, now_ms: i64) -> Result<bool> {
    let mut tx = store.write().await?;
    if !tx.first_delivery(HUB_EVENTS_CONSUMER, msg_id, now_ms).await? {
        tx.commit().await?;
        return Ok(false);
    }
    if let Some((ecard_id, usable)) = revocation_change(ev) {
        tx.append_revocation(ev.deployment.as_str(), &ecard_id, usable, ev.at_ms).await?;
    }
    if let Some(ix) = ev.person_index.as_deref().filter(|_| effect_of(ev) != Effect::None) {
        let mut entry = tx.lock_index_entry(ix, now_ms).await?;
        if hub::apply_event(&mut entry, ev) {
            release_waiting(tx.as_mut(), &mut entry, now_ms).await?;
            tx.put_index_entry(&entry, now_ms).await?;
        }
    }
    tx.commit().await?;
    Ok(true)
}

/// Serves the person's waiting remote stops, oldest first, one requester at a time.
///
/// A stop whose requester nobody else now blocks is done: the requester holds the person (its
/// application goes on to be made) and is told so by a `resume_application` command. A stop
/// still blocked, by a deployment other than the one it asked, asks that one now: with several
/// stops waiting for one person, the first one's requester has just taken the person, so the
/// next stop sends it `release_person` (after its `resume_application`, on the same subject, in
/// order), and so on. Each stop ends in turn and the newest claimant holds the person last;
/// every deployment before it approves its application and then withdraws it. The index never
/// lets two deployments hold the person, so there are never two live cards.
async fn release_waiting(tx: &mut (impl Hub + AuditLog + ?Sized), entry: &mut IndexEntry, now_ms: i64) -> Result<()> {
    for stop in tx.waiting_stops(&entry.person_index).await? {
        let requester = DeploymentCode::parse(&stop.requester)
            .map_err(|_| StoreError::corrupt(format!("remote stop {} names {:?}", stop.id, stop.requester)))?;
        if !stop_released(entry, &requester) {
            ask_the_blocker(tx, entry, &stop, &requester, now_ms).await?;
            continue;
        }
        take(entry, &requester, &stop.person_id, &stop.application_id);
        tx.finish_remote_stop(&stop.id, now_ms).await?;
        let detail =
            json!({ "holder": stop.holder, "requester": stop.requester, "application_id": stop.application_id });
        tx.append_audit(&audit(HUB_ACTOR, "hub.remote_stop_done", "remote_stop", &stop.id, now_ms, detail)).await?;
        let kind =
            CommandKind::ResumeApplication { application_id: stop.application_id.clone(), remote_stop_id: stop.id };
        send_command(tx, HUB_ACTOR, &requester, kind, now_ms).await?;
    }
    Ok(())
}

/// A stop still blocked by a deployment it has not asked yet: it now waits for that one, which
/// is told to release the person (the one it asked before released it, or holds nothing more).
async fn ask_the_blocker(
    tx: &mut (impl Hub + AuditLog + ?Sized),
    entry: &IndexEntry,
    stop: &RemoteStop,
    requester: &DeploymentCode,
    now_ms: i64,
) -> Result<()> {
    let Some(blocker) = entry.other_holder(requester).filter(|b| b.as_str() != stop.holder) else { return Ok(()) };
    let blocker = blocker.clone();
    tx.retarget_remote_stop(&stop.id, blocker.as_str()).await?;
    let detail = json!({ "before": stop.holder, "holder": blocker.as_str(), "requester": stop.requester });
    tx.append_audit(&audit(HUB_ACTOR, "hub.remote_stop_retargeted", "remote_stop", &stop.id, now_ms, detail)).await?;
    let person_id = entry.holdings.get(&blocker).map(|h| h.person_id.clone()).unwrap_or_default();
    let kind =
        CommandKind::ReleasePerson { person_id, remote_stop_id: stop.id.clone(), for_deployment: requester.clone() };
    send_command(tx, HUB_ACTOR, &blocker, kind, now_ms).await?;
    Ok(())
}

/// The hub's committed commands after `seq`, in order, at most `limit` (<= 10,000): what the
/// command relay publishes next (`body` on `sscard.commands.<deployment>`, `Nats-Msg-Id` = `id`).
pub async fn commands_after(store: &dyn Store, seq: i64, limit: u32) -> Result<Vec<HubCommandRow>> {
    let mut tx = store.read().await?;
    let rows = tx.commands_after(seq, limit.clamp(1, MAX_HUB_ROWS)).await?;
    tx.commit().await?;
    Ok(rows)
}
