//! "One card for everything" over HTTP, on SQLite (and PostgreSQL with
//! SSCARD_TEST_DATABASE=postgres): terminals and their secrets, every refusal (inactive card,
//! insufficient balance, duplicate sequence number, foreign scope, disabled terminal), medical
//! settlement and refund, e-wallet top-ups, taps by card and by QR code, offline batches,
//! library, parks, identity scope, usage records and a clean books check, money to the fen.

use crate::helpers::{CITY, TestApp};
use serde_json::{Value, json};

/// Operators of the tests.
async fn operators(app: &TestApp) {
    for (code, kind, region) in [
        ("XM-HOSP", "hospital", CITY),
        ("BJ-HOSP", "hospital", "110105"),
        ("XM-BUS", "transit", CITY),
        ("XM-LIB", "library", CITY),
        ("XM-PARK", "park", CITY),
        ("XM-GOV", "agency", CITY),
    ] {
        app.post(
            Some(&app.tokens.admin),
            "/operators",
            &json!({ "code": code, "name": code, "kind": kind, "region": region }),
        )
        .await
        .expect(201);
    }
}

/// A terminal; returns (id, secret).
async fn terminal(app: &TestApp, operator: &str, scenario: &str, region: &str, scope: &[&str]) -> (String, String) {
    let r = app
        .post(
            Some(&app.tokens.admin),
            "/terminals",
            &json!({ "operator": operator, "scenario": scenario, "region": region, "scope": scope }),
        )
        .await;
    r.expect(201);
    (r.str("/id"), r.str("/secret"))
}

async fn ledger_clean(app: &TestApp) -> Value {
    let r = app.get(Some(&app.tokens.admin), "/ledger/check").await;
    r.expect(200);
    assert_eq!(r.json["clean"], true, "{}", r.text());
    assert_eq!(r.json["report"]["balance_sum_fen"], 0);
    r.json["report"].clone()
}

async fn balance(app: &TestApp, token: &str, person: &str, account: &str) -> i64 {
    let r = app.get(Some(token), &format!("/persons/{person}/balances")).await;
    r.expect(200);
    r.json["accounts"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["id"] == account))
        .map_or(0, |x| x["balance_fen"].as_i64().unwrap_or(0))
}

#[tokio::test]
async fn terminals_are_admin_made_and_their_secrets_authenticate() {
    let app = TestApp::spawn().await;
    operators(&app).await;
    app.post(
        Some(&app.tokens.clerk),
        "/terminals",
        &json!({ "operator": "XM-BUS", "scenario": "transit", "region": CITY }),
    )
    .await
    .problem(403, "forbidden");
    app.post(
        Some(&app.tokens.admin),
        "/terminals",
        &json!({ "operator": "XM-BUS", "scenario": "medical", "region": CITY }),
    )
    .await
    .problem(422, "scenario_not_allowed");
    app.post(
        Some(&app.tokens.admin),
        "/terminals",
        &json!({ "operator": "XM-GOV", "scenario": "identity", "region": CITY, "scope": ["ssn"] }),
    )
    .await
    .problem(400, "bad_scope")
    .field("scope");
    let (id, secret) = terminal(&app, "XM-BUS", "transit", CITY, &[]).await;
    assert!(secret.starts_with("sst_") && secret.len() > 40);
    let list = app.get(Some(&app.tokens.admin), "/terminals").await;
    list.expect(200);
    assert!(!list.text().contains(&secret), "secrets are never listed");

    let person = app.register_adult().await;
    let pid = person["id"].as_str().unwrap().to_string();
    let card = app.active_card(&pid).await;
    let float = json!({ "owner": "OFFICE", "amount_fen": 500 });
    app.post_idem(&app.tokens.admin, "/ledger/floats", "office-float", Some(&float)).await.expect(201);
    app.post(
        Some(&app.tokens.admin),
        "/ewallet/topups",
        &json!({ "card_no": card, "amount_fen": 500, "source": "cash" }),
    )
    .await
    .expect(201);
    // Unknown secret, a session token and no token are all 401 at a terminal route.
    app.post(Some("sst_nope"), "/transit/taps", &json!({ "card_no": card, "fare_fen": 100 }))
        .await
        .problem(401, "unauthorized");
    app.post(Some(&app.tokens.admin), "/transit/taps", &json!({ "card_no": card, "fare_fen": 100 }))
        .await
        .problem(401, "unauthorized");
    app.post(None, "/transit/taps", &json!({ "card_no": card, "fare_fen": 100 })).await.problem(401, "unauthorized");
    let ok = app.post(Some(&secret), "/transit/taps", &json!({ "card_no": card, "fare_fen": 100 })).await;
    ok.expect(200);
    assert_eq!((ok.json["fare_fen"].as_i64(), ok.json["balance_fen"].as_i64()), (Some(100), Some(400)));
    // Foreign scope: a transit gate cannot settle a bill nor verify identity.
    app.post(Some(&secret), "/medical/settlements", &json!({ "card_no": card, "amount_fen": 100, "bill_id": "X" }))
        .await
        .problem(403, "wrong_scenario");
    app.post(Some(&secret), "/identity/verify", &json!({ "card_no": card })).await.problem(403, "wrong_scenario");
    // Disabled: 403 at once; enabled again it works.
    app.post_empty(Some(&app.tokens.admin), &format!("/terminals/{id}/disable")).await.expect(200);
    app.post(Some(&secret), "/transit/taps", &json!({ "card_no": card, "fare_fen": 100 }))
        .await
        .problem(403, "terminal_disabled");
    app.post_empty(Some(&app.tokens.admin), &format!("/terminals/{id}/enable")).await.expect(200);
    let ok = app.post(Some(&secret), "/transit/taps", &json!({ "card_no": card, "fare_fen": 100 })).await;
    assert_eq!(ok.json["balance_fen"], 300);
    // Both or neither of card_no and token.
    app.post(Some(&secret), "/transit/taps", &json!({ "fare_fen": 100 })).await.problem(400, "card_or_token");
    let report = ledger_clean(&app).await;
    // The office's float 500, the cash top-up 500, two taps of 100.
    assert_eq!(report["transfers_total_fen"], 500 + 500 + 100 + 100);
}

