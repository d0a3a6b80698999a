//! Who may do what over HTTP: 401 without a valid session, 403 for other banks'
//! and other holders' things, admin-only administration, the login rate limit and logout.
//! Refused requests change nothing.

use crate::helpers::{GOOD_PIN, ICBC, PASSWORD, PLAIN_BRANCH, TestApp};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_without_a_valid_session_are_401() {
    let app = TestApp::spawn().await;
    app.get(None, "/health").await.expect(200);
    let gets =
        ["/me", "/persons/x", "/persons?ssn=x", "/applications", "/cards/A00000001", "/banks", "/stats/overview"];
    let posts =
        ["/persons", "/applications", "/applications/x/approve", "/cards/A00000001/suspend", "/banks", "/users"];
    let events = app.event_count().await;
    for token in [None, Some("nonsense"), Some(""), Some(&"x".repeat(300)[..])] {
        for path in gets {
            let r = match token {
                None => app.get(None, path).await,
                Some(t) => app.send(app.client.get(app.url(path)).header("authorization", format!("Bearer {t}"))).await,
            };
            r.problem(401, "unauthorized");
        }
        for path in posts {
            let req = app.client.post(app.url(path)).json(&json!({}));
            let req = match token {
                None => req,
                Some(t) => req.header("authorization", format!("Bearer {t}")),
            };
            app.send(req).await.problem(401, "unauthorized");
        }
    }
    // Another scheme, or the token without its scheme.
    let basic = app.client.get(app.url("/me")).header("authorization", "Basic YWRtaW46eA==");
    app.send(basic).await.problem(401, "unauthorized");
    let bare = app.client.get(app.url("/me")).header("authorization", app.tokens.admin.clone());
    app.send(bare).await.problem(401, "unauthorized");
    let jobs = app.client.post(app.url("/jobs/auto_lift/run"));
    app.send(jobs).await.problem(401, "unauthorized");
    assert_eq!(app.event_count().await, events);

    // The real token works, and says who it is.
    let me = app.get(Some(&app.tokens.teller_icbc), "/me").await;
    me.expect(200);
    assert_eq!(me.json, json!({ "username": "teller.icbc", "role": "teller", "person_id": null, "bank_code": ICBC }));
    let me = app.get(Some(&app.tokens.holder1), "/me").await;
    assert_eq!(me.json["person_id"], app.holder1_person.as_str());
    assert_eq!(me.json["role"], "holder");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tellers_reach_only_their_own_bank() {
    let app = TestApp::spawn().await;
    let t = app.tokens.clone();
    let p = app.register_adult().await;
    let pid = p["id"].as_str().expect("id").to_string();
    let a = app.apply_branch(&pid).await;
    let aid = a["id"].as_str().expect("id").to_string();
    let q = app.register_adult().await;
    let qid = q["id"].as_str().expect("id").to_string();
    let card = app.active_card(&qid).await;
    let events = app.event_count().await;

    // A teller cannot review applications, not even their own bank's.
    for s in ["approve", "reject"] {
        app.post_empty(Some(&t.teller_icbc), &format!("/applications/{aid}/{s}")).await.problem(403, "forbidden");
    }
    // The CMB teller cannot touch ICBC's application...
    app.get(Some(&t.teller_cmb), &format!("/applications/{aid}")).await.problem(403, "forbidden");
    app.post_empty(Some(&t.teller_cmb), &format!("/applications/{aid}/withdraw")).await.problem(403, "forbidden");
    app.step(&t.clerk, &aid, "approve").await;
    let events = events + 1;
    for s in ["produce", "withdraw"] {
        app.post_empty(Some(&t.teller_cmb), &format!("/applications/{aid}/{s}")).await.problem(403, "forbidden");
    }
    // ...nor take one for ICBC...
    app.post(Some(&t.teller_cmb), "/applications", &TestApp::branch_app(&qid, "first", PLAIN_BRANCH))
        .await
        .problem(403, "forbidden");
    // ...nor see or act on ICBC's card.
    app.get(Some(&t.teller_cmb), &format!("/cards/{card}")).await.problem(403, "forbidden");
    for action in ["suspend", "report-lost", "unsuspend", "cancel", "stop"] {
        let body = json!({ "reason": "holder_request", "pin": GOOD_PIN });
        app.post(Some(&t.teller_cmb), &format!("/cards/{card}/{action}"), &body).await.problem(403, "forbidden");
    }
    // It may see the person (to serve them at the desk), but not ICBC's cards in the list.
    app.get(Some(&t.teller_cmb), &format!("/persons/{qid}")).await.expect(200);
    let r = app.get(Some(&t.teller_cmb), &format!("/persons/{qid}/cards")).await;
    r.expect(200);
    assert_eq!(r.json, json!([]));
    let r = app.get(Some(&t.teller_cmb), "/applications").await;
    r.expect(200);
    assert_eq!(r.json, json!([]), "the CMB teller lists only CMB's applications");
    // Stop (停用) is the card office's, not the bank's.
    app.post(Some(&t.teller_icbc), &format!("/cards/{card}/stop"), &json!({ "reason": "moved to 350100" }))
        .await
        .problem(403, "forbidden");
    assert_eq!(app.event_count().await, events, "refused requests wrote something");
    assert_eq!(app.card_status(&card).await, "active");

    // The ICBC tellers can: both desks of the bank.
    app.get(Some(&t.teller_icbc2), &format!("/cards/{card}")).await.expect(200);
    assert_eq!(app.step(&t.teller_icbc2, &aid, "produce").await["status"], "in_production");
    let r = app.get(Some(&t.teller_icbc), "/applications").await;
    assert_eq!(r.json.as_array().map(Vec::len), Some(2));
    let r = app.post(Some(&t.clerk), &format!("/cards/{card}/stop"), &json!({ "reason": "moved to 350100" })).await;
    r.expect(200);
    assert_eq!(r.json["status"], "stopped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn holders_reach_only_their_own_things() {
    let app = TestApp::spawn().await;
    let t = app.tokens.clone();
    let (h1, h2) = (app.holder1_person.clone(), app.holder2_person.clone());
    let card1 = app.active_card(&h1).await;
    let card2 = app.active_card(&h2).await;
    let other = app.register_adult().await;
    let other_app = app.apply_branch(other["id"].as_str().expect("id")).await;
    let other_app_id = other_app["id"].as_str().expect("id");
    let apps2 = app.get(Some(&t.holder2), "/applications").await;
    apps2.expect(200);
    let app2_id = apps2.json[0]["id"].as_str().expect("holder2 sees their application").to_string();
    assert_eq!(apps2.json.as_array().map(Vec::len), Some(1), "holder2 lists only their own application");
    let events = app.event_count().await;

    // Another holder's card, person and application: 403 for holder1.
    app.get(Some(&t.holder1), &format!("/cards/{card2}")).await.problem(403, "forbidden");
    for action in ["suspend", "report-lost", "cancel"] {
        app.post(Some(&t.holder1), &format!("/cards/{card2}/{action}"), &json!({ "reason": "holder_request" }))
            .await
            .problem(403, "forbidden");
    }
    app.get(Some(&t.holder1), &format!("/persons/{h2}")).await.problem(403, "forbidden");
    app.get(Some(&t.holder1), &format!("/persons/{h2}/cards")).await.problem(403, "forbidden");
    app.get(Some(&t.holder1), &format!("/applications/{app2_id}")).await.problem(403, "forbidden");
    app.get(Some(&t.holder1), &format!("/applications/{other_app_id}")).await.problem(403, "forbidden");
    app.post_empty(Some(&t.holder1), &format!("/applications/{other_app_id}/withdraw")).await.problem(403, "forbidden");
    let for_other = TestApp::branch_app(other["id"].as_str().expect("id"), "first", PLAIN_BRANCH);
    app.post(Some(&t.holder1), "/applications", &for_other).await.problem(403, "forbidden");
    // Holders do not review, stop, register or run jobs.
    app.post(Some(&t.holder1), &format!("/cards/{card1}/stop"), &json!({ "reason": "x" }))
        .await
        .problem(403, "forbidden");
    app.post(
        Some(&t.holder1),
        "/persons",
        &json!({ "doc_type": "passport", "doc_number": "E1", "name": "x", "region": "350203" }),
    )
    .await
    .problem(403, "forbidden");
    app.get(Some(&t.holder1), "/stats/overview").await.problem(403, "forbidden");
    assert_eq!(app.event_count().await, events, "refused requests wrote something");
    assert_eq!(app.card_status(&card2).await, "active");

    // Their own: see, suspend, lift.
    let r = app.get(Some(&t.holder1), &format!("/persons/{h1}/cards")).await;
    r.expect(200);
    assert_eq!(r.json.as_array().map(Vec::len), Some(1));
    assert_eq!(r.json[0]["card_no"], card1.as_str());
    app.get(Some(&t.holder1), &format!("/cards/{card1}")).await.expect(200);
    let r = app.post_empty(Some(&t.holder1), &format!("/cards/{card1}/suspend")).await;
    r.expect(200);
    assert_eq!(r.json["status"], "suspended");
    let r = app.post_empty(Some(&t.holder1), &format!("/cards/{card1}/unsuspend")).await;
    r.expect(200);
    assert_eq!(r.json["status"], "active");
    // Holder2's card is untouched by all this.
    assert_eq!(app.card_status(&card2).await, "active");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_admin_administers() {
    let app = TestApp::spawn().await;
    let t = app.tokens.clone();
    let bank = json!({ "code": "XMBANK", "name": "厦门银行", "bin": "623501" });
    let branch = json!({ "code": "XM-01", "name": "思明支行", "region": "350203", "has_printer": true });
    let user =
        json!({ "username": "teller.xm", "password": "another-password", "role": "teller", "bank_code": "XMBANK" });
    let events = app.event_count().await;
    for tok in [&t.clerk, &t.teller_icbc, &t.holder1] {
        app.post(Some(tok), "/banks", &bank).await.problem(403, "forbidden");
        app.post(Some(tok), "/banks/ICBC/branches", &branch).await.problem(403, "forbidden");
        app.post(Some(tok), "/users", &json!({ "username": "x.y", "password": "another-password", "role": "admin" }))
            .await
            .problem(403, "forbidden");
        app.get(Some(tok), "/audit/verify").await.problem(403, "forbidden");
    }
    assert_eq!(app.event_count().await, events);
    let r = app.get(Some(&t.clerk), "/banks").await;
    r.expect(200);
    assert_eq!(r.json.as_array().map(Vec::len), Some(2), "no bank was added");

    let r = app.post(Some(&t.admin), "/banks", &bank).await;
    r.expect(201);
    assert_eq!(r.json, json!({ "code": "XMBANK", "name": "厦门银行", "bin": "623501", "branches": [] }));
    app.post(Some(&t.admin), "/banks", &bank).await.problem(409, "duplicate");
    app.post(Some(&t.admin), "/banks", &json!({ "code": "NEW", "name": "n", "bin": "12" }))
        .await
        .problem(400, "bad_bin")
        .field("bin");
    let r = app.post(Some(&t.admin), "/banks/XMBANK/branches", &branch).await;
    r.expect(201);
    assert_eq!(r.json["has_printer"], true);
    assert_eq!(r.json["bank_code"], "XMBANK");
    app.post(Some(&t.admin), "/banks/NOPE/branches", &branch).await.problem(400, "unknown_bank");
    let r = app.post(Some(&t.admin), "/users", &user).await;
    r.expect(201);
    assert_eq!(
        r.json,
        json!({ "username": "teller.xm", "role": "teller", "person_id": null, "bank_code": "XMBANK", "branch_code": null })
    );
    app.post(Some(&t.admin), "/users", &user).await.problem(409, "duplicate");
    let mut weak = user.clone();
    weak["username"] = json!("teller.xm2");
    weak["password"] = json!("short");
    app.post(Some(&t.admin), "/users", &weak).await.problem(400, "weak_password").field("password");
    weak["password"] = json!("long-enough-1");
    weak["role"] = json!("king");
    app.post(Some(&t.admin), "/users", &weak).await.problem(400, "bad_role").field("role");
    weak["role"] = json!("holder");
    app.post(Some(&t.admin), "/users", &weak).await.problem(400, "person_required").field("person_id");
    // The new teller logs in and works for the new bank.
    let r = app.post(None, "/auth/login", &json!({ "username": "teller.xm", "password": "another-password" })).await;
    r.expect(200);
    assert_eq!(r.json["role"], "teller");
    assert_eq!(r.json["bank_code"], "XMBANK");
    // The audit chain is the admin's to verify.
    let r = app.get(Some(&t.admin), "/audit/verify").await;
    r.expect(200);
    assert!(r.json["broken"].is_null(), "{}", r.text());
    assert!(r.json["checked"].as_u64().is_some_and(|n| n > 10), "{}", r.text());

    // Statistics: staff only.
    app.get(Some(&t.clerk), "/stats/overview").await.expect(200);
    app.get(Some(&t.admin), "/stats/overview").await.expect(200);
    app.get(Some(&t.holder1), "/stats/overview").await.problem(403, "forbidden");
    app.get(Some(&t.teller_icbc), "/stats/overview").await.problem(403, "forbidden");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_wrong_passwords_lock_the_login() {
    let app = TestApp::spawn().await;
    let login = |pw: &str| json!({ "username": "teller.icbc2", "password": pw });
    for i in 0..5 {
        let r = app.post(None, "/auth/login", &login(&format!("wrong-{i}"))).await;
        r.problem(401, "unauthorized");
        assert!(r.json.get("token").is_none());
    }
    let r = app.post(None, "/auth/login", &login(PASSWORD)).await;
    r.problem(429, "too_many_attempts");
    assert!(!r.text().contains("token"), "{}", r.text());
    app.post(None, "/auth/login", &login("wrong-again")).await.problem(429, "too_many_attempts");
    // Others can still log in; sessions made before keep working.
    app.login("teller.icbc").await;
    app.get(Some(&app.tokens.teller_icbc2), "/me").await.expect(200);
    // After the five-minute window the right password works again.
    app.clock.set(sscard_domain::clock::Clock::now_ms(app.clock.as_ref()) + 5 * 60_000 + 1);
    let r = app.post(None, "/auth/login", &login(PASSWORD)).await;
    r.expect(200);
    assert_eq!(r.json["role"], "teller");
    // A success clears the count: four more failures do not lock.
    for i in 0..4 {
        app.post(None, "/auth/login", &login(&format!("oops-{i}"))).await.problem(401, "unauthorized");
    }
    app.post(None, "/auth/login", &login(PASSWORD)).await.expect(200);
    // Malformed logins are 400, not a failed attempt that reveals anything.
    app.post_raw(&app.tokens.admin, "/auth/login", "application/json", b"{\"username\":1}".to_vec())
        .await
        .problem(400, "malformed_json");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_invalidates_the_token() {
    let app = TestApp::spawn().await;
    let second = app.login("clerk").await;
    assert_ne!(second, app.tokens.clerk);
    app.get(Some(&second), "/me").await.expect(200);
    let r = app.post_empty(Some(&second), "/auth/logout").await;
    r.expect(204);
    assert!(r.bytes.is_empty());
    app.get(Some(&second), "/me").await.problem(401, "unauthorized");
    app.get(Some(&second), "/stats/overview").await.problem(401, "unauthorized");
    app.post_empty(Some(&second), "/auth/logout").await.expect(204);
    app.post_empty(None, "/auth/logout").await.problem(401, "unauthorized");
    // The clerk's other session is unaffected.
    app.get(Some(&app.tokens.clerk), "/stats/overview").await.expect(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_expire_after_twelve_hours() {
    let app = TestApp::spawn().await;
    app.clock.set(sscard_domain::clock::Clock::now_ms(app.clock.as_ref()) + 12 * 3_600_000 - 1);
    app.get(Some(&app.tokens.clerk), "/me").await.expect(200);
    app.clock.set(sscard_domain::clock::Clock::now_ms(app.clock.as_ref()) + 1);
    app.get(Some(&app.tokens.clerk), "/me").await.problem(401, "unauthorized");
    let fresh = app.login("clerk").await;
    app.get(Some(&fresh), "/me").await.expect(200);
}

/// The desk's branch as the page selects it.
async fn desk_branch(app: &TestApp, token: &str, person_id: &str) -> String {
    let req = app
        .client
        .get(format!("{}/desk?q={person_id}", app.address))
        .header("cookie", format!("sscard_session={token}"));
    let html = crate::helpers::send_req(req).await.text();
    let selected = html.split("<option ").find(|o| o.contains(" selected>")).unwrap_or_default();
    selected.split("value=\"").nth(1).and_then(|v| v.split('"').next()).unwrap_or_default().to_string()
}

#[tokio::test]
async fn a_teller_has_an_own_branch_of_their_bank_and_the_desk_starts_from_it() {
    let app = TestApp::spawn().await;
    let admin = Some(app.tokens.admin.as_str());
    let branch =
        json!({ "code": "ICBC-XY", "name": "second printer", "region": crate::helpers::CITY, "has_printer": true });
    app.post(admin, "/banks/ICBC/branches", &branch).await.expect(201);
    let user = |name: &str, role: &str, bank: Option<&str>, branch: Option<&str>| json!({ "username": name, "password": crate::helpers::PASSWORD, "role": role, "bank_code": bank, "branch_code": branch });
    let r = app.post(admin, "/users", &user("t.xy", "teller", Some("ICBC"), Some("icbc-xy"))).await;
    assert_eq!(r.expect(201).json["branch_code"], "ICBC-XY");
    // A branch of another bank, no such branch, a bad code, or a branch for another role: refused.
    for (body, code) in [
        (user("t.x1", "teller", Some("ICBC"), Some("CMB-HL")), "unknown_branch"),
        (user("t.x2", "teller", Some("ICBC"), Some("ICBC-NONE")), "unknown_branch"),
        (user("t.x3", "teller", Some("ICBC"), Some("bad code!")), "bad_identifier"),
        (user("c.x4", "clerk", None, Some("ICBC-SM")), "branch_not_allowed"),
        (user("p.x5", "payer", None, Some("ICBC-SM")), "branch_not_allowed"),
    ] {
        let r = app.post(admin, "/users", &body).await;
        assert_eq!(
            (r.status, r.code(), r.json["field"].as_str()),
            (400, code.to_string(), Some("branch_code")),
            "{body}"
        );
    }
    // The desk starts from the teller's own branch; a teller without one from the first that fits.
    let person = app.register_adult().await;
    let id = person["id"].as_str().unwrap_or_default();
    let own = app.login("t.xy").await;
    assert_eq!(desk_branch(&app, &own, id).await, "ICBC|ICBC-XY");
    assert_eq!(desk_branch(&app, &app.tokens.teller_icbc, id).await, "ICBC|ICBC-SM");
}
