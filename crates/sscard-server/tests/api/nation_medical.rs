//! Cross-province medical settlement (跨省异地就医直接结算) with real parts: a hub (hub mode) and
//! two deployments, each its own server on port 0 with its own database, over real HTTP.
//! XA (regions 1101, the hospital's) settles bills of a person of XB (regions 3502, the card's)
//! at its medical terminal by the card identification code and by the e-card QR (XB's key in
//! the hub's trust list); XB applies its own policy; the hub keeps one clearing entry per bill
//! and nets the day.

use crate::helpers::{TestApp, ctx};
use serde_json::{Value, json};
use sscard_app::hub::{IndexKey, NewHubKey};
use sscard_app::nation::NationalIndexKey;
use sscard_domain::access::Role;
use sscard_domain::nation::hub::parse_deployment;
use sscard_domain::nation::wire::DeploymentCode;
use sscard_server::routes::national::{NationalLink, NationalSlot};
use std::sync::Arc;

struct Nation {
    hub: TestApp,
    a: TestApp,
    b: TestApp,
    slot_a: NationalSlot,
    /// XA's secret at the hub.
    secret_a: String,
    /// XA's medical terminal (operator BJ-HOSP, region 110105).
    terminal: String,
}

/// Registers a deployment at the hub (as `sscard hub add-deployment` does) and answers its secret.
async fn register(hub: &TestApp, code: &str, regions: &str, url: &str) -> String {
    let info = parse_deployment(code, code, regions, url).expect("deployment");
    let added = sscard_app::hub::add_deployment(hub.store.as_ref(), &ctx(hub.now_ms()), info).await.expect("add");
    let code = DeploymentCode::parse(code).expect("code");
    sscard_app::national::remember_secret(hub.store.as_ref(), &code, &added.secret, hub.now_ms()).await.expect("seal");
    added.secret
}

fn link_to(hub_url: &str, code: &str, secret: &str, key: &IndexKey) -> Option<Arc<NationalLink>> {
    Some(Arc::new(NationalLink {
        deployment: DeploymentCode::parse(code).expect("code"),
        hub_url: hub_url.to_string(),
        secret: secret.to_string(),
        index_key: NationalIndexKey::from_hex(&key.hex()).expect("key"),
    }))
}

async fn nation() -> Nation {
    let key = IndexKey::derive(&[7; 32]);
    let hub = TestApp::spawn_hub(key.clone()).await;
    let (slot_a, slot_b) = (NationalSlot::default(), NationalSlot::default());
    let a = TestApp::spawn_in_nation(slot_a.clone()).await;
    let b = TestApp::spawn_in_nation(slot_b.clone()).await;
    let secret_a = register(&hub, "XA", "1101", &a.address).await;
    let secret_b = register(&hub, "XB", "3502", &b.address).await;
    *slot_a.write().expect("slot") = link_to(&hub.address, "XA", &secret_a, &key);
    *slot_b.write().expect("slot") = link_to(&hub.address, "XB", &secret_b, &key);
    a.post(
        Some(&a.tokens.admin),
        "/operators",
        &json!({ "code": "BJ-HOSP", "name": "BJ-HOSP", "kind": "hospital", "region": "110105" }),
    )
    .await
    .expect(201);
    let t = a
        .post(
            Some(&a.tokens.admin),
            "/terminals",
            &json!({ "operator": "BJ-HOSP", "scenario": "medical", "region": "110105", "scope": [] }),
        )
        .await;
    let terminal = t.expect(201).str("/secret");
    Nation { hub, a, b, slot_a, secret_a, terminal }
}