#[tokio::test]
async fn medical_settlement_splits_to_the_fen_and_refunds_exactly() {
    let app = TestApp::spawn().await;
    operators(&app).await;
    let pid = app.holder1_person.clone();
    let card = app.active_card(&pid).await;
    let (_, xm) = terminal(&app, "XM-HOSP", "medical", CITY, &[]).await;
    let (_, bj) = terminal(&app, "BJ-HOSP", "medical", "110105", &[]).await;
    app.post(Some(&app.tokens.admin), "/medical/policies", &json!({ "region": CITY, "deductible_fen": 100_000,
        "ratio_local_bp": 8000, "ratio_in_province_bp": 7000, "ratio_cross_province_bp": 6000, "annual_cap_fen": 120_000 }))
        .await
        .expect(200);
    app.post(
        Some(&app.tokens.admin),
        "/medical/policies",
        &json!({ "region": CITY, "deductible_fen": 0,
        "ratio_local_bp": 10001, "ratio_in_province_bp": 0, "ratio_cross_province_bp": 0, "annual_cap_fen": 0 }),
    )
    .await
    .problem(400, "bad_policy")
    .field("ratio_local_bp");
    app.post(
        Some(&app.tokens.admin),
        "/medical/deposits",
        &json!({ "person_id": pid, "amount_fen": 30_000, "reference": "2026-03" }),
    )
    .await
    .expect(201);
    // The holder is insured in 350203: that region's own policy applies (else the province's, else the default).
    let policy_region = app.get(Some(&app.tokens.holder1), &format!("/persons/{pid}")).await.str("/region");
    assert_eq!(policy_region, crate::helpers::REGION);
    app.post(Some(&app.tokens.admin), "/medical/policies", &json!({ "region": crate::helpers::REGION, "deductible_fen": 100_000,
        "ratio_local_bp": 8000, "ratio_in_province_bp": 7000, "ratio_cross_province_bp": 6000, "annual_cap_fen": 200_000 }))
        .await
        .expect(200);
    // 3333.33 yuan: 1000 deductible, 80% of 2333.33 = 1866.664 -> 1866.66 pool; 300 account; 1166.67 self-pay.
    let body = json!({ "card_no": card, "amount_fen": 333_333, "bill_id": "INV-1" });
    let s = app.post(Some(&xm), "/medical/settlements", &body).await;
    s.expect(201);
    let (pool, acct, own) = (
        s.json["pool_fen"].as_i64().unwrap(),
        s.json["account_fen"].as_i64().unwrap(),
        s.json["self_pay_fen"].as_i64().unwrap(),
    );
    assert_eq!((pool, acct, own), (186_666, 30_000, 116_667));
    assert_eq!(pool + acct + own, 333_333);
    assert_eq!(s.json["locality"], "local");
    let again = app.post(Some(&xm), "/medical/settlements", &body).await;
    again.expect(200);
    assert_eq!(again.json["id"], s.json["id"]);
    assert_eq!(again.json["replayed"], true);
    app.post(Some(&xm), "/medical/settlements", &json!({ "card_no": card, "amount_fen": 1, "bill_id": "INV-1" }))
        .await
        .problem(409, "bill_settled");
    // Cross-province: 60% of 500 yuan = 300, but the annual cap leaves 2000 - 1866.66 = 133.34.
    let s2 = app
        .post(Some(&bj), "/medical/settlements", &json!({ "card_no": card, "amount_fen": 50_000, "bill_id": "BJ-1" }))
        .await;
    s2.expect(201);
    assert_eq!(
        (
            s2.json["pool_fen"].as_i64(),
            s2.json["account_fen"].as_i64(),
            s2.json["self_pay_fen"].as_i64(),
            s2.json["locality"].as_str()
        ),
        (Some(13_334), Some(0), Some(36_666), Some("cross_province"))
    );
    let h = &app.tokens.holder1;
    assert_eq!(balance(&app, h, &pid, &format!("medical:{pid}")).await, 0);
    assert_eq!(balance(&app, h, &pid, &format!("bank:{card}")).await, -(116_667 + 36_666));
    // Refund: only the same operator, exactly once.
    let sid = s.str("/id");
    app.post_empty(Some(&bj), &format!("/medical/settlements/{sid}/refund")).await.problem(404, "not_found");
    app.post_empty(Some(&xm), &format!("/medical/settlements/{sid}/refund")).await.expect(200);
    app.post_empty(Some(&xm), &format!("/medical/settlements/{sid}/refund")).await.problem(409, "already_refunded");
    assert_eq!(balance(&app, h, &pid, &format!("medical:{pid}")).await, 30_000);
    assert_eq!(balance(&app, h, &pid, &format!("bank:{card}")).await, -36_666);
    // The holder sees the movements of their own accounts (deposit, 2 + 1 paid, 2 refunded); another holder may not.
    let b = app.get(Some(h), &format!("/persons/{pid}/balances")).await;
    assert_eq!(b.json["history"].as_array().map(Vec::len), Some(1 + 2 + 1 + 2));
    app.get(Some(&app.tokens.holder2), &format!("/persons/{pid}/balances")).await.problem(403, "forbidden");
    // A lost card is refused with its reason.
    app.post_empty(Some(h), &format!("/cards/{card}/report-lost")).await.expect(200);
    app.post(Some(&xm), "/medical/settlements", &json!({ "card_no": card, "amount_fen": 100, "bill_id": "INV-9" }))
        .await
        .problem(422, "card_lost");
    ledger_clean(&app).await;
}

