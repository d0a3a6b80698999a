//! The national hub (port `Hub`, docs/NATION.md): claims decided on the person's locked
//! index row, remote stops released by the holder's events, each event applied once, the
//! nation's issuer keys and the merged revocation feed.

use serde_json::json;
use sscard_app::Ctx;
use sscard_app::hub::{self, ClaimInput, ClaimOutcome, NewHubKey};
use sscard_domain::access::Actor;
use sscard_domain::nation::hub::parse_deployment;
use sscard_domain::nation::wire::{Command, CommandKind, DeploymentCode, NationalEvent};
use sscard_store::Store;
use sscard_store::ports::DeploymentRow;
use std::sync::Arc;

const NOW: i64 = 1_760_000_000_000;

async fn deployment(store: &dyn Store, code: &str) -> DeploymentRow {
    let ctx = Ctx::new(Actor::system("test"), NOW, Default::default());
    let info = parse_deployment(code, &format!("Deployment {code}"), "3502", "http://127.0.0.1:1").expect("info");
    hub::add_deployment(store, &ctx, info).await.expect("add deployment").deployment
}

fn event(d: &str, seq: i64, ix: &str, entity: &str, id: &str, kind: &str, payload: serde_json::Value) -> NationalEvent {
    NationalEvent {
        deployment: DeploymentCode::parse(d).expect("code"),
        seq,
        at_ms: NOW + seq,
        kind: kind.into(),
        entity: entity.into(),
        entity_id: id.into(),
        person_id: format!("person-{d}"),
        person_index: Some(ix.into()),
        region: "350200".into(),
        payload,
    }
}

async fn apply(store: &dyn Store, ev: &NationalEvent) -> bool {
    let msg_id = format!("{}:{}", ev.deployment, ev.seq);
    hub::apply_event(store, &msg_id, ev, NOW).await.expect("apply event")
}

fn claim_of(ix: &str, app: &str) -> ClaimInput {
    ClaimInput { person_index: ix.into(), person_id: format!("p-{app}"), application_id: app.into() }
}

