//! The whole life of a card over HTTP: application steps, hand-over, activation with a PIN,
//! temporary loss and its lift, formal loss, the paid replacement and the activation that
//! retires the old card. Every refused step answers 409 with the current state and changes
//! nothing; PANs only ever leave the server masked.

use crate::helpers::{GOOD_PIN, ICBC, ICBC_BIN, PLAIN_BRANCH, PRINTER_BRANCH, Resp, TestApp, bucket};
use serde_json::{Value, json};

const HOUR_MS: i64 = 3_600_000;

fn now(app: &TestApp) -> i64 {
    sscard_domain::clock::Clock::now_ms(app.clock.as_ref())
}

/// Moves the test clock forward (sessions last 12 hours, so only by hours here).
fn later(app: &TestApp, hours: i64) -> i64 {
    app.clock.set(now(app) + hours * HOUR_MS);
    now(app)
}

/// A refused step or action: 409, illegal_step/illegal_transition, the current state, nothing written.
async fn refused(app: &TestApp, token: &str, path: &str, body: Option<Value>, code: &str, state: &str) {
    let events = app.event_count().await;
    let r = match body {
        Some(b) => app.post(Some(token), path, &b).await,
        None => app.post_empty(Some(token), path).await,
    };
    r.problem(409, code).state(state);
    assert_eq!(app.event_count().await, events, "refused {path} wrote events");
}

/// Asserts the card JSON shows the PAN masked and never the full number.
async fn assert_masked(app: &TestApp, resp: &Resp, card: &Value) {
    let card_no = card["card_no"].as_str().expect("card_no");
    let full = app.full_pan(card_no).await;
    assert_eq!(full.len(), 19);
    assert!(full.starts_with(ICBC_BIN), "PAN {full} is not of the ICBC BIN");
    assert!(luhn_ok(&full), "PAN {full} fails the Luhn check");
    let pan = card["pan"].as_str().expect("pan");
    assert_eq!(pan.len(), 19, "masked PAN keeps the length: {pan}");
    assert!(pan.contains('*'), "PAN not masked: {pan}");
    assert!(pan.starts_with(ICBC_BIN), "masked PAN keeps the BIN: {pan}");
    assert_eq!(&pan[15..], &full[15..], "masked PAN keeps the last 4 digits");
    let text = resp.text();
    assert!(!text.contains(&full), "the answer carries the full PAN: {text}");
    // Nor any other 19-digit account number of the bank: the BIN is never followed by 13 digits.
    for (i, _) in text.match_indices(ICBC_BIN) {
        let rest = &text.as_bytes()[i + ICBC_BIN.len()..];
        assert!(rest.len() < 13 || !rest[..13].iter().all(u8::is_ascii_digit), "an unmasked PAN in: {text}");
    }
}

