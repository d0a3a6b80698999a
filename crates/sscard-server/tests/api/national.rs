//! Cross-province services (跨省通办) with real parts: a hub and two deployments, each its
//! own server on port 0 with its own database, talking real HTTP through the hub.
//!
//! The national index is seeded through the hub's own claim use case (B claims the person
//! whose card it makes): the NATS transport that would feed it from B's events is another
//! part of issue 13 and is not needed to route a request.

use crate::helpers::{TestApp, ctx};
use serde_json::json;
use sscard_app::nation::NationalIndexKey;
use sscard_domain::application::AppKind;
use sscard_domain::nation::hub::parse_deployment;
use sscard_domain::nation::wire::DeploymentCode;
use sscard_server::routes::national::{NationalLink, NationalSlot};
use std::sync::Arc;

struct Nation {
    hub: TestApp,
    a: TestApp,
    b: TestApp,
    key: NationalIndexKey,
}

/// Registers a deployment at the hub (as `sscard hub add-deployment` does) and answers its secret.
async fn register(hub: &TestApp, code: &str, regions: &str, url: &str) -> String {
    let info = parse_deployment(code, code, regions, url).expect("deployment");
    let added = sscard_app::hub::add_deployment(hub.store.as_ref(), &ctx(hub.now_ms()), info).await.expect("add");
    let code = DeploymentCode::parse(code).expect("code");
    sscard_app::national::remember_secret(hub.store.as_ref(), &code, &added.secret, hub.now_ms()).await.expect("seal");
    added.secret
}

async fn join(hub: &TestApp, slot: &NationalSlot, app: &TestApp, code: &str, regions: &str, key: &NationalIndexKey) {
    let secret = register(hub, code, regions, &app.address).await;
    let link = NationalLink {
        deployment: DeploymentCode::parse(code).expect("code"),
        hub_url: hub.address.clone(),
        secret,
        index_key: key.clone(),
    };
    *slot.write().expect("slot") = Some(Arc::new(link));
}

async fn nation() -> Nation {
    let hub = TestApp::spawn().await;
    let (slot_a, slot_b) = (NationalSlot::default(), NationalSlot::default());
    let a = TestApp::spawn_in_nation(slot_a.clone()).await;
    let b = TestApp::spawn_in_nation(slot_b.clone()).await;
    let key = NationalIndexKey::from_hex(&"5a".repeat(16)).expect("key");
    join(&hub, &slot_a, &a, "XA", "1101", &key).await;
    join(&hub, &slot_b, &b, "XB", "3502", &key).await;
    Nation { hub, a, b, key }
}

async fn ssn_of(app: &TestApp, person_id: &str) -> String {
    let p = sscard_app::persons::get(app.store.as_ref(), &ctx(app.now_ms()), person_id).await.expect("person");
    p.person.ssn.as_str().to_string()
}

/// B makes holder 1 a card (issued, not yet activated) and claims them at the hub.
async fn b_holds_holder1(n: &Nation) -> (String, String) {
    let ssn = ssn_of(&n.b, &n.b.holder1_person).await;
    let card_no = n.b.instant_card(&n.b.holder1_person, AppKind::First).await;
    let deployments = sscard_app::hub::deployments(n.hub.store.as_ref()).await.expect("deployments");
    let xb = deployments.iter().find(|d| d.info.code.as_str() == "XB").expect("XB");
    let input = sscard_app::hub::ClaimInput {
        person_index: n.key.person_index(&ssn),
        person_id: n.b.holder1_person.clone(),
        application_id: "0190a000-0000-7000-8000-000000000001".into(),
    };
    sscard_app::hub::claim(n.hub.store.as_ref(), xb, &input, n.hub.now_ms()).await.expect("claim");
    (ssn, card_no)
}

