//! Benefits over HTTP: payers, programs and payer logins (admin only), batches as JSON and as
//! CSV (statuses: 200, replay, 409 other body, 422 envelope, 400 malformed line, 415), the
//! lines as JSON and CSV, role scoping (a payer sees only its own batches; tellers and holders
//! submit nothing), certification, and the holder's benefits.

use crate::helpers::{PASSWORD, TestApp};
use serde_json::{Value, json};
use sscard_domain::access::Role;

pub(crate) struct Who {
    pub(crate) ssn: String,
    pub(crate) name: String,
}

pub(crate) async fn who(app: &TestApp, person_id: &str) -> Who {
    let mut tx = app.store.read().await.expect("read");
    let p = tx.get_person(person_id, false).await.expect("get").expect("person");
    tx.commit().await.expect("commit");
    Who { ssn: p.ssn.to_string(), name: p.name.as_str().to_string() }
}

/// Two payers (PF-XM with a pension program needing certification, TAX-XM with a tax refund)
/// and a login for each; answers their tokens.
pub(crate) async fn payers(app: &TestApp) -> (String, String) {
    let admin = Some(app.tokens.admin.as_str());
    for (code, name) in [("PF-XM", "厦门社保基金"), ("TAX-XM", "厦门税务局")] {
        app.post(admin, "/payers", &json!({ "code": code, "name": name, "region": "350200" })).await.expect(201);
    }
    let r = app.post(admin, "/payers", &json!({ "code": "PF-XM", "name": "again", "region": "350200" })).await;
    r.problem(409, "duplicate");
    let clerk = Some(app.tokens.clerk.as_str());
    app.post(clerk, "/payers", &json!({ "code": "X", "name": "x", "region": "350200" }))
        .await
        .problem(403, "forbidden");
    let program = |code: &str, kind: &str, cert: bool| json!({ "code": code, "name": code, "kind": kind, "needs_certification": cert });
    let r = app.post(admin, "/benefits/programs", &program("PENSION", "pension", true)).await;
    assert_eq!(r.expect(201).json["kind"], "pension");
    app.post(admin, "/benefits/programs", &program("TAXREF", "tax_refund", false)).await.expect(201);
    app.post(admin, "/benefits/programs", &program("BAD", "lottery", false))
        .await
        .problem(400, "bad_kind")
        .field("kind");
    let mut tokens = Vec::new();
    for (user, payer) in [("pf.staff", "PF-XM"), ("tax.staff", "TAX-XM")] {
        let body = json!({ "username": user, "password": PASSWORD, "role": "payer", "payer_code": payer });
        app.post(admin, "/users", &body).await.expect(201);
        tokens.push(app.login(user).await);
    }
    let body = json!({ "username": "p3", "password": PASSWORD, "role": "payer" });
    app.post(admin, "/users", &body).await.problem(400, "payer_required");
    (tokens.remove(0), tokens.remove(0))
}

pub(crate) fn batch(id: &str, program: &str, period: &str, lines: &[(&str, &Who, i64)]) -> Value {
    let total: i64 = lines.iter().map(|l| l.2).sum();
    let lines: Vec<Value> = lines
        .iter()
        .map(|(id, w, amount)| json!({ "line_id": id, "ssn": w.ssn, "name": w.name, "amount_fen": amount }))
        .collect();
    json!({ "batch_id": id, "program": program, "period": period, "declared_lines": lines.len(), "declared_total_fen": total, "lines": lines })
}

fn outcome(body: &Value, name: &str) -> (i64, i64) {
    let o = body["outcomes"].as_array().expect("outcomes").iter().find(|o| o["outcome"] == name).expect("outcome");
    (o["lines"].as_i64().unwrap_or(-1), o["total_fen"].as_i64().unwrap_or(-1))
}

