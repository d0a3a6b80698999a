//! Download my data (PIPL): `GET /api/v1/me/export` gives a holder everything held about
//! them, as an attachment that is never cached, and nothing about anyone else; staff and
//! terminals get 403.

use crate::helpers::{CITY, Holder, TestApp};
use serde_json::{Value, json};
use sscard_domain::access::Role;

const EXPORT: &str = "/me/export";

/// A holder with some history: a bank top-up, a tap at a gate, a channel sign-in and a look
/// at their record by the card office.
async fn holder_with_history(app: &TestApp, gate: &str, amount_fen: i64, channel: &str) -> (Holder, Value) {
    let h = app.person_with_card(Role::Holder, true).await;
    let topup = json!({ "card_no": h.card_no, "amount_fen": amount_fen, "source": "bank" });
    app.post(Some(&h.token), "/ewallet/topups", &topup).await.expect(201);
    app.post(Some(gate), "/transit/taps", &json!({ "card_no": h.card_no, "fare_fen": 150 })).await.expect(200);
    let grant = json!({ "kind": "channel", "channel": channel });
    app.post(Some(&h.token), "/ecard/authorizations", &grant).await.expect(201);
    let seen = app.get(Some(&app.tokens.clerk), &format!("/persons/{}", h.person_id)).await;
    seen.expect(200);
    let person = seen.json.clone();
    (h, person)
}

