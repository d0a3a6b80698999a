//! The scheduled jobs run on demand over HTTP with a movable clock: the automatic lift of a
//! temporary loss after 15 days, the dormant sweep after 6 months (and destruction 6 months
//! later), the expiry of temporary cards after 60 days. Only staff may run them.

use crate::helpers::{ICBC, PRINTER_BRANCH, Resp, TestApp, bucket};
use serde_json::{Value, json};

async fn run(app: &TestApp, token: &str, job: &str, as_of: Option<&str>) -> Resp {
    let path = match as_of {
        Some(d) => format!("/jobs/{job}/run?as_of={d}"),
        None => format!("/jobs/{job}/run"),
    };
    app.post_empty(Some(token), &path).await
}

/// Runs a job and checks its report: (examined, changed), no failures.
#[track_caller]
fn report(r: &Resp, job: &str, as_of: &str, examined: u64, changed: u64) {
    r.expect(200);
    assert_eq!(
        r.json,
        json!({ "job": job, "as_of": as_of, "examined": examined, "changed": changed, "failures": [] }),
        "{}",
        r.text()
    );
}

async fn last_actor(app: &TestApp, card_no: &str, action: &str) -> Option<String> {
    let mut tx = app.store.read().await.expect("read");
    let rows = tx.audit_of_entity("card", card_no, 1000).await.expect("audit");
    tx.commit().await.expect("commit");
    rows.iter().rev().find(|r| r.action == action).map(|r| r.actor.clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_temporary_loss_lifts_itself_after_fifteen_days() {
    let mut app = TestApp::spawn().await;
    let card = app.active_card(&app.holder1_person.clone()).await;
    let lost = app.active_card(&app.holder2_person.clone()).await;
    for c in [&card, &lost] {
        app.post_empty(Some(&app.tokens.teller_icbc), &format!("/cards/{c}/suspend")).await.expect(200);
    }
    // Reported lost after the suspension: the lift must leave it alone.
    app.post_empty(Some(&app.tokens.holder2), &format!("/cards/{lost}/report-lost")).await.expect(200);
    report(&run(&app, &app.tokens.admin, "auto_lift", None).await, "auto_lift", "2026-03-02", 0, 0);

    app.clock.advance_days(14);
    app.relogin().await;
    let events = app.event_count().await;
    report(&run(&app, &app.tokens.admin, "auto_lift", None).await, "auto_lift", "2026-03-16", 0, 0);
    assert_eq!(app.card_status(&card).await, "suspended", "lifted after 14 days");
    assert_eq!(app.event_count().await, events, "a run with nothing due wrote something");

    app.clock.advance_days(1);
    app.relogin().await;
    report(&run(&app, &app.tokens.admin, "auto_lift", None).await, "auto_lift", "2026-03-17", 1, 1);
    assert_eq!(app.card_status(&card).await, "active");
    assert_eq!(app.card_status(&lost).await, "lost");
    assert_eq!(last_actor(&app, &card, "card.unsuspended").await.as_deref(), Some("admin:auto_lift"));
    // Nothing more to do.
    report(&run(&app, &app.tokens.clerk, "auto-lift", None).await, "auto_lift", "2026-03-17", 0, 0);
    let ov = app.overview().await;
    assert_eq!(bucket(&ov, "cards_by_status", "active"), 1);
    assert_eq!(bucket(&ov, "cards_by_status", "suspended"), 0);
    assert_eq!(bucket(&ov, "cards_by_status", "lost"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_lift_as_of_a_date() {
    let app = TestApp::spawn().await;
    let card = app.active_card(&app.holder1_person).await;
    app.post_empty(Some(&app.tokens.holder1), &format!("/cards/{card}/suspend")).await.expect(200);
    let clerk = &app.tokens.clerk;
    // Suspended at 09:00 on 2026-03-02; as_of runs at noon of the date.
    report(&run(&app, clerk, "auto_lift", Some("2026-03-16")).await, "auto_lift", "2026-03-16", 0, 0);
    assert_eq!(app.card_status(&card).await, "suspended");
    report(&run(&app, clerk, "auto_lift", Some("2026-03-17")).await, "auto_lift", "2026-03-17", 1, 1);
    assert_eq!(app.card_status(&card).await, "active");
    assert_eq!(last_actor(&app, &card, "card.unsuspended").await.as_deref(), Some("clerk:auto_lift"));
    for bad in ["2026-13-01", "17.03.2026", "soon"] {
        run(&app, clerk, "auto_lift", Some(bad)).await.problem(400, "bad_date").field("as_of");
    }
}

/// A branch application made ready (the card produced, waiting at the branch) on the start day.
async fn produced_card(app: &TestApp) -> (String, String) {
    let p = app.register_adult().await;
    let a = app.apply_branch(p["id"].as_str().expect("id")).await;
    let id = a["id"].as_str().expect("id").to_string();
    app.step(&app.tokens.clerk, &id, "approve").await;
    app.step(&app.tokens.teller_icbc, &id, "produce").await;
    let r = app.step(&app.tokens.teller_icbc, &id, "ready").await;
    assert_eq!(r["card"]["status"], "produced");
    (id, r["card_no"].as_str().expect("card_no").to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uncollected_cards_turn_dormant_after_six_months_and_are_destroyed_six_later() {
    let app = TestApp::spawn().await;
    let (_, a) = produced_card(&app).await;
    let (b_app, b) = produced_card(&app).await;
    // A card handed over at once (branch printer) is never swept.
    let p = app.register_adult().await;
    let instant = app
        .post(
            Some(&app.tokens.teller_icbc),
            "/applications",
            &json!({ "person_id": p["id"], "kind": "first", "channel": "branch_instant", "bank_code": ICBC, "branch_code": PRINTER_BRANCH }),
        )
        .await;
    instant.expect(201);
    let issued = instant.str("/card_no");
    let clerk = &app.tokens.clerk;

    report(&run(&app, clerk, "dormant_sweep", Some("2026-08-02")).await, "dormant_sweep", "2026-08-02", 0, 0);
    // One day short of six months: looked at, left alone.
    report(&run(&app, clerk, "dormant_sweep", Some("2026-09-01")).await, "dormant_sweep", "2026-09-01", 2, 0);
    assert_eq!(app.card_status(&a).await, "produced");
    report(&run(&app, clerk, "dormant_sweep", Some("2026-09-02")).await, "dormant_sweep", "2026-09-02", 2, 2);
    for c in [&a, &b] {
        assert_eq!(app.card_status(c).await, "dormant");
    }
    assert_eq!(app.card_status(&issued).await, "issued");
    assert_eq!(last_actor(&app, &a, "card.dormant").await.as_deref(), Some("clerk:dormant_sweep"));
    let ov = app.overview().await;
    assert_eq!(bucket(&ov, "cards_by_status", "dormant"), 2);
    assert_eq!(bucket(&ov, "cards_by_status", "produced"), 0);

    // A dormant card can still be collected (the holder finally comes).
    let r = app.step(&app.tokens.teller_icbc, &b_app, "collect").await;
    assert_eq!(r["card"]["status"], "issued");
    // Six more months: one day short, then destroyed.
    report(&run(&app, clerk, "dormant_sweep", Some("2027-03-01")).await, "dormant_sweep", "2027-03-01", 1, 0);
    assert_eq!(app.card_status(&a).await, "dormant");
    report(&run(&app, clerk, "dormant_sweep", Some("2027-03-02")).await, "dormant_sweep", "2027-03-02", 1, 1);
    let r = app.get(Some(clerk), &format!("/cards/{a}")).await;
    assert_eq!(r.json["status"], "cancelled");
    assert_eq!(r.json["destroyed"], true);
    assert_eq!(r.json["cancel_reason"], "destroyed");
    assert_eq!(app.card_status(&b).await, "issued");
    report(&run(&app, clerk, "dormant_sweep", Some("2030-01-01")).await, "dormant_sweep", "2030-01-01", 0, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn temporary_cards_are_cancelled_after_sixty_days() {
    let app = TestApp::spawn().await;
    let t = app.tokens.clone();
    let pid = app.holder1_person.clone();
    let formal = app.active_card(&pid).await;
    // A temporary card is only for someone without a usable card.
    let temp_body = json!({ "person_id": pid, "kind": "temporary", "channel": "branch_instant", "bank_code": ICBC, "branch_code": PRINTER_BRANCH });
    app.post(Some(&t.teller_icbc), "/applications", &temp_body).await.problem(409, "has_card").state("active");
    app.post_empty(Some(&t.holder1), &format!("/cards/{formal}/report-lost")).await.expect(200);
    let r = app.post(Some(&t.teller_icbc), "/applications", &temp_body).await;
    r.expect(201);
    assert_eq!(r.json["status"], "collected");
    assert_eq!(r.json["fee_fen"], 0);
    let card: Value = r.json["card"].clone();
    assert_eq!(card["temporary"], true);
    assert!(card["pan"].is_null(), "a temporary card has no financial function: {card}");
    assert_eq!(card["issued_on"], "2026-03-02");
    // Valid 60 days counting the issue day: 2026-04-30 is the last valid day.
    assert_eq!(card["expires_on"], "2026-04-30");
    let temp = card["card_no"].as_str().expect("card_no").to_string();
    // The holder uses it meanwhile.
    app.post(Some(&t.holder1), &format!("/cards/{temp}/activate"), &json!({ "pin": "739164" })).await.expect(200);
    report(&run(&app, &t.admin, "temporary_expiry", Some("2026-04-30")).await, "temporary_expiry", "2026-04-30", 0, 0);
    assert_eq!(app.card_status(&temp).await, "active");
    report(&run(&app, &t.admin, "temporary_expiry", Some("2026-05-01")).await, "temporary_expiry", "2026-05-01", 1, 1);
    let r = app.get(Some(&t.holder1), &format!("/cards/{temp}")).await;
    assert_eq!(r.json["status"], "cancelled");
    assert_eq!(r.json["cancel_reason"], "temporary_expired");
    assert_eq!(app.card_status(&formal).await, "lost", "the formal card is not the job's business");
    report(&run(&app, &t.admin, "temporary_expiry", Some("2026-06-01")).await, "temporary_expiry", "2026-06-01", 0, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_staff_run_jobs() {
    let app = TestApp::spawn().await;
    let card = app.active_card(&app.holder1_person).await;
    app.post_empty(Some(&app.tokens.holder1), &format!("/cards/{card}/suspend")).await.expect(200);
    let events = app.event_count().await;
    for job in ["auto_lift", "dormant_sweep", "temporary_expiry"] {
        for tok in [&app.tokens.holder1, &app.tokens.teller_icbc] {
            run(&app, tok, job, Some("2027-01-01")).await.problem(403, "forbidden");
        }
        run(&app, &app.tokens.clerk, job, None).await.expect(200);
    }
    assert_eq!(app.card_status(&card).await, "suspended");
    assert_eq!(app.event_count().await, events);
    run(&app, &app.tokens.admin, "all", None).await.problem(404, "not_found");
    run(&app, &app.tokens.admin, "sweep_everything", None).await.problem(404, "not_found");
    app.get(Some(&app.tokens.admin), "/jobs/auto_lift/run").await.expect(405);
}