/// The commands once at least `n` are visible: on PostgreSQL the outbox shows only rows below
/// the oldest running transaction of its database, so a fresh commit may lag a moment.
async fn commands_settled(store: &dyn Store, n: usize) -> Vec<(String, Command)> {
    for _ in 0..200 {
        let all = commands(store).await;
        if all.len() >= n {
            return all;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    commands(store).await
}

/// The merged feed's changes after `since` once its head reached `head` (see [`commands_settled`]).
async fn feed_settled(store: &dyn Store, since: i64, head: i64) -> hub::HubRevocationPage {
    for _ in 0..200 {
        let full = hub::revocations(store, 0, None, 100).await.expect("full");
        if full.next_since >= head {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    hub::revocations(store, since, None, 100).await.expect("feed")
}

async fn commands(store: &dyn Store) -> Vec<(String, Command)> {
    hub::commands_after(store, 0, 1000)
        .await
        .expect("commands")
        .into_iter()
        .map(|c| (c.deployment, serde_json::from_str(&c.body).expect("command body")))
        .collect()
}

/// A claim on a person nobody holds goes; a claim while another deployment holds a live card
/// waits, records a remote stop and tells the holder to release the person; asked again, the
/// same stop is answered and no second command is written.
pub async fn hub_claim_goes_or_waits_for_the_holder(store: Arc<dyn Store>) {
    let s = &*store;
    let (xm, fz) = (deployment(s, "XM").await, deployment(s, "FZ").await);
    let free = "aa".repeat(16);
    assert_eq!(hub::claim(s, &xm, &claim_of(&free, "a1"), NOW).await.expect("claim"), ClaimOutcome::Go);
    assert_eq!(hub::claim(s, &xm, &claim_of(&free, "a1"), NOW).await.expect("again"), ClaimOutcome::Go);
    let ClaimOutcome::Wait { held_by, .. } = hub::claim(s, &fz, &claim_of(&free, "f1"), NOW).await.expect("fz") else {
        panic!("a card in making at XM makes FZ wait");
    };
    assert_eq!(held_by, "XM");

    let held = "bb".repeat(16);
    assert!(apply(s, &event("FZ", 1, &held, "card", "C1", "card.activated", json!({}))).await);
    let ClaimOutcome::Wait { remote_stop_id, held_by } =
        hub::claim(s, &xm, &claim_of(&held, "a2"), NOW).await.expect("claim")
    else {
        panic!("a live card at FZ makes XM wait");
    };
    assert_eq!(held_by, "FZ");
    let again = hub::claim(s, &xm, &claim_of(&held, "a2"), NOW).await.expect("again");
    assert_eq!(again, ClaimOutcome::Wait { remote_stop_id: remote_stop_id.clone(), held_by: "FZ".into() });
    let sent = commands_settled(s, 1).await;
    let releases: Vec<_> = sent
        .iter()
        .filter(|(to, c)| to == "FZ" && matches!(&c.kind, CommandKind::ReleasePerson { remote_stop_id: r, person_id, .. } if *r == remote_stop_id && person_id == "person-FZ"))
        .collect();
    assert_eq!(releases.len(), 1, "one release_person for the holder: {sent:?}");
    let mut tx = s.read().await.expect("read");
    let stop = tx.get_remote_stop(&remote_stop_id).await.expect("stop").expect("stop exists");
    tx.commit().await.expect("commit");
    assert_eq!((stop.status.as_str(), stop.holder.as_str(), stop.requester.as_str()), ("waiting", "FZ", "XM"));
}

/// The holder's stop event releases the waiting remote stop: the stop is done, the requester
/// holds the person and is told to resume its application; a replay of the event changes nothing.
pub async fn hub_holder_stop_releases_the_remote_stop(store: Arc<dyn Store>) {
    let s = &*store;
    let (xm, fz) = (deployment(s, "XM").await, deployment(s, "FZ").await);
    let ix = "cc".repeat(16);
    apply(s, &event("FZ", 1, &ix, "card", "C1", "card.activated", json!({}))).await;
    let ClaimOutcome::Wait { remote_stop_id, .. } = hub::claim(s, &xm, &claim_of(&ix, "a1"), NOW).await.expect("claim")
    else {
        panic!("XM waits");
    };
    // The release withdraws nothing yet: a suspended card is still live.
    apply(s, &event("FZ", 2, &ix, "card", "C1", "card.suspended", json!({}))).await;
    assert!(commands(s).await.iter().all(|(_, c)| !matches!(c.kind, CommandKind::ResumeApplication { .. })));
    let stopped = event("FZ", 3, &ix, "card", "C1", "card.stopped", json!({ "reason": "moved" }));
    assert!(apply(s, &stopped).await);
    let after = commands_settled(s, 2).await;
    let resumes: Vec<_> = after
        .iter()
        .filter(|(to, c)| {
            to == "XM"
                && c.kind
                    == CommandKind::ResumeApplication {
                        application_id: "a1".into(),
                        remote_stop_id: remote_stop_id.clone(),
                    }
        })
        .collect();
    assert_eq!(resumes.len(), 1, "{after:?}");
    let mut tx = s.read().await.expect("read");
    let stop = tx.get_remote_stop(&remote_stop_id).await.expect("stop").expect("stop exists");
    let entry = tx.get_index_entry(&ix).await.expect("entry").expect("entry exists");
    tx.commit().await.expect("commit");
    assert_eq!(stop.status, "done");
    assert_eq!(entry.holder().map(|d| d.as_str()), Some("XM"), "{entry:?}");
    assert_eq!(entry.holdings.len(), 1);

    // The same message again (a redelivery): not applied, nothing written.
    assert!(!apply(s, &stopped).await);
    assert_eq!(commands(s).await.len(), after.len());
    // Now FZ must wait for XM.
    let back = hub::claim(s, &fz, &claim_of(&ix, "f1"), NOW).await.expect("claim");
    assert!(matches!(back, ClaimOutcome::Wait { ref held_by, .. } if held_by == "XM"), "{back:?}");
}

/// An event delivered twice is applied once: the index, the revocation feed and the commands
/// stay as the first delivery left them.
pub async fn hub_replayed_event_changes_nothing(store: Arc<dyn Store>) {
    let s = &*store;
    let ix = "dd".repeat(16);
    let activated = event("FZ", 1, &ix, "card", "C1", "card.activated", json!({}));
    let ecard = event("FZ", 2, &ix, "ecard", "E1", "ecard.stopped", json!({ "ecard_id": "E1", "usable": false }));
    assert!(apply(s, &activated).await);
    assert!(apply(s, &ecard).await);
    let before = feed_settled(s, 0, 1).await;
    assert_eq!(before.revoked, ["E1"]);
    let stopped = event("FZ", 1, &ix, "card", "C1", "card.stopped", json!({}));
    assert!(!apply(s, &stopped).await, "same message id FZ:1: a redelivery, whatever it says");
    assert!(!apply(s, &ecard).await);
    let mut tx = s.read().await.expect("read");
    let entry = tx.get_index_entry(&ix).await.expect("entry").expect("entry exists");
    tx.commit().await.expect("commit");
    assert_eq!(entry.holder().map(|d| d.as_str()), Some("FZ"), "the replay did not stop the card");
    assert_eq!(hub::revocations(s, 0, None, 100).await.expect("feed"), before);
}

/// Two deployments claiming one person at the same moment: exactly one goes.
pub async fn hub_concurrent_claims_give_one_go(store: Arc<dyn Store>) {
    let s = &*store;
    let (xm, fz) = (deployment(s, "XM").await, deployment(s, "FZ").await);
    for round in 0..5 {
        let ix = format!("{round:02}").repeat(16);
        let racers: Vec<_> = [(xm.clone(), "x"), (fz.clone(), "f")]
            .into_iter()
            .map(|(d, tag)| {
                let store = Arc::clone(&store);
                let input = claim_of(&ix, &format!("{tag}{round}"));
                tokio::spawn(async move { hub::claim(&*store, &d, &input, NOW).await.expect("claim") })
            })
            .collect();
        let mut goes = 0;
        for r in racers {
            goes += usize::from(r.await.expect("join") == ClaimOutcome::Go);
        }
        assert_eq!(goes, 1, "round {round}: one go and one wait");
    }
}

/// Issuer keys: each deployment has its own key id range, in the order of registration, and
/// the hub takes only ids of the publisher's range (409 `key_id_out_of_range`, nothing
/// stored), so two deployments' first keys are both taken; a deployment may publish its own
/// key again; a key that is not an SM2 public key is refused. E-card events feed the merged
/// revocation feed, full list and changes.
pub async fn hub_keys_and_merged_revocations(store: Arc<dyn Store>) {
    let s = &*store;
    let (xm, fz) = (deployment(s, "XM").await, deployment(s, "FZ").await);
    let (xm_ids, fz_ids) = (hub::key_ids(&xm).expect("XM's ids"), hub::key_ids(&fz).expect("FZ's ids"));
    assert_eq!((xm.ordinal, xm_ids.first, xm_ids.last), (1, 1_000_001, 2_000_000));
    assert_eq!((fz.ordinal, fz_ids.first, fz_ids.last), (2, 2_000_001, 3_000_000));
    let listed = hub::deployments(s).await.expect("deployments");
    assert_eq!(listed.iter().map(|d| (d.info.code.as_str(), d.ordinal)).collect::<Vec<_>>(), [("FZ", 2), ("XM", 1)]);
    let pem = sscard_gm::sm2::SigningKey::generate().verifying_key().to_spki_pem();
    let key = |id| NewHubKey { key_id: id, public_key_pem: pem.clone(), not_before: 1, not_after: 2 };
    // Both deployments' first keys, each numbered from the start of its own range.
    hub::register_keys(s, &xm, &[key(xm_ids.first)], NOW).await.expect("XM's first key");
    hub::register_keys(s, &fz, &[key(fz_ids.first)], NOW).await.expect("FZ's first key");
    for (by, id) in [(&fz, 1), (&fz, xm_ids.first), (&xm, fz_ids.first), (&xm, fz_ids.last + 1)] {
        let err = hub::register_keys(s, by, &[key(id)], NOW).await.expect_err("out of range");
        assert!(err.to_string().contains(&format!("key id {id} is outside")), "{err}");
    }
    let err = hub::register_keys(s, &fz, &[key(fz_ids.first + 1), key(7)], NOW).await.expect_err("one is out");
    assert!(err.to_string().contains("key id 7"), "{err}");
    hub::register_keys(s, &xm, &[key(xm_ids.first)], NOW).await.expect("XM may publish its own key again");
    let bad = NewHubKey {
        public_key_pem: "-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----".into(),
        ..key(xm_ids.first + 1)
    };
    let err = hub::register_keys(s, &xm, &[bad], NOW).await.expect_err("not a key");
    assert!(err.to_string().contains("public key"), "{err}");
    let all = hub::keys(s).await.expect("keys");
    let seen: Vec<_> = all.iter().map(|k| (k.key_id, k.deployment.as_str())).collect();
    assert_eq!(seen, [(1_000_001, "XM"), (2_000_001, "FZ")], "nothing of the refused calls stored");

    let ix = "ee".repeat(16);
    let ecard = |d: &str, seq, id: &str, usable| {
        event(
            d,
            seq,
            &ix,
            "ecard",
            id,
            if usable { "ecard.restored" } else { "ecard.stopped" },
            json!({ "ecard_id": id, "usable": usable }),
        )
    };
    apply(s, &ecard("XM", 1, "E1", false)).await;
    apply(s, &ecard("FZ", 1, "E2", false)).await;
    apply(s, &ecard("XM", 2, "E1", true)).await;
    let changes = feed_settled(s, 1, 3).await.changes;
    let full = hub::revocations(s, 0, None, 100).await.expect("full");
    assert_eq!(full.revoked, ["E2"]);
    assert_eq!(full.next_since, 3);
    let seen: Vec<_> = changes.iter().map(|c| (c.deployment.as_str(), c.ecard_id.as_str(), c.usable)).collect();
    assert_eq!(seen, [("FZ", "E2", false), ("XM", "E1", true)]);
}
