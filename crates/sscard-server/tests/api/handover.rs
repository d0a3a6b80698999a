//! Handing a card over: never with its fee unpaid unless the card office waived it with a
//! reason; the holder's document number checked when typed; a rejection says why.

use crate::helpers::{CITY, ICBC, PLAIN_BRANCH, PRINTER_BRANCH, TestApp};
use serde_json::{Value, json};
use time::macros::date;

/// A person registered over HTTP with a known document number; answers (person id, number).
async fn person(app: &TestApp) -> (String, String) {
    let doc = app.resident_id(date!(1984 - 02 - 29));
    let body =
        json!({ "doc_type": "resident_id", "doc_number": doc, "name": "王五", "region": crate::helpers::REGION });
    let r = app.post(Some(&app.tokens.teller_icbc), "/persons", &body).await;
    r.expect(201);
    (r.str("/id"), doc)
}

/// The person's active card reported lost and a replacement taken with `body_extra`;
/// answers the replacement's id.
async fn replacement(app: &TestApp, pid: &str, channel: &str, branch: Option<&str>) -> String {
    let card = app.active_card(pid).await;
    app.post_empty(Some(&app.tokens.teller_icbc), &format!("/cards/{card}/report-lost")).await.expect(200);
    let mut body =
        json!({ "person_id": pid, "kind": "replacement", "reason": "lost", "channel": channel, "bank_code": ICBC });
    match branch {
        Some(b) => body["branch_code"] = json!(b),
        None => body["mail_address"] = json!("厦门市思明区测试路1号"),
    }
    let r = app.post(Some(&app.tokens.teller_icbc), "/applications", &body).await;
    r.expect(201);
    assert_eq!(r.json["fee_fen"], 2000);
    r.str("/id")
}

fn collect_body(doc: &str) -> Value {
    json!({ "holder_doc_number": doc })
}

#[tokio::test]
async fn a_card_whose_fee_is_unpaid_is_not_handed_over_until_the_office_waives_it() {
    let app = TestApp::spawn().await;
    let (pid, doc) = person(&app).await;
    let id = replacement(&app, &pid, "branch", Some(PLAIN_BRANCH)).await;
    app.step(&app.tokens.clerk, &id, "approve").await;
    app.step(&app.tokens.teller_icbc, &id, "produce").await;
    let ready = app.step(&app.tokens.teller_icbc, &id, "ready").await;
    assert_eq!(ready["fee_state"], "unpaid");
    let card = ready["card_no"].as_str().expect("card").to_string();
    let collect = format!("/applications/{id}/collect");

    // Unpaid: refused, with or without the document check, and nothing changes.
    let events = app.event_count().await;
    app.post_empty(Some(&app.tokens.teller_icbc), &collect).await.problem(422, "fee_unpaid");
    app.post(Some(&app.tokens.teller_icbc), &collect, &collect_body(&doc)).await.problem(422, "fee_unpaid");
    assert_eq!(app.card_status(&card).await, "produced");
    assert_eq!(app.event_count().await, events);

    // Only the card office waives, and only with a reason.
    let waiver = format!("/applications/{id}/fee-waiver");
    let reason = json!({ "reason": "低保户，免收补卡费" });
    app.post(Some(&app.tokens.teller_icbc), &waiver, &reason).await.problem(403, "forbidden");
    app.post(Some(&app.tokens.holder1), &waiver, &reason).await.problem(403, "forbidden");
    app.post(Some(&app.tokens.clerk), &waiver, &json!({ "reason": "  " }))
        .await
        .problem(400, "reason_required")
        .field("reason");
    app.post(Some(&app.tokens.clerk), &waiver, &json!({})).await.expect(400);
    app.post(Some(&app.tokens.clerk), &waiver, &json!({ "reason": "x", "amount": 0 })).await.expect(400);
    assert_eq!(app.event_count().await, events);
    let r = app.post(Some(&app.tokens.clerk), &waiver, &reason).await;
    r.expect(200);
    assert_eq!(r.json["fee_state"], "waived");
    assert_eq!(r.json["fee_waiver_reason"], "低保户，免收补卡费");
    assert_eq!(app.event_count().await, events + 1, "the waiver is an event");
    app.post(Some(&app.tokens.clerk), &waiver, &reason).await.problem(409, "fee_waived");

    // The document of the person at the counter must be the holder's.
    let mut wrong = doc.clone();
    wrong.replace_range(6..10, "1970");
    let r = app.post(Some(&app.tokens.teller_icbc), &collect, &collect_body(&wrong)).await;
    r.problem(422, "holder_mismatch").field("holder_doc_number");
    assert!(!r.text().contains(&doc), "the registered number is never told");
    assert_eq!(app.card_status(&card).await, "produced");
    let typed = format!(" {} ", doc.to_ascii_lowercase());
    let r = app.post(Some(&app.tokens.teller_icbc), &collect, &collect_body(&typed)).await;
    r.expect(200);
    assert_eq!(r.json["status"], "collected");
    assert_eq!(app.card_status(&card).await, "issued");
    // Nothing is left to waive once the card is handed over.
    app.post(Some(&app.tokens.clerk), &waiver, &reason).await.expect(409);
}

