//! Races over HTTP: two bank desks activating one card at the same moment, and a burst of
//! suspensions of one card. Exactly one request wins, the others get 409 with the state the
//! winner left, nothing answers 500, and the person never has two live cards.

use crate::helpers::{Resp, TestApp, send_req};
use serde_json::{Value, json};

/// Sends all requests at once from their own tasks; answers in request order.
async fn burst(reqs: Vec<reqwest::RequestBuilder>) -> Vec<Resp> {
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(reqs.len()));
    let tasks: Vec<_> = reqs
        .into_iter()
        .map(|req| {
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                send_req(req).await
            })
        })
        .collect();
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.expect("request task"));
    }
    answers
}

fn texts(answers: &[Resp]) -> Vec<String> {
    answers.iter().map(|r| format!("{} {}", r.status, r.text())).collect()
}

/// The person's cards that are active or suspended.
async fn live_cards(app: &TestApp, person_id: &str) -> Vec<Value> {
    let r = app.get(Some(&app.tokens.admin), &format!("/persons/{person_id}/cards")).await;
    r.expect(200);
    r.json
        .as_array()
        .expect("cards")
        .iter()
        .filter(|c| c["status"] == "active" || c["status"] == "suspended")
        .cloned()
        .collect()
}

/// How many audit records of `action` the card has.
async fn audited(app: &TestApp, card_no: &str, action: &str) -> usize {
    let mut tx = app.store.read().await.expect("read");
    let rows = tx.audit_of_entity("card", card_no, 1000).await.expect("audit");
    tx.commit().await.expect("commit");
    rows.iter().filter(|r| r.action == action).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_desks_activating_one_card_one_wins() {
    let app = TestApp::spawn().await;
    // Several rounds, each on a fresh card, to give the race many chances.
    for round in 0..5 {
        let person = app.register_adult().await;
        let pid = person["id"].as_str().expect("id").to_string();
        let card = app.issued_card(&pid).await;
        let path = app.url(&format!("/cards/{card}/activate"));
        let reqs = vec![
            app.client.post(&path).bearer_auth(&app.tokens.teller_icbc).json(&json!({ "pin": "739164" })),
            app.client.post(&path).bearer_auth(&app.tokens.teller_icbc2).json(&json!({ "pin": "582046" })),
        ];
        let answers = burst(reqs).await;
        let ok: Vec<&Resp> = answers.iter().filter(|r| r.status == 200).collect();
        let conflict: Vec<&Resp> = answers.iter().filter(|r| r.status == 409).collect();
        assert_eq!((ok.len(), conflict.len()), (1, 1), "round {round}: {:?}", texts(&answers));
        assert_eq!(ok[0].json["status"], "active");
        conflict[0].problem(409, "illegal_transition").state("active");
        assert_eq!(audited(&app, &card, "card.activated").await, 1, "round {round}: activated twice");
        let live = live_cards(&app, &pid).await;
        assert_eq!(live.len(), 1, "round {round}: {live:?}");
        assert_eq!(live[0]["card_no"], card.as_str());
        assert_eq!(live[0]["status"], "active");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_suspensions_of_one_card_one_wins() {
    let app = TestApp::spawn().await;
    let pid = app.holder1_person.clone();
    let card = app.active_card(&pid).await;
    let path = app.url(&format!("/cards/{card}/suspend"));
    let tokens = [&app.tokens.holder1, &app.tokens.teller_icbc, &app.tokens.teller_icbc2, &app.tokens.clerk];
    let reqs = (0..10).map(|i| app.client.post(&path).bearer_auth(tokens[i % tokens.len()])).collect();
    let answers = burst(reqs).await;
    let ok = answers.iter().filter(|r| r.status == 200).count();
    let conflicts = answers.iter().filter(|r| r.status == 409).count();
    assert_eq!((ok, conflicts), (1, 9), "{:?}", texts(&answers));
    for r in &answers {
        if r.status == 200 {
            assert_eq!(r.json["status"], "suspended");
        } else {
            r.problem(409, "illegal_transition").state("suspended");
        }
    }
    assert_eq!(audited(&app, &card, "card.suspended").await, 1, "suspended more than once");
    let live = live_cards(&app, &pid).await;
    assert_eq!(live.len(), 1, "{live:?}");
    assert_eq!(live[0]["status"], "suspended");
    let ov = app.overview().await;
    assert_eq!(crate::helpers::bucket(&ov, "cards_by_status", "suspended"), 1);
    assert_eq!(crate::helpers::bucket(&ov, "cards_by_status", "active"), 0);

    // And back: ten lifts, one wins.
    let path = app.url(&format!("/cards/{card}/unsuspend"));
    let reqs = (0..10).map(|i| app.client.post(&path).bearer_auth(tokens[i % tokens.len()])).collect();
    let answers = burst(reqs).await;
    let ok = answers.iter().filter(|r| r.status == 200).count();
    assert_eq!(ok, 1, "{:?}", texts(&answers));
    assert!(answers.iter().filter(|r| r.status != 200).all(|r| r.status == 409 && r.json["current_state"] == "active"));
    let live = live_cards(&app, &pid).await;
    assert_eq!(live.len(), 1);
    assert_eq!(live[0]["status"], "active");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_loss_and_suspension_leave_one_consistent_state() {
    let app = TestApp::spawn().await;
    let pid = app.holder2_person.clone();
    let card = app.active_card(&pid).await;
    let base = |a: &str| app.url(&format!("/cards/{card}/{a}"));
    // Suspend and report-lost race: both may succeed in either order (active -> suspended -> lost,
    // or active -> lost and then the suspension is refused), but the card ends lost.
    let reqs = vec![
        app.client.post(base("suspend")).bearer_auth(&app.tokens.holder2),
        app.client.post(base("report-lost")).bearer_auth(&app.tokens.teller_icbc),
        app.client.post(base("report-lost")).bearer_auth(&app.tokens.teller_icbc2),
    ];
    let answers = burst(reqs).await;
    assert!(answers.iter().all(|r| r.status == 200 || r.status == 409), "{:?}", texts(&answers));
    let lost_ok = answers[1..].iter().filter(|r| r.status == 200).count();
    assert_eq!(lost_ok, 1, "exactly one loss report wins: {:?}", texts(&answers));
    for r in answers.iter().filter(|r| r.status == 409) {
        r.problem(409, "illegal_transition").state("lost");
    }
    assert_eq!(app.card_status(&card).await, "lost");
    assert!(live_cards(&app, &pid).await.is_empty());
}
