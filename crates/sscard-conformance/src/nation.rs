//! A deployment's side of "one live card in the nation" (DESIGN §7.1): the approve asks the
//! hub (a test double here; the hub is another process, its own cases are in `hub.rs`), and
//! the hub's commands are applied exactly once.

use super::fixtures::*;
use async_trait::async_trait;
use sscard_app::Ctx;
use sscard_app::nation::{
    ClaimAnswer, ClaimRequest, CommandOutcome, HubError, HubLink, Nation, NationalIndexKey, handle_command,
};
use sscard_domain::access::Actor;
use sscard_domain::application::{AppStatus, AppStep};
use sscard_domain::card::CardStatus;
use sscard_domain::nation::wire::{Command, CommandKind, DeploymentCode};
use sscard_store::{Store, StoreError};
use std::sync::{Arc, Mutex};

/// A hub that answers every claim the same way and keeps the claims it was asked.
pub(crate) struct TestHub {
    answer: Result<ClaimAnswer, HubError>,
    claims: Mutex<Vec<ClaimRequest>>,
}

#[async_trait]
impl HubLink for TestHub {
    async fn claim(&self, request: &ClaimRequest) -> Result<ClaimAnswer, HubError> {
        self.claims.lock().unwrap_or_else(|p| p.into_inner()).push(request.clone());
        self.answer.clone()
    }
}

impl TestHub {
    pub(crate) fn answering(answer: Result<ClaimAnswer, HubError>) -> Arc<TestHub> {
        Arc::new(TestHub { answer, claims: Mutex::new(Vec::new()) })
    }
    pub(crate) fn asked(&self) -> Vec<ClaimRequest> {
        self.claims.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

pub(crate) fn code(c: &str) -> DeploymentCode {
    DeploymentCode::parse(c).expect("a deployment code")
}

pub(crate) fn index_key() -> NationalIndexKey {
    NationalIndexKey::from_hex(&"5a".repeat(16)).expect("an index key")
}

pub(crate) fn wait_answer() -> Result<ClaimAnswer, HubError> {
    Ok(ClaimAnswer::Wait { remote_stop_id: "rs-1".into(), held_by: code("FZ") })
}

/// `actor`'s context at deployment XM, whose hub is `hub`.
pub(crate) fn nation_ctx(actor: Actor, hub: &Arc<TestHub>) -> Ctx {
    let nation = Nation { deployment: code("XM"), hub: hub.clone(), index_key: index_key() };
    ctx(actor).with_nation(Some(Arc::new(nation)))
}

/// An application of the `n`-th person approved with the hub answering `wait`.
pub(crate) async fn awaiting_application(store: &dyn Store, n: u32) -> sscard_app::applications::ApplicationView {
    let person = register(store, n).await;
    let view = apply(store, &ctx(admin()), &person.id, branch_first()).await;
    approve_waiting(store, &view.application.id).await
}

/// Approves `app_id` with the hub answering `wait`.
pub(crate) async fn approve_waiting(store: &dyn Store, app_id: &str) -> sscard_app::applications::ApplicationView {
    let hub = TestHub::answering(wait_answer());
    step(store, &nation_ctx(admin(), &hub), app_id, AppStep::Approve).await
}

pub(crate) fn resume_command(id: &str, application_id: &str) -> Command {
    let kind = CommandKind::ResumeApplication { application_id: application_id.into(), remote_stop_id: "rs-1".into() };
    Command { id: id.into(), at_ms: base_ms(), kind }
}

pub(crate) fn release_command(id: &str, person_id: &str) -> Command {
    let kind = CommandKind::ReleasePerson {
        person_id: person_id.into(),
        remote_stop_id: "rs-9".into(),
        for_deployment: code("FZ"),
    };
    Command { id: id.into(), at_ms: base_ms(), kind }
}

pub(crate) async fn command(store: &dyn Store, c: &Command) -> CommandOutcome {
    match handle_command(store, &ctx(admin()), &c.id, c).await {
        Ok(o) => o,
        Err(e) => panic!("command {} should be handled: {e:?}", c.id),
    }
}

/// `go`: approved as alone, after one claim naming the person by the national index.
pub async fn nation_approve_go_approves(store: Arc<dyn Store>) {
    let store = store.as_ref();
    seed(store).await;
    let person = register(store, 1).await;
    let view = apply(store, &ctx(admin()), &person.id, branch_first()).await;
    let hub = TestHub::answering(Ok(ClaimAnswer::Go));
    let approved = step(store, &nation_ctx(clerk(), &hub), &view.application.id, AppStep::Approve).await;
    assert_eq!(approved.application.status, AppStatus::Approved);
    let asked = hub.asked();
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].person_index, index_key().person_index(&person.ssn.to_string()));
    assert_eq!(
        (asked[0].person_id.as_str(), asked[0].application_id.as_str()),
        (person.id.as_str(), view.application.id.as_str())
    );
    let kinds = event_kinds_of(store, &view.application.id).await;
    assert_eq!(kinds, ["application.submitted", "application.approved"]);
    // A temporary card is this deployment's own affair: the hub is not asked.
    let temp = register(store, 2).await;
    let mut input = branch_first();
    input.kind = sscard_domain::application::AppKind::Temporary;
    let t = apply(store, &ctx(admin()), &temp.id, input).await;
    let t = step(store, &nation_ctx(clerk(), &hub), &t.application.id, AppStep::Approve).await;
    assert_eq!((t.application.status, hub.asked().len()), (AppStatus::Approved, 1));
}