/// XB: a holder with an active card, 500 yuan in the personal account, XB's own policy for the
/// insured region (500 deductible, 80% across provinces). Answers (person, card_no, card id code).
async fn b_person(b: &TestApp) -> (crate::helpers::Holder, String) {
    let h = b.person_with_card(Role::Holder, true).await;
    // A reference of its own per holder: a deposit's reference is its idempotency key.
    let reference = format!("2026-03-{}", h.card_no);
    let deposit = json!({ "person_id": h.person_id, "amount_fen": 50_000, "reference": reference });
    b.post(Some(&b.tokens.admin), "/medical/deposits", &deposit).await.expect(201);
    let policy = json!({ "region": crate::helpers::REGION, "deductible_fen": 50_000, "ratio_local_bp": 9000,
        "ratio_in_province_bp": 8500, "ratio_cross_province_bp": 8000, "annual_cap_fen": 10_000_000 });
    b.post(Some(&b.tokens.admin), "/medical/policies", &policy).await.expect(200);
    let card = b.get(Some(&b.tokens.admin), &format!("/cards/{}", h.card_no)).await;
    let code = card.expect(200).str("/card_id_code");
    assert_eq!(code.len(), 32, "{}", card.text());
    (h, code)
}

async fn balance(app: &TestApp, id: &str) -> i64 {
    let mut tx = app.store.read().await.expect("tx");
    let a = tx.get_account(id, false).await.expect("account");
    tx.commit().await.expect("commit");
    a.map_or(0, |a| a.balance_fen)
}

async fn books_clean(app: &TestApp) {
    let r = app.get(Some(&app.tokens.admin), "/ledger/check").await;
    assert_eq!(r.expect(200).json["clean"], true, "{}", r.text());
}

async fn settle(n: &Nation, body: &Value) -> crate::helpers::Resp {
    n.a.post(Some(&n.terminal), "/medical/settlements", body).await
}

