//! The e-card follows its card: activation issues it, suspension stops it at once online and
//! offline after the next revocation sync, unsuspension restores it, a replacement card takes
//! it over, and every other stop gives its own reason. Events and audit records are written.

use crate::helpers::TestApp;
use serde_json::json;
use sscard_domain::access::Role;
use sscard_domain::application::AppKind;

#[tokio::test]
async fn activation_issues_the_ecard_with_event_and_audit() {
    let app = TestApp::spawn().await;
    let h = app.person_with_card(Role::Holder, false).await;
    // Issued but not active: no e-card, no QR code.
    assert_eq!(app.get(Some(&h.token), "/ecard").await.status, 404);
    let r = app.qr(&h.token, None).await;
    assert_eq!(r.status, 422, "{:?}", r.json);
    assert_eq!(r.code(), "no_ecard");

    let r = app
        .post(Some(&h.token), &format!("/cards/{}/activate", h.card_no), &json!({ "pin": crate::helpers::GOOD_PIN }))
        .await;
    r.expect(200);
    let e = app.get(Some(&h.token), "/ecard").await.expect(200).json.clone();
    assert_eq!(e["status"], "active");
    assert_eq!(e["usable"], true);
    assert_eq!(e["card_no"], h.card_no.as_str());
    let id = e["id"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 32);
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));

    let events = app.events_with("ecard.issued").await;
    let mut tx = app.store.read().await.unwrap();
    let issued: Vec<_> = events.iter().filter(|e| e.kind == "ecard.issued").collect();
    assert_eq!(issued.len(), 1);
    assert_eq!(issued[0].payload["ecard_id"], id.as_str());
    assert_eq!(issued[0].entity_id, id);
    let audit = tx.audit_of_entity("ecard", &id, 100).await.unwrap();
    assert_eq!(audit.iter().map(|a| a.action.as_str()).collect::<Vec<_>>(), ["ecard.issued"]);
    tx.commit().await.unwrap();

    // A QR code now verifies, and a second one carries a fresh nonce.
    let q1 = app.qr_token(&h.token).await;
    let q2 = app.qr_token(&h.token).await;
    assert_ne!(q1, q2);
    let v = app.verify(&q1).await;
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["ecard_id"], id.as_str());
}

#[tokio::test]
async fn suspension_stops_online_at_once_and_offline_after_sync_and_unsuspend_restores() {
    let app = TestApp::spawn().await;
    let h = app.person_with_card(Role::Holder, true).await;
    let other = app.person_with_card(Role::Holder, true).await;
    let qr = app.qr_token(&h.token).await;
    let mut offline = app.offline().await;
    let now = app.now_s();
    assert!(offline.verify(&qr, now).is_ok());
    assert_eq!(app.verify(&qr).await["valid"], true);

    app.post(Some(&h.token), &format!("/cards/{}/suspend", h.card_no), &json!({})).await.expect(200);
    // Online: refused at once with the card's state.
    let v = app.verify(&qr).await;
    assert_eq!(v["valid"], false);
    assert_eq!(v["reason"], "card_suspended");
    assert!(v["attributes"].is_null());
    // No new QR code while suspended.
    let r = app.qr(&h.token, None).await;
    assert_eq!(r.status, 409);
    assert_eq!(r.code(), "card_suspended");
    assert_eq!(r.json["current_state"], "suspended");
    assert_eq!(app.get(Some(&h.token), "/ecard").await.expect(200).json["status"], "stopped");
    // Offline: still accepted until the terminal syncs, refused after.
    assert!(offline.verify(&qr, now).is_ok());
    let id = app.get(Some(&h.token), "/ecard").await.expect(200).json["id"].clone();
    let changes = sync_until(&app, &mut offline, &id, false).await;
    assert_eq!(changes.iter().filter(|c| c["usable"] == false).count(), 1, "{changes:?}");
    assert_eq!(offline.verify(&qr, now).unwrap_err().code(), "revoked");
    // The full list agrees, and the other holder is untouched.
    let full = app.get(None, "/revocations?since=0").await.expect(200).json.clone();
    assert_eq!(full["revoked"], json!([id]));
    assert_eq!(full["full"], true);
    let other_qr = app.qr_token(&other.token).await;
    assert!(offline.verify(&other_qr, now).is_ok());

    // Unsuspend restores: online at once, offline after the next sync.
    app.post(Some(&h.token), &format!("/cards/{}/unsuspend", h.card_no), &json!({})).await.expect(200);
    let fresh = app.qr_token(&h.token).await;
    assert_eq!(app.verify(&fresh).await["valid"], true);
    assert_eq!(app.verify(&qr).await["valid"], true, "an unexpired token of a restored e-card verifies again");
    assert!(offline.verify(&fresh, now).is_err());
    let changes = sync_until(&app, &mut offline, &id, true).await;
    assert_eq!(changes.last().unwrap()["usable"], true);
    assert!(offline.verify(&fresh, now).is_ok());
    assert_eq!(app.get(None, "/revocations?since=0").await.expect(200).json["revoked"], json!([]));
    // Nothing new: an empty page that keeps the cursor.
    let seq = offline.revocations_seq();
    assert!(app.sync(&mut offline).await.is_empty());
    assert!(offline.revocations_seq() >= seq);
}