/// `wait`: awaiting_remote_stop (event and timeline); the hub's resume approves it, once.
pub async fn nation_wait_then_resume(store: Arc<dyn Store>) {
    let store = store.as_ref();
    seed(store).await;
    let waiting = awaiting_application(store, 1).await;
    let id = waiting.application.id.clone();
    assert_eq!(waiting.application.status, AppStatus::AwaitingRemoteStop);
    let timeline: Vec<AppStatus> = waiting.timeline.iter().map(|e| e.status).collect();
    assert_eq!(timeline, [AppStatus::Submitted, AppStatus::AwaitingRemoteStop]);
    let events = all_events(store).await;
    let wait = events.iter().find(|e| e.kind == "application.awaiting_remote_stop").expect("the wait's event");
    assert_eq!((wait.payload["remote_stop_id"].as_str(), wait.payload["held_by"].as_str()), (Some("rs-1"), Some("FZ")));
    // Nobody approves it meanwhile, with or without the hub.
    let go = TestHub::answering(Ok(ClaimAnswer::Go));
    let e = sscard_app::applications::step(store, &nation_ctx(clerk(), &go), &id, AppStep::Approve).await;
    conflict(e, "illegal_step", "awaiting_remote_stop");
    assert!(go.asked().is_empty(), "a refusal that needs no hub does not ask it");
    let resume = resume_command("hub:7", &id);
    assert_eq!(command(store, &resume).await, CommandOutcome::Applied);
    let after = application(store, &id).await;
    assert_eq!(after.application.status, AppStatus::Approved);
    assert_eq!(after.timeline.last().map(|e| e.actor.as_str()), Some("hub"));
    let before = row_counts(store).await;
    assert_eq!(command(store, &resume).await, CommandOutcome::Replayed, "the same message twice applies once");
    assert_eq!(row_counts(store).await, before);
    // Another resume of an application that no longer waits is recorded and skipped.
    let again = resume_command("hub:8", &id);
    assert!(matches!(command(store, &again).await, CommandOutcome::Skipped { .. }));
    assert_eq!(application(store, &id).await.application, after.application);
    // Waiting, it may still be withdrawn.
    let other = awaiting_application(store, 2).await;
    let w = step(store, &ctx(admin()), &other.application.id, AppStep::Withdraw).await;
    assert_eq!(w.application.status, AppStatus::Withdrawn);
}

/// `release_person`: the live card stops (reason moved), its e-card is revoked, in one
/// transaction with the message's record; a second delivery changes nothing.
pub async fn nation_release_stops_the_live_card(store: Arc<dyn Store>) {
    let store = store.as_ref();
    seed(store).await;
    let person = register(store, 1).await;
    let card = active_card(store, &person).await;
    let ecard = sscard_app::ecard::of_person(store, &ctx(admin()), &person.id).await.expect("an e-card");
    assert!(ecard.usable());
    let since = sscard_app::ecard::revocations(store, 0, None, 100).await.expect("feed").next_since;
    let release = release_command("hub:1", &person.id);
    assert_eq!(command(store, &release).await, CommandOutcome::Applied);
    let stopped = get_card(store, card.card_no.as_str()).await;
    assert_eq!(stopped.status, CardStatus::Stopped);
    let events = all_events(store).await;
    let stop = events.iter().find(|e| e.kind == "card.stopped").expect("card.stopped");
    assert_eq!(stop.payload["reason"].as_str(), Some("moved"));
    let mut tx = store.read().await.expect("a read transaction");
    let audit = tx.audit_of_entity("card", card.card_no.as_str(), 100).await.expect("the card's audit records");
    tx.commit().await.expect("end the read");
    assert!(audit.iter().any(|r| r.action == "card.stopped" && r.actor == "hub/FZ"), "the hub is the actor");
    let released = events.iter().find(|e| e.kind == "person.released").expect("person.released");
    assert_eq!(released.payload["stopped"][0].as_str(), Some(card.card_no.as_str()));
    let ecard = sscard_app::ecard::of_person(store, &ctx(admin()), &person.id).await.expect("the e-card");
    assert!(!ecard.usable(), "the e-card is no longer usable");
    // On PostgreSQL the feed shows a commit once no older transaction of its database is still
    // running (other cases run beside this one): wait for it, up to 10 s.
    let mut feed = sscard_app::ecard::revocations(store, since, None, 100).await.expect("feed");
    for _ in 0..100 {
        if feed.changes.iter().any(|c| c.ecard_id == ecard.id && !c.usable) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        feed = sscard_app::ecard::revocations(store, since, None, 100).await.expect("feed");
    }
    assert!(feed.changes.iter().any(|c| c.ecard_id == ecard.id && !c.usable), "{feed:?}");
    let before = row_counts(store).await;
    assert_eq!(command(store, &release).await, CommandOutcome::Replayed);
    assert_eq!(row_counts(store).await, before);
    assert_eq!(live_cards(store, &person.id).await, 0);
}