#[tokio::test]
async fn delivery_and_instant_issuance_wait_for_the_fee_too() {
    let app = TestApp::spawn().await;
    // Mailed: delivery is a hand-over, refused while the fee is unpaid.
    let (pid, _) = person(&app).await;
    let id = replacement(&app, &pid, "online", None).await;
    app.step(&app.tokens.clerk, &id, "approve").await;
    app.step(&app.tokens.teller_icbc, &id, "produce").await;
    app.step(&app.tokens.teller_icbc, &id, "ship").await;
    app.post_empty(Some(&app.tokens.teller_icbc), &format!("/applications/{id}/deliver"))
        .await
        .problem(422, "fee_unpaid");
    app.post(Some(&app.tokens.clerk), &format!("/applications/{id}/fee-waiver"), &json!({ "reason": "邮寄免费" }))
        .await
        .expect(200);
    let r = app.post_empty(Some(&app.tokens.teller_icbc), &format!("/applications/{id}/deliver")).await;
    r.expect(200);
    assert_eq!(r.json["status"], "delivered");

    // Instant at a printer: the card is printed at once but waits at the counter for its fee.
    let (pid, _) = person(&app).await;
    let id = replacement(&app, &pid, "branch_instant", Some(PRINTER_BRANCH)).await;
    let r = app.get(Some(&app.tokens.teller_icbc), &format!("/applications/{id}")).await;
    r.expect(200);
    assert_eq!(r.json["status"], "ready_for_pickup");
    assert_eq!(r.json["fee_state"], "unpaid");
    assert_eq!(r.json["card"]["status"], "produced");
    let _ = CITY;
}

#[tokio::test]
async fn rejecting_an_application_needs_a_reason() {
    let app = TestApp::spawn().await;
    let (pid, _) = person(&app).await;
    let id = app.apply_branch(&pid).await["id"].as_str().expect("id").to_string();
    let reject = format!("/applications/{id}/reject");
    app.post_empty(Some(&app.tokens.clerk), &reject).await.problem(400, "reason_required").field("reason");
    app.post(Some(&app.tokens.clerk), &reject, &json!({ "reason": "" })).await.problem(400, "reason_required");
    app.post(Some(&app.tokens.clerk), &reject, &json!({ "reason": "x".repeat(201) })).await.problem(400, "bad_reason");
    app.post(Some(&app.tokens.clerk), &reject, &json!({ "why": "x" })).await.expect(400);
    app.post(Some(&app.tokens.clerk), &format!("/applications/{id}/approve"), &json!({ "reason": "fine" }))
        .await
        .problem(400, "unexpected_reason");
    let r = app.post(Some(&app.tokens.clerk), &reject, &json!({ "reason": "照片不清晰，请重新提交" })).await;
    r.expect(200);
    assert_eq!(r.json["status"], "rejected");
    assert_eq!(r.json["rejection_reason"], "照片不清晰，请重新提交");
    let seen = app.get(Some(&app.tokens.teller_icbc), &format!("/applications/{id}")).await;
    assert_eq!(seen.json["rejection_reason"], "照片不清晰，请重新提交");
}

#[tokio::test]
async fn a_pin_typed_twice_must_match_and_is_kept_nowhere_in_clear() {
    let app = TestApp::spawn().await;
    let (pid, _) = person(&app).await;
    let card = app.issued_card(&pid).await;
    let activate = format!("/cards/{card}/activate");
    let events = app.event_count().await;
    let r = app
        .post(Some(&app.tokens.teller_icbc), &activate, &json!({ "pin": "739164", "pin_confirmation": "739146" }))
        .await;
    r.problem(422, "pin_mismatch").field("pin_confirmation");
    assert!(!r.text().contains("739164") && !r.text().contains("739146"), "{}", r.text());
    assert_eq!(app.card_status(&card).await, "issued");
    assert_eq!(app.event_count().await, events);
    let r = app
        .post(Some(&app.tokens.teller_icbc), &activate, &json!({ "pin": "739164", "pin_confirmation": "739164" }))
        .await;
    r.expect(200);
    assert_eq!(r.json["status"], "active");
    // Neither the events nor the audit trail hold the PIN.
    // (Counted by no-op updates in a transaction that is rolled back.)
    let mut tx = app.store.write().await.expect("write");
    let rows = |sql: &'static str| sql;
    let all = tx.execute_unchecked(rows("UPDATE audit_log SET detail = detail")).await.expect("audit rows");
    assert!(all > 0, "the search below looks at a real audit trail");
    let audit = tx.execute_unchecked(rows("UPDATE audit_log SET detail = detail WHERE detail LIKE '%739164%'")).await;
    let events = tx.execute_unchecked(rows("UPDATE events SET kind = kind WHERE payload LIKE '%739164%'")).await;
    drop(tx);
    assert_eq!((audit.expect("audit"), events.expect("events")), (0, 0));
}
