//! The banks' side of benefit batches over HTTP: a bank's pain.001 validates against the
//! official ISO 20022 schema and its CSV twin lists the same credits; a pain.002 with an
//! accepted and a returned line, posted twice, returns the money once; a payer may not post
//! reports, a malformed one is 400; the reconciliation adds up per bank; OpenAPI lists it all.

use crate::helpers::{PASSWORD, TestApp};
use serde_json::{Value, json};
use sscard_domain::access::Role;
use std::path::Path;
use std::process::Command;

async fn payer_login(app: &TestApp) -> String {
    let admin = Some(app.tokens.admin.as_str());
    app.post(admin, "/payers", &json!({ "code": "TAX-BK", "name": "厦门税务局", "region": "350200" }))
        .await
        .expect(201);
    let program = json!({ "code": "TAXREF", "name": "个税退税", "kind": "tax_refund", "needs_certification": false });
    app.post(admin, "/benefits/programs", &program).await.expect(201);
    let body = json!({ "username": "tax.bk", "password": PASSWORD, "role": "payer", "payer_code": "TAX-BK" });
    app.post(admin, "/users", &body).await.expect(201);
    app.login("tax.bk").await
}

async fn line(app: &TestApp, id: &str, person_id: &str, amount: i64) -> Value {
    let mut tx = app.store.read().await.expect("read");
    let p = tx.get_person(person_id, false).await.expect("get").expect("person");
    tx.commit().await.expect("commit");
    json!({ "line_id": id, "ssn": p.ssn.to_string(), "name": p.name.as_str(), "amount_fen": amount })
}

