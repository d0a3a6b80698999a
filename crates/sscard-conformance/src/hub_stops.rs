//! Several remote stops waiting for one person (docs/NATION.md, "One live card in the
//! nation"): they are served one at a time, oldest first, each requester in turn holding the
//! person, and the index never has two deployments holding it.

use serde_json::json;
use sscard_app::Ctx;
use sscard_app::hub::{self, ClaimInput, ClaimOutcome};
use sscard_domain::access::Actor;
use sscard_domain::nation::hub::{IndexEntry, parse_deployment};
use sscard_domain::nation::wire::{Command, CommandKind, DeploymentCode, NationalEvent};
use sscard_store::Store;
use sscard_store::ports::{DeploymentRow, RemoteStop};
use std::sync::Arc;

const NOW: i64 = 1_760_000_000_000;

async fn deployment(store: &dyn Store, code: &str) -> DeploymentRow {
    let ctx = Ctx::new(Actor::system("test"), NOW, Default::default());
    let info = parse_deployment(code, &format!("Deployment {code}"), "3502", "http://127.0.0.1:1").expect("info");
    hub::add_deployment(store, &ctx, info).await.expect("add deployment").deployment
}

/// Deployment `d`'s event number `seq` about the person `ix`, applied at the hub.
async fn event(store: &dyn Store, d: &str, seq: i64, ix: &str, entity: &str, id: &str, kind: &str) -> bool {
    let ev = NationalEvent {
        deployment: DeploymentCode::parse(d).expect("code"),
        seq,
        at_ms: NOW + seq,
        kind: kind.into(),
        entity: entity.into(),
        entity_id: id.into(),
        person_id: format!("person-{d}"),
        person_index: Some(ix.into()),
        region: "350200".into(),
        payload: json!({}),
    };
    hub::apply_event(store, &format!("{d}:{seq}"), &ev, NOW).await.expect("apply event")
}