#[tokio::test]
async fn payers_submit_batches_and_see_only_their_own() {
    let app = TestApp::spawn().await;
    let (pf, tax) = payers(&app).await;
    let holder = app.person_with_card(Role::Holder, true).await;
    let other = app.person_with_card(Role::Holder, true).await;
    let me = who(&app, &holder.person_id).await;
    let them = who(&app, &other.person_id).await;
    let ghost = Who { ssn: app.resident_id(time::macros::date!(1950 - 05 - 05)), name: "无名氏".into() };

    // Certification: the holder for themself; not for someone else.
    let r = app.post(Some(&holder.token), "/benefits/certifications", &json!({ "person_id": holder.person_id })).await;
    assert_eq!(r.expect(201).json["channel"], "portal");
    let r = app.post(Some(&other.token), "/benefits/certifications", &json!({ "person_id": holder.person_id })).await;
    r.problem(403, "forbidden");

    // A JSON batch: the certified holder is paid, the other is held, the stranger unknown.
    let body =
        batch("B-2026-03", "pension", "2026-03", &[("1", &me, 320_000), ("2", &them, 280_000), ("3", &ghost, 1)]);
    let r = app.post(Some(&pf), "/benefits/batches", &body).await;
    let first = r.expect(200).json.clone();
    assert_eq!((first["status"].as_str(), first["decided_lines"].as_i64()), (Some("done"), Some(3)));
    assert_eq!(outcome(&first, "paid"), (1, 320_000));
    assert_eq!(outcome(&first, "certification_overdue"), (1, 280_000));
    assert_eq!(outcome(&first, "unknown_person"), (1, 1));
    // Again: the first result; other content under the same id: 409.
    let again = app.post(Some(&pf), "/benefits/batches", &body).await;
    assert_eq!(again.expect(200).json, first);
    let mut changed = body.clone();
    changed["lines"][0]["amount_fen"] = json!(320_001);
    changed["declared_total_fen"] = json!(600_002);
    app.post(Some(&pf), "/benefits/batches", &changed).await.problem(409, "batch_id_reused");
    // Totals that do not add up: 422 naming the total, nothing kept.
    let mut wrong = batch("B-wrong", "pension", "2026-03", &[("1", &them, 100)]);
    wrong["declared_total_fen"] = json!(101);
    app.post(Some(&pf), "/benefits/batches", &wrong)
        .await
        .problem(422, "envelope_mismatch")
        .field("declared_total_fen");
    app.get(Some(&pf), "/benefits/batches/B-wrong").await.expect(404);

    // The lines, by outcome, as JSON and CSV; the paid line carries its key, bank and masked account.
    let r = app.get(Some(&pf), "/benefits/batches/B-2026-03/lines?outcome=paid").await;
    let paid = r.expect(200).json.as_array().expect("lines").clone();
    assert_eq!(paid.len(), 1);
    assert_eq!(paid[0]["line_id"], "1");
    assert!(paid[0]["end_to_end_id"].as_str().is_some_and(|k| k.len() <= 35));
    assert_eq!(paid[0]["bank_code"], "ICBC");
    assert!(paid[0]["account_masked"].as_str().is_some_and(|a| a.contains('*')));
    let r = app.get(Some(&pf), "/benefits/batches/B-2026-03/lines.csv?outcome=certification_overdue").await;
    assert!(r.expect(200).content_type().starts_with("text/csv"));
    let text = r.text();
    assert!(text.starts_with("seq,line_id,ssn,name,amount_fen,outcome"), "{text}");
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.contains("certification_overdue") && text.contains(&them.ssn));
    app.get(Some(&pf), "/benefits/batches/B-2026-03/lines?outcome=nope").await.problem(400, "bad_outcome");

    // Another payer cannot see it (its own namespace has no such batch; naming PF is refused).
    app.get(Some(&tax), "/benefits/batches/B-2026-03").await.expect(404);
    app.get(Some(&tax), "/benefits/batches/B-2026-03?payer=PF-XM").await.problem(403, "forbidden");
    app.get(Some(&tax), "/benefits/batches/B-2026-03/lines?payer=PF-XM").await.problem(403, "forbidden");
    app.get(Some(&app.tokens.clerk), "/benefits/batches/B-2026-03?payer=PF-XM").await.expect(200);
    // Nor may a payer submit for another, nor tellers and holders at all.
    let mut for_pf = batch("T1", "taxref", "2026-03", &[("1", &me, 500)]);
    for_pf["payer"] = json!("PF-XM");
    app.post(Some(&tax), "/benefits/batches", &for_pf).await.problem(403, "forbidden");
    let t1 = batch("T1", "taxref", "2026-03", &[("1", &me, 500)]);
    for token in [&app.tokens.teller_icbc, &holder.token] {
        let mut b = t1.clone();
        b["payer"] = json!("TAX-XM");
        app.post(Some(token), "/benefits/batches", &b).await.problem(403, "forbidden");
        // Naming no payer, they are refused for who they are, not asked to name one.
        app.post(Some(token), "/benefits/batches", &t1).await.problem(403, "forbidden");
        app.get(Some(token), "/benefits/batches/T1").await.problem(403, "forbidden");
    }

    // A CSV as a spreadsheet writes it: BOM, CRLF, quoted fields, and rows whose cells were
    // cleared (",,,"), which are no lines; the envelope in the query.
    let csv = format!(
        "\u{feff}line_id,ssn,name,amount_fen\r\n\"T,1\",{},\"{}\",8800\r\nT2,{},{},1200\r\n,,,\r\n,,,\r\n",
        me.ssn, me.name, them.ssn, them.name
    );
    let q = "/benefits/batches?batch_id=R-2026&program=TAXREF&period=2026-03&declared_lines=2&declared_total_fen=10000";
    let r = app.post_raw(&tax, q, "text/csv", csv.clone().into_bytes()).await;
    let body = r.expect(200).json.clone();
    assert_eq!(outcome(&body, "paid"), (2, 10_000));
    let without_cleared_rows = csv.trim_end_matches(",,,\r\n").to_string();
    let r = app.post_raw(&tax, q, "text/csv; charset=utf-8", csv.into_bytes()).await;
    assert_eq!(r.expect(200).json, body);
    // The same lines without those rows are the same batch.
    let r = app.post_raw(&tax, q, "text/csv", without_cleared_rows.into_bytes()).await;
    assert_eq!(r.expect(200).json, body);
    // A malformed line refuses the batch with its line number, the line of the file it is on
    // (the header is line 1) and its field; nothing is paid.
    let bad = format!("line_id,ssn,name,amount_fen\nA,{},{},100\nB,{},{},12.5\n", me.ssn, me.name, them.ssn, them.name);
    let q2 = "/benefits/batches?batch_id=R-bad&program=TAXREF&period=2026-04&declared_lines=2&declared_total_fen=200";
    let r = app.post_raw(&tax, q2, "text/csv", bad.into_bytes()).await;
    r.problem(400, "bad_line").field("amount_fen");
    assert!(
        r.json["detail"].as_str().is_some_and(|d| d.starts_with("line 2 (file line 3): amount_fen")),
        "{}",
        r.text()
    );
    app.get(Some(&tax), "/benefits/batches/R-bad").await.expect(404);
    let r =
        app.post_raw(&tax, "/benefits/batches?batch_id=R-x&program=TAXREF&period=2026-04", "text/csv", vec![]).await;
    r.problem(400, "missing_field").field("declared_lines");
    app.post_raw(&tax, q2, "text/plain", b"x".to_vec()).await.problem(415, "unsupported_media_type");

    // The holder sees what they received (masked account); others do not.
    let r = app.get(Some(&holder.token), &format!("/persons/{}/benefits", holder.person_id)).await;
    let list = r.expect(200).json.as_array().expect("benefits").clone();
    assert_eq!(list.len(), 2, "{list:?}");
    assert!(list.iter().any(|b| b["kind"] == "pension" && b["amount_fen"] == 320_000 && b["period"] == "2026-03"));
    assert!(list.iter().all(|b| b["account_masked"].as_str().is_some_and(|a| a.contains('*'))));
    for token in [&other.token, &pf, &app.tokens.teller_icbc] {
        app.get(Some(token), &format!("/persons/{}/benefits", holder.person_id)).await.problem(403, "forbidden");
    }
    // The portal shows them, in both languages, with a "certify now" form and no inline script.
    for (lang, words) in
        [("en", ["My benefits", "Pension", "Certify now"]), ("zh-CN", ["我的待遇", "养老金", "立即认证"])]
    {
        let req = app
            .client
            .get(format!("{}/portal", app.address))
            .header("cookie", format!("sscard_session={}", holder.token))
            .header("accept-language", lang);
        let r = crate::helpers::send_req(req).await;
        let html = r.text();
        assert!(words.iter().all(|w| html.contains(w)), "{lang}: {html}");
        assert!(html.contains(r#"action="/portal/benefits/certify""#) && html.contains("2026-03"), "{lang}");
        assert!(html.contains("3200.00") && !html.contains("<script>"), "{lang}");
    }
    let r = app.get(Some(&app.tokens.admin), "/ledger/check").await;
    assert_eq!(r.expect(200).json["clean"], json!(true), "{}", r.text());
    assert_eq!(r.json["report"]["transfers_total_fen"], json!(320_000 + 10_000));
}

/// An operator and an identity terminal of it; answers the terminal's (id, secret).
async fn identity_terminal(app: &TestApp, code: &str, kind: &str) -> (String, String) {
    let admin = Some(app.tokens.admin.as_str());
    let body = json!({ "code": code, "name": code, "kind": kind, "region": crate::helpers::CITY });
    app.post(admin, "/operators", &body).await.expect(201);
    let body = json!({ "operator": code, "scenario": "identity", "region": crate::helpers::CITY, "scope": ["name"] });
    let r = app.post(admin, "/terminals", &body).await;
    r.expect(201);
    (r.str("/id"), r.str("/secret"))
}

#[tokio::test]
async fn retirees_certify_at_an_agency_identity_terminal_with_the_card_or_the_qr() {
    let app = TestApp::spawn().await;
    let (pf, _) = payers(&app).await;
    let (gov_id, gov) = identity_terminal(&app, "XM-GOV", "agency").await;
    let (_, hosp) = identity_terminal(&app, "XM-HOSP", "hospital").await;
    let holder = app.person_with_card(Role::Holder, true).await;
    let path = "/benefits/certifications/terminal";
    let by_card = json!({ "card_no": holder.card_no });

    // Not a terminal, or a hospital's identity terminal: refused, nothing recorded.
    app.post(Some(&app.tokens.clerk), path, &by_card).await.expect(401);
    app.post(Some(&hosp), path, &by_card).await.problem(403, "not_certifying_terminal");
    let me = who(&app, &holder.person_id).await;
    let r = app.post(Some(&pf), "/benefits/batches", &batch("B-1", "pension", "2026-03", &[("1", &me, 1_000)])).await;
    assert_eq!(outcome(&r.expect(200).json, "certification_overdue"), (1, 1_000));

    // The card at the agency's terminal: certified with channel terminal and the terminal's id.
    let r = app.post(Some(&gov), path, &by_card).await;
    r.expect(201);
    assert_eq!(
        (r.str("/channel"), r.str("/terminal_id"), r.str("/person_id")),
        ("terminal".into(), gov_id.clone(), holder.person_id.clone())
    );
    assert!(r.json["valid_until_ms"].as_i64() > r.json["at_ms"].as_i64());
    // So next month's pension is paid.
    let r = app.post(Some(&pf), "/benefits/batches", &batch("B-2", "pension", "2026-04", &[("1", &me, 1_000)])).await;
    assert_eq!(outcome(&r.expect(200).json, "paid"), (1, 1_000));
    // The e-card QR works the same; the certification is a use of the card the holder sees.
    let token = app.qr_token(&holder.token).await;
    assert_eq!(app.post(Some(&gov), path, &json!({ "token": token })).await.expect(201).str("/channel"), "terminal");
    let uses = app.get(Some(&holder.token), &format!("/persons/{}/uses", holder.person_id)).await;
    assert!(
        uses.expect(200).json.as_array().is_some_and(|u| u
            .iter()
            .filter(|x| x["terminal_id"] == gov_id.as_str())
            .count()
            == 2),
        "{}",
        uses.text()
    );

    // A card that cannot be used is refused with its reason, and so is an unknown one or a bad QR.
    app.post_empty(Some(&holder.token), &format!("/cards/{}/suspend", holder.card_no)).await.expect(200);
    app.post(Some(&gov), path, &by_card).await.problem(422, "card_suspended");
    app.post(Some(&gov), path, &json!({ "token": token })).await.problem(422, "card_suspended");
    app.post(Some(&gov), path, &json!({ "card_no": "A99999999" })).await.problem(422, "unknown_card");
    app.post(Some(&gov), path, &json!({ "token": "SSC1.AAAA" })).await.problem(422, "malformed");
    app.post(Some(&gov), path, &json!({ "card_no": holder.card_no, "token": token }))
        .await
        .problem(400, "card_or_token");
    let uses = app.get(Some(&holder.token), &format!("/persons/{}/uses", holder.person_id)).await;
    assert_eq!(uses.expect(200).json[0]["reason"], "card_suspended", "{}", uses.text());
}