/// `release_person` of an approved application withdraws it; of one whose card is at the
/// card bureau: retry, nothing changed, and applied once the card exists (card cancelled,
/// application withdrawn).
pub async fn nation_release_withdraws_or_waits_for_production(store: Arc<dyn Store>) {
    let store = store.as_ref();
    seed(store).await;
    let person = register(store, 1).await;
    let view = apply(store, &ctx(admin()), &person.id, branch_first()).await;
    let id = view.application.id.clone();
    step(store, &ctx(clerk()), &id, AppStep::Approve).await;
    assert_eq!(command(store, &release_command("hub:1", &person.id)).await, CommandOutcome::Applied);
    let after = application(store, &id).await;
    assert_eq!(after.application.status, AppStatus::Withdrawn);
    assert_eq!(after.timeline.last().map(|e| e.actor.as_str()), Some("hub/FZ"));

    let other = register(store, 2).await;
    let view = apply(store, &ctx(admin()), &other.id, branch_first()).await;
    let id = view.application.id.clone();
    steps(store, &ctx(admin()), &id, &[AppStep::Approve, AppStep::Produce]).await;
    let before = row_counts(store).await;
    let release = release_command("hub:2", &other.id);
    assert!(matches!(command(store, &release).await, CommandOutcome::Retry { .. }));
    assert_eq!(row_counts(store).await, before, "a retry changes nothing");
    let ready = step(store, &ctx(admin()), &id, AppStep::Ready).await;
    assert_eq!(command(store, &release).await, CommandOutcome::Applied, "the redelivery is applied");
    let card = get_card(store, card_of(&ready).card_no.as_str()).await;
    assert_eq!(card.status, CardStatus::Cancelled);
    assert_eq!(application(store, &id).await.application.status, AppStatus::Withdrawn);
    // Someone unknown here: recorded, nothing to do.
    assert!(matches!(command(store, &release_command("hub:3", "nobody")).await, CommandOutcome::Skipped { .. }));
}

/// The hub gives no answer: 503 hub_unavailable, nothing changed. Standalone approves alone.
pub async fn nation_hub_unavailable_changes_nothing(store: Arc<dyn Store>) {
    let store = store.as_ref();
    seed(store).await;
    let person = register(store, 1).await;
    let view = apply(store, &ctx(admin()), &person.id, branch_first()).await;
    let id = view.application.id.clone();
    let down = TestHub::answering(Err(HubError::Unreachable("connection refused".into())));
    let before = row_counts(store).await;
    match sscard_app::applications::step(store, &nation_ctx(clerk(), &down), &id, AppStep::Approve).await {
        Err(StoreError::Unavailable { code: "hub_unavailable", .. }) => {}
        other => panic!("expected hub_unavailable, got {other:?}"),
    }
    assert_eq!(row_counts(store).await, before);
    assert_eq!(application(store, &id).await.application, view.application);
    // An instant application in the nation waits for the hub's word before its card is made.
    let walk_in = register(store, 2).await;
    let hub = TestHub::answering(wait_answer());
    let r = sscard_app::applications::apply(store, &nation_ctx(teller(BANK), &hub), &walk_in.id, instant_first()).await;
    let waiting = r.expect("an instant application in the nation");
    assert_eq!((waiting.application.status, waiting.card.is_none()), (AppStatus::AwaitingRemoteStop, true));
    let go = TestHub::answering(Ok(ClaimAnswer::Go));
    let third = register(store, 3).await;
    let r = sscard_app::applications::apply(store, &nation_ctx(teller(BANK), &go), &third.id, instant_first()).await;
    assert_eq!(r.expect("made on go").application.status, AppStatus::Collected);
    // Alone, the same approve needs no hub.
    assert_eq!(step(store, &ctx(clerk()), &id, AppStep::Approve).await.application.status, AppStatus::Approved);
}