fn luhn_ok(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if !i.is_multiple_of(2) {
                let d2 = d * 2;
                if d2 > 9 { d2 - 9 } else { d2 }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

fn statuses(app_json: &Value) -> Vec<String> {
    app_json["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .map(|e| e["status"].as_str().unwrap_or("").into())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_card_life_over_http() {
    let app = TestApp::spawn().await;
    let t = app.tokens.clone();
    let person = app.holder1_person.clone();

    // Apply at a branch.
    let t_submit = now(&app);
    let r = app.post(Some(&t.teller_icbc), "/applications", &TestApp::branch_app(&person, "first", PLAIN_BRANCH)).await;
    r.expect(201);
    let a = r.json.clone();
    let id = a["id"].as_str().expect("id").to_string();
    assert_eq!(a["person_id"], person.as_str());
    assert_eq!((a["kind"].as_str(), a["channel"].as_str()), (Some("first"), Some("branch")));
    assert_eq!(a["status"], "submitted");
    assert_eq!(a["fee_fen"], 0);
    assert_eq!((a["bank_code"].as_str(), a["branch_code"].as_str()), (Some(ICBC), Some(PLAIN_BRANCH)));
    assert!(a["card"].is_null() && a["card_no"].is_null() && a["promise"].is_null());
    assert_eq!(statuses(&a), ["submitted"]);
    let step = |s: &str| format!("/applications/{id}/{s}");

    for s in ["produce", "ready", "ship", "deliver", "collect"] {
        refused(&app, &t.teller_icbc, &step(s), None, "illegal_step", "submitted").await;
    }
    let t_approve = later(&app, 1);
    let r = app.step(&t.clerk, &id, "approve").await;
    assert_eq!(r["status"], "approved");
    for (s, tok) in
        [("approve", &t.clerk), ("reject", &t.clerk), ("ready", &t.teller_icbc), ("collect", &t.teller_icbc)]
    {
        refused(&app, tok, &step(s), None, "illegal_step", "approved").await;
    }
    let t_produce = later(&app, 1);
    assert_eq!(app.step(&t.teller_icbc, &id, "produce").await["status"], "in_production");
    for s in ["produce", "collect", "deliver", "withdraw", "approve"] {
        let tok = if s == "approve" { &t.clerk } else { &t.teller_icbc };
        refused(&app, tok, &step(s), None, "illegal_step", "in_production").await;
    }
    let t_ready = later(&app, 2);
    let r = app.post_empty(Some(&t.teller_icbc), &step("ready")).await;
    r.expect(200);
    assert_eq!(r.json["status"], "ready_for_pickup");
    let card_no = r.json["card_no"].as_str().expect("card made").to_string();
    assert_eq!(r.json["card"]["card_no"], card_no.as_str());
    assert_eq!(r.json["card"]["status"], "produced");
    assert!(r.json["card"]["issued_on"].is_null());
    assert_masked(&app, &r, &r.json["card"]).await;
    assert_eq!(card_no.len(), 9);
    assert!(card_no.as_bytes()[0].is_ascii_uppercase() && card_no[1..].bytes().all(|b| b.is_ascii_digit()));
    for s in ["ready", "ship", "deliver", "withdraw"] {
        refused(&app, &t.teller_icbc, &step(s), None, "illegal_step", "ready_for_pickup").await;
    }
    let card = |a: &str| format!("/cards/{card_no}/{a}");
    refused(&app, &t.holder1, &card("activate"), Some(json!({ "pin": GOOD_PIN })), "illegal_transition", "produced")
        .await;
    refused(&app, &t.holder1, &card("suspend"), None, "illegal_transition", "produced").await;

    let t_collect = later(&app, 3);
    let r = app.step(&t.teller_icbc, &id, "collect").await;
    assert_eq!(r["status"], "collected");
    assert_eq!(r["card"]["status"], "issued");
    assert_eq!(r["card"]["issued_on"], "2026-03-02");
    assert_eq!(r["card"]["expires_on"], "2036-03-02");
    assert_eq!(r["card"]["generation"], 3);
    assert_eq!(r["card"]["temporary"], false);
    for s in ["collect", "withdraw", "deliver"] {
        refused(&app, &t.teller_icbc, &step(s), None, "illegal_step", "collected").await;
    }

    // The timeline: every step with its time and the username of who did it.
    let r = app.get(Some(&t.holder1), &format!("/applications/{id}")).await;
    r.expect(200);
    let timeline = r.json["timeline"].as_array().expect("timeline").clone();
    let want = [
        ("submitted", "teller.icbc", t_submit),
        ("approved", "clerk", t_approve),
        ("in_production", "teller.icbc", t_produce),
        ("ready_for_pickup", "teller.icbc", t_ready),
        ("collected", "teller.icbc", t_collect),
    ];
    assert_eq!(timeline.len(), want.len(), "{timeline:?}");
    for (entry, (status, actor, at)) in timeline.iter().zip(want) {
        assert_eq!(entry["status"], status);
        assert_eq!(entry["actor"], actor);
        assert_eq!(entry["at_ms"], at);
        assert!(entry["at"].as_str().is_some_and(|s| s.starts_with("2026-03-0")), "{entry}");
    }

    // Issued: only activation (with a good PIN) moves it.
    for a in ["suspend", "unsuspend", "report-lost"] {
        refused(&app, &t.holder1, &card(a), None, "illegal_transition", "issued").await;
    }
    let events = app.event_count().await;
    app.post_empty(Some(&t.holder1), &card("activate")).await.problem(400, "pin_required").field("pin");
    app.post(Some(&t.holder1), &card("activate"), &json!({ "pin": "12345" }))
        .await
        .problem(400, "bad_pin")
        .field("pin");
    app.post(Some(&t.holder1), &card("activate"), &json!({ "pin": "12a456" })).await.problem(400, "bad_pin");
    for trivial in ["123456", "111111", "654321", "121212", "123123"] {
        app.post(Some(&t.holder1), &card("activate"), &json!({ "pin": trivial })).await.problem(422, "trivial_pin");
    }
    app.post_raw(&t.holder1, &card("activate"), "application/json", b"{pin".to_vec())
        .await
        .problem(400, "malformed_json");
    assert_eq!(app.event_count().await, events, "refused activations wrote events");
    assert_eq!(app.card_status(&card_no).await, "issued");

    let r = app.post(Some(&t.holder1), &card("activate"), &json!({ "pin": GOOD_PIN })).await;
    r.expect(200);
    assert_eq!(r.json["status"], "active");
    assert!(r.json.get("pin_hash").is_none() && !r.text().contains("pbkdf2"), "PIN hash leaked: {}", r.text());
    assert_masked(&app, &r, &r.json).await;
    refused(&app, &t.holder1, &card("activate"), Some(json!({ "pin": "739165" })), "illegal_transition", "active")
        .await;
    refused(&app, &t.holder1, &card("unsuspend"), None, "illegal_transition", "active").await;

    // One card at a time: no second first application, no replacement of a card not reported lost.
    let events = app.event_count().await;
    app.post(Some(&t.teller_icbc), "/applications", &TestApp::branch_app(&person, "first", PLAIN_BRANCH))
        .await
        .problem(409, "has_card")
        .state("active");
    let mut lost_repl = TestApp::branch_app(&person, "replacement", PLAIN_BRANCH);
    lost_repl["reason"] = json!("lost");
    app.post(Some(&t.teller_icbc), "/applications", &lost_repl).await.problem(422, "not_reported_lost");
    let mut no_reason = lost_repl.clone();
    no_reason.as_object_mut().expect("object").remove("reason");
    app.post(Some(&t.teller_icbc), "/applications", &no_reason).await.problem(400, "reason_required").field("reason");
    assert_eq!(app.event_count().await, events);

    // Temporary loss and its lift, by the holder.
    let r = app.post_empty(Some(&t.holder1), &card("suspend")).await;
    r.expect(200);
    assert_eq!(r.json["status"], "suspended");
    refused(&app, &t.holder1, &card("suspend"), None, "illegal_transition", "suspended").await;
    refused(&app, &t.holder1, &card("activate"), Some(json!({ "pin": GOOD_PIN })), "illegal_transition", "suspended")
        .await;
    let r = app.post_empty(Some(&t.holder1), &card("unsuspend")).await;
    r.expect(200);
    assert_eq!(r.json["status"], "active");

    // Formal loss: final for this card.
    let r = app.post_empty(Some(&t.holder1), &card("report-lost")).await;
    r.expect(200);
    assert_eq!(r.json["status"], "lost");
    for a in ["unsuspend", "suspend", "report-lost"] {
        refused(&app, &t.holder1, &card(a), None, "illegal_transition", "lost").await;
    }

    // The replacement costs 20 yuan.
    let r = app.post(Some(&t.teller_icbc), "/applications", &lost_repl).await;
    r.expect(201);
    assert_eq!(r.json["kind"], "replacement");
    assert_eq!(r.json["reason"], "lost");
    assert_eq!(r.json["fee_fen"], 2000);
    assert_eq!(r.json["replaces_card_no"], card_no.as_str());
    let repl_id = r.json["id"].as_str().expect("id").to_string();
    let events = app.event_count().await;
    app.post(Some(&t.teller_icbc), "/applications", &lost_repl)
        .await
        .problem(409, "application_open")
        .state("submitted");
    assert_eq!(app.event_count().await, events);
    // Handed over only once the fee is settled: here the card office waives it.
    let waiver = json!({ "reason": "test: fee waived by the card office" });
    app.post(Some(&t.clerk), &format!("/applications/{repl_id}/fee-waiver"), &waiver).await.expect(200);
    let new_card = app.run_to_collected(&repl_id).await;
    assert_ne!(new_card, card_no);
    assert_eq!(app.card_status(&card_no).await, "lost", "the old card stays lost until the new one is activated");

    let r = app.post(Some(&t.holder1), &format!("/cards/{new_card}/activate"), &json!({ "pin": "860213" })).await;
    r.expect(200);
    assert_eq!(r.json["status"], "active");
    assert_eq!(app.card_status(&card_no).await, "replaced");
    for a in ["cancel", "report-lost", "unsuspend"] {
        refused(
            &app,
            &t.holder1,
            &card(a),
            Some(json!({ "reason": "holder_request" })),
            "illegal_transition",
            "replaced",
        )
        .await;
    }

    let r = app.get(Some(&t.holder1), &format!("/persons/{person}/cards")).await;
    r.expect(200);
    let cards = r.json.as_array().expect("cards").clone();
    assert_eq!(cards.len(), 2);
    assert_eq!((cards[0]["card_no"].as_str(), cards[0]["status"].as_str()), (Some(card_no.as_str()), Some("replaced")));
    assert_eq!((cards[1]["card_no"].as_str(), cards[1]["status"].as_str()), (Some(new_card.as_str()), Some("active")));
    for c in &cards {
        assert_masked(&app, &r, c).await;
    }

    let ov = app.overview().await;
    assert_eq!(bucket(&ov, "cards_by_status", "active"), 1);
    assert_eq!(bucket(&ov, "cards_by_status", "replaced"), 1);
    assert_eq!(bucket(&ov, "applications_by_status", "collected"), 2);
    assert_eq!(bucket(&ov, "cards_by_bank", ICBC), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_steps_actions_and_things_are_404() {
    let app = TestApp::spawn().await;
    let t = app.tokens.clone();
    let p = app.register_adult().await;
    let a = app.apply_branch(p["id"].as_str().expect("id")).await;
    let id = a["id"].as_str().expect("id");
    let events = app.event_count().await;
    app.post_empty(Some(&t.clerk), &format!("/applications/{id}/fly")).await.problem(404, "not_found");
    app.post_empty(Some(&t.clerk), &format!("/applications/{id}/Approve")).await.problem(404, "not_found");
    app.post_empty(Some(&t.clerk), "/applications/0190aaaa-0000-7000-8000-000000000000/approve")
        .await
        .problem(404, "not_found");
    app.get(Some(&t.clerk), "/applications/0190aaaa-0000-7000-8000-000000000000").await.problem(404, "not_found");
    app.post_empty(Some(&t.clerk), "/cards/A99999999/suspend").await.problem(404, "not_found");
    app.get(Some(&t.clerk), "/cards/A99999999").await.problem(404, "not_found");
    app.get(Some(&t.clerk), "/persons/nobody/cards").await.problem(404, "not_found");
    let card_no = app.run_to_collected(id).await;
    let events_after = app.event_count().await;
    assert!(events_after > events);
    app.post_empty(Some(&t.admin), &format!("/cards/{card_no}/explode")).await.problem(404, "not_found");
    app.post_empty(Some(&t.admin), &format!("/cards/{card_no}/report_lost")).await.problem(404, "not_found");
    assert_eq!(app.event_count().await, events_after);
    assert_eq!(app.card_status(&card_no).await, "issued");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn online_applications_ship_and_deliver_within_the_promise() {
    let mut app = TestApp::spawn().await;
    let t = app.tokens.clone();
    let person = app.holder2_person.clone();
    let body = json!({ "person_id": person, "kind": "first", "channel": "online", "bank_code": ICBC });
    // The holder applies online; a mailing address is needed.
    app.post(Some(&t.holder2), "/applications", &body)
        .await
        .problem(400, "mail_address_required")
        .field("mail_address");
    let mut body = body;
    body["mail_address"] = json!("福建省厦门市思明区测试路1号");
    let r = app.post(Some(&t.holder2), "/applications", &body).await;
    r.expect(201);
    assert_eq!(r.json["channel"], "online");
    assert_eq!(r.json["promise"], json!({ "working_days": 15, "working_days_used": 0, "met": null }));
    assert_eq!(r.json["timeline"][0]["actor"], "holder2");
    let id = r.json["id"].as_str().expect("id").to_string();
    app.step(&t.clerk, &id, "approve").await;
    app.step(&t.teller_icbc, &id, "produce").await;
    // No pickup branch: it cannot be made ready, only shipped.
    app.post_empty(Some(&t.teller_icbc), &format!("/applications/{id}/ready")).await.problem(422, "no_pickup_branch");
    // Three days later (Thursday), the card ships: 3 working days used, promise met.
    app.clock.advance_days(3);
    app.relogin().await;
    let t = app.tokens.clone();
    let r = app.step(&t.teller_icbc, &id, "ship").await;
    assert_eq!(r["status"], "shipped");
    assert_eq!(r["card"]["status"], "produced");
    assert_eq!(r["promise"], json!({ "working_days": 15, "working_days_used": 3, "met": true }));
    let card_no = r["card_no"].as_str().expect("card_no").to_string();
    app.post_empty(Some(&t.teller_icbc), &format!("/applications/{id}/collect"))
        .await
        .problem(409, "illegal_step")
        .state("shipped");
    let r = app.step(&t.teller_icbc, &id, "deliver").await;
    assert_eq!(r["status"], "delivered");
    assert_eq!(r["card"]["status"], "issued");
    assert_eq!(r["card"]["issued_on"], "2026-03-05");
    assert_eq!(r["promise"]["met"], true);
    let got = app.get(Some(&t.holder2), &format!("/applications/{id}")).await;
    got.expect(200);
    assert_eq!(statuses(&got.json), ["submitted", "approved", "in_production", "shipped", "delivered"]);
    // The holder activates the delivered card.
    let r = app.post(Some(&t.holder2), &format!("/cards/{card_no}/activate"), &json!({ "pin": GOOD_PIN })).await;
    r.expect(200);
    assert_eq!(r.json["status"], "active");

    // A late one: 4 calendar weeks from submission to shipping = 20 working days > 15.
    let p = app.register_adult().await;
    let mut late = body.clone();
    late["person_id"] = p["id"].clone();
    let r = app.post(Some(&t.teller_icbc), "/applications", &late).await;
    r.expect(201);
    let late_id = r.json["id"].as_str().expect("id").to_string();
    app.step(&t.clerk, &late_id, "approve").await;
    app.step(&t.teller_icbc, &late_id, "produce").await;
    app.clock.advance_days(28);
    app.relogin().await;
    let t = app.tokens.clone();
    let r = app.get(Some(&t.clerk), &format!("/applications/{late_id}")).await;
    assert_eq!(r.json["promise"], json!({ "working_days": 15, "working_days_used": 20, "met": false }));
    let r = app.step(&t.teller_icbc, &late_id, "ship").await;
    assert_eq!(r["promise"], json!({ "working_days": 15, "working_days_used": 20, "met": false }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instant_issuance_needs_a_printer() {
    let app = TestApp::spawn().await;
    let t = app.tokens.clone();
    let p = app.register_adult().await;
    let pid = p["id"].as_str().expect("id");
    let body = |branch: Option<&str>| {
        let mut b = json!({ "person_id": pid, "kind": "first", "channel": "branch_instant", "bank_code": ICBC });
        if let Some(br) = branch {
            b["branch_code"] = json!(br);
        }
        b
    };
    let before = (app.overview().await, app.event_count().await);
    app.post(Some(&t.teller_icbc), "/applications", &body(Some(PLAIN_BRANCH))).await.problem(422, "no_printer");
    app.post(Some(&t.teller_icbc), "/applications", &body(None))
        .await
        .problem(400, "branch_required")
        .field("branch_code");
    app.post(Some(&t.teller_icbc), "/applications", &body(Some("CMB-HL")))
        .await
        .problem(400, "unknown_branch")
        .field("branch_code");
    app.post(Some(&t.teller_cmb), "/applications", &body(Some(PRINTER_BRANCH))).await.problem(403, "forbidden");
    let mut bad = body(Some(PRINTER_BRANCH));
    bad["channel"] = json!("pigeon");
    app.post(Some(&t.teller_icbc), "/applications", &bad).await.problem(400, "bad_channel").field("channel");
    bad["channel"] = json!("branch_instant");
    bad["kind"] = json!("fourth");
    app.post(Some(&t.teller_icbc), "/applications", &bad).await.problem(400, "bad_kind").field("kind");
    assert_eq!((app.overview().await, app.event_count().await), before, "refused applications changed something");

    let r = app.post(Some(&t.teller_icbc), "/applications", &body(Some(PRINTER_BRANCH))).await;
    r.expect(201);
    assert_eq!(r.json["status"], "collected");
    assert_eq!(r.json["channel"], "branch_instant");
    assert_eq!(r.json["card"]["status"], "issued");
    assert_eq!(r.json["card"]["issued_on"], "2026-03-02");
    assert_eq!(statuses(&r.json), ["submitted", "approved", "in_production", "ready_for_pickup", "collected"]);
    assert!(r.json["timeline"].as_array().expect("timeline").iter().all(|e| e["actor"] == "teller.icbc"));
    assert_masked(&app, &r, &r.json["card"]).await;
    let card_no = r.json["card_no"].as_str().expect("card_no").to_string();
    let got = app.get(Some(&t.teller_icbc), &format!("/cards/{card_no}")).await;
    got.expect(200);
    assert_eq!(got.json["status"], "issued");
    assert_eq!(got.json["person_id"], pid);
    assert_masked(&app, &got, &got.json).await;
    let ov = app.overview().await;
    assert_eq!(bucket(&ov, "cards_by_status", "issued"), 1);
    assert_eq!(bucket(&ov, "applications_by_channel", "branch_instant"), 1);
    // One request, one transaction: submitted, approved, in_production, card.produced, ready_for_pickup,
    // card.issued, collected.
    assert_eq!(app.event_count().await, before.1 + 7);
    // The card can be activated on the spot.
    app.activate(&card_no).await;
    // (card.activated, plus whatever the e-card adds: counted in the e-card's own tests)
    assert!(app.event_count().await > before.1 + 7);
}