fn day(n: &Nation) -> String {
    ctx(n.hub.now_ms()).today().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_bill_of_another_deployments_person_settles_through_the_hub_by_card_id_code() {
    let n = nation().await;
    let (h, code) = b_person(&n.b).await;
    let bank = format!("bank:{}", h.card_no);
    let (pool, account) = (format!("pool:{}", crate::helpers::REGION), format!("medical:{}", h.person_id));
    let a_books = async || {
        (balance(&n.a, "clearing:NATION-XB").await, balance(&n.a, &bank).await, balance(&n.a, "clearing:BJ-HOSP").await)
    };
    let b_books =
        async || (balance(&n.b, &pool).await, balance(&n.b, &account).await, balance(&n.b, "clearing:NATION-XA").await);

    // 2,000 yuan under XB's policy, across provinces: 500 deductible, 80% of 1,500 = 1,200
    // pool, 500 from the personal account, 300 self-pay from the card's bank account at XA.
    let bill = json!({ "card_id_code": code, "amount_fen": 200_000, "bill_id": "BJ-INV-1" });
    let s = settle(&n, &bill).await;
    s.expect(201);
    assert_eq!(s.json["decider"], "XB", "{}", s.text());
    let parts = ["pool_fen", "account_fen", "self_pay_fen", "ratio_bp"].map(|k| s.json[k].as_i64().unwrap_or(-1));
    assert_eq!(parts, [120_000, 50_000, 30_000, 8_000], "{}", s.text());
    assert_eq!(s.json["replayed"], false);
    assert_eq!(a_books().await, (-170_000, -30_000, 200_000));
    assert_eq!(b_books().await, (-120_000, 0, 170_000));
    let id = s.str("/id");

    // The same bill again: the first answer, nothing moves; another body: 409 at XA.
    let again = settle(&n, &bill).await;
    again.expect(200);
    assert_eq!((again.str("/id"), again.json["replayed"].clone()), (id.clone(), json!(true)));
    let other = json!({ "card_id_code": code, "amount_fen": 200_001, "bill_id": "BJ-INV-1" });
    settle(&n, &other).await.problem(409, "bill_settled");
    assert_eq!(a_books().await, (-170_000, -30_000, 200_000));
    assert_eq!(b_books().await, (-120_000, 0, 170_000));

    // The hub keeps one entry for the bill however often it was asked: XB owes XA 1,700.
    let path = format!("/hub/clearing?day={}", day(&n));
    let c = n.hub.get(Some(&n.hub.tokens.admin), &path).await;
    c.expect(200);
    assert_eq!(c.json["entries"], 1, "{}", c.text());
    assert_eq!(
        c.json["pairs"][0],
        json!({ "debtor": "XB", "creditor": "XA", "net_fen": 170_000, "gross_fen": 170_000,
            "debtor_owed_fen": 170_000, "creditor_owed_fen": 0, "entries": 1 })
    );
    assert_eq!(c.json["positions"], json!({ "XA": 170_000, "XB": -170_000 }));

    // Refund through the same route as a local one: back the same way, once.
    let r = n.a.post_empty(Some(&n.terminal), &format!("/medical/settlements/{id}/refund")).await;
    r.expect(200);
    assert!(r.json["refunded_at_ms"].is_i64(), "{}", r.text());
    assert_eq!(a_books().await, (0, 0, 0));
    assert_eq!(b_books().await, (0, 50_000, 0));
    n.a.post_empty(Some(&n.terminal), &format!("/medical/settlements/{id}/refund"))
        .await
        .problem(409, "already_refunded");
    // A second bill (not refunded); the day nets per pair and sums to zero.
    let bill2 = json!({ "card_id_code": code, "amount_fen": 10_000, "bill_id": "BJ-INV-2" });
    let s2 = settle(&n, &bill2).await;
    s2.expect(201);
    let owed = s2.json["pool_fen"].as_i64().unwrap_or(0) + s2.json["account_fen"].as_i64().unwrap_or(0);
    assert!(owed > 0, "{}", s2.text());
    let c = n.hub.get(Some(&n.hub.tokens.admin), &path).await;
    c.expect(200);
    assert_eq!(c.json["entries"], 3, "{}", c.text());
    assert_eq!(c.json["pairs"][0]["net_fen"], owed, "{}", c.text());
    assert_eq!(c.json["pairs"][0]["gross_fen"], 340_000 + owed, "{}", c.text());
    // Settled 1,700 + the second bill one way, the 1,700 refund the other.
    assert_eq!(c.json["pairs"][0]["debtor_owed_fen"], 170_000 + owed, "{}", c.text());
    assert_eq!(c.json["pairs"][0]["creditor_owed_fen"], 170_000, "{}", c.text());
    let sum: i64 = c.json["positions"].as_object().expect("positions").values().filter_map(Value::as_i64).sum();
    assert_eq!(sum, 0, "{}", c.text());
    // XA reads the pairs it is in with its own secret.
    let seen = n.hub.send(n.hub.client.get(n.hub.url(&path)).bearer_auth(&n.secret_a)).await;
    seen.expect(200);
    assert_eq!(seen.json["positions"], json!({ "XA": owed }), "{}", seen.text());
    books_clean(&n.a).await;
    books_clean(&n.b).await;
    books_clean(&n.hub).await;
    // XB's audit names the hospital's deployment and terminal.
    let mut tx = n.b.store.read().await.expect("read");
    let actors: Vec<String> = tx.unsealed_audit(10_000).await.expect("audit").into_iter().map(|r| r.actor).collect();
    assert!(actors.iter().any(|a| a.starts_with("XA/terminal:")), "{actors:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn refusals_unknown_cards_a_hub_or_deployment_down_and_who_reads_the_clearing() {
    let n = nation().await;
    let (_, code) = b_person(&n.b).await;
    let hospital = async || balance(&n.a, "clearing:BJ-HOSP").await;
    let unknown = format!("{}{}", &code[..16], "00000000000F4240");

    // XB has no card with this code: its refusal comes back as XB gave it.
    let r = settle(&n, &json!({ "card_id_code": unknown, "amount_fen": 100, "bill_id": "U-1" })).await;
    r.problem(422, "unknown_card");
    // A region no deployment serves; XA's own region (no card of XA has the code).
    let nowhere = format!("440303{}", &code[6..]);
    settle(&n, &json!({ "card_id_code": nowhere, "amount_fen": 100, "bill_id": "U-2" }))
        .await
        .problem(422, "no_deployment_for_region");
    let own = format!("110105{}", &code[6..]);
    settle(&n, &json!({ "card_id_code": own, "amount_fen": 100, "bill_id": "U-3" })).await.problem(422, "unknown_card");
    settle(&n, &json!({ "card_id_code": "3502", "amount_fen": 100, "bill_id": "U-4" }))
        .await
        .problem(400, "bad_identifier")
        .field("card_id_code");
    let both = json!({ "card_id_code": code, "card_no": "A00000001", "amount_fen": 100, "bill_id": "U-5" });
    settle(&n, &both).await.problem(400, "card_or_token");

    // A deployment that does not answer: the hub's 503 comes back; nothing moved at XA.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let dead = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    register(&n.hub, "XD", "4403", &dead).await;
    settle(&n, &json!({ "card_id_code": nowhere, "amount_fen": 100, "bill_id": "D-1" }))
        .await
        .problem(503, "deployment_unavailable");

    // The hub down: 503 hub_unavailable, nothing moved at XA; the same bill goes through later.
    let up = n.slot_a.read().expect("slot").clone().expect("link");
    let mut down = (*up).clone();
    down.hub_url = dead.clone();
    *n.slot_a.write().expect("slot") = Some(Arc::new(down));
    let bill = json!({ "card_id_code": code, "amount_fen": 100_000, "bill_id": "H-1" });
    settle(&n, &bill).await.problem(503, "hub_unavailable");
    assert_eq!(hospital().await, 0);
    *n.slot_a.write().expect("slot") = Some(up);
    settle(&n, &bill).await.expect(201);
    assert_eq!(hospital().await, 100_000);

    // Who reads the clearing: the hub's admin or a deployment; a clerk is 403, nobody 401.
    let path = format!("/hub/clearing?day={}", day(&n));
    n.hub.get(Some(&n.hub.tokens.clerk), &path).await.problem(403, "forbidden");
    n.hub.get(None, &path).await.problem(401, "unauthorized");
    n.hub.get(Some(&n.hub.tokens.admin), "/hub/clearing?day=2026-02-30").await.problem(400, "bad_day");
    // A deployment that is not a hub has no clearing.
    n.a.get(Some(&n.a.tokens.admin), &path).await.problem(404, "not_found");
    // The hub takes a medical bill only from a terminal's deployment with its secret.
    let req = json!({ "caller": { "username": "clerk", "kind": "staff" }, "op": "medical_refund",
                      "hospital": "BJ-HOSP", "bill_id": "H-1" });
    let r = n.hub.send(n.hub.client.post(n.hub.url("/hub/forward")).bearer_auth(&n.secret_a).json(&req)).await;
    r.problem(400, "bad_forward");
    books_clean(&n.a).await;
    books_clean(&n.b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_qr_of_another_deployment_settles_by_its_key_owner() {
    let n = nation().await;
    let (h, _) = b_person(&n.b).await;
    // In the nation each deployment signs with key ids of its own range (the hub's, by the
    // order of registration); XA signs with a key of its own from before (id 1, nobody's range).
    let xb = sscard_app::hub::deployments(n.hub.store.as_ref()).await.expect("deployments");
    let xb = xb.into_iter().find(|d| d.info.code.as_str() == "XB").expect("XB");
    n.b.keys.set_key_ids(Some(sscard_app::hub::key_ids(&xb).expect("XB's key ids")));
    n.a.keys.ensure(n.a.store.as_ref(), n.a.now_ms()).await.expect("XA's key");
    let ring = n.b.keys.ensure(n.b.store.as_ref(), n.b.now_ms()).await.expect("XB's key");
    let key = ring.in_range().pop().expect("a key of XB's range");
    assert!(n.a.keys.ring().key(key.key_id).is_none(), "XA must not have XB's key id {}", key.key_id);
    let published = NewHubKey {
        key_id: key.key_id,
        public_key_pem: key.public_key_pem.clone(),
        not_before: key.not_before,
        not_after: key.not_after,
    };
    sscard_app::hub::register_keys(n.hub.store.as_ref(), &xb, &[published], n.hub.now_ms()).await.expect("publish");

    let token = n.b.qr_token(&h.token).await;
    let s = settle(&n, &json!({ "token": token, "amount_fen": 200_000, "bill_id": "QR-1" })).await;
    s.expect(201);
    assert_eq!((s.json["decider"].clone(), s.json["pool_fen"].clone()), (json!("XB"), json!(120_000)), "{}", s.text());
    assert_eq!(balance(&n.b, &format!("medical:{}", h.person_id)).await, 0);
    assert_eq!(balance(&n.a, "clearing:BJ-HOSP").await, 200_000);
    // A QR and a card number at once: 400, whoever's the QR is.
    let both = json!({ "token": token, "card_no": h.card_no, "amount_fen": 100, "bill_id": "QR-3" });
    settle(&n, &both).await.problem(400, "card_or_token");
    // A QR whose signature does not hold is refused, and nothing moves.
    let forged = format!("{}x", &token[..token.len() - 1]);
    let r = settle(&n, &json!({ "token": forged, "amount_fen": 100, "bill_id": "QR-2" })).await;
    assert!(matches!(r.status, 400 | 422), "{} {}", r.status, r.text());
    assert_eq!(balance(&n.a, "clearing:BJ-HOSP").await, 200_000);
    books_clean(&n.a).await;
    books_clean(&n.b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_card_of_this_deployment_settles_here_by_its_identification_code() {
    let n = nation().await;
    let h = n.a.person_with_card(Role::Holder, true).await;
    let card = n.a.get(Some(&n.a.tokens.admin), &format!("/cards/{}", h.card_no)).await;
    let code = card.expect(200).str("/card_id_code");
    let s = settle(&n, &json!({ "card_id_code": code, "amount_fen": 10_000, "bill_id": "L-1" })).await;
    s.expect(201);
    assert_eq!((s.str("/card_no"), s.json.get("decider")), (h.card_no.clone(), None), "{}", s.text());
    let c = n.hub.get(Some(&n.hub.tokens.admin), &format!("/hub/clearing?day={}", day(&n))).await;
    assert_eq!(c.expect(200).json["entries"], 0, "the hub saw nothing: {}", c.text());
    // Exactly one way of presenting the card.
    let two = json!({ "card_id_code": code, "token": "SSC1.x", "amount_fen": 1, "bill_id": "L-2" });
    settle(&n, &two).await.problem(400, "card_or_token");

    // A bill id is the hospital's once, whoever the patient: L-1 (settled here) presented for
    // a card of XB, and a bill settled through the hub presented for a card of XA, are 409.
    // (Both test deployments number cards alike: XB's second card is one XA does not have.)
    b_person(&n.b).await;
    let (_, b_code) = b_person(&n.b).await;
    assert_ne!(b_code, code);
    let r = settle(&n, &json!({ "card_id_code": b_code, "amount_fen": 10_000, "bill_id": "L-1" })).await;
    r.problem(409, "bill_settled");
    settle(&n, &json!({ "card_id_code": b_code, "amount_fen": 10_000, "bill_id": "R-1" })).await.expect(201);
    let r = settle(&n, &json!({ "card_id_code": code, "amount_fen": 10_000, "bill_id": "R-1" })).await;
    r.problem(409, "bill_settled");
    // The hub saw one bill, and the books stay clean on both sides.
    let c = n.hub.get(Some(&n.hub.tokens.admin), &format!("/hub/clearing?day={}", day(&n))).await;
    assert_eq!(c.expect(200).json["entries"], 1, "{}", c.text());
    books_clean(&n.a).await;
    books_clean(&n.b).await;
}
