//! Personal data at rest, as a thief sees it: persons, a mailed application, a card with a
//! bank account, a replayable answer and a paid benefits batch (a line paid to that account and
//! a line of an unknown person) created over the API, then the SQLite file and its WAL (or a
//! `pg_dump` of the PostgreSQL database) searched for every value.

use crate::helpers::*;
use serde_json::Value;
use serde_json::json;
use sscard_domain::access::Role;
use time::macros::date;

/// What a thief takes away: the SQLite file and its WAL, or a plain `pg_dump`. None when
/// `pg_dump` is not installed (said loudly).
fn stolen(app: &TestApp) -> Option<Vec<u8>> {
    if backend() == "postgres" {
        let out = match std::process::Command::new("pg_dump").arg("--no-owner").arg(&app.db_url).output() {
            Ok(out) => out,
            Err(e) => {
                eprintln!("SKIPPED the pg_dump check: cannot run pg_dump ({e}); install the PostgreSQL client tools");
                return None;
            }
        };
        assert!(out.status.success(), "pg_dump failed: {}", String::from_utf8_lossy(&out.stderr));
        return Some(out.stdout);
    }
    let path = app.db_url.strip_prefix("sqlite://").expect("a sqlite:// URL").split('?').next().unwrap_or("");
    let mut bytes = std::fs::read(path).expect("the database file");
    bytes.extend(std::fs::read(format!("{path}-wal")).unwrap_or_default());
    Some(bytes)
}

fn holds(bytes: &[u8], value: &str) -> bool {
    let needle = value.as_bytes();
    bytes.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn a_stolen_database_file_or_dump_reveals_no_name_number_address_or_pan() {
    let app = TestApp::spawn().await;
    let t = &app.tokens;
    let doc = app.resident_id(date!(1977 - 03 - 09));
    let name = "欧阳秘密";
    let body = json!({ "doc_type": "resident_id", "doc_number": doc, "name": name, "region": REGION });
    // With an Idempotency-Key, so the answer (full SSN and name, as the clerk sees it) is kept.
    let r = app.post_idem(&t.clerk, "/persons", "stolen-person-1", Some(&body)).await;
    r.expect(201);
    assert_eq!(r.str("/ssn"), doc, "the clerk's answer carries the full number");
    let pid = r.str("/id");
    let mail = "福建省厦门市思明区密室巷88号";
    let apply =
        json!({ "person_id": pid, "kind": "first", "channel": "online", "bank_code": ICBC, "mail_address": mail });
    app.post_idem(&t.teller_icbc, "/applications", "stolen-app-1", Some(&apply)).await.expect(201);
    let holder = app.person_with_card(Role::Holder, true).await;
    let pan = app.full_pan(&holder.card_no).await;
    let seen = app.get(Some(&t.clerk), &format!("/persons/{}", holder.person_id)).await;
    seen.expect(200);
    let (holder_name, holder_ssn) = (seen.str("/name"), seen.str("/ssn"));
    // The replay still answers the full first answer, read back from its sealed copy.
    let again = app.post_idem(&t.clerk, "/persons", "stolen-person-1", Some(&body)).await;
    assert_eq!(again.text(), r.text());

    let ghost = (app.resident_id(date!(1951 - 06 - 07)), "司马无名");
    paid_batch(&app, (&holder_ssn, &holder_name), (&ghost.0, ghost.1), &holder.token, &holder.person_id).await;

    let Some(bytes) = stolen(&app) else { return };
    assert!(holds(&bytes, &pid), "the stolen copy is this database (it holds the person id)");
    assert!(holds(&bytes, &holder.card_no), "card numbers are not personal data and stay searchable");
    let values = [name, doc.as_str(), mail, "密室巷", pan.as_str(), holder_name.as_str(), holder_ssn.as_str()];
    for value in values.into_iter().chain([ghost.0.as_str(), ghost.1]) {
        assert!(!holds(&bytes, value), "{value} is in the stolen {} copy in clear", backend());
    }
}

/// A tax office pays a batch: the holder's line paid to their card's account, an unknown
/// person's line refused. The lines and the holder's benefits read back whole (masked account).
async fn paid_batch(app: &TestApp, holder: (&str, &str), ghost: (&str, &str), token: &str, person_id: &str) {
    let admin = Some(app.tokens.admin.as_str());
    app.post(admin, "/payers", &json!({ "code": "TAX-XM", "name": "厦门税务局", "region": REGION })).await.expect(201);
    let program = json!({ "code": "TAXREF", "name": "退税", "kind": "tax_refund", "needs_certification": false });
    app.post(admin, "/benefits/programs", &program).await.expect(201);
    let user = json!({ "username": "tax.rest", "password": PASSWORD, "role": "payer", "payer_code": "TAX-XM" });
    app.post(admin, "/users", &user).await.expect(201);
    let tax = app.login("tax.rest").await;
    let lines = [("1", holder, 12_345), ("2", ghost, 500)];
    let lines: Vec<Value> = lines
        .iter()
        .map(|(id, (ssn, name), f)| json!({ "line_id": id, "ssn": ssn, "name": name, "amount_fen": f }))
        .collect();
    let body = json!({ "batch_id": "REST-1", "program": "TAXREF", "period": "2026-10", "declared_lines": 2,
        "declared_total_fen": 12_845, "lines": lines });
    app.post(Some(&tax), "/benefits/batches", &body).await.expect(200);
    let r = app.get(Some(&tax), "/benefits/batches/REST-1/lines").await;
    let got = r.expect(200).json.as_array().expect("lines").clone();
    assert_eq!((got[0]["outcome"].as_str(), got[0]["name"].as_str()), (Some("paid"), Some(holder.1)));
    assert_eq!((got[1]["outcome"].as_str(), got[1]["name"].as_str()), (Some("unknown_person"), Some(ghost.1)));
    let r = app.get(Some(token), &format!("/persons/{person_id}/benefits")).await;
    let mine = r.expect(200).json.as_array().expect("benefits").clone();
    assert!(mine[0]["account_masked"].as_str().is_some_and(|a| a.contains('*')), "{mine:?}");
}