#[tokio::test]
async fn transit_by_card_and_qr_with_offline_batches_applied_once() {
    let app = TestApp::spawn().await;
    operators(&app).await;
    let pid = app.holder1_person.clone();
    let card = app.active_card(&pid).await;
    let other = app.register_adult().await["id"].as_str().unwrap().to_string();
    let other_card = app.active_card(&other).await;
    let h = app.tokens.holder1.clone();
    let (gate_id, gate) = terminal(&app, "XM-BUS", "transit", CITY, &[]).await;
    // Top-up by the holder from the bank account, idempotent by key.
    let body = json!({ "card_no": card, "amount_fen": 2_000, "source": "bank" });
    let t1 = app.post_idem(&h, "/ewallet/topups", "top-1", Some(&body)).await;
    t1.expect(201);
    let t2 = app.post_idem(&h, "/ewallet/topups", "top-1", Some(&body)).await;
    t2.expect(200);
    assert_eq!(t2.json["transfer_id"], t1.json["transfer_id"]);
    app.post_idem(
        &h,
        "/ewallet/topups",
        "top-1",
        Some(&json!({ "card_no": card, "amount_fen": 2_001, "source": "bank" })),
    )
    .await
    .problem(409, "idempotency_mismatch");
    app.post(Some(&app.tokens.holder2), "/ewallet/topups", &body).await.problem(403, "forbidden");
    let float = json!({ "owner": "XM-BUS", "amount_fen": 300 });
    app.post_idem(&app.tokens.clerk, "/ledger/floats", "bus-float", Some(&float)).await.expect(201);
    app.post(Some(&gate), "/ewallet/topups", &json!({ "card_no": other_card, "amount_fen": 300, "source": "cash" }))
        .await
        .expect(201);
    app.post(Some(&gate), "/ewallet/topups", &json!({ "card_no": other_card, "amount_fen": 300, "source": "bank" }))
        .await
        .problem(403, "forbidden");
    // Ferry: 35 yuan, 8 for residents of Xiamen.
    let r = app
        .post(Some(&gate), "/transit/taps", &json!({ "card_no": card, "fare_fen": 3500, "resident_fare_fen": 800 }))
        .await;
    r.expect(200);
    assert_eq!((r.json["fare_fen"].as_i64(), r.json["balance_fen"].as_i64()), (Some(800), Some(1_200)));
    // By QR code: the same rules.
    let qr = app.post_empty(Some(&h), "/ecard/qr").await;
    qr.expect(200);
    let token = qr.str("/token");
    let r = app.post(Some(&gate), "/transit/taps", &json!({ "token": token, "fare_fen": 200 })).await;
    r.expect(200);
    assert_eq!((r.json["card_no"].as_str(), r.json["balance_fen"].as_i64()), (Some(card.as_str()), Some(1_000)));
    app.post(Some(&gate), "/transit/taps", &json!({ "token": "SSC1.AAAA", "fare_fen": 200 }))
        .await
        .problem(422, "malformed");
    app.post(Some(&gate), "/transit/taps", &json!({ "card_no": card, "fare_fen": 1_001 }))
        .await
        .problem(422, "insufficient_balance");
    // A QR code of a suspended card is refused with the card's reason.
    app.post_empty(Some(&h), &format!("/cards/{card}/suspend")).await.expect(200);
    app.post(Some(&gate), "/transit/taps", &json!({ "token": token, "fare_fen": 200 }))
        .await
        .problem(422, "card_suspended");
    app.post_empty(Some(&h), &format!("/cards/{card}/unsuspend")).await.expect(200);

    // Offline: the other holder loses the card at t0 + 10 min; the gate uploads an hour later.
    let t0 = sscard_domain::clock::Clock::now_ms(app.clock.as_ref());
    let lines = json!({ "transactions": [
        { "seq": 1, "card_no": card, "fare_fen": 150, "at": t0 + 60_000 },
        { "seq": 2, "card_no": other_card, "fare_fen": 200, "at": t0 + 120_000 },
        { "seq": 3, "card_no": other_card, "fare_fen": 100, "at": t0 + 600_001 },
        { "seq": 4, "card_no": card, "fare_fen": 900, "at": t0 + 700_000 },
        { "seq": 5, "token": token, "fare_fen": 50, "at": t0 + 10_000 },
    ]});
    app.clock.set(t0 + 600_000);
    app.post_empty(Some(&app.tokens.admin), &format!("/cards/{other_card}/report-lost")).await.expect(200);
    app.clock.set(t0 + 3_600_000);
    let r = app.post(Some(&gate), "/transit/batches", &lines).await;
    r.expect(200);
    let got: Vec<(i64, String, String)> = r.json["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["seq"].as_i64().unwrap(),
                x["status"].as_str().unwrap().to_string(),
                x["reason"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let want = [
        (1, "applied", ""),
        (2, "applied", ""),
        (3, "refused", "card_lost"),
        (4, "refused", "insufficient_balance"),
        (5, "applied", ""),
    ];
    assert_eq!(got, want.iter().map(|(s, a, b)| (*s, a.to_string(), b.to_string())).collect::<Vec<_>>());
    // Uploaded again: nothing moves.
    let again = app.post(Some(&gate), "/transit/batches", &lines).await;
    again.expect(200);
    assert!(again.json["results"].as_array().unwrap().iter().all(|x| x["status"] == "duplicate"), "{}", again.text());
    app.post(Some(&gate), "/transit/batches", &json!({ "transactions": [
        { "seq": 9, "card_no": card, "fare_fen": 1, "at": t0 }, { "seq": 9, "card_no": card, "fare_fen": 1, "at": t0 } ]}))
        .await
        .problem(400, "duplicate_seq");
    assert_eq!(balance(&app, &h, &pid, &format!("ewallet:{card}")).await, 1_000 - 150 - 50);
    assert_eq!(balance(&app, &app.tokens.admin, &other, &format!("ewallet:{other_card}")).await, 100);
    // Uses: card and QR, refused ones too, and the overview by scenario and presentation.
    let uses = app.get(Some(&h), &format!("/persons/{pid}/uses")).await;
    uses.expect(200);
    let list = uses.json.as_array().unwrap();
    assert!(list.iter().any(|u| u["presented"] == "qr" && u["result"] == "ok"));
    assert!(list.iter().any(|u| u["reason"] == "insufficient_balance"));
    assert!(list.iter().all(|u| u["terminal_id"] == gate_id));
    let usage = app.get(Some(&app.tokens.clerk), "/stats/usage").await;
    usage.expect(200);
    let count = |p: &str| {
        usage
            .json
            .as_array()
            .unwrap()
            .iter()
            .filter(|u| u["scenario"] == "transit" && u["presented"] == p)
            .map(|u| u["count"].as_i64().unwrap())
            .sum::<i64>()
    };
    // The malformed QR code is a (refused) use too.
    assert_eq!((count("card"), count("qr")), (6, 4));
    app.get(Some(&h), "/stats/usage").await.problem(403, "forbidden");
    let overview = app.overview().await;
    assert_eq!(crate::helpers::bucket(&overview, "usage_by_presentation", "qr"), 4);
    assert_eq!(crate::helpers::bucket(&overview, "usage_by_presentation", "card"), 6);
    assert_eq!(crate::helpers::bucket(&overview, "usage_by_scenario", "transit"), 10);
    let report = ledger_clean(&app).await;
    // The bus company's float 300, then the top-ups and fares.
    assert_eq!(report["transfers_total_fen"], 300 + 2_000 + 300 + 800 + 200 + 150 + 200 + 50);
}

#[tokio::test]
async fn library_parks_and_identity_scope() {
    let mut app = TestApp::spawn().await;
    operators(&app).await;
    let pid = app.holder1_person.clone();
    let card = app.active_card(&pid).await;
    let (_, lib) = terminal(&app, "XM-LIB", "library", CITY, &[]).await;
    let (_, lib2) = terminal(&app, "XM-LIB", "library", "350206", &[]).await;
    app.post(Some(&lib), "/library/loans", &json!({ "card_no": card, "item_id": "ISBN-1" }))
        .await
        .problem(422, "not_patron");
    let p = app.post(Some(&lib), "/library/patrons", &json!({ "card_no": card })).await;
    p.expect(201);
    assert_eq!(p.json["deposit_fen"], 0);
    app.post(Some(&lib), "/library/patrons", &json!({ "card_no": card })).await.problem(409, "already_patron");
    for i in 0..10 {
        app.post(Some(&lib), "/library/loans", &json!({ "card_no": card, "item_id": format!("ISBN-{i}") }))
            .await
            .expect(201);
    }
    app.post(Some(&lib), "/library/loans", &json!({ "card_no": card, "item_id": "ISBN-10" }))
        .await
        .problem(422, "loan_limit");
    app.post(Some(&lib2), "/library/returns", &json!({ "item_id": "ISBN-0" })).await.expect(200);
    app.post(Some(&lib2), "/library/returns", &json!({ "item_id": "ISBN-0" })).await.problem(409, "not_on_loan");
    app.clock.advance_days(31);
    app.relogin().await;
    let h = app.tokens.holder1.clone();
    let overdue = app.get(Some(&lib), "/library/overdue").await;
    overdue.expect(200);
    assert_eq!(overdue.json.as_array().map(Vec::len), Some(9));
    app.post(Some(&lib), "/library/loans", &json!({ "card_no": card, "item_id": "ISBN-0" }))
        .await
        .problem(422, "has_overdue");

    // Parks.
    app.post(
        Some(&app.tokens.admin),
        "/parks",
        &json!({ "code": "GULANGYU", "operator": "XM-PARK", "name": "鼓浪屿",
        "price_fen": 3500, "free_for_retirees": true, "accepts_annual_pass": true, "annual_pass_fen": 10_000 }),
    )
    .await
    .expect(200);
    let (_, park) = terminal(&app, "XM-PARK", "park", CITY, &[]).await;
    let e = app.post(Some(&park), "/parks/entries", &json!({ "card_no": card, "park_code": "GULANGYU" })).await;
    e.expect(200);
    assert_eq!(
        (e.json["admitted"].as_bool(), e.json["price_fen"].as_i64(), e.json["reason"].as_str()),
        (Some(false), Some(3500), Some("insufficient_balance"))
    );
    app.post(Some(&h), "/ewallet/topups", &json!({ "card_no": card, "amount_fen": 15_000, "source": "bank" }))
        .await
        .expect(201);
    let e = app.post(Some(&park), "/parks/entries", &json!({ "card_no": card, "park_code": "GULANGYU" })).await;
    assert_eq!(
        (e.json["admitted"].as_bool(), e.json["reason"].as_str(), e.json["balance_fen"].as_i64()),
        (Some(true), Some("paid"), Some(11_500))
    );
    app.post(Some(&park), "/parks/passes", &json!({ "card_no": card, "park_code": "GULANGYU" })).await.expect(201);
    let e = app.post(Some(&park), "/parks/entries", &json!({ "card_no": card, "park_code": "GULANGYU" })).await;
    assert_eq!(
        (e.json["admitted"].as_bool(), e.json["price_fen"].as_i64(), e.json["reason"].as_str()),
        (Some(true), Some(0), Some("annual_pass"))
    );
    assert_eq!(balance(&app, &h, &pid, &format!("ewallet:{card}")).await, 1_500);
    app.post(Some(&park), "/parks/entries", &json!({ "card_no": card, "park_code": "NOPE" }))
        .await
        .problem(404, "not_found");

    // Identity: only the scope, never the SSN.
    let (_, idt) = terminal(&app, "XM-GOV", "identity", CITY, &["name", "retired"]).await;
    let v = app.post(Some(&idt), "/identity/verify", &json!({ "card_no": card })).await;
    v.expect(200);
    let attrs = v.json["attributes"].as_object().unwrap();
    assert_eq!(attrs.keys().collect::<Vec<_>>(), vec!["name", "retired"]);
    assert!(attrs["name"].as_str().unwrap().contains('*'));
    // A suspended card is refused with its reason, and the refusal is a recorded use.
    app.post_empty(Some(&h), &format!("/cards/{card}/suspend")).await.expect(200);
    app.post(Some(&idt), "/identity/verify", &json!({ "card_no": card })).await.problem(422, "card_suspended");
    let uses = app.get(Some(&h), &format!("/persons/{pid}/uses")).await;
    assert_eq!(uses.json[0]["reason"], "card_suspended");
    assert_eq!(uses.json[0]["scenario"], "identity");
    ledger_clean(&app).await;
}

#[tokio::test]
async fn the_ewallet_follows_the_replacement_card() {
    let app = TestApp::spawn().await;
    operators(&app).await;
    let pid = app.holder1_person.clone();
    let h = app.tokens.holder1.clone();
    let old = app.active_card(&pid).await;
    let (_, gate) = terminal(&app, "XM-BUS", "transit", CITY, &[]).await;
    app.post(Some(&h), "/ewallet/topups", &json!({ "card_no": old, "amount_fen": 4_000, "source": "bank" }))
        .await
        .expect(201);
    let r = app.post(Some(&gate), "/transit/taps", &json!({ "card_no": old, "fare_fen": 555 })).await;
    r.expect(200);
    assert_eq!(r.json["balance_fen"], 3_445);
    app.post_empty(Some(&h), &format!("/cards/{old}/report-lost")).await.expect(200);
    let mut repl = TestApp::branch_app(&pid, "replacement", crate::helpers::PLAIN_BRANCH);
    repl["reason"] = json!("lost");
    let r = app.post(Some(&app.tokens.teller_icbc), "/applications", &repl).await;
    r.expect(201);
    let waiver = json!({ "reason": "test: fee waived" });
    app.post(Some(&app.tokens.clerk), &format!("/applications/{}/fee-waiver", r.str("/id")), &waiver).await.expect(200);
    let new = app.run_to_collected(&r.str("/id")).await;
    // Until the new card is activated the money stays where it was.
    assert_eq!(balance(&app, &h, &pid, &format!("ewallet:{old}")).await, 3_445);
    app.post(Some(&h), &format!("/cards/{new}/activate"), &json!({ "pin": "860213" })).await.expect(200);
    assert_eq!(balance(&app, &h, &pid, &format!("ewallet:{old}")).await, 0);
    assert_eq!(balance(&app, &h, &pid, &format!("ewallet:{new}")).await, 3_445);
    let b = app.get(Some(&h), &format!("/persons/{pid}/balances")).await;
    let moved: Vec<&Value> =
        b.json["history"].as_array().unwrap().iter().filter(|t| t["kind"] == "migration").collect();
    assert_eq!(moved.len(), 1, "{}", b.text());
    assert_eq!(moved[0]["amount_fen"], 3_445);
    assert_eq!(moved[0]["idem_key"], format!("migrate:{old}:{new}"));
    let r = app.post(Some(&gate), "/transit/taps", &json!({ "card_no": new, "fare_fen": 445 })).await;
    r.expect(200);
    assert_eq!(r.json["balance_fen"], 3_000);
    app.post(Some(&gate), "/transit/taps", &json!({ "card_no": old, "fare_fen": 1 }))
        .await
        .problem(422, "card_replaced");
    let report = ledger_clean(&app).await;
    assert_eq!(report["transfers_total_fen"], 4_000 + 555 + 3_445 + 445);
}

#[tokio::test]
async fn library_networks_set_their_own_loan_limit_and_days() {
    let app = TestApp::spawn().await;
    operators(&app).await;
    app.post(
        Some(&app.tokens.admin),
        "/operators",
        &json!({ "code": "XM-LIB2", "name": "XM-LIB2", "kind": "library", "region": CITY }),
    )
    .await
    .expect(201);
    let set = |body: Value| {
        let app = &app;
        async move { app.post(Some(&app.tokens.admin), "/library/policies", &body).await }
    };
    for (limit, days, field) in
        [(0, 7, "loan_limit"), (101, 7, "loan_limit"), (2, 0, "loan_days"), (2, 366, "loan_days")]
    {
        set(json!({ "operator": "XM-LIB", "loan_limit": limit, "loan_days": days }))
            .await
            .problem(422, "bad_library_policy")
            .field(field);
    }
    set(json!({ "operator": "XM-BUS", "loan_limit": 2, "loan_days": 7 })).await.problem(422, "not_a_library");
    set(json!({ "operator": "NOPE", "loan_limit": 2, "loan_days": 7 })).await.problem(404, "not_found");
    for token in [&app.tokens.clerk, &app.tokens.holder1] {
        app.post(Some(token), "/library/policies", &json!({ "operator": "XM-LIB", "loan_limit": 2, "loan_days": 7 }))
            .await
            .problem(403, "forbidden");
    }
    let r = set(json!({ "operator": "XM-LIB", "loan_limit": 2, "loan_days": 7 })).await;
    r.expect(200);
    assert_eq!(
        (r.json["operator"].as_str(), r.json["loan_limit"].as_i64(), r.json["loan_days"].as_i64()),
        (Some("XM-LIB"), Some(2), Some(7))
    );

    let pid = app.holder1_person.clone();
    let card = app.active_card(&pid).await;
    let (_, lib) = terminal(&app, "XM-LIB", "library", CITY, &[]).await;
    let (_, lib2) = terminal(&app, "XM-LIB2", "library", CITY, &[]).await;
    for t in [&lib, &lib2] {
        app.post(Some(t), "/library/patrons", &json!({ "card_no": card })).await.expect(201);
    }
    let now = sscard_domain::clock::Clock::now_ms(app.clock.as_ref());
    let week = sscard_domain::library::LibraryPolicy { loan_limit: 2, loan_days: 7 };
    for item in ["A-1", "A-2"] {
        let l = app.post(Some(&lib), "/library/loans", &json!({ "card_no": card, "item_id": item })).await;
        l.expect(201);
        assert_eq!(l.json["due_at_ms"].as_i64(), Some(sscard_domain::library::due_at(now, &week)));
    }
    assert_eq!(
        sscard_domain::clock::china_date(sscard_domain::library::due_at(now, &week)),
        sscard_domain::clock::china_date(now) + time::Duration::days(7)
    );
    app.post(Some(&lib), "/library/loans", &json!({ "card_no": card, "item_id": "A-3" }))
        .await
        .problem(422, "loan_limit");
    // The other network never set a policy: 30 days and a limit of 10, counting its own loans.
    let l = app.post(Some(&lib2), "/library/loans", &json!({ "card_no": card, "item_id": "B-1" })).await;
    l.expect(201);
    let default = sscard_domain::library::LibraryPolicy::default();
    assert_eq!(l.json["due_at_ms"].as_i64(), Some(sscard_domain::library::due_at(now, &default)));
    // Raised to 4: the limit counts the patron's open loans at this network only (2 here, the
    // loan at the other network does not count).
    set(json!({ "operator": "XM-LIB", "loan_limit": 4, "loan_days": 7 })).await.expect(200);
    for item in ["A-3", "A-4"] {
        app.post(Some(&lib), "/library/loans", &json!({ "card_no": card, "item_id": item })).await.expect(201);
    }
    app.post(Some(&lib), "/library/loans", &json!({ "card_no": card, "item_id": "A-5" }))
        .await
        .problem(422, "loan_limit");
}

#[tokio::test]
async fn refusals_before_the_card_is_known_are_recorded_uses() {
    use base64::Engine as _;
    let app = TestApp::spawn().await;
    operators(&app).await;
    let pid = app.holder1_person.clone();
    let h = app.tokens.holder1.clone();
    let card = app.active_card(&pid).await;
    let (gate_id, gate) = terminal(&app, "XM-BUS", "transit", CITY, &[]).await;
    let qr = app.post_empty(Some(&h), "/ecard/qr").await;
    qr.expect(200);
    let token = qr.str("/token");
    let mut bytes = *sscard_gm::token::decode_token(&token).unwrap().as_bytes();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    let forged = format!("SSC1.{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes));
    let tap = |body: Value| {
        let (app, gate) = (&app, &gate);
        async move { app.post(Some(gate), "/transit/taps", &body).await }
    };
    tap(json!({ "token": forged, "fare_fen": 100 })).await.problem(422, "bad_signature").field("token");
    tap(json!({ "token": "SSC1.AAAA", "fare_fen": 100 })).await.problem(422, "malformed").field("token");
    tap(json!({ "card_no": "Z99999999", "fare_fen": 100 })).await.problem(422, "unknown_card").field("card_no");
    // A terminal used for another scenario is forbidden, not a use.
    app.post(Some(&gate), "/medical/settlements", &json!({ "token": forged, "amount_fen": 100, "bill_id": "X" }))
        .await
        .problem(403, "wrong_scenario");
    // The holder's own code, expired: refused, and on the holder's list.
    app.clock.set(sscard_domain::clock::Clock::now_ms(app.clock.as_ref()) + 120_000);
    tap(json!({ "token": token, "fare_fen": 100 })).await.problem(422, "expired").field("token");
    // A fresh code of a suspended card: refused with the card's reason, on the list too.
    let fresh = app.post_empty(Some(&h), "/ecard/qr").await.str("/token");
    app.post_empty(Some(&h), &format!("/cards/{card}/suspend")).await.expect(200);
    tap(json!({ "token": fresh, "fare_fen": 100 })).await.problem(422, "card_suspended");
    let uses = app.get(Some(&h), &format!("/persons/{pid}/uses")).await;
    uses.expect(200);
    let list = uses.json.as_array().unwrap();
    let mut got: Vec<(&str, &str, &str)> = list
        .iter()
        .map(|u| (u["presented"].as_str().unwrap(), u["result"].as_str().unwrap(), u["reason"].as_str().unwrap_or("")))
        .collect();
    got.sort_unstable();
    assert_eq!(got, vec![("qr", "refused", "card_suspended"), ("qr", "refused", "expired")]);
    assert!(list.iter().all(|u| u["terminal_id"] == gate_id && u["card_no"] == card.as_str()));
    // The operator's statistics count every attempt, the refused apart.
    let usage = app.get(Some(&app.tokens.clerk), "/stats/usage").await;
    usage.expect(200);
    let of = |p: &str| {
        usage
            .json
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["scenario"] == "transit" && u["presented"] == p)
            .map(|u| (u["count"].as_i64().unwrap(), u["refused"].as_i64().unwrap()))
    };
    assert_eq!((of("qr"), of("card")), (Some((4, 4)), Some((1, 1))));
    let overview = app.overview().await;
    assert_eq!(crate::helpers::bucket(&overview, "usage_refused_by_scenario", "transit"), 5);
    assert_eq!(crate::helpers::bucket(&overview, "usage_by_scenario", "transit"), 5);
    assert_eq!(crate::helpers::bucket(&overview, "usage_by_scenario", "medical"), 0);
    ledger_clean(&app).await;
}

#[tokio::test]
async fn terminals_verify_qr_codes_with_their_own_secret_within_their_scope() {
    let app = TestApp::spawn().await;
    operators(&app).await;
    let pid = app.holder1_person.clone();
    let h = app.tokens.holder1.clone();
    let card = app.active_card(&pid).await;
    let (gate_id, gate) = terminal(&app, "XM-BUS", "transit", CITY, &["name", "minor"]).await;
    let token = app.post_empty(Some(&h), "/ecard/qr").await.str("/token");
    let verify = |secret: String, token: String| {
        let app = &app;
        async move { app.post(Some(&secret), "/ecard/verify", &json!({ "token": token })).await }
    };

    // Valid: only the terminal's scope, the name masked.
    let v = verify(gate.clone(), token.clone()).await;
    v.expect(200);
    assert_eq!(v.json["valid"], true);
    let attrs = v.json["attributes"].as_object().unwrap();
    assert_eq!(attrs.keys().collect::<Vec<_>>(), vec!["minor", "name"]);
    assert!(attrs["name"].as_str().unwrap().contains('*'));
    assert!(v.json["expires_at"].as_i64().is_some());
    // Suspended: refused at once with the card's reason.
    app.post_empty(Some(&h), &format!("/cards/{card}/suspend")).await.expect(200);
    let v = verify(gate.clone(), token.clone()).await;
    assert_eq!((v.json["valid"].as_bool(), v.json["reason"].as_str()), (Some(false), Some("card_suspended")));
    assert!(v.json["attributes"].is_null());
    app.post_empty(Some(&h), &format!("/cards/{card}/unsuspend")).await.expect(200);
    // Expired: refused, still the holder's e-card.
    app.clock.set(sscard_domain::clock::Clock::now_ms(app.clock.as_ref()) + 120_000);
    let v = verify(gate.clone(), token.clone()).await;
    assert_eq!(v.json["reason"], "expired");
    // Garbage: malformed, a use with no holder.
    assert_eq!(verify(gate.clone(), "SSC1.AAAA".into()).await.json["reason"], "malformed");
    // A wrong secret is 401; a disabled terminal 403.
    verify("sst_not-a-real-secret".into(), token.clone()).await.problem(401, "unauthorized");
    app.post_empty(Some(&app.tokens.admin), &format!("/terminals/{gate_id}/disable")).await.expect(200);
    verify(gate.clone(), token.clone()).await.problem(403, "terminal_disabled");

    // Every verification by the terminal is on the holder's list, newest first.
    let uses = app.get(Some(&h), &format!("/persons/{pid}/uses")).await;
    uses.expect(200);
    let got: Vec<(&str, &str)> = uses
        .json
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["terminal_id"] == gate_id)
        .map(|u| (u["result"].as_str().unwrap(), u["reason"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(got, vec![("refused", "expired"), ("refused", "card_suspended"), ("ok", "")]);
    ledger_clean(&app).await;
}

/// A bad field of a money move is refused at the edge with its name, and moves nothing.
#[tokio::test]
async fn money_moves_refuse_a_bad_field_by_name() {
    let app = TestApp::spawn().await;
    operators(&app).await;
    let pid = app.holder1_person.clone();
    let card = app.active_card(&pid).await;
    let h = app.tokens.holder1.clone();
    let (_, xm) = terminal(&app, "XM-HOSP", "medical", CITY, &[]).await;
    let topup = |amount: i64, source: &str| json!({ "card_no": card, "amount_fen": amount, "source": source });
    app.post(Some(&h), "/ewallet/topups", &topup(100, "gold")).await.problem(400, "bad_source").field("source");
    app.post(Some(&h), "/ewallet/topups", &topup(0, "bank")).await.problem(400, "bad_amount").field("amount_fen");
    let bill = |amount: i64, bill_id: &str| json!({ "card_no": card, "amount_fen": amount, "bill_id": bill_id });
    app.post(Some(&xm), "/medical/settlements", &bill(-5, "INV-X"))
        .await
        .problem(400, "bad_amount")
        .field("amount_fen");
    app.post(Some(&xm), "/medical/settlements", &bill(100, "")).await.problem(400, "bad_bill_id").field("bill_id");
    let deposit = json!({ "person_id": pid, "amount_fen": 0, "reference": "r1" });
    app.post(Some(&app.tokens.admin), "/medical/deposits", &deposit)
        .await
        .problem(400, "bad_amount")
        .field("amount_fen");
    assert_eq!(balance(&app, &h, &pid, &format!("ewallet:{card}")).await, 0);
    assert_eq!(ledger_clean(&app).await["transfers"], 0);
}
