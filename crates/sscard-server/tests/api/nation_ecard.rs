//! The national e-card trust list with real parts: a hub and two deployments XA and XB, each
//! its own server on port 0 with its own database, talking real HTTP. Each deployment takes
//! its key id range from the hub and publishes its keys there (as `serve --deployment` does
//! at start); a QR code of XB then verifies online at XA: its signature against the hub's
//! list, its live status asked of XB through the hub.

use crate::helpers::{TestApp, ctx};
use serde_json::{Value, json};
use sscard_domain::clock::{Clock as _, FixedClock};
use sscard_domain::nation::hub::parse_deployment;
use sscard_domain::nation::wire::DeploymentCode;
use sscard_server::AppState;
use sscard_server::hub_client::HttpHub;
use sscard_server::routes::national::{NationalLink, NationalSlot};
use sscard_store::Store;
use std::sync::Arc;

/// The hub's server, stopped on drop (or by [`Hub::stop`]).
struct Hub {
    address: String,
    store: Arc<dyn Store>,
    now_ms: i64,
    server: tokio::task::JoinHandle<()>,
    _db: sscard_store_sql::sqlite::TempDatabase,
}

impl Hub {
    async fn spawn() -> Hub {
        let db = sscard_store_sql::sqlite::TempDatabase::new();
        let master = sscard_server::keys::MasterKey::ephemeral();
        let store = sscard_store_sql::open(&db.url(), master.data_keys()).await.expect("open the hub's store");
        let clock = Arc::new(FixedClock::at_date(time::macros::date!(2026 - 03 - 02)));
        let now_ms = clock.now_ms();
        let state = AppState::new(store.clone(), clock, Default::default()).with_hub(Some(master.national_index_key()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = format!("http://{}", listener.local_addr().expect("addr"));
        let router = sscard_server::build_router(state);
        let server = tokio::spawn(async move {
            axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>())
                .await
                .expect("serve");
        });
        Hub { address, store, now_ms, server, _db: db }
    }

    /// The hub stops answering (its port closes).
    async fn stop(&self) {
        self.server.abort();
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(self.address.trim_start_matches("http://")).await.is_err() {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("the hub still answers");
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        self.server.abort();
    }
}

struct Nation {
    hub: Hub,
    a: TestApp,
    b: TestApp,
}

/// Registers `app` at the hub as `code` (as `sscard hub add-deployment`), gives it its link,
/// then joins the trust list as `serve --deployment` does at start.
async fn join(hub: &Hub, slot: &NationalSlot, app: &TestApp, code: &str, regions: &str) {
    let info = parse_deployment(code, code, regions, &app.address).expect("deployment");
    let added = sscard_app::hub::add_deployment(hub.store.as_ref(), &ctx(hub.now_ms), info).await.expect("add");
    let deployment = DeploymentCode::parse(code).expect("code");
    sscard_app::national::remember_secret(hub.store.as_ref(), &deployment, &added.secret, hub.now_ms)
        .await
        .expect("seal");
    let index_key = sscard_app::nation::NationalIndexKey::from_hex(&"5a".repeat(16)).expect("key");
    let link = NationalLink { deployment, hub_url: hub.address.clone(), secret: added.secret.clone(), index_key };
    *slot.write().expect("slot") = Some(Arc::new(link));
    let http = HttpHub::new(&hub.address, &added.secret, std::time::Duration::from_secs(5)).expect("client");
    let published = sscard_server::trust::join(&http, &app.keys, app.store.as_ref(), app.now_ms()).await.expect("join");
    assert_eq!(published.len(), 1, "one key of the range, published");
}

async fn nation() -> Nation {
    let hub = Hub::spawn().await;
    let (slot_a, slot_b) = (NationalSlot::default(), NationalSlot::default());
    let a = TestApp::spawn_in_nation(slot_a.clone()).await;
    let b = TestApp::spawn_in_nation(slot_b.clone()).await;
    // A's QR key made before it joined (on its own, id 1): it keeps verifying at A only.
    a.keys.ensure(a.store.as_ref(), a.now_ms()).await.expect("A's key of its own");
    join(&hub, &slot_a, &a, "XA", "1101").await;
    join(&hub, &slot_b, &b, "XB", "3502").await;
    Nation { hub, a, b }
}

fn key_id(token: &str) -> u32 {
    sscard_gm::token::decode_token(token).expect("a token").claims().key_id
}

async fn verify(app: &TestApp, bearer: &str, token: &str) -> (u16, Value) {
    let r = app.post(Some(bearer), "/ecard/verify", &json!({ "token": token })).await;
    (r.status, r.json)
}

/// A token of `key_id` signed by a key nobody published.
fn forged(key_id: u32, issued_at: i64) -> String {
    let claims = sscard_gm::token::TokenClaims {
        key_id,
        ecard_id: [9; 16],
        status: sscard_gm::token::STATUS_ACTIVE,
        flags: Default::default(),
        region: 350_203,
        issued_at,
        ttl_s: 60,
        nonce: 7,
    };
    sscard_gm::token::sign_token(&claims, &sscard_gm::sm2::SigningKey::generate())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_qr_code_of_another_deployment_verifies_with_its_live_status() {
    let n = nation().await;
    // Both deployments' first keys are in the trust list, each in its own range.
    let keys = reqwest::get(format!("{}/api/v1/ecard/keys", n.hub.address)).await.expect("keys");
    let keys: Value = keys.json().await.expect("json");
    let seen: Vec<(i64, &str)> = keys
        .as_array()
        .expect("a list")
        .iter()
        .map(|k| (k["key_id"].as_i64().unwrap_or(0), k["deployment"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(seen, [(1_000_001, "XA"), (2_000_001, "XB")]);

    let holder = n.b.person_with_card(sscard_domain::access::Role::Holder, true).await;
    let token = n.b.qr_token(&holder.token).await;
    assert_eq!(key_id(&token), 2_000_001, "B signs inside its range");
    let (status, at_a) = verify(&n.a, &n.a.tokens.terminal, &token).await;
    assert_eq!(status, 200, "{at_a}");
    assert_eq!(at_a["valid"], true, "{at_a}");
    assert_eq!(at_a["deployment"], "XB");
    assert_eq!(at_a["attributes"]["region"], "350203", "{at_a}");
    let name = at_a["attributes"]["name"].as_str().unwrap_or_default();
    assert!(name.contains('*'), "B shows what it shows a terminal: a masked name, {at_a}");
    assert!(at_a["attributes"]["ssn_masked"].is_null(), "{at_a}");
    let (_, by_clerk) = verify(&n.a, &n.a.tokens.clerk, &token).await;
    assert_eq!(by_clerk["valid"], true, "{by_clerk}");
    // At B itself the code is its own: no deployment named.
    let (_, at_b) = verify(&n.b, &n.b.tokens.terminal, &token).await;
    assert_eq!((at_b["valid"].as_bool(), at_b["deployment"].as_str()), (Some(true), None), "{at_b}");

    // And the other way round: A's QR code at B.
    let a_holder = n.a.person_with_card(sscard_domain::access::Role::Holder, true).await;
    let a_token = n.a.qr_token(&a_holder.token).await;
    assert_eq!(key_id(&a_token), 1_000_001, "A signs with its range's key, not its own older one");
    let (_, at_b) = verify(&n.b, &n.b.tokens.terminal, &a_token).await;
    assert_eq!((at_b["valid"].as_bool(), at_b["deployment"].as_str()), (Some(true), Some("XA")), "{at_b}");

    // B's card suspended, lost: refused at A with B's precise reason.
    let card = format!("/cards/{}", holder.card_no);
    n.b.post_empty(Some(&n.b.tokens.clerk), &format!("{card}/suspend")).await.expect(200);
    let (_, at_a) = verify(&n.a, &n.a.tokens.terminal, &token).await;
    assert_eq!((at_a["valid"].as_bool(), at_a["reason"].as_str()), (Some(false), Some("card_suspended")), "{at_a}");
    assert_eq!(at_a["deployment"], "XB");
    n.b.post_empty(Some(&n.b.tokens.clerk), &format!("{card}/unsuspend")).await.expect(200);
    assert_eq!(verify(&n.a, &n.a.tokens.terminal, &token).await.1["valid"], true);
    n.b.post_empty(Some(&n.b.tokens.clerk), &format!("{card}/report-lost")).await.expect(200);
    let (_, at_a) = verify(&n.a, &n.a.tokens.terminal, &token).await;
    assert_eq!(at_a["reason"], "card_lost", "{at_a}");

    // Forged, tampered, unknown and expired codes are refused at A without asking B.
    let (_, r) = verify(&n.a, &n.a.tokens.terminal, &forged(2_000_001, n.a.now_s())).await;
    assert_eq!(r["reason"], "bad_signature", "{r}");
    let (_, r) = verify(&n.a, &n.a.tokens.terminal, &forged(3_000_001, n.a.now_s())).await;
    assert_eq!(r["reason"], "unknown_key", "nobody's key: {r}");
    let mut tampered = token.clone().into_bytes();
    tampered[100] = if tampered[100] == b'A' { b'B' } else { b'A' };
    let (_, r) = verify(&n.a, &n.a.tokens.terminal, &String::from_utf8(tampered).expect("text")).await;
    assert_eq!(r["reason"], "bad_signature", "{r}");
    let other = n.b.person_with_card(sscard_domain::access::Role::Holder, true).await;
    let fresh = n.b.qr_token(&other.token).await;
    n.a.advance_s(120);
    let (_, r) = verify(&n.a, &n.a.tokens.terminal, &fresh).await;
    assert_eq!(r["reason"], "expired", "A's clock is two minutes on: {r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_terminal_gets_its_scope_and_a_hub_or_deployment_down_is_a_clear_503() {
    let n = nation().await;
    let holder = n.b.person_with_card(sscard_domain::access::Role::Holder, true).await;
    let token = n.b.qr_token(&holder.token).await;

    // A library gate at A with the scope region: only that of B's holder.
    n.a.post(
        Some(&n.a.tokens.admin),
        "/operators",
        &json!({ "code": "XA-LIB", "name": "XA-LIB", "kind": "library", "region": "110105" }),
    )
    .await
    .expect(201);
    let gate =
        n.a.post(
            Some(&n.a.tokens.admin),
            "/terminals",
            &json!({ "operator": "XA-LIB", "scenario": "library", "region": "110105", "scope": ["region"] }),
        )
        .await;
    gate.expect(201);
    let (gate_id, secret) = (gate.str("/id"), gate.str("/secret"));
    let (status, r) = verify(&n.a, &secret, &token).await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["valid"], true, "{r}");
    assert_eq!(r["attributes"], json!({ "region": "350203" }), "{r}");
    assert_eq!(r["deployment"], "XB");
    n.a.post_empty(Some(&n.a.tokens.admin), &format!("/terminals/{gate_id}/disable")).await.expect(200);
    let r = n.a.post(Some(&secret), "/ecard/verify", &json!({ "token": token })).await;
    r.problem(403, "terminal_disabled");

    // B does not answer: the hub says so, and A answers 503 deployment_unavailable.
    let b_address = n.b.address.clone();
    let Nation { hub, a, b } = n;
    drop(b);
    let r = a.post(Some(&a.tokens.terminal), "/ecard/verify", &json!({ "token": token })).await;
    r.problem(503, "deployment_unavailable");
    assert!(reqwest::get(format!("{b_address}/api/v1/health")).await.is_err(), "B is down");

    // The hub does not answer: 503 hub_unavailable, for a key A knows and for one it does not.
    hub.stop().await;
    let r = a.post(Some(&a.tokens.terminal), "/ecard/verify", &json!({ "token": token })).await;
    r.problem(503, "hub_unavailable");
    // (A list the hub gave under five seconds ago answers for an unknown key: a moment later.)
    a.advance_s(6);
    let r = a.post(Some(&a.tokens.terminal), "/ecard/verify", &json!({ "token": forged(3_000_001, a.now_s()) })).await;
    r.problem(503, "hub_unavailable");
    // A's own QR codes verify as ever.
    let mine = a.person_with_card(sscard_domain::access::Role::Holder, true).await;
    let (_, r) = verify(&a, &a.tokens.terminal, &a.qr_token(&mine.token).await).await;
    assert_eq!(r["valid"], true, "{r}");
}
