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
    // A card of B past its expiry (its e-card still active): refused at A as B's own
    // terminals refuse it, at the verifier and at a visitor's library loan.
    let old = n.b.person_with_card(sscard_domain::access::Role::Holder, true).await;
    let old_token = n.b.qr_token(&old.token).await;
    assert_eq!(verify(&n.a, &n.a.tokens.terminal, &old_token).await.1["valid"], true);
    let mut tx = n.b.store.write().await.expect("write");
    let sql = format!("UPDATE cards SET expires_on = '2020-01-01' WHERE card_no = '{}'", old.card_no);
    assert_eq!(tx.execute_unchecked(&sql).await.expect("expire the card"), 1);
    tx.commit().await.expect("commit");
    let (_, at_a) = verify(&n.a, &n.a.tokens.terminal, &old_token).await;
    assert_eq!((at_a["valid"].as_bool(), at_a["reason"].as_str()), (Some(false), Some("card_expired")), "{at_a}");
    let (lib, _, _, _) = one_card_terminals(&n.a).await;
    let r = n.a.post(Some(&lib), "/library/loans", &json!({ "token": old_token, "item_id": "ISBN-X" })).await;
    r.problem(422, "card_expired");

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

/// Registers an operator at `app` (admin).
async fn operator(app: &TestApp, code: &str, kind: &str) {
    let body = json!({ "code": code, "name": code, "kind": kind, "region": "110105" });
    app.post(Some(&app.tokens.admin), "/operators", &body).await.expect(201);
}

/// A terminal of `operator` at `app`: its secret.
async fn terminal(app: &TestApp, operator: &str, scenario: &str, scope: &[&str]) -> String {
    let body = json!({ "operator": operator, "scenario": scenario, "region": "110105", "scope": scope });
    let r = app.post(Some(&app.tokens.admin), "/terminals", &body).await;
    r.expect(201);
    r.str("/secret")
}

