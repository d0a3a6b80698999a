//! Who may do what with an e-card: family authorization (a relative shows the QR code, until
//! revoked), channel sign-ins (listed, revoked), QR login for staff only, what a verification
//! discloses to each role, and the revocation feed's input checks.

use crate::helpers::TestApp;
use serde_json::json;
use sscard_domain::access::Role;

#[tokio::test]
async fn family_authorization_lets_a_relative_show_the_qr_until_revoked() {
    let app = TestApp::spawn().await;
    let elder = app.person_with_card(Role::Holder, true).await;
    let child = app.person_with_card(Role::Holder, true).await;
    let stranger = app.person_with_card(Role::Holder, true).await;
    let r = app.qr(&child.token, Some(&elder.person_id)).await;
    assert_eq!(r.status, 403, "{:?}", r.json);

    let grant = app
        .post(
            Some(&elder.token),
            "/ecard/authorizations",
            &json!({ "kind": "family", "grantee_person_id": child.person_id }),
        )
        .await;
    let grant = grant.expect(201).json.clone();
    assert_eq!(grant["kind"], "family");
    assert_eq!(grant["status"], "active");
    // Twice is a conflict; oneself is refused; an unknown person is a bad request.
    let again = app
        .post(
            Some(&elder.token),
            "/ecard/authorizations",
            &json!({ "kind": "family", "grantee_person_id": child.person_id }),
        )
        .await;
    assert_eq!((again.status, again.code().as_str()), (409, "already_authorized"));
    let me = app
        .post(
            Some(&elder.token),
            "/ecard/authorizations",
            &json!({ "kind": "family", "grantee_person_id": elder.person_id }),
        )
        .await;
    assert_eq!(me.status, 400);
    let nobody = app
        .post(Some(&elder.token), "/ecard/authorizations", &json!({ "kind": "family", "grantee_person_id": "nope" }))
        .await;
    assert_eq!(nobody.status, 400);

    let qr = app.qr(&child.token, Some(&elder.person_id)).await.expect(200).json["token"].as_str().unwrap().to_string();
    let v = app.verify(&qr).await;
    assert_eq!(v["valid"], true);
    let elder_ecard = app.get(Some(&elder.token), "/ecard").await.expect(200).json["id"].clone();
    assert_eq!(v["ecard_id"], elder_ecard, "the relative shows the elder's e-card, not their own");
    assert_eq!(app.qr(&stranger.token, Some(&elder.person_id)).await.status, 403);
    // The relative cannot revoke it, the holder can.
    let id = grant["id"].as_str().unwrap();
    let r = app.post(Some(&child.token), &format!("/ecard/authorizations/{id}/revoke"), &json!({})).await;
    assert_eq!(r.status, 404, "{:?}", r.json);
    let r = app.post(Some(&elder.token), &format!("/ecard/authorizations/{id}/revoke"), &json!({})).await;
    assert_eq!(r.expect(200).json["status"], "revoked");
    assert_eq!(app.qr(&child.token, Some(&elder.person_id)).await.status, 403);
    let r = app.post(Some(&elder.token), &format!("/ecard/authorizations/{id}/revoke"), &json!({})).await;
    assert_eq!((r.status, r.code().as_str()), (409, "already_revoked"));
}

