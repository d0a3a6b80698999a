//! Idempotency-Key: a repeated request gets the first answer, byte for byte, marked
//! `idempotent-replayed: true`, and changes nothing more; a different request under the
//! same key is refused; keys are per user; concurrent repeats create one thing.

use crate::helpers::{PLAIN_BRANCH, REGION, Resp, TestApp, bucket};
use serde_json::{Value, json};
use time::macros::date;

#[track_caller]
fn same_answer(first: &Resp, second: &Resp, status: u16) {
    first.expect(status);
    second.expect(status);
    assert_eq!(first.bytes, second.bytes, "the replay is not byte-identical");
    assert_eq!(first.content_type(), "application/json");
    assert_eq!(second.content_type(), "application/json");
    assert_eq!(first.header("idempotent-replayed"), None, "the first answer is not a replay");
    assert_eq!(second.header("idempotent-replayed").as_deref(), Some("true"));
}

fn person_body(doc: &str) -> Value {
    json!({ "doc_type": "resident_id", "doc_number": doc, "name": "赵六", "region": REGION })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_registration_registers_once() {
    let app = TestApp::spawn().await;
    let tok = app.tokens.teller_icbc.clone();
    let body = person_body(&app.resident_id(date!(1988 - 08 - 08)));
    let (ov0, ev0) = (app.overview().await, app.event_count().await);
    let first = app.post_idem(&tok, "/persons", "reg-0001", Some(&body)).await;
    let second = app.post_idem(&tok, "/persons", "reg-0001", Some(&body)).await;
    same_answer(&first, &second, 201);
    let ov = app.overview().await;
    assert_eq!(ov["persons"].as_i64(), ov0["persons"].as_i64().map(|n| n + 1));
    assert_eq!(app.event_count().await, ev0 + 1);
    // A third time, much later in the day, still the first answer.
    app.clock.set(sscard_domain::clock::Clock::now_ms(app.clock.as_ref()) + 3 * 3_600_000);
    let third = app.post_idem(&tok, "/persons", "reg-0001", Some(&body)).await;
    same_answer(&first, &third, 201);
    assert_eq!(app.event_count().await, ev0 + 1);

    // The same key with another body is refused and changes nothing.
    let other = person_body(&app.resident_id(date!(1988 - 08 - 09)));
    let r = app.post_idem(&tok, "/persons", "reg-0001", Some(&other)).await;
    r.problem(409, "idempotency_key_reused");
    assert_eq!(r.header("idempotent-replayed"), None);
    // Even a change of whitespace is another request.
    let spaced = format!("{} ", serde_json::to_string(&body).expect("json")).into_bytes();
    let r = app
        .send(
            app.client
                .post(app.url("/persons"))
                .bearer_auth(&tok)
                .header("Idempotency-Key", "reg-0001")
                .header("content-type", "application/json")
                .body(spaced),
        )
        .await;
    r.problem(409, "idempotency_key_reused");
    assert_eq!(app.overview().await["persons"].as_i64(), ov0["persons"].as_i64().map(|n| n + 1));
    assert_eq!(app.event_count().await, ev0 + 1);

    // Without a key, the same body is a duplicate person.
    app.post(Some(&tok), "/persons", &body).await.problem(409, "person_exists");
    // Keys must be 1-128 visible characters.
    for bad in [" ".to_string(), "k".repeat(129)] {
        app.post_idem(&tok, "/persons", &bad, Some(&other))
            .await
            .problem(400, "bad_idempotency_key")
            .field("Idempotency-Key");
    }
    app.post_idem(&tok, "/persons", &"k".repeat(128), Some(&other)).await.expect(201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_application_and_step_happen_once() {
    let app = TestApp::spawn().await;
    let t = app.tokens.clone();
    let p = app.register_adult().await;
    let body = TestApp::branch_app(p["id"].as_str().expect("id"), "first", PLAIN_BRANCH);
    let ev0 = app.event_count().await;
    let first = app.post_idem(&t.teller_icbc, "/applications", "app-7", Some(&body)).await;
    let second = app.post_idem(&t.teller_icbc, "/applications", "app-7", Some(&body)).await;
    same_answer(&first, &second, 201);
    assert_eq!(app.event_count().await, ev0 + 1);
    let ov = app.overview().await;
    assert_eq!(bucket(&ov, "applications_by_status", "submitted"), 1);
    assert_eq!(bucket(&ov, "applications_by_channel", "branch"), 1);
    let id = first.json["id"].as_str().expect("id").to_string();
    let mut other = body.clone();
    other["channel"] = json!("online");
    other["mail_address"] = json!("somewhere 1");
    app.post_idem(&t.teller_icbc, "/applications", "app-7", Some(&other)).await.problem(409, "idempotency_key_reused");

    // approve, twice with one key: one step.
    let path = format!("/applications/{id}/approve");
    let a1 = app.post_idem(&t.clerk, &path, "approve-1", None).await;
    let a2 = app.post_idem(&t.clerk, &path, "approve-1", None).await;
    same_answer(&a1, &a2, 200);
    assert_eq!(a1.json["status"], "approved");
    assert_eq!(a1.json["timeline"].as_array().map(Vec::len), Some(2));
    assert_eq!(app.event_count().await, ev0 + 2);
    let ov = app.overview().await;
    assert_eq!(bucket(&ov, "applications_by_status", "approved"), 1);
    assert_eq!(bucket(&ov, "applications_by_status", "submitted"), 0);
    let got = app.get(Some(&t.clerk), &format!("/applications/{id}")).await;
    assert_eq!(got.json["timeline"].as_array().map(Vec::len), Some(2), "one approval in the timeline");
    // A new key is a new request: now refused, the application is approved already.
    app.post_idem(&t.clerk, &path, "approve-2", None).await.problem(409, "illegal_step").state("approved");
    // The first key on another application's step is another request (the path is part of it).
    let p2 = app.register_adult().await;
    let other_app = app.apply_branch(p2["id"].as_str().expect("id")).await;
    let other_path = format!("/applications/{}/approve", other_app["id"].as_str().expect("id"));
    let r = app.post_idem(&t.clerk, &other_path, "approve-1", None).await;
    r.expect(200);
    assert_eq!(r.header("idempotent-replayed"), None);
    assert_eq!(r.json["id"], other_app["id"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_suspension_suspends_once() {
    let app = TestApp::spawn().await;
    let t = app.tokens.clone();
    let card = app.active_card(&app.holder1_person).await;
    let path = format!("/cards/{card}/suspend");
    let ev0 = app.event_count().await;
    let s1 = app.post_idem(&t.holder1, &path, "lost-my-wallet", None).await;
    let ev1 = app.event_count().await;
    assert!(ev1 > ev0);
    let s2 = app.post_idem(&t.holder1, &path, "lost-my-wallet", None).await;
    same_answer(&s1, &s2, 200);
    assert_eq!(s1.json["status"], "suspended");
    assert_eq!(app.event_count().await, ev1, "the replay changed something");
    // The same key with a body is another request.
    app.post_idem(&t.holder1, &path, "lost-my-wallet", Some(&json!({ "reason": "again" })))
        .await
        .problem(409, "idempotency_key_reused");
    // A new key: the card is suspended already.
    app.post_idem(&t.holder1, &path, "lost-my-wallet-2", None)
        .await
        .problem(409, "illegal_transition")
        .state("suspended");
    // The teller (another user) using the holder's key is a different request scope.
    let u = app.post_idem(&t.teller_icbc, &format!("/cards/{card}/unsuspend"), "lost-my-wallet", None).await;
    u.expect(200);
    assert_eq!(u.json["status"], "active");
    let again = app.post_idem(&t.holder1, &path, "lost-my-wallet", None).await;
    same_answer(&s1, &again, 200);
    assert_eq!(app.card_status(&card).await, "active", "a replay must not suspend again");
    let ov = app.overview().await;
    assert_eq!(bucket(&ov, "cards_by_status", "active"), 1);
    assert_eq!(bucket(&ov, "cards_by_status", "suspended"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_key_of_two_users_does_not_collide() {
    let app = TestApp::spawn().await;
    let a = person_body(&app.resident_id(date!(1991 - 01 - 11)));
    let b = person_body(&app.resident_id(date!(1992 - 02 - 12)));
    let p0 = app.overview().await["persons"].as_i64().expect("persons");
    let ra = app.post_idem(&app.tokens.teller_icbc, "/persons", "counter-1", Some(&a)).await;
    let rb = app.post_idem(&app.tokens.teller_cmb, "/persons", "counter-1", Some(&b)).await;
    ra.expect(201);
    rb.expect(201);
    assert_eq!(rb.header("idempotent-replayed"), None);
    assert_ne!(ra.json["id"], rb.json["id"]);
    // Even with the same body, the other user's request runs (and meets the duplicate).
    app.post_idem(&app.tokens.teller_icbc2, "/persons", "counter-1", Some(&a)).await.problem(409, "person_exists");
    assert_eq!(app.overview().await["persons"].as_i64(), Some(p0 + 2));
    // Each user's replay is their own first answer.
    let ra2 = app.post_idem(&app.tokens.teller_icbc, "/persons", "counter-1", Some(&a)).await;
    same_answer(&ra, &ra2, 201);
    let rb2 = app.post_idem(&app.tokens.teller_cmb, "/persons", "counter-1", Some(&b)).await;
    same_answer(&rb, &rb2, 201);
    // A user's key with another user's body is still a reuse.
    app.post_idem(&app.tokens.teller_cmb, "/persons", "counter-1", Some(&a))
        .await
        .problem(409, "idempotency_key_reused");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_concurrent_repeats_create_one_person() {
    let app = TestApp::spawn().await;
    let doc = app.resident_id(date!(1977 - 07 - 07));
    let body = person_body(&doc);
    let p0 = app.overview().await["persons"].as_i64().expect("persons");
    let ev0 = app.event_count().await;
    // Eight tasks on the multi-threaded runtime, each its own connection, all at once.
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let req = app
                .client
                .post(app.url("/persons"))
                .bearer_auth(&app.tokens.teller_icbc)
                .header("Idempotency-Key", "burst-42")
                .json(&body);
            tokio::spawn(crate::helpers::send_req(req))
        })
        .collect();
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.expect("request task"));
    }
    let first = answers.iter().find(|r| r.header("idempotent-replayed").is_none()).expect("one original answer");
    let originals = answers.iter().filter(|r| r.header("idempotent-replayed").is_none()).count();
    assert_eq!(originals, 1, "exactly one request ran: {:?}", answers.iter().map(Resp::text).collect::<Vec<_>>());
    for r in &answers {
        r.expect(201);
        assert_eq!(r.bytes, first.bytes, "every repeat answers the first result");
    }
    assert_eq!(app.overview().await["persons"].as_i64(), Some(p0 + 1));
    assert_eq!(app.event_count().await, ev0 + 1);
    let found = app.get(Some(&app.tokens.clerk), &format!("/persons?ssn={doc}")).await;
    found.expect(200);
    assert_eq!(found.json["id"], first.json["id"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_newborn_registration_answers_the_first_person_and_application() {
    let app = TestApp::spawn().await;
    let mother = app.register_adult().await;
    let baby = sscard_domain::document::make_resident_id(crate::helpers::rc(REGION), date!(2026 - 02 - 20), 8);
    let body = json!({
        "doc_type": "resident_id", "doc_number": baby, "name": "林小宝", "region": REGION,
        "guardian_id": mother["id"], "relationship_proof": "Q350203260001",
        "bank_code": crate::helpers::ICBC, "branch_code": PLAIN_BRANCH,
    });
    let tok = app.tokens.teller_icbc.clone();
    let first = app.post_idem(&tok, "/persons/newborn", "baby-1", Some(&body)).await;
    let second = app.post_idem(&tok, "/persons/newborn", "baby-1", Some(&body)).await;
    same_answer(&first, &second, 201);
    assert_eq!(first.json["person"]["minor"], true, "{}", first.text());
    assert_eq!(first.json["application"]["channel"], "newborn", "{}", first.text());
}
