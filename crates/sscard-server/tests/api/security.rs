//! The security defects an attacker found, over HTTP: money from nowhere, full ID numbers and
//! money to the wrong staff, lock-outs, a terminal secret lost, bad bytes at the edge, and the
//! headers of every answer.

use crate::helpers::{CITY, PASSWORD, TestApp};
use serde_json::json;
use sscard_domain::access::Role;

#[tokio::test]
async fn a_holder_cannot_top_up_with_cash_nobody_took_in() {
    let app = TestApp::spawn().await;
    let holder = app.person_with_card(Role::Holder, true).await;
    let (card, token) = (holder.card_no.clone(), holder.token.clone());
    let before = app.get(Some(&app.tokens.admin), "/ledger/check").await;
    before.expect(200);
    app.post(Some(&token), "/ewallet/topups", &json!({ "card_no": card, "amount_fen": 99_900, "source": "cash" }))
        .await
        .problem(403, "cash_at_a_service_point")
        .field("source");
    let from_bank = json!({ "card_no": card, "amount_fen": 1_000, "source": "bank" });
    app.post(Some(&token), "/ewallet/topups", &from_bank).await.expect(201);
    let after = app.get(Some(&app.tokens.admin), "/ledger/check").await;
    assert_eq!(after.json["clean"], true, "{}", after.text());
    let transfers = |r: &crate::helpers::Resp| r.json["report"]["transfers"].as_i64().unwrap_or(-1);
    assert_eq!(transfers(&after), transfers(&before) + 1, "only the bank top-up moved money");
}

#[tokio::test]
async fn another_banks_teller_sees_the_ssn_masked_and_no_money() {
    let app = TestApp::spawn().await;
    let person = app.register_adult().await;
    let id = person["id"].as_str().expect("id").to_string();
    let ssn = person["ssn"].as_str().expect("ssn").to_string();
    app.active_card(&id).await;

    let mine = app.get(Some(&app.tokens.teller_icbc), &format!("/persons/{id}")).await;
    assert_eq!(mine.expect(200).str("/ssn"), ssn, "the serving bank's teller");
    let other = app.get(Some(&app.tokens.teller_cmb), &format!("/persons/{id}")).await;
    let masked = other.expect(200).str("/ssn");
    assert_ne!(masked, ssn);
    assert!(masked.contains('*') && !other.text().contains(&ssn), "{}", other.text());
    let typed = app.get(Some(&app.tokens.teller_cmb), &format!("/persons?ssn={ssn}")).await;
    assert_eq!(typed.expect(200).str("/ssn"), ssn, "a teller who typed the number sees it");
    for path in [format!("/persons/{id}/uses"), format!("/persons/{id}/balances")] {
        app.get(Some(&app.tokens.teller_cmb), &path).await.problem(403, "forbidden");
        app.get(Some(&app.tokens.teller_icbc), &path).await.expect(200);
    }
}

#[tokio::test]
async fn failed_logins_for_one_account_do_not_lock_out_the_others() {
    let app = TestApp::spawn().await;
    let body = |username: &str, password: &str| json!({ "username": username, "password": password });
    for _ in 0..5 {
        app.post(None, "/auth/login", &body("clerk", "wrong password")).await.problem(401, "unauthorized");
    }
    app.post(None, "/auth/login", &body("clerk", PASSWORD)).await.problem(429, "too_many_attempts");
    app.post(None, "/auth/login", &body("admin", PASSWORD)).await.expect(200);
}

#[tokio::test]
async fn an_admin_gives_a_terminal_a_new_secret() {
    let app = TestApp::spawn().await;
    app.post(
        Some(&app.tokens.admin),
        "/operators",
        &json!({ "code": "XM-BUS", "name": "bus", "kind": "transit", "region": CITY }),
    )
    .await
    .expect(201);
    let created = app
        .post(
            Some(&app.tokens.admin),
            "/terminals",
            &json!({ "operator": "XM-BUS", "scenario": "transit", "region": CITY }),
        )
        .await;
    created.expect(201);
    let (id, old) = (created.str("/id"), created.str("/secret"));
    let path = format!("/terminals/{id}/rotate-secret");
    app.post_empty(Some(&app.tokens.clerk), &path).await.problem(403, "forbidden");
    app.post_empty(Some(&app.tokens.admin), "/terminals/T-none/rotate-secret").await.problem(404, "not_found");
    let rotated = app.post_empty(Some(&app.tokens.admin), &path).await;
    rotated.expect(200);
    let new = rotated.str("/secret");
    assert_ne!(new, old);
    let tap = json!({ "card_no": "A00000001", "fare_fen": 100 });
    app.post(Some(&old), "/transit/taps", &tap).await.problem(401, "unauthorized");
    assert_ne!(app.post(Some(&new), "/transit/taps", &tap).await.status, 401, "the new secret authenticates");
}