#[tokio::test]
async fn channel_sign_ins_are_listed_and_revocable() {
    let app = TestApp::spawn().await;
    let h = app.person_with_card(Role::Holder, true).await;
    for ch in ["alipay", "wechat"] {
        let r = app.post(Some(&h.token), "/ecard/authorizations", &json!({ "kind": "channel", "channel": ch })).await;
        assert_eq!(r.expect(201).json["channel"], ch);
    }
    let dup =
        app.post(Some(&h.token), "/ecard/authorizations", &json!({ "kind": "channel", "channel": " alipay " })).await;
    assert_eq!((dup.status, dup.code().as_str()), (409, "already_authorized"));
    let bad = app.post(Some(&h.token), "/ecard/authorizations", &json!({ "kind": "channel", "channel": "" })).await;
    assert_eq!(bad.status, 400);
    let bad = app.post(Some(&h.token), "/ecard/authorizations", &json!({ "kind": "other" })).await;
    assert_eq!(bad.status, 400);

    let list = app.get(Some(&h.token), "/ecard/authorizations").await.expect(200).json.clone();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert!(list.iter().all(|a| a["status"] == "active" && a["kind"] == "channel"));
    let alipay = list.iter().find(|a| a["channel"] == "alipay").unwrap()["id"].as_str().unwrap().to_string();
    // Another holder cannot see or revoke them.
    let other = app.person_with_card(Role::Holder, true).await;
    assert_eq!(
        app.get(Some(&other.token), "/ecard/authorizations").await.expect(200).json.as_array().unwrap().len(),
        0
    );
    assert_eq!(
        app.get(Some(&other.token), &format!("/ecard/authorizations?person_id={}", h.person_id)).await.status,
        403
    );
    assert_eq!(
        app.post(Some(&other.token), &format!("/ecard/authorizations/{alipay}/revoke"), &json!({})).await.status,
        404
    );

    app.post(Some(&h.token), &format!("/ecard/authorizations/{alipay}/revoke"), &json!({})).await.expect(200);
    let list = app.get(Some(&h.token), "/ecard/authorizations").await.expect(200).json.clone();
    let statuses: Vec<(String, String)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["channel"].as_str().unwrap().to_string(), a["status"].as_str().unwrap().to_string()))
        .collect();
    assert!(statuses.contains(&("alipay".into(), "revoked".into())));
    assert!(statuses.contains(&("wechat".into(), "active".into())));
    // Signing in again after revocation is allowed; a stopped e-card cannot sign in.
    app.post(Some(&h.token), "/ecard/authorizations", &json!({ "kind": "channel", "channel": "alipay" }))
        .await
        .expect(201);
    app.post(Some(&h.token), &format!("/cards/{}/suspend", h.card_no), &json!({})).await.expect(200);
    let r = app.post(Some(&h.token), "/ecard/authorizations", &json!({ "kind": "channel", "channel": "12333" })).await;
    assert_eq!((r.status, r.code().as_str()), (409, "ecard_stopped"));
    // Staff may list a holder's authorizations.
    let staff = app.get(Some(&app.tokens.clerk), &format!("/ecard/authorizations?person_id={}", h.person_id)).await;
    assert_eq!(staff.expect(200).json.as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn staff_log_in_with_their_own_ecard_qr_and_holders_cannot() {
    let app = TestApp::spawn().await;
    let clerk = app.person_with_card(Role::Clerk, true).await;
    let qr = app.qr_token(&clerk.token).await;
    let r = app.post(None, "/auth/qr-login", &json!({ "token": qr })).await;
    let login = r.expect(200).json.clone();
    assert_eq!(login["role"], "clerk");
    assert_eq!(login["person_id"], clerk.person_id.as_str());
    let me = app.get(login["token"].as_str(), "/me").await.expect(200).json.clone();
    assert_eq!(me["role"], "clerk");
    // One QR code logs in once.
    let r = app.post(None, "/auth/qr-login", &json!({ "token": qr })).await;
    assert_eq!((r.status, r.code().as_str()), (401, "replayed"));
    let qr = app.qr_token(&clerk.token).await;

    let holder = app.person_with_card(Role::Holder, true).await;
    let hq = app.qr_token(&holder.token).await;
    let r = app.post(None, "/auth/qr-login", &json!({ "token": hq })).await;
    assert_eq!((r.status, r.code().as_str()), (401, "not_staff"));
    // A forged or expired token, or a suspended card, does not log in either.
    let r = app.post(None, "/auth/qr-login", &json!({ "token": "SSC1.AAAA" })).await;
    assert_eq!((r.status, r.code().as_str()), (401, "malformed"));
    app.post(Some(&clerk.token), &format!("/cards/{}/suspend", clerk.card_no), &json!({})).await.expect(200);
    let r = app.post(None, "/auth/qr-login", &json!({ "token": qr })).await;
    assert_eq!((r.status, r.code().as_str()), (401, "card_suspended"));
    app.post(Some(&clerk.token), &format!("/cards/{}/unsuspend", clerk.card_no), &json!({})).await.expect(200);
    app.advance_s(120);
    let r = app.post(None, "/auth/qr-login", &json!({ "token": qr })).await;
    assert_eq!((r.status, r.code().as_str()), (401, "expired"));
}

#[tokio::test]
async fn verification_discloses_by_role_and_never_the_full_ssn() {
    let app = TestApp::spawn().await;
    let h = app.person_with_card(Role::Holder, true).await;
    let qr = app.qr_token(&h.token).await;
    let person = app.get(Some(&app.tokens.clerk), &format!("/persons/{}", h.person_id)).await.expect(200).json.clone();
    let ssn = person["ssn"].as_str().unwrap().to_string();
    let name = person["name"].as_str().unwrap().to_string();

    let term = app.verify(&qr).await;
    assert_eq!(term["valid"], true);
    let a = &term["attributes"];
    assert!(a.get("ssn_masked").is_none(), "{a}");
    assert_eq!(a["name"], format!("{}**", name.chars().next().unwrap()));
    assert_eq!(a["region"], "350203");
    assert_eq!(
        (a["retired"].clone(), a["minor"].clone(), a["temporary"].clone()),
        (json!(false), json!(false), json!(false))
    );

    let staff =
        app.post(Some(&app.tokens.clerk), "/ecard/verify", &json!({ "token": qr })).await.expect(200).json.clone();
    let a = &staff["attributes"];
    assert_eq!(a["name"], name.as_str());
    assert_eq!(a["ssn_masked"], sscard_domain::document::mask_id(&ssn));
    for answer in [&term, &staff] {
        assert!(!answer.to_string().contains(&ssn), "the full SSN leaked: {answer}");
    }
}

#[tokio::test]
async fn revocation_feed_checks_its_input_and_pages() {
    let app = TestApp::spawn().await;
    for q in ["since=-1", "limit=0", "limit=10001", "since=0&after=xyz", "since=abc"] {
        assert_eq!(app.get(None, &format!("/revocations?{q}")).await.status, 400, "{q}");
    }
    let mut stopped = Vec::new();
    for _ in 0..3 {
        let h = app.person_with_card(Role::Holder, true).await;
        app.post(Some(&h.token), &format!("/cards/{}/suspend", h.card_no), &json!({})).await.expect(200);
        stopped.push(app.get(Some(&h.token), "/ecard").await.expect(200).json["id"].as_str().unwrap().to_string());
    }
    stopped.sort();
    // The full list in pages of 2.
    let p1 = app.get(None, "/revocations?since=0&limit=2").await.expect(200).json.clone();
    assert_eq!(p1["more"], true);
    let after = p1["next_after"].as_str().unwrap();
    let p2 = app.get(None, &format!("/revocations?since=0&limit=2&after={after}")).await.expect(200).json.clone();
    let mut all: Vec<String> = p1["revoked"]
        .as_array()
        .unwrap()
        .iter()
        .chain(p2["revoked"].as_array().unwrap())
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    all.sort();
    assert_eq!(all, stopped);
    // Changes in pages: 3 issued + 3 stopped, bounded by limit, resumable with next_since.
    // (On PostgreSQL events show once older transactions of its database have ended.)
    for _ in 0..100 {
        let all = app.get(None, "/revocations?since=1").await.expect(200).json.clone();
        if all["changes"].as_array().unwrap().len() == 6 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let c1 = app.get(None, "/revocations?since=1&limit=2").await.expect(200).json.clone();
    assert_eq!(c1["changes"].as_array().unwrap().len(), 2);
    assert_eq!(c1["more"], true);
    let next = c1["next_since"].as_i64().unwrap();
    assert_eq!(next, c1["changes"][1]["seq"].as_i64().unwrap());
    let rest = app.get(None, &format!("/revocations?since={next}")).await.expect(200).json.clone();
    assert_eq!(rest["more"], false);
    let seqs: Vec<i64> = rest["changes"].as_array().unwrap().iter().map(|c| c["seq"].as_i64().unwrap()).collect();
    assert!(seqs.iter().all(|s| *s > next) && seqs.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(
        rest["changes"].as_array().unwrap().iter().filter(|c| c["usable"] == false).count()
            + c1["changes"].as_array().unwrap().iter().filter(|c| c["usable"] == false).count(),
        3
    );
}

#[tokio::test]
async fn a_logged_out_terminal_cannot_verify_even_right_after_a_cached_verification() {
    let app = TestApp::spawn().await;
    let h = app.person_with_card(Role::Holder, true).await;
    let qr = app.qr_token(&h.token).await;
    let gate = app.login("gate1").await;
    let r = app.post(Some(&gate), "/ecard/verify", &json!({ "token": qr })).await;
    assert_eq!(r.expect(200).json["valid"], true);
    app.post(Some(&gate), "/auth/logout", &json!({})).await;
    let r = app.post(Some(&gate), "/ecard/verify", &json!({ "token": qr })).await;
    assert_eq!(r.status, 401);
    assert_eq!(app.post(Some("made-up"), "/ecard/verify", &json!({ "token": qr })).await.status, 401);
}