/// Syncs until the feed has said `usable` for `id` (see [`TestApp::sync`] on PostgreSQL).
async fn sync_until(
    app: &TestApp,
    v: &mut sscard_gm::offline::OfflineVerifier,
    id: &serde_json::Value,
    usable: bool,
) -> Vec<serde_json::Value> {
    let mut all = Vec::new();
    for _ in 0..50 {
        all.extend(app.sync(v).await);
        if all.iter().any(|c| &c["ecard_id"] == id && c["usable"] == usable) {
            break;
        }
    }
    all
}

#[tokio::test]
async fn a_replacement_card_takes_the_ecard_over() {
    let app = TestApp::spawn().await;
    let h = app.person_with_card(Role::Holder, true).await;
    let before = app.get(Some(&h.token), "/ecard").await.expect(200).json.clone();
    let old_qr = app.qr_token(&h.token).await;
    app.post(Some(&h.token), &format!("/cards/{}/report-lost", h.card_no), &json!({})).await.expect(200);
    assert_eq!(app.verify(&old_qr).await["reason"], "card_lost");

    let new_card = app.instant_card(&h.person_id, AppKind::Replacement).await;
    assert_ne!(new_card, h.card_no);
    // Made and handed over but not active yet: the e-card stays stopped on the lost card.
    let e = app.get(Some(&h.token), "/ecard").await.expect(200).json.clone();
    assert_eq!(e["status"], "stopped");
    app.post(Some(&h.token), &format!("/cards/{new_card}/activate"), &json!({ "pin": crate::helpers::GOOD_PIN }))
        .await
        .expect(200);
    let after = app.get(Some(&h.token), "/ecard").await.expect(200).json.clone();
    assert_eq!(after["id"], before["id"], "one e-card per person for life");
    assert_eq!(after["card_no"], new_card.as_str());
    assert_eq!(after["status"], "active");
    let qr = app.qr_token(&h.token).await;
    let v = app.verify(&qr).await;
    assert_eq!(v["valid"], true, "{v}");
    // The old card itself is now replaced.
    let old = app.get(Some(&app.tokens.clerk), &format!("/cards/{}", h.card_no)).await.expect(200).json.clone();
    assert_eq!(old["status"], "replaced");
}

#[tokio::test]
async fn stop_and_cancel_stop_the_ecard_with_their_reason() {
    let app = TestApp::spawn().await;
    let a = app.person_with_card(Role::Holder, true).await;
    let b = app.person_with_card(Role::Holder, true).await;
    let qa = app.qr_token(&a.token).await;
    let qb = app.qr_token(&b.token).await;
    app.post(Some(&app.tokens.clerk), &format!("/cards/{}/stop", a.card_no), &json!({ "reason": "moved to 110105" }))
        .await
        .expect(200);
    app.post(Some(&b.token), &format!("/cards/{}/cancel", b.card_no), &json!({ "reason": "holder_request" }))
        .await
        .expect(200);
    assert_eq!(app.verify(&qa).await["reason"], "card_stopped");
    assert_eq!(app.verify(&qb).await["reason"], "card_cancelled");
    let full = app.get(None, "/revocations?since=0").await.expect(200).json.clone();
    assert_eq!(full["revoked"].as_array().unwrap().len(), 2);
    // Each stop wrote its event in the card's transaction.
    let kinds: Vec<String> = app.events_with("card.cancelled").await.into_iter().map(|e| e.kind).collect();
    let pos = |k: &str| kinds.iter().position(|x| x == k).unwrap();
    assert!(pos("card.stopped") < pos("ecard.stopped"));
    assert_eq!(kinds.iter().filter(|k| *k == "ecard.stopped").count(), 2);
}

#[tokio::test]
async fn a_change_made_by_another_process_reaches_online_verification_through_the_outbox() {
    let app = TestApp::spawn_with_scheduler().await;
    let h = app.person_with_card(Role::Holder, true).await;
    let qr = app.qr_token(&h.token).await;
    // Let the outbox tail pass the holder's own events (it evicts them again, harmlessly).
    tokio::time::sleep(sscard_server::scheduler::LIVE_TAIL_PERIOD * 3).await;
    // The first verification reads the e-card and holds it in the server's live set.
    assert_eq!(app.verify(&qr).await["valid"], true);
    assert_eq!(app.verify(&qr).await["valid"], true);

    // Another process (its own connection pool, as the `sscard` CLI or a second instance)
    // suspends the card: this server hears of it only through the outbox.
    let other =
        sscard_store_sql::open(&app.db_url, app.data_keys.clone()).await.expect("a second handle on the database");
    let mut c = crate::helpers::ctx(app.now_ms());
    c.actor = sscard_domain::access::Actor::system("other-process");
    sscard_app::cards::act(
        other.as_ref(),
        &c,
        &sscard_domain::ids::CardNo::parse(&h.card_no).expect("card number"),
        sscard_domain::card::CardAction::Suspend,
        Default::default(),
    )
    .await
    .expect("suspend from the other process");
    other.close().await;

    let started = std::time::Instant::now();
    let mut verdict = app.verify(&qr).await;
    while verdict["valid"] == true && started.elapsed() < std::time::Duration::from_secs(10) {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        verdict = app.verify(&qr).await;
    }
    assert_eq!(verdict["valid"], false, "the outbox tail evicted the held e-card");
    assert_eq!(verdict["reason"], "card_suspended");
    eprintln!("refused {:?} after the other process's commit", started.elapsed());
}