fn xsd_valid(doc: &[u8]) -> (bool, String) {
    let dir = std::env::temp_dir().join(format!("sscard-pain001-{}-{}", std::process::id(), doc.len()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let file = dir.join("pain001.xml");
    std::fs::write(&file, doc).expect("write");
    let xsd = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sscard-iso20022/tests/xsd/pain.001.001.09.xsd");
    let out = Command::new("xmllint").arg("--noout").arg("--schema").arg(&xsd).arg(&file).output().expect("xmllint");
    let _ = std::fs::remove_dir_all(&dir);
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn pain002(records: &[(&str, &str, Option<&str>)]) -> Vec<u8> {
    let tx: String = records
        .iter()
        .map(|(id, sts, rsn)| {
            let reason = rsn.map(|r| format!("<StsRsnInf><Rsn><Cd>{r}</Cd></Rsn></StsRsnInf>")).unwrap_or_default();
            format!("<TxInfAndSts><OrgnlEndToEndId>{id}</OrgnlEndToEndId><TxSts>{sts}</TxSts>{reason}</TxInfAndSts>")
        })
        .collect();
    format!(
        "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.002.001.10\"><CstmrPmtStsRpt><GrpHdr><MsgId>R1</MsgId>\
         <CreDtTm>2026-03-02T10:00:00</CreDtTm></GrpHdr><OrgnlPmtInfAndSts><OrgnlPmtInfId>P</OrgnlPmtInfId>{tx}\
         </OrgnlPmtInfAndSts></CstmrPmtStsRpt></Document>"
    )
    .into_bytes()
}

#[tokio::test]
async fn bank_files_reports_and_reconciliation() {
    let app = TestApp::spawn().await;
    let tax = payer_login(&app).await;
    let a = app.person_with_card(Role::Holder, true).await;
    let b = app.person_with_card(Role::Holder, true).await;
    let lines = vec![line(&app, "1", &a.person_id, 120_050).await, line(&app, "2", &b.person_id, 7).await];
    let body = json!({ "batch_id": "R-1", "program": "TAXREF", "period": "2026-03", "declared_lines": 2,
        "declared_total_fen": 120_057, "lines": lines });
    app.post(Some(&tax), "/benefits/batches", &body).await.expect(200);
    let paid = app.get(Some(&tax), "/benefits/batches/R-1/lines?outcome=paid").await.expect(200).json.clone();
    let keys: Vec<String> =
        paid.as_array().expect("lines").iter().map(|l| l["end_to_end_id"].as_str().unwrap_or("").into()).collect();
    let bank = paid[0]["bank_code"].as_str().expect("bank").to_string();

    // The pain.001 validates against the official schema and lists both credits.
    let r = app.get(Some(&tax), &format!("/benefits/batches/R-1/banks/{bank}/pain.001")).await;
    assert!(r.expect(200).content_type().starts_with("application/xml"));
    let xml = r.text();
    let (ok, stderr) = xsd_valid(xml.as_bytes());
    assert!(ok, "{stderr}\n{xml}");
    assert!(xml.contains("<NbOfTxs>2</NbOfTxs>") && xml.contains("<CtrlSum>1200.57</CtrlSum>"), "{xml}");
    assert!(xml.contains(r#"<InstdAmt Ccy="CNY">0.07</InstdAmt>"#));
    assert!(keys.iter().all(|k| xml.contains(&format!("<EndToEndId>{k}</EndToEndId>"))));
    let r =
        app.get(Some(&app.tokens.clerk), &format!("/benefits/batches/R-1/banks/{bank}/credits.csv?payer=TAX-BK")).await;
    assert!(r.expect(200).content_type().starts_with("text/csv"));
    assert_eq!(r.text().lines().count(), 3);
    app.get(Some(&tax), "/benefits/batches/R-1/banks/NOBANK/pain.001").await.expect(404);
    app.get(Some(&a.token), &format!("/benefits/batches/R-1/banks/{bank}/pain.001?payer=TAX-BK"))
        .await
        .problem(403, "forbidden");

    // The bank's answer: one credited, one returned; posted twice, the money comes back once.
    let report = pain002(&[(&keys[0], "ACSC", None), (&keys[1], "RJCT", Some("AC04"))]);
    let clerk = app.tokens.clerk.clone();
    app.post_raw(&tax, "/benefits/bank-reports", "application/xml", report.clone()).await.problem(403, "forbidden");
    let r = app.post_raw(&clerk, "/benefits/bank-reports", "application/xml", report.clone()).await;
    let j = r.expect(200).json.clone();
    assert_eq!(
        (j["credited"].as_i64(), j["returned"].as_i64(), j["returned_fen"].as_i64()),
        (Some(1), Some(1), Some(7))
    );
    let r = app.post_raw(&clerk, "/benefits/bank-reports", "application/xml", report).await;
    let j = r.expect(200).json.clone();
    assert_eq!((j["credited"].as_i64(), j["returned"].as_i64(), j["unchanged"].as_i64()), (Some(0), Some(0), Some(2)));
    let csv = format!("end_to_end_id,status,reason\n{},RJCT,AC06\n", keys[0]).into_bytes();
    let r = app.post_raw(&clerk, "/benefits/bank-reports", "text/csv", csv).await;
    assert_eq!(r.expect(200).json["refusals"][0]["reason"], "contradicts");
    let bad = b"<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.002.001.10\"><CstmrPmtStsRpt>".to_vec();
    app.post_raw(&clerk, "/benefits/bank-reports", "application/xml", bad).await.problem(400, "bad_report");
    app.post_raw(&clerk, "/benefits/bank-reports", "text/csv", b"id,status\nx,ACSC\n".to_vec())
        .await
        .problem(400, "bad_report");

    // Each line shows what its bank answered, the returned one with the bank's reason.
    let seen = app.get(Some(&tax), "/benefits/batches/R-1/lines").await.expect(200).json.clone();
    let answer = |key: &str| {
        let l = seen.as_array().and_then(|a| a.iter().find(|l| l["end_to_end_id"] == key).cloned()).unwrap_or_default();
        (l["bank_status"].clone(), l["bank_reason"].clone())
    };
    assert_eq!(answer(&keys[0]), (json!("credited"), Value::Null));
    assert_eq!(answer(&keys[1]), (json!("returned"), json!("AC04")));

    // The console's batch page says it too, in both languages.
    for (lang, credited, returned) in [("zh-CN", "已入账", "已退回"), ("en", "Credited", "Returned")] {
        let r = crate::benefit_pages::page(&app, &tax, "/console/benefits/R-1", lang).await;
        let html = r.expect(200).text();
        assert!(html.contains(credited) && html.contains(returned) && html.contains("AC04"), "{lang}: {html}");
    }

    // Reconciliation per bank.
    let r = app.get(Some(&tax), "/benefits/batches/R-1/reconciliation").await;
    let j = r.expect(200).json.clone();
    let row = j["banks"]
        .as_array()
        .expect("banks")
        .iter()
        .find(|x| x["bank_code"] == bank.as_str())
        .expect("bank row")
        .clone();
    assert_eq!(row["declared"], json!({ "lines": 2, "fen": 120_057 }));
    assert_eq!(row["paid"], json!({ "lines": 1, "fen": 120_050 }));
    assert_eq!(row["returned"], json!({ "lines": 1, "fen": 7 }));
    assert_eq!((row["balanced"].as_bool(), j["total"]["balanced"].as_bool()), (Some(true), Some(true)));
}
