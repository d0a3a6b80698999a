//! Persons over HTTP: registration with every document type, the refusals (with the field
//! at fault), minors and guardians, the newborn one-step registration, and look-ups.
//! Every refused request must leave the database as it was.

use crate::helpers::{ICBC, PLAIN_BRANCH, REGION, Resp, TestApp, rc};
use serde_json::{Value, json};
use sscard_domain::document::{Ssn, gb11643_check_char, make_resident_id, mask_id};
use time::macros::date;

/// The overview and the number of events: what must not move when a request is refused.
async fn snapshot(app: &TestApp) -> (Value, usize) {
    (app.overview().await, app.event_count().await)
}

#[track_caller]
fn unchanged(before: &(Value, usize), after: &(Value, usize), what: &str) {
    assert_eq!(before.0, after.0, "overview changed after refused request: {what}");
    assert_eq!(before.1, after.1, "events were written by a refused request: {what}");
}

/// An 18-character number with a correct check character for any 17 digits.
fn with_check(first17: &str) -> String {
    let check = gb11643_check_char(first17.as_bytes()).expect("17 digits");
    format!("{first17}{check}")
}

/// (doc_type, doc_number, sex given, birth date given, expected SSN, sex, birth date, retired)
struct Case(&'static str, String, Option<&'static str>, Option<&'static str>, String, &'static str, &'static str, bool);

async fn register(app: &TestApp, body: &Value) -> Resp {
    app.post(Some(&app.tokens.teller_icbc), "/persons", body).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_document_type_registers_with_derived_fields() {
    let app = TestApp::spawn().await;
    let resident = app.resident_id(date!(1985 - 06 - 15)); // odd sequence: male
    let permit = with_check("81000019900203002"); // Hong Kong residence permit, even: female
    let fpr2023 = with_check("93584019751120013"); // 2023 permanent residence ID
    // (doc_type, doc_number, sex given, birth date given, ssn expected, sex, birth, retired)
    let cases: Vec<Case> = vec![
        Case("resident_id", resident.clone(), None, None, resident.clone(), "male", "1985-06-15", false),
        Case("residence_permit", permit.clone(), None, None, permit.clone(), "female", "1990-02-03", false),
        Case("foreign_permanent_id", fpr2023.clone(), None, None, fpr2023.clone(), "male", "1975-11-20", false),
        Case(
            "foreign_permanent_id",
            "USA310019751120".into(),
            Some("female"),
            Some("1970-01-01"),
            "USA310019751120".into(),
            "female",
            "1970-01-01",
            true, // a woman of 56: past the statutory 55
        ),
        Case(
            "passport",
            "e12345678".into(), // normalised to uppercase
            Some("male"),
            Some("1970-01-01"),
            Ssn::assigned(rc(REGION), 1).as_str().to_string(),
            "male",
            "1970-01-01",
            false, // a man of 56: not yet 60
        ),
        Case(
            "hk_macau_travel_permit",
            "H12345678".into(),
            Some("male"),
            Some("1950-12-31"),
            Ssn::assigned(rc(REGION), 2).as_str().to_string(),
            "male",
            "1950-12-31",
            true,
        ),
        Case(
            "taiwan_travel_permit",
            "12345678".into(),
            Some("female"),
            Some("2000-02-29"),
            Ssn::assigned(rc(REGION), 3).as_str().to_string(),
            "female",
            "2000-02-29",
            false,
        ),
        Case(
            "foreign_work_permit",
            "WP2026000123".into(),
            Some("male"),
            Some("1990-07-01"),
            Ssn::assigned(rc(REGION), 4).as_str().to_string(),
            "male",
            "1990-07-01",
            false,
        ),
    ];
    let persons_before = app.overview().await["persons"].as_i64().expect("persons");
    for (i, Case(doc_type, number, sex, birth, ssn, want_sex, want_birth, retired)) in cases.iter().enumerate() {
        let mut body = json!({ "doc_type": doc_type, "doc_number": number, "name": "测试 Person", "region": REGION });
        if let Some(s) = sex {
            body["sex"] = json!(s);
        }
        if let Some(b) = birth {
            body["birth_date"] = json!(b);
        }
        let r = register(&app, &body).await;
        r.expect(201);
        assert_eq!(r.content_type(), "application/json");
        let p = &r.json;
        assert_eq!(p["doc_type"], *doc_type, "{doc_type}");
        assert_eq!(p["ssn"], ssn.as_str(), "{doc_type}");
        if *doc_type == "passport" || doc_type.ends_with("permit") && *doc_type != "residence_permit" {
            assert!(ssn.starts_with(&format!("A{REGION}")), "assigned SSN: {ssn}");
        }
        assert_eq!(p["doc_number"], mask_id(&number.to_uppercase()), "{doc_type}");
        assert!(p["doc_number"].as_str().expect("doc_number").contains('*'), "{doc_type}: doc number not masked");
        assert_eq!(p["sex"], *want_sex, "{doc_type}");
        assert_eq!(p["birth_date"], *want_birth, "{doc_type}");
        assert_eq!(p["minor"], false, "{doc_type}");
        assert_eq!(p["retired"], *retired, "{doc_type}");
        assert_eq!(p["region"], REGION);
        assert_eq!(p["name"], "测试 Person");
        assert!(p["guardian_id"].is_null());
        assert!(p["id"].as_str().is_some_and(|id| id.len() >= 32), "id: {}", p["id"]);
        let ov = app.overview().await;
        assert_eq!(ov["persons"].as_i64(), Some(persons_before + i as i64 + 1));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_documents_are_refused_with_the_field_and_change_nothing() {
    let app = TestApp::spawn().await;
    let good = app.resident_id(date!(1990 - 01 - 01));
    let last = good.chars().last().expect("last");
    let wrong_check = format!("{}{}", &good[..17], if last == '1' { '2' } else { '1' });
    let bad_date = with_check("35020319901332001"); // month 13
    let feb30 = with_check("35020319900230001");
    let future = with_check("35020320990101001");
    let permit_as_resident = with_check("81000019900203001");
    let resident_as_permit = good.clone();
    let before = snapshot(&app).await;
    // (body, status, code, field)
    let cases: Vec<(Value, u16, &str, &str)> = vec![
        (
            json!({ "doc_type": "resident_id", "doc_number": wrong_check, "name": "甲", "region": REGION }),
            400,
            "bad_document",
            "doc_number",
        ),
        (
            json!({ "doc_type": "resident_id", "doc_number": bad_date, "name": "甲", "region": REGION }),
            400,
            "bad_document",
            "doc_number",
        ),
        (
            json!({ "doc_type": "resident_id", "doc_number": feb30, "name": "甲", "region": REGION }),
            400,
            "bad_document",
            "doc_number",
        ),
        (
            json!({ "doc_type": "resident_id", "doc_number": future, "name": "甲", "region": REGION }),
            400,
            "bad_document",
            "doc_number",
        ),
        (
            json!({ "doc_type": "resident_id", "doc_number": permit_as_resident, "name": "甲", "region": REGION }),
            400,
            "bad_document",
            "doc_number",
        ),
        (
            json!({ "doc_type": "residence_permit", "doc_number": resident_as_permit, "name": "甲", "region": REGION }),
            400,
            "bad_document",
            "doc_number",
        ),
        (
            json!({ "doc_type": "resident_id", "doc_number": "3502031990", "name": "甲", "region": REGION }),
            400,
            "bad_document",
            "doc_number",
        ),
        (
            json!({ "doc_type": "passport", "doc_number": "ABCDEFG", "name": "甲", "sex": "male", "birth_date": "1980-01-01", "region": REGION }),
            400,
            "bad_document",
            "doc_number",
        ),
        (
            json!({ "doc_type": "foreign_permanent_id", "doc_number": "XYZ310019751120", "name": "甲", "sex": "male", "birth_date": "1980-01-01", "region": REGION }),
            400,
            "bad_document",
            "doc_number",
        ),
        (
            json!({ "doc_type": "driving_licence", "doc_number": good, "name": "甲", "region": REGION }),
            400,
            "bad_doc_type",
            "doc_type",
        ),
        (
            json!({ "doc_type": "passport", "doc_number": "E12345678", "name": "甲", "sex": "x", "birth_date": "1980-01-01", "region": REGION }),
            400,
            "bad_sex",
            "sex",
        ),
        (
            json!({ "doc_type": "resident_id", "doc_number": good, "name": "甲", "region": "99999" }),
            400,
            "bad_region",
            "region",
        ),
        (
            json!({ "doc_type": "resident_id", "doc_number": good, "name": "甲", "region": "990000" }),
            400,
            "bad_region",
            "region",
        ),
        (
            json!({ "doc_type": "passport", "doc_number": "E12345678", "name": "甲", "sex": "male", "birth_date": "1980-02-30", "region": REGION }),
            400,
            "bad_birth_date",
            "birth_date",
        ),
        (
            json!({ "doc_type": "passport", "doc_number": "E12345678", "name": "甲", "sex": "male", "region": REGION }),
            400,
            "birth_date_required",
            "birth_date",
        ),
        (
            json!({ "doc_type": "passport", "doc_number": "E12345678", "name": "甲", "birth_date": "1980-01-01", "region": REGION }),
            400,
            "sex_required",
            "sex",
        ),
        (
            // The number says male (odd sequence).
            json!({ "doc_type": "resident_id", "doc_number": good, "name": "甲", "sex": "female", "region": REGION }),
            400,
            "sex_mismatch",
            "sex",
        ),
        (
            json!({ "doc_type": "resident_id", "doc_number": good, "name": "甲", "birth_date": "1990-01-02", "region": REGION }),
            400,
            "birth_date_mismatch",
            "birth_date",
        ),
        (
            json!({ "doc_type": "resident_id", "doc_number": good, "name": "  ", "region": REGION }),
            400,
            "bad_name",
            "name",
        ),
        (json!({ "doc_type": "resident_id", "doc_number": good, "region": REGION }), 400, "malformed_json", "name"),
        (
            json!({ "doc_type": "resident_id", "doc_number": good, "name": 42, "region": REGION }),
            400,
            "malformed_json",
            "body",
        ),
    ];
    for (body, status, code, field) in &cases {
        let r = register(&app, body).await;
        r.problem(*status, code).field(field);
        // No error message repeats a whole document number.
        assert!(!r.text().contains(&good[..]), "the answer repeats the number: {}", r.text());
        unchanged(&before, &snapshot(&app).await, &body.to_string());
    }
    // The good number itself is fine afterwards.
    register(&app, &json!({ "doc_type": "resident_id", "doc_number": good, "name": "甲", "region": REGION }))
        .await
        .expect(201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicates_bad_bodies_and_wrong_callers_are_refused() {
    let app = TestApp::spawn().await;
    let doc = app.resident_id(date!(1979 - 09 - 09));
    let body = json!({ "doc_type": "resident_id", "doc_number": doc, "name": "王五", "region": REGION });
    let first = register(&app, &body).await;
    first.expect(201);
    let before = snapshot(&app).await;

    // The same person again, also with a lowercase check character or by another teller.
    let dup = register(&app, &body).await;
    dup.problem(409, "person_exists");
    assert!(!dup.text().contains(&doc), "the 409 repeats the full SSN: {}", dup.text());
    let dup2 = app.post(Some(&app.tokens.teller_cmb), "/persons", &body).await;
    dup2.problem(409, "person_exists");
    unchanged(&before, &snapshot(&app).await, "duplicate");

    // Malformed JSON.
    let r = app.post_raw(&app.tokens.teller_icbc, "/persons", "application/json", b"{\"doc_type\": ".to_vec()).await;
    r.problem(400, "malformed_json");
    let r = app.post_raw(&app.tokens.teller_icbc, "/persons", "application/json", b"[1,2,3]".to_vec()).await;
    r.problem(400, "malformed_json");
    unchanged(&before, &snapshot(&app).await, "malformed json");

    // Right JSON, wrong content type (and none at all).
    let raw = serde_json::to_vec(&body).expect("json");
    app.post_raw(&app.tokens.teller_icbc, "/persons", "text/plain", raw.clone()).await.problem(415, "not_json");
    app.post_raw(&app.tokens.teller_icbc, "/persons", "application/x-www-form-urlencoded", raw.clone())
        .await
        .problem(415, "not_json");
    let no_type = app.client.post(app.url("/persons")).bearer_auth(&app.tokens.teller_icbc).body(raw);
    app.send(no_type).await.problem(415, "not_json");
    unchanged(&before, &snapshot(&app).await, "content type");

    // A body over 64 KiB.
    let fresh = app.resident_id(date!(1979 - 09 - 10));
    let big =
        json!({ "doc_type": "resident_id", "doc_number": fresh, "name": "x".repeat(70 * 1024), "region": REGION });
    let r = app
        .post_raw(&app.tokens.teller_icbc, "/persons", "application/json", serde_json::to_vec(&big).expect("json"))
        .await;
    r.problem(413, "body_too_large");
    unchanged(&before, &snapshot(&app).await, "too large");
    // Just under the limit is parsed (and refused for the over-long name, not for its size).
    let near =
        json!({ "doc_type": "resident_id", "doc_number": fresh, "name": "x".repeat(60 * 1024), "region": REGION });
    register(&app, &near).await.problem(400, "bad_name").field("name");

    // Holders cannot register persons; nobody can without a token.
    let r = app.post(Some(&app.tokens.holder1), "/persons", &body).await;
    r.problem(403, "forbidden");
    let r = app.post(None, "/persons", &body).await;
    r.problem(401, "unauthorized");
    unchanged(&before, &snapshot(&app).await, "callers");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn minors_under_sixteen_need_a_guardian() {
    let app = TestApp::spawn().await;
    let guardian = app.register_adult().await;
    let guardian_id = guardian["id"].as_str().expect("id");
    let child_doc = app.resident_id(date!(2016 - 03 - 01)); // ten years old
    let child = json!({ "doc_type": "resident_id", "doc_number": child_doc, "name": "小明", "region": REGION });
    let before = snapshot(&app).await;

    register(&app, &child).await.problem(400, "guardian_required").field("guardian_id");
    let mut unknown = child.clone();
    unknown["guardian_id"] = json!("no-such-person");
    unknown["relationship_proof"] = json!("HK1234567890");
    register(&app, &unknown).await.problem(400, "guardian_unknown").field("guardian_id");
    let mut no_proof = child.clone();
    no_proof["guardian_id"] = json!(guardian_id);
    register(&app, &no_proof).await.problem(400, "relationship_proof_required").field("relationship_proof");
    let mut bad_proof = no_proof.clone();
    bad_proof["relationship_proof"] = json!("HK-12 34");
    register(&app, &bad_proof).await.problem(400, "bad_relationship_proof").field("relationship_proof");
    unchanged(&before, &snapshot(&app).await, "minor without guardian");

    // A 17-year-old is a minor but needs no guardian; a minor cannot be a guardian.
    let teen_doc = app.resident_id(date!(2008 - 06 - 01));
    let teen =
        register(&app, &json!({ "doc_type": "resident_id", "doc_number": teen_doc, "name": "小红", "region": REGION }))
            .await;
    teen.expect(201);
    assert_eq!(teen.json["minor"], true);
    assert!(teen.json["guardian_id"].is_null());
    let before = snapshot(&app).await;
    let mut minor_guardian = child.clone();
    minor_guardian["guardian_id"] = teen.json["id"].clone();
    minor_guardian["relationship_proof"] = json!("HK1234567890");
    register(&app, &minor_guardian).await.problem(422, "guardian_is_minor");
    unchanged(&before, &snapshot(&app).await, "minor guardian");

    let mut ok = child.clone();
    ok["guardian_id"] = json!(guardian_id);
    ok["relationship_proof"] = json!("hk1234567890");
    let r = register(&app, &ok).await;
    r.expect(201);
    assert_eq!(r.json["minor"], true);
    assert_eq!(r.json["retired"], false);
    assert_eq!(r.json["guardian_id"], guardian_id);
    assert_eq!(r.json["birth_date"], "2016-03-01");
    let after = app.overview().await;
    assert_eq!(after["persons"].as_i64(), before.0["persons"].as_i64().map(|n| n + 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn newborn_registration_creates_the_person_and_the_application() {
    let app = TestApp::spawn().await;
    let mother = app.register_adult().await;
    let mother_id = mother["id"].as_str().expect("id");
    let baby_doc = make_resident_id(rc(REGION), date!(2026 - 02 - 20), 8); // even: female
    let body = json!({
        "doc_type": "resident_id", "doc_number": baby_doc, "name": "林小宝", "region": REGION,
        "guardian_id": mother_id, "relationship_proof": "Q350203260001",
        "bank_code": ICBC, "branch_code": PLAIN_BRANCH,
    });
    let before = snapshot(&app).await;

    // Without the guardian or the birth certificate: refused, nothing written.
    let mut no_guardian = body.clone();
    no_guardian.as_object_mut().expect("object").remove("guardian_id");
    app.post(Some(&app.tokens.teller_icbc), "/persons/newborn", &no_guardian)
        .await
        .problem(400, "guardian_required")
        .field("guardian_id");
    let mut no_proof = body.clone();
    no_proof.as_object_mut().expect("object").remove("relationship_proof");
    app.post(Some(&app.tokens.teller_icbc), "/persons/newborn", &no_proof).await.problem(400, "guardian_required");
    let mut bad_bank = body.clone();
    bad_bank["bank_code"] = json!("NOBANK");
    app.post(Some(&app.tokens.clerk), "/persons/newborn", &bad_bank)
        .await
        .problem(400, "unknown_bank")
        .field("bank_code");
    // A teller may only open the first application at their own bank.
    app.post(Some(&app.tokens.teller_icbc), "/persons/newborn", &bad_bank).await.problem(403, "forbidden");
    let mut other_bank = body.clone();
    other_bank["bank_code"] = json!(ICBC);
    app.post(Some(&app.tokens.teller_cmb), "/persons/newborn", &other_bank).await.problem(403, "forbidden");
    app.post(Some(&app.tokens.holder1), "/persons/newborn", &body).await.problem(403, "forbidden");
    unchanged(&before, &snapshot(&app).await, "newborn refusals");

    let r = app.post(Some(&app.tokens.teller_icbc), "/persons/newborn", &body).await;
    r.expect(201);
    let person = &r.json["person"];
    let application = &r.json["application"];
    assert_eq!(person["ssn"], baby_doc);
    assert_eq!(person["minor"], true);
    assert_eq!(person["sex"], "female");
    assert_eq!(person["birth_date"], "2026-02-20");
    assert_eq!(person["guardian_id"], mother_id);
    assert_eq!(application["person_id"], person["id"]);
    assert_eq!(application["channel"], "newborn");
    assert_eq!(application["kind"], "first");
    assert_eq!(application["status"], "submitted");
    assert_eq!(application["fee_fen"], 0);
    assert_eq!(application["bank_code"], ICBC);
    assert_eq!(application["timeline"].as_array().map(Vec::len), Some(1));
    assert_eq!(application["timeline"][0]["actor"], "teller.icbc");

    let after = app.overview().await;
    assert_eq!(after["persons"].as_i64(), before.0["persons"].as_i64().map(|n| n + 1));
    assert_eq!(crate::helpers::bucket(&after, "applications_by_channel", "newborn"), 1);
    assert_eq!(
        crate::helpers::total(&after, "applications_by_status"),
        crate::helpers::total(&before.0, "applications_by_status") + 1
    );

    // The application is there with its timeline, and the same baby cannot be registered twice.
    let app_id = application["id"].as_str().expect("id");
    let got = app.get(Some(&app.tokens.clerk), &format!("/applications/{app_id}")).await;
    got.expect(200);
    assert_eq!(got.json["channel"], "newborn");
    let before = snapshot(&app).await;
    app.post(Some(&app.tokens.teller_icbc), "/persons/newborn", &body).await.problem(409, "person_exists");
    unchanged(&before, &snapshot(&app).await, "newborn twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn persons_are_found_by_id_and_by_ssn() {
    let app = TestApp::spawn().await;
    let p = app.register_adult().await;
    let id = p["id"].as_str().expect("id");
    let ssn = p["ssn"].as_str().expect("ssn");

    let r = app.get(Some(&app.tokens.clerk), &format!("/persons/{id}")).await;
    r.expect(200);
    assert_eq!(r.json, p, "GET answers what POST answered");

    let r = app.get(Some(&app.tokens.teller_cmb), &format!("/persons?ssn={ssn}")).await;
    r.expect(200);
    assert_eq!(r.json["id"], id);
    // A lowercase x check character or surrounding spaces find the same person.
    let r = app.get(Some(&app.tokens.teller_cmb), &format!("/persons?ssn=%20{}%20", ssn.to_lowercase())).await;
    r.expect(200);
    assert_eq!(r.json["id"], id);

    let before = snapshot(&app).await;
    app.get(Some(&app.tokens.clerk), "/persons/0190aaaa-0000-7000-8000-000000000000").await.problem(404, "not_found");
    let unknown = app.resident_id(date!(1966 - 06 - 06));
    app.get(Some(&app.tokens.clerk), &format!("/persons?ssn={unknown}")).await.problem(404, "not_found");
    app.get(Some(&app.tokens.clerk), "/persons").await.problem(400, "ssn_required").field("ssn");
    app.get(Some(&app.tokens.clerk), "/persons?name=x").await.problem(400, "ssn_required").field("ssn");
    app.get(Some(&app.tokens.clerk), "/persons?ssn=12345").await.problem(400, "bad_document").field("ssn");
    // Holders see themselves only.
    app.get(Some(&app.tokens.holder1), &format!("/persons/{id}")).await.problem(403, "forbidden");
    app.get(Some(&app.tokens.holder1), &format!("/persons?ssn={ssn}")).await.problem(403, "forbidden");
    let own = app.get(Some(&app.tokens.holder1), &format!("/persons/{}", app.holder1_person)).await;
    own.expect(200);
    assert_eq!(own.json["id"], app.holder1_person.as_str());
    app.get(None, &format!("/persons/{id}")).await.problem(401, "unauthorized");
    unchanged(&before, &snapshot(&app).await, "look-ups");
}