#[tokio::test]
async fn bad_bytes_at_the_edge_are_precise_problems() {
    let app = TestApp::spawn().await;
    let unknown =
        app.post(None, "/auth/login", &json!({ "username": "clerk", "password": PASSWORD, "admin": true })).await;
    unknown.problem(400, "malformed_json").field("admin");
    // Bodies that name a card by card_no or token refuse an unknown field as well.
    let topup = json!({ "card_no": "A00000001", "amount_fen": 100, "source": "bank", "admin": true });
    app.post(Some(&app.tokens.teller_icbc), "/ewallet/topups", &topup)
        .await
        .problem(400, "malformed_json")
        .field("admin");
    let newborn = json!({ "doc_type": "resident_id", "doc_number": "x", "name": "x", "region": "350203",
        "bank_code": "ICBC", "role": "admin" });
    app.post(Some(&app.tokens.clerk), "/persons/newborn", &newborn).await.problem(400, "malformed_json").field("role");
    let body = br#"{"username":"clerk","password":"x"}"#.to_vec();
    let foo = app.post_raw("none", "/auth/login", "application/jsonfoo", body.clone()).await;
    foo.problem(415, "not_json");
    app.post_raw("none", "/auth/login", "application/json; charset=utf-8", body).await.problem(401, "unauthorized");

    let long = app.get(Some(&app.tokens.clerk), &format!("/persons?ssn={}", "1".repeat(9_000))).await;
    long.problem(414, "uri_too_long");
    assert!(long.content_type().starts_with("application/problem+json"));
    let mut req = app.client.get(app.url("/health"));
    for i in 0..70 {
        req = req.header(format!("x-extra-{i}"), "1");
    }
    app.send(req).await.problem(431, "headers_too_large");
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let app = TestApp::spawn().await;
    let person = app.get(Some(&app.tokens.holder1), &format!("/persons/{}", app.holder1_person)).await;
    let page = app.send(app.client.get(format!("{}/login", app.address))).await;
    for r in [&person, &page] {
        let csp = r.header("content-security-policy").unwrap_or_default();
        assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(r.header("x-content-type-options").as_deref(), Some("nosniff"));
        assert_eq!(r.header("referrer-policy").as_deref(), Some("no-referrer"));
        assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    }
    let asset = app.send(app.client.get(format!("{}/static/style.css", app.address))).await;
    assert_eq!(asset.expect(200).header("cache-control").as_deref(), Some("public, max-age=86400"));
}

#[tokio::test]
async fn a_gate_that_retries_a_tap_is_charged_once() {
    let app = TestApp::spawn().await;
    let op = json!({ "code": "XM-BUS", "name": "bus", "kind": "transit", "region": CITY });
    app.post(Some(&app.tokens.admin), "/operators", &op).await.expect(201);
    let gate = json!({ "operator": "XM-BUS", "scenario": "transit", "region": CITY });
    let gate = app.post(Some(&app.tokens.admin), "/terminals", &gate).await.expect(201).str("/secret");
    let holder = app.person_with_card(Role::Holder, true).await;
    let topup = json!({ "card_no": holder.card_no, "amount_fen": 1_000, "source": "bank" });
    app.post(Some(&holder.token), "/ewallet/topups", &topup).await.expect(201);

    let tap = json!({ "card_no": holder.card_no, "fare_fen": 300, "txn_id": "G1-000042" });
    let first = app.post(Some(&gate), "/transit/taps", &tap).await;
    first.expect(200);
    assert_eq!(first.json["balance_fen"], 700);
    let again = app.post(Some(&gate), "/transit/taps", &tap).await;
    assert_eq!(again.expect(200).bytes, first.bytes, "the retry answers the first tap");
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
    let other = json!({ "card_no": holder.card_no, "fare_fen": 400, "txn_id": "G1-000042" });
    app.post(Some(&gate), "/transit/taps", &other).await.problem(409, "idempotency_key_reused");

    let plain = json!({ "card_no": holder.card_no, "fare_fen": 200 });
    let keyed = app.post_idem(&gate, "/transit/taps", "gate-retry-1", Some(&plain)).await;
    keyed.expect(200);
    let replay = app.post_idem(&gate, "/transit/taps", "gate-retry-1", Some(&plain)).await;
    assert_eq!(replay.expect(200).bytes, keyed.bytes);
    let balances = app.get(Some(&holder.token), &format!("/persons/{}/balances", holder.person_id)).await;
    let wallet = format!("ewallet:{}", holder.card_no);
    let balance = balances.json["accounts"].as_array().and_then(|a| a.iter().find(|x| x["id"] == wallet.as_str()));
    assert_eq!(balance.map(|b| b["balance_fen"].clone()), Some(json!(500)), "charged 300 and 200, once each");
    let bad = json!({ "card_no": holder.card_no, "fare_fen": 100, "txn_id": "" });
    app.post(Some(&gate), "/transit/taps", &bad).await.problem(400, "bad_transaction_id").field("txn_id");
}

#[tokio::test]
async fn the_holder_sees_who_saw_their_data() {
    let app = TestApp::spawn().await;
    let holder = app.person_with_card(Role::Holder, true).await;
    let path = format!("/persons/{}/reads", holder.person_id);
    let before = app.get(Some(&holder.token), &path).await;
    let count = |r: &crate::helpers::Resp| r.json.as_array().map_or(0, Vec::len);
    let n = count(before.expect(200));
    app.get(Some(&app.tokens.teller_icbc), &format!("/persons/{}", holder.person_id)).await.expect(200);
    app.get(Some(&holder.token), &format!("/persons/{}", holder.person_id)).await.expect(200);
    let after = app.get(Some(&holder.token), &path).await;
    assert_eq!(count(after.expect(200)), n + 1, "{}", after.text());
    assert_eq!(after.json[0]["role"], "teller");
    assert_eq!(after.json[0]["bank_code"], "ICBC");
    app.get(Some(&app.tokens.teller_icbc), &path).await.problem(403, "forbidden");
}