/// A's library, park, identity and transit terminals (and two parks: free and paid), as
/// (library, park, identity, transit) secrets.
async fn one_card_terminals(a: &TestApp) -> (String, String, String, String) {
    for (code, kind) in [("XA-LIB", "library"), ("XA-PARK", "park"), ("XA-GOV", "agency"), ("XA-BUS", "transit")] {
        operator(a, code, kind).await;
    }
    for (code, price) in [("FREE", 0), ("PAID", 500)] {
        let park = json!({ "code": code, "operator": "XA-PARK", "name": code, "price_fen": price,
            "free_for_retirees": true, "accepts_annual_pass": true, "annual_pass_fen": 10_000 });
        a.post(Some(&a.tokens.admin), "/parks", &park).await.expect(200);
    }
    (
        terminal(a, "XA-LIB", "library", &["region"]).await,
        terminal(a, "XA-PARK", "park", &[]).await,
        terminal(a, "XA-GOV", "identity", &["name", "ssn_masked", "region", "retired"]).await,
        terminal(a, "XA-BUS", "transit", &[]).await,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_visitor_borrows_enters_and_is_identified_but_pays_nothing_at_another_deployment() {
    let mut n = nation().await;
    let (lib, park, id, bus) = one_card_terminals(&n.a).await;
    let holder = n.b.person_with_card(sscard_domain::access::Role::Holder, true).await;
    let token = n.b.qr_token(&holder.token).await;
    let a = &n.a;

    // A library loan without registering, recorded with B and the e-card, no person of A's.
    let loan = a.post(Some(&lib), "/library/loans", &json!({ "token": token, "item_id": "ISBN-1" })).await;
    loan.expect(201);
    assert_eq!(
        (loan.json["deployment"].as_str(), loan.json["person_id"].as_str()),
        (Some("XB"), None),
        "{}",
        loan.text()
    );
    let ecard_id = loan.str("/ecard_id");
    assert_eq!(ecard_id.len(), 32, "{}", loan.text());
    a.post(Some(&lib), "/library/loans", &json!({ "token": token, "item_id": "ISBN-1" }))
        .await
        .problem(409, "item_on_loan");
    // The network's limit counts the visitor's loans by their e-card.
    let policy = json!({ "operator": "XA-LIB", "loan_limit": 2, "loan_days": 30 });
    a.post(Some(&a.tokens.admin), "/library/policies", &policy).await.expect(200);
    a.post(Some(&lib), "/library/loans", &json!({ "token": token, "item_id": "ISBN-2" })).await.expect(201);
    let r = a.post(Some(&lib), "/library/loans", &json!({ "token": token, "item_id": "ISBN-3" })).await;
    r.problem(422, "loan_limit");
    a.post(Some(&lib), "/library/returns", &json!({ "item_id": "ISBN-2" })).await.expect(200);
    // Registering as a patron keeps a person here: refused, with its own reason.
    let r = a.post(Some(&lib), "/library/patrons", &json!({ "token": token })).await;
    r.problem(422, "foreign_card_local_only");

    // A free park lets the visitor in; a paid entry, a pass, a fare and a top-up would move
    // money on a card whose accounts are B's.
    let entry = a.post(Some(&park), "/parks/entries", &json!({ "token": token, "park_code": "FREE" })).await;
    entry.expect(200);
    assert_eq!((entry.json["admitted"].as_bool(), entry.json["reason"].as_str()), (Some(true), Some("free")));
    let r = a.post(Some(&park), "/parks/entries", &json!({ "token": token, "park_code": "PAID" })).await;
    r.problem(422, "foreign_card_not_payable");
    let r = a.post(Some(&park), "/parks/passes", &json!({ "token": token, "park_code": "PAID" })).await;
    r.problem(422, "foreign_card_not_payable");
    let r = a.post(Some(&bus), "/transit/taps", &json!({ "token": token, "fare_fen": 200 })).await;
    r.problem(422, "foreign_card_not_payable");
    let line = json!({ "seq": 1, "token": token, "fare_fen": 200, "at": a.now_ms() - 1_000 });
    let r = a.post(Some(&bus), "/transit/batches", &json!({ "transactions": [line] })).await;
    r.expect(200);
    assert_eq!(r.json["results"][0]["reason"], "foreign_card_not_payable", "{}", r.text());
    let r =
        a.post(Some(&bus), "/ewallet/topups", &json!({ "token": token, "amount_fen": 1_000, "source": "cash" })).await;
    r.problem(422, "foreign_card_not_payable");

    // An identity check: what B shows a terminal, within the scope; never an SSN.
    let r = a.post(Some(&id), "/identity/verify", &json!({ "token": token })).await;
    r.expect(200);
    assert_eq!(r.json["attributes"]["region"], "350203", "{}", r.text());
    assert!(r.json["attributes"]["name"].as_str().unwrap_or_default().contains('*'), "{}", r.text());
    assert!(r.json["attributes"]["ssn_masked"].is_null(), "{}", r.text());

    // B suspends the card: each use at A refused with B's reason.
    let card = format!("/cards/{}", holder.card_no);
    n.b.post_empty(Some(&n.b.tokens.clerk), &format!("{card}/suspend")).await.expect(200);
    let r = a.post(Some(&lib), "/library/loans", &json!({ "token": token, "item_id": "ISBN-4" })).await;
    r.problem(422, "card_suspended");
    let r = a.post(Some(&park), "/parks/entries", &json!({ "token": token, "park_code": "FREE" })).await;
    r.problem(422, "card_suspended");
    a.post(Some(&id), "/identity/verify", &json!({ "token": token })).await.problem(422, "card_suspended");

    // A month on, the visitor's open loan is on the network's overdue list, by B and the e-card.
    n.a.clock.advance_days(31);
    n.a.relogin().await;
    let overdue = n.a.get(Some(&lib), "/library/overdue").await;
    overdue.expect(200);
    let listed: Vec<(&str, &str, &str)> = overdue
        .json
        .as_array()
        .expect("a list")
        .iter()
        .map(|l| {
            (
                l["item_id"].as_str().unwrap_or(""),
                l["deployment"].as_str().unwrap_or(""),
                l["ecard_id"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(listed, [("ISBN-1", "XB", ecard_id.as_str())]);
    // The uses recorded at A, each a QR use: the served ones and the refused ones (the loan of
    // an item on loan, over the limit, the patron, the paid entry, the pass, and the three
    // while suspended).
    let usage = n.a.get(Some(&n.a.tokens.admin), "/stats/usage").await;
    usage.expect(200);
    let qr = |scenario: &str| -> i64 {
        usage
            .json
            .as_array()
            .expect("counts")
            .iter()
            .filter(|u| u["scenario"] == scenario && u["presented"] == "qr")
            .map(|u| u["count"].as_i64().unwrap_or(0))
            .sum()
    };
    assert_eq!((qr("library"), qr("park"), qr("identity")), (6, 4, 2), "{}", usage.text());
    let ledger = n.a.get(Some(&n.a.tokens.admin), "/ledger/check").await;
    assert_eq!(ledger.json["clean"], true, "{}", ledger.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_visitor_is_a_clear_503_when_the_issuer_or_the_hub_is_down_and_still_pays_nothing() {
    let n = nation().await;
    let (lib, park, _, bus) = one_card_terminals(&n.a).await;
    let holder = n.b.person_with_card(sscard_domain::access::Role::Holder, true).await;
    let token = n.b.qr_token(&holder.token).await;
    n.a.post(Some(&lib), "/library/loans", &json!({ "token": token, "item_id": "ISBN-1" })).await.expect(201);

    let Nation { hub, a, b } = n;
    drop(b);
    let r = a.post(Some(&lib), "/library/loans", &json!({ "token": token, "item_id": "ISBN-2" })).await;
    r.problem(503, "deployment_unavailable");
    hub.stop().await;
    let r = a.post(Some(&park), "/parks/entries", &json!({ "token": token, "park_code": "FREE" })).await;
    r.problem(503, "hub_unavailable");
    // A fare is refused whoever answers: the list A holds names the card B's.
    let r = a.post(Some(&bus), "/transit/taps", &json!({ "token": token, "fare_fen": 200 })).await;
    r.problem(422, "foreign_card_not_payable");
    // A's own holders are served as ever.
    let mine = a.person_with_card(sscard_domain::access::Role::Holder, true).await;
    let own = a.qr_token(&mine.token).await;
    let r = a.post(Some(&park), "/parks/entries", &json!({ "token": own, "park_code": "FREE" })).await;
    r.expect(200);
    assert_eq!(r.json["admitted"], true, "{}", r.text());
    let r = a.post(Some(&lib), "/library/patrons", &json!({ "token": own })).await;
    r.expect(201);
    a.post(Some(&lib), "/library/loans", &json!({ "token": own, "item_id": "ISBN-2" })).await.expect(201);
}