async fn audit_actors(app: &TestApp) -> Vec<String> {
    let mut tx = app.store.read().await.expect("read");
    let rows = tx.unsealed_audit(10_000).await.expect("audit");
    rows.into_iter().map(|r| r.actor).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_card_of_another_deployment_is_found_activated_and_reported_lost_through_the_hub() {
    let n = nation().await;
    let (ssn, card_no) = b_holds_holder1(&n).await;

    // The holder at A sees where their card is: deployment XB, masked, issued.
    let seen = n.a.get(Some(&n.a.tokens.holder1), &format!("/national/persons/{ssn}")).await;
    assert_eq!(seen.status, 200, "{}", seen.json);
    assert_eq!(seen.json["deployment"], "XB");
    assert_ne!(seen.json["person"]["ssn"], ssn.as_str(), "masked");
    assert_eq!(seen.json["cards"][0]["status"], "issued");

    // A trivial PIN is refused by B's own rule, and nothing changes.
    let path = format!("/national/persons/{ssn}/cards/activate");
    let bad = n.a.post(Some(&n.a.tokens.clerk), &path, &json!({ "pin": "123456" })).await;
    assert!(matches!(bad.status, 400 | 422), "{} {}", bad.status, bad.json);
    assert_eq!(n.b.card_status(&card_no).await, "issued");

    let ok = n.a.post(Some(&n.a.tokens.clerk), &path, &json!({ "pin": "582937" })).await;
    assert_eq!(ok.status, 200, "{}", ok.json);
    assert_eq!(ok.json["status"], "active");
    assert_eq!(n.b.card_status(&card_no).await, "active");

    let lost = format!("/national/persons/{ssn}/cards/report-lost");
    let r = n.a.post(Some(&n.a.tokens.holder1), &lost, &json!({})).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(n.b.card_status(&card_no).await, "lost");
    // A lost card cannot be suspended: B's 409 comes back as B gave it.
    let again = n.a.post(Some(&n.a.tokens.clerk), &format!("/national/persons/{ssn}/cards/suspend"), &json!({})).await;
    assert_eq!(again.status, 409, "{}", again.json);
    assert_eq!(again.headers["content-type"], "application/problem+json");

    let actors = audit_actors(&n.b).await;
    assert!(actors.iter().any(|a| a == "XA/clerk"), "{actors:?}");
    assert!(actors.iter().any(|a| a == "XA/holder1"), "{actors:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_mailed_application_goes_to_the_insured_region_and_its_progress_comes_back() {
    let n = nation().await;
    let ssn = ssn_of(&n.b, &n.b.holder2_person).await;
    let body = json!({ "ssn": ssn, "region": "350203", "kind": "first", "bank_code": "ICBC",
                       "mail_address": "北京市东城区东长安街1号" });
    let r = n.a.post(Some(&n.a.tokens.clerk), "/national/applications", &body).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["deployment"], "XB");
    assert_eq!(r.json["channel"], "cross_province");
    let id = r.json["id"].as_str().expect("id").to_string();

    let p = n.a.get(Some(&n.a.tokens.clerk), &format!("/national/applications/XB/{id}")).await;
    assert_eq!(p.status, 200, "{}", p.json);
    assert_eq!(p.json["timeline"][0]["actor"], "XA/clerk");
    let at_b = sscard_app::applications::get(n.b.store.as_ref(), &ctx(n.b.now_ms()), &id).await.expect("at B");
    assert_eq!(at_b.timeline[0].actor, "XA/clerk");

    let none = n.a.get(Some(&n.a.tokens.clerk), "/national/applications/XB/no-such-app").await;
    assert_eq!(none.status, 404, "{}", none.json);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn refusals_unknown_person_another_ssn_bad_bearer_and_a_deployment_down() {
    let n = nation().await;
    let (ssn1, _) = b_holds_holder1(&n).await;
    let ssn2 = ssn_of(&n.a, &n.a.holder2_person).await;

    // Nobody in the nation holds holder 2: 404.
    let r = n.a.get(Some(&n.a.tokens.clerk), &format!("/national/persons/{ssn2}")).await;
    assert_eq!(r.status, 404, "{}", r.json);
    // A holder reaches only their own SSN.
    let r = n.a.get(Some(&n.a.tokens.holder2), &format!("/national/persons/{ssn1}")).await;
    assert_eq!(r.status, 403, "{}", r.json);
    let r =
        n.a.post(Some(&n.a.tokens.holder2), &format!("/national/persons/{ssn1}/cards/report-lost"), &json!({})).await;
    assert_eq!(r.status, 403, "{}", r.json);
    // A terminal is no caller of these services.
    let r = n.a.get(Some(&n.a.tokens.terminal), &format!("/national/persons/{ssn1}")).await;
    assert_eq!(r.status, 403, "{}", r.json);

    // The hub takes only a registered deployment's secret; a deployment only the hub's.
    let body = json!({ "caller": { "username": "x", "kind": "staff" }, "op": "person_status", "person_index": "a".repeat(64) });
    let bogus = format!("XA.{}", "0".repeat(64));
    let r = n
        .hub
        .send(n.hub.client.post(format!("{}/api/v1/hub/forward", n.hub.address)).bearer_auth(&bogus).json(&body))
        .await;
    assert_eq!(r.status, 401, "{}", r.json);
    let inbound = json!({ "from": "XA", "caller": { "username": "x", "kind": "staff" }, "op": "person_status", "person_index": "a".repeat(64), "person_id": n.b.holder1_person });
    let r =
        n.b.send(n.b.client.post(format!("{}/api/v1/hub-inbound", n.b.address)).bearer_auth(&bogus).json(&inbound))
            .await;
    assert_eq!(r.status, 401, "{}", r.json);

    // A deployment that does not answer: 503 deployment_unavailable.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let dead = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    register(&n.hub, "XD", "4403", &dead).await;
    let body = json!({ "ssn": ssn2, "region": "440303", "kind": "first", "bank_code": "ICBC", "mail_address": "深圳" });
    let r = n.a.post(Some(&n.a.tokens.clerk), "/national/applications", &body).await;
    assert_eq!(r.status, 503, "{}", r.json);
    assert_eq!(r.json["type"], "urn:sscard:problem:deployment_unavailable", "{}", r.json);
}

/// `sscard keys rotate-data` on the hub's database re-seals the deployments' secrets the hub
/// keeps; the running hub then opens B's secret under the new data key version and still
/// forwards A's request to B.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_hub_still_forwards_after_its_data_keys_are_rotated() {
    let n = nation().await;
    let (ssn, _) = b_holds_holder1(&n).await;

    let cli = sscard_store_sql::open_sql(&n.hub.db_url, n.hub.data_keys.clone()).await.expect("a second handle");
    let rotation = cli.rotate_data(1, &mut |_, _| {}).await.expect("rotate");
    sscard_store::Store::close(&cli).await;
    assert_eq!((rotation.version, rotation.added), (2, true));
    let resealed = rotation.counts.iter().find(|(t, _)| *t == "hub_deployment_secrets").map(|(_, n)| *n);
    assert_eq!(resealed, Some(2), "XA's and XB's secrets, one chunk each: {:?}", rotation.counts);

    let seen = n.a.get(Some(&n.a.tokens.clerk), &format!("/national/persons/{ssn}")).await;
    assert_eq!(seen.status, 200, "{}", seen.json);
    assert_eq!(seen.json["deployment"], "XB");
    assert_eq!(seen.json["cards"][0]["status"], "issued");
}
