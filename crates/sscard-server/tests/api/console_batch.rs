//! The console's employer batch upload over plain HTTP (the browser walks it in
//! web-tests/tests/clerk.test.js): a CSV as a spreadsheet writes it (byte-order mark, CRLF,
//! quoted fields, a blank line) is read with the `csv` crate, each failed row is named by the
//! line it is on in the file, and a file over the row limit starts no batch.

use crate::helpers::{PLAIN_BRANCH, REGION, Resp, TestApp, send_req};
use sscard_server::web::console::MAX_BATCH_ROWS;

/// A browser's CSRF token (43 characters, as the pages make them), also its form field.
const BROWSER: &str = "clerk-browser-csrf-token-0123456789abcdefgh";
const BOUNDARY: &str = "sscard-test-boundary-7d1f";

fn cookies(app: &TestApp) -> String {
    format!("sscard_session={}; sscard_csrf={BROWSER}; sscard_lang=en", app.tokens.clerk)
}

/// Uploads `csv` as the file of the console's batch form, for the plain ICBC branch.
async fn upload(app: &TestApp, csv: &str) -> Resp {
    let part = |name: &str, extra: &str, value: &str| {
        format!("--{BOUNDARY}\r\ncontent-disposition: form-data; name=\"{name}\"{extra}\r\n\r\n{value}\r\n")
    };
    let body = [
        part("csrf", "", BROWSER),
        part("branch", "", &format!("ICBC|{PLAIN_BRANCH}")),
        part("file", "; filename=\"staff.csv\"\r\ncontent-type: text/csv", csv),
        format!("--{BOUNDARY}--\r\n"),
    ]
    .concat();
    let req = app
        .client
        .post(format!("{}/console/batch", app.address))
        .header("cookie", cookies(app))
        .header("content-type", format!("multipart/form-data; boundary={BOUNDARY}"))
        .body(body);
    send_req(req).await
}

async fn page(app: &TestApp, path: &str) -> String {
    let req = app.client.get(format!("{}{path}", app.address)).header("cookie", cookies(app));
    send_req(req).await.expect(200).text()
}

/// The batch's progress part once it has finished.
async fn finished(app: &TestApp, path: &str) -> String {
    for _ in 0..300 {
        let html = page(app, path).await;
        if html.contains(r#"data-finished="true""#) {
            return html;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the batch at {path} did not finish");
}

#[tokio::test]
async fn a_spreadsheet_upload_reads_quoted_fields_and_names_the_failed_lines() {
    let app = TestApp::spawn().await;
    let birth = |y| time::Date::from_calendar_date(y, time::Month::March, 3).expect("date");
    let (wang, li, zhao) = (app.resident_id(birth(1980)), app.resident_id(birth(1981)), app.resident_id(birth(1982)));
    let csv = format!(
        "\u{feff}doc_type,doc_number,name,region\r\n\
         resident_id,{wang},\"Wang Lao\",{REGION}\r\n\
         \r\n\
         resident_id,{li},\"Li, Si\",{REGION}\r\n\
         resident_id,{zhao},Zhao Que\r\n"
    );
    let r = upload(&app, &csv).await;
    let to = r.header("location").unwrap_or_default();
    assert!(r.status == 303 && to.starts_with("/console/batch/"), "{} {to}", r.status);
    let html = finished(&app, &to).await;
    assert!(html.contains(r#"<span data-testid="ok">1</span>"#), "{html}");
    // The blank line counts: the rows are on lines 4 and 5 of the file. The comma stayed in
    // the quoted name, which the name rule refuses.
    assert!(html.contains("<li>Line 4: The name is not valid</li>"), "{html}");
    assert!(html.contains("<li>Line 5: A line needs four columns"), "{html}");
    let mut tx = app.store.read().await.expect("read");
    let person = tx.find_person_by_ssn(&wang).await.expect("find").expect("the quoted row registered");
    assert_eq!(person.name.as_str(), "Wang Lao");
    assert!(tx.find_person_by_ssn(&li).await.expect("find").is_none());
    tx.commit().await.expect("commit");
}

#[tokio::test]
async fn an_upload_over_the_row_limit_starts_no_batch() {
    let app = TestApp::spawn().await;
    let row = format!("resident_id,110105194912310021,Li Si,{REGION}\r\n");
    let csv = format!("doc_type,doc_number,name,region\r\n{}", row.repeat(MAX_BATCH_ROWS + 1));
    let r = upload(&app, &csv).await;
    assert_eq!((r.status, r.header("location").as_deref()), (303, Some("/console")));
    let html = page(&app, "/console").await;
    assert!(html.contains(&format!("At most {MAX_BATCH_ROWS} lines per upload")), "{html}");
}

#[tokio::test]
async fn an_upload_without_its_header_starts_no_batch_and_says_which_header() {
    let app = TestApp::spawn().await;
    // A file that starts with a person: read as a header, that person would be lost unsaid.
    let csv = format!("resident_id,110105194912310021,Li Si,{REGION}\r\n");
    let r = upload(&app, &csv).await;
    assert_eq!((r.status, r.header("location").as_deref()), (303, Some("/console")));
    let html = page(&app, "/console").await;
    assert!(html.contains("The first line must be the header doc_type,doc_number,name,region"), "{html}");
    // The columns in another order are refused the same way.
    let moved = format!("doc_number,doc_type,name,region\r\n110105194912310021,resident_id,Li Si,{REGION}\r\n");
    let r = upload(&app, &moved).await;
    assert_eq!((r.status, r.header("location").as_deref()), (303, Some("/console")));
}