fn ids(list: &Value, key: &str) -> Vec<String> {
    list.as_array()
        .map(|a| a.iter().map(|v| v[key].as_str().unwrap_or_default().to_string()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_holder_downloads_everything_held_about_them_and_nothing_else() {
    let app = TestApp::spawn().await;
    let op = json!({ "code": "XM-BUS", "name": "Xiamen bus", "kind": "transit", "region": CITY });
    app.post(Some(&app.tokens.admin), "/operators", &op).await.expect(201);
    let made = app
        .post(
            Some(&app.tokens.admin),
            "/terminals",
            &json!({ "operator": "XM-BUS", "scenario": "transit", "region": CITY }),
        )
        .await;
    let gate = made.expect(201).str("/secret");
    let (a, a_seen) = holder_with_history(&app, &gate, 2_000, "alipay-test").await;
    let (b, b_seen) = holder_with_history(&app, &gate, 3_000, "wechat-test").await;

    let r = app.get(Some(&a.token), EXPORT).await;
    r.expect(200);
    assert!(r.content_type().starts_with("application/json"), "{}", r.content_type());
    let disposition = r.header("content-disposition").unwrap_or_default();
    assert!(
        disposition.starts_with("attachment; filename=\"sscard-export-") && disposition.ends_with(".json\""),
        "{disposition}"
    );
    assert!(disposition.contains(&sscard_domain::clock::china_date(app.now_ms()).to_string()), "{disposition}");
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    let d = &r.json;
    assert_eq!(d["format"], "sscard-export/1");

    // The person in full: it is theirs.
    assert_eq!(d["person"]["id"], a.person_id.as_str());
    assert_eq!(d["person"]["ssn"], a_seen["ssn"]);
    assert!(!d["person"]["ssn"].as_str().unwrap_or("*").contains('*'), "unmasked");
    assert_eq!(d["person"]["name"], a_seen["name"]);
    // Cards, with the full bank account number and no PIN hash.
    assert_eq!(ids(&d["cards"], "card_no"), vec![a.card_no.clone()]);
    assert_eq!(d["cards"][0]["pan"].as_str().map(str::len), Some(19), "{}", d["cards"]);
    assert!(!r.text().contains("pin_hash") && !r.text().contains("pbkdf2"), "no PIN hash");
    // The application with its timeline.
    let apps = d["applications"].as_array().cloned().unwrap_or_default();
    assert_eq!(apps.len(), 1);
    assert_eq!(apps[0]["application"]["card_no"], a.card_no.as_str());
    let steps: Vec<String> = ids(&apps[0]["timeline"], "status");
    assert!(
        steps.first().map(String::as_str) == Some("submitted") && steps.contains(&"collected".to_string()),
        "{steps:?}"
    );
    // The e-card and its authorizations.
    assert_eq!(d["ecard"]["card_no"], a.card_no.as_str());
    assert_eq!(d["ecard"]["person_id"], a.person_id.as_str());
    assert_eq!(ids(&d["authorizations"], "channel"), vec!["alipay-test".to_string()]);
    // The tap, the wallet and the money that moved.
    let uses = d["uses"].as_array().cloned().unwrap_or_default();
    assert_eq!(uses.len(), 1, "{uses:?}");
    assert_eq!(
        (uses[0]["card_no"].as_str(), uses[0]["scenario"].as_str()),
        (Some(a.card_no.as_str()), Some("transit"))
    );
    let wallet = format!("ewallet:{}", a.card_no);
    let accounts = d["accounts"].as_array().cloned().unwrap_or_default();
    let held = accounts.iter().find(|x| x["id"] == wallet.as_str()).and_then(|x| x["balance_fen"].as_i64());
    assert_eq!(held, Some(2_000 - 150));
    let moved: Vec<(i64, String)> = d["transfers"]
        .as_array()
        .map(|t| {
            t.iter()
                .map(|x| (x["amount_fen"].as_i64().unwrap_or(0), x["kind"].as_str().unwrap_or("").to_string()))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(moved, vec![(150, "fare".to_string()), (2_000, "topup".to_string())]);
    // The card office's look at their record, and the place for benefits.
    let reads = d["staff_reads"].as_array().cloned().unwrap_or_default();
    assert!(reads.iter().any(|x| x["actor"] == "clerk" && x["role"] == "clerk"), "{reads:?}");
    assert_eq!(d["benefits"], json!([]));
    assert_eq!(d["truncated"], json!([]));

    // Nothing about the other holder.
    let text = r.text();
    for other in [b.person_id.as_str(), b.card_no.as_str(), b_seen["ssn"].as_str().unwrap_or("?"), "wechat-test"] {
        assert!(!text.contains(other), "{other} leaked into another holder's export");
    }
    let rb = app.get(Some(&b.token), EXPORT).await;
    assert_eq!(rb.expect(200).json["person"]["id"], b.person_id.as_str());
    assert!(!rb.text().contains(&a.person_id) && !rb.text().contains(&a.card_no));
}

#[tokio::test]
async fn only_a_holder_downloads_their_data() {
    let app = TestApp::spawn().await;
    app.get(None, EXPORT).await.problem(401, "unauthorized");
    app.get(Some("not-a-session"), EXPORT).await.problem(401, "unauthorized");
    for token in [&app.tokens.admin, &app.tokens.clerk, &app.tokens.teller_icbc, &app.tokens.terminal] {
        app.get(Some(token), EXPORT).await.problem(403, "forbidden");
    }
    let op = json!({ "code": "XM-LIB", "name": "Xiamen library", "kind": "library", "region": CITY });
    app.post(Some(&app.tokens.admin), "/operators", &op).await.expect(201);
    let made = app
        .post(
            Some(&app.tokens.admin),
            "/terminals",
            &json!({ "operator": "XM-LIB", "scenario": "library", "region": CITY }),
        )
        .await;
    app.get(Some(&made.expect(201).str("/secret")), EXPORT).await.problem(403, "forbidden");
    let mine = app.get(Some(&app.tokens.holder1), EXPORT).await;
    assert_eq!(mine.expect(200).json["person"]["id"], app.holder1_person.as_str());
    assert_eq!(mine.json["cards"], json!([]), "holder 1 has no card yet");
}

#[tokio::test]
async fn the_portal_offers_the_download_in_both_languages() {
    let app = TestApp::spawn().await;
    let h = app.person_with_card(Role::Holder, true).await;
    let page = |path: &str, token: &str, lang: &str| {
        app.client
            .get(format!("{}{path}", app.address))
            .header("cookie", format!("sscard_session={token}"))
            .header("accept-language", lang)
    };
    for (lang, words) in [("en", "Download my data"), ("zh-CN", "下载我的数据")] {
        let r = crate::helpers::send_req(page("/portal", &h.token, lang)).await;
        let html = r.text();
        assert!(html.contains(words) && html.contains(r#"action="/portal/export""#), "{lang}: {html}");
    }
    let r = crate::helpers::send_req(page("/portal/export", &h.token, "en")).await;
    r.expect(200);
    assert!(r.header("content-disposition").unwrap_or_default().starts_with("attachment; filename=\"sscard-export-"));
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    assert_eq!(
        (r.json["person"]["id"].as_str(), r.json["cards"][0]["card_no"].as_str()),
        (Some(h.person_id.as_str()), Some(h.card_no.as_str()))
    );
    // Staff in the browser get the page for another role, not someone's data.
    let staff = crate::helpers::send_req(page("/portal/export", &app.tokens.clerk, "en")).await;
    assert_eq!(staff.status, 403, "{}", staff.text());
    assert!(!staff.text().contains(&h.person_id));
    let anonymous = crate::helpers::send_req(app.client.get(format!("{}/portal/export", app.address))).await;
    assert_eq!((anonymous.status, anonymous.header("location").as_deref()), (303, Some("/login")));
}

#[tokio::test]
async fn the_export_lists_the_benefits_paid_to_the_holder_and_when_they_certified() {
    let app = TestApp::spawn().await;
    let admin = Some(app.tokens.admin.as_str());
    app.post(admin, "/payers", &json!({ "code": "TAX-XM", "name": "厦门税务局", "region": CITY })).await.expect(201);
    let program = json!({ "code": "TAXREF", "name": "个税退税", "kind": "tax_refund", "needs_certification": false });
    app.post(admin, "/benefits/programs", &program).await.expect(201);
    let user = json!({ "username": "tax.staff", "password": crate::helpers::PASSWORD, "role": "payer", "payer_code": "TAX-XM" });
    app.post(admin, "/users", &user).await.expect(201);
    let payer = app.login("tax.staff").await;
    let (a, b) = (app.person_with_card(Role::Holder, true).await, app.person_with_card(Role::Holder, true).await);
    let seen = app.get(Some(&app.tokens.clerk), &format!("/persons/{}", a.person_id)).await.expect(200).json.clone();
    let line = json!({ "line_id": "L1", "ssn": seen["ssn"], "name": seen["name"], "amount_fen": 12_345 });
    let body = json!({ "batch_id": "B1", "program": "TAXREF", "period": "2026-11", "declared_lines": 1,
        "declared_total_fen": 12_345, "lines": [line] });
    app.post(Some(&payer), "/benefits/batches", &body).await.expect(200);
    app.post(Some(&a.token), "/benefits/certifications", &json!({ "person_id": a.person_id })).await.expect(201);

    let d = app.get(Some(&a.token), EXPORT).await.expect(200).json.clone();
    let paid = d["benefits"].as_array().cloned().unwrap_or_default();
    assert_eq!(paid.len(), 1, "{paid:?}");
    assert_eq!(paid[0]["payment"]["amount_fen"], 12_345);
    assert_eq!(paid[0]["payment"]["period"], "2026-11");
    assert_eq!(paid[0]["program_kind"], "tax_refund");
    let card = d["cards"].as_array().and_then(|c| c.iter().find(|c| c["card_no"] == a.card_no.as_str()).cloned());
    let pan = card.map(|c| c["pan"].clone()).unwrap_or_default();
    assert!(pan.is_string() && paid[0]["payment"]["account_no"] == pan, "the account in full, as on the card");
    assert!(d["last_certified_at_ms"].as_i64().is_some_and(|t| t > 0), "{}", d["last_certified_at_ms"]);
    let other = app.get(Some(&b.token), EXPORT).await.expect(200).json.clone();
    assert_eq!(other["benefits"], json!([]), "another holder's export has none of it");
    assert_eq!(other["last_certified_at_ms"], Value::Null);
}