/// The hub's commands once at least `n` are visible (PostgreSQL shows a commit to the outbox
/// once no older transaction of its database runs).
async fn commands(store: &dyn Store, n: usize) -> Vec<(String, Command)> {
    let mut all = Vec::new();
    for _ in 0..200 {
        all = hub::commands_after(store, 0, 1000)
            .await
            .expect("commands")
            .into_iter()
            .map(|c| (c.deployment, serde_json::from_str(&c.body).expect("command body")))
            .collect();
        if all.len() >= n {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    all
}

/// (to, remote stop, for whom) of every release_person; (to, application) of every resume.
fn releases(all: &[(String, Command)]) -> Vec<(String, String, String)> {
    let of = |(to, c): &(String, Command)| match &c.kind {
        CommandKind::ReleasePerson { remote_stop_id, for_deployment, .. } => {
            Some((to.clone(), remote_stop_id.clone(), for_deployment.to_string()))
        }
        _ => None,
    };
    all.iter().filter_map(of).collect()
}

fn resumes(all: &[(String, Command)]) -> Vec<(String, String)> {
    let of = |(to, c): &(String, Command)| match &c.kind {
        CommandKind::ResumeApplication { application_id, .. } => Some((to.clone(), application_id.clone())),
        _ => None,
    };
    all.iter().filter_map(of).collect()
}

/// The person's index entry and the given stops, as the hub has them now.
async fn state(store: &dyn Store, ix: &str, ids: &[&str]) -> (IndexEntry, Vec<RemoteStop>) {
    let mut tx = store.read().await.expect("read");
    let entry = tx.get_index_entry(ix).await.expect("entry").expect("entry exists");
    let mut stops = Vec::new();
    for id in ids {
        stops.push(tx.get_remote_stop(id).await.expect("stop").expect("stop exists"));
    }
    tx.commit().await.expect("commit");
    (entry, stops)
}

async fn waiting(store: &dyn Store) -> i64 {
    let mut tx = store.read().await.expect("read");
    let n = tx.count_waiting_stops().await.expect("count");
    tx.commit().await.expect("commit");
    n
}

fn holders(entry: &IndexEntry) -> Vec<&str> {
    entry.holdings.keys().map(DeploymentCode::as_str).collect()
}

/// Claims `app` for `d`, which must wait for FZ; answers the remote stop's id.
async fn waits(store: &dyn Store, d: &DeploymentRow, ix: &str, app: &str) -> String {
    let input = ClaimInput { person_index: ix.into(), person_id: format!("p-{app}"), application_id: app.into() };
    match hub::claim(store, d, &input, NOW).await.expect("claim") {
        ClaimOutcome::Wait { remote_stop_id, held_by } if held_by == "FZ" => remote_stop_id,
        other => panic!("{} must wait for FZ: {other:?}", d.info.code),
    }
}

/// FZ holds a live card; XM, QZ and NP claim the person one after the other and wait. When FZ
/// stops its card, XM (the oldest stop) takes the person and resumes; QZ's and NP's stops now
/// wait for XM, which is told to release the person. XM withdraws its application: QZ takes
/// it, and NP's stop waits for QZ; QZ withdraws: NP holds the person. Every stop ends done, no
/// stop is left waiting, and at no point do two deployments hold the person.
pub async fn hub_several_waiting_stops_are_served_in_turn(store: Arc<dyn Store>) {
    let s = &*store;
    let (xm, qz, np) = (deployment(s, "XM").await, deployment(s, "QZ").await, deployment(s, "NP").await);
    let ix = "a7".repeat(16);
    assert!(event(s, "FZ", 1, &ix, "card", "C1", "card.activated").await);
    let ids = [waits(s, &xm, &ix, "x1").await, waits(s, &qz, &ix, "q1").await, waits(s, &np, &ix, "n1").await];
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let fz_told: Vec<_> =
        ids.iter().zip(["XM", "QZ", "NP"]).map(|(id, d)| ("FZ".into(), id.to_string(), d.into())).collect();
    assert_eq!(releases(&commands(s, 3).await), fz_told, "each stop asks the holder FZ");
    assert_eq!(waiting(s).await, 3);

    // FZ stops its card (and withdraws nothing else: the second and third releases find nothing).
    assert!(event(s, "FZ", 2, &ix, "card", "C1", "card.stopped").await);
    let all = commands(s, 6).await;
    assert_eq!(resumes(&all), [("XM".to_string(), "x1".to_string())]);
    let to_xm = [("XM".to_string(), ids[1].to_string(), "QZ".to_string()), ("XM".into(), ids[2].into(), "NP".into())];
    assert_eq!(releases(&all)[3..], to_xm, "QZ's and NP's stops now ask XM, after its resume");
    let (entry, stops) = state(s, &ix, &ids).await;
    assert_eq!(holders(&entry), ["XM"]);
    let seen: Vec<_> = stops.iter().map(|st| (st.status.as_str(), st.holder.as_str())).collect();
    assert_eq!(seen, [("done", "FZ"), ("waiting", "XM"), ("waiting", "XM")]);
    assert_eq!(waiting(s).await, 2);

    // XM applies the resume (approved: it held the person already) then the release.
    assert!(event(s, "XM", 1, &ix, "application", "x1", "application.approved").await);
    assert_eq!(commands(s, 6).await.len(), 6, "the approve XM was told to make changes nothing");
    assert!(event(s, "XM", 2, &ix, "application", "x1", "application.withdrawn").await);
    let all = commands(s, 8).await;
    assert_eq!(resumes(&all)[1..], [("QZ".to_string(), "q1".to_string())]);
    assert_eq!(releases(&all)[5..], [("QZ".to_string(), ids[2].to_string(), "NP".to_string())]);
    let (entry, stops) = state(s, &ix, &ids).await;
    assert_eq!(holders(&entry), ["QZ"]);
    let seen: Vec<_> = stops.iter().map(|st| (st.status.as_str(), st.holder.as_str())).collect();
    assert_eq!(seen, [("done", "FZ"), ("done", "XM"), ("waiting", "QZ")]);

    // QZ likewise; then NP holds the person and nothing waits.
    assert!(event(s, "QZ", 1, &ix, "application", "q1", "application.approved").await);
    assert!(event(s, "QZ", 2, &ix, "application", "q1", "application.withdrawn").await);
    let all = commands(s, 9).await;
    assert_eq!(resumes(&all)[2..], [("NP".to_string(), "n1".to_string())]);
    assert_eq!(all.len(), 9, "{all:?}");
    let (entry, stops) = state(s, &ix, &ids).await;
    assert_eq!(holders(&entry), ["NP"]);
    assert!(stops.iter().all(|st| st.status == "done"), "{stops:?}");
    assert_eq!(waiting(s).await, 0);

    // A redelivery of any of these events changes nothing.
    assert!(!event(s, "XM", 2, &ix, "application", "x1", "application.withdrawn").await);
    assert!(!event(s, "FZ", 2, &ix, "card", "C1", "card.stopped").await);
    assert_eq!(commands(s, 9).await.len(), 9);
    assert_eq!(holders(&state(s, &ix, &[]).await.0), ["NP"]);
}
