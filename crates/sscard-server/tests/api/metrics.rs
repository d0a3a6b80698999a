//! `GET /metrics`: requests counted and timed by route template and status (never by the raw
//! path, so no id, SSN or card number appears), the gauges the other parts feed, and the
//! benefit batch progress the HTTP submission feeds.

use crate::benefits::{batch, payers, who};
use crate::helpers::TestApp;
use sscard_domain::access::Role;

async fn scrape(app: &TestApp) -> String {
    let r = app.send(app.client.get(format!("{}/metrics", app.address))).await;
    r.expect(200);
    assert!(r.content_type().starts_with("application/openmetrics-text"), "{}", r.content_type());
    r.text()
}

/// The value of the sample line starting with `series` (name and labels), if any.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_and_status_without_personal_data() {
    let app = TestApp::spawn().await;
    let (_pf, tax) = payers(&app).await;
    let holder = app.person_with_card(Role::Holder, true).await;
    let me = who(&app, &holder.person_id).await;
    let clerk = Some(app.tokens.clerk.as_str());
    for _ in 0..3 {
        app.get(clerk, &format!("/persons/{}", holder.person_id)).await.expect(200);
    }
    app.get(clerk, &format!("/cards/{}", holder.card_no)).await.expect(200);
    // A path no route takes, holding an SSN: counted as `unmatched`, the path nowhere.
    app.get(clerk, &format!("/no-such-route/{}", me.ssn)).await.expect(404);
    let body = batch("T-1", "TAXREF", "2026-03", &[("1", &me, 12_345)]);
    app.post(Some(&tax), "/benefits/batches", &body).await.expect(200);

    let text = scrape(&app).await;
    let persons = r#"sscard_http_requests_total{method="GET",route="/api/v1/persons/{id}",status="200"}"#;
    assert_eq!(sample(&text, persons), Some(3.0), "{text}");
    let cards = r#"sscard_http_requests_total{method="GET",route="/api/v1/cards/{card_no}",status="200"}"#;
    assert_eq!(sample(&text, cards), Some(1.0), "{text}");
    let unmatched = r#"sscard_http_requests_total{method="GET",route="unmatched",status="404"}"#;
    assert_eq!(sample(&text, unmatched), Some(1.0), "{text}");
    let batches = r#"sscard_http_requests_total{method="POST",route="/api/v1/benefits/batches",status="200"}"#;
    assert_eq!(sample(&text, batches), Some(1.0), "{text}");
    let timed = r#"sscard_http_request_duration_seconds_count{method="GET",route="/api/v1/persons/{id}",status="200"}"#;
    assert_eq!(sample(&text, timed), Some(3.0), "{text}");
    let slowest = r#"sscard_http_request_duration_seconds_bucket{le="+Inf",method="GET",route="/api/v1/persons/{id}",status="200"}"#;
    assert_eq!(sample(&text, slowest), Some(3.0), "{text}");
    // The batch the submission paid, by its status; the gauges nobody fed yet read 0.
    assert_eq!(sample(&text, r#"sscard_benefit_batch_lines_done{status="done"}"#), Some(1.0), "{text}");
    assert_eq!(sample(&text, r#"sscard_benefit_batch_lines_declared{status="done"}"#), Some(1.0), "{text}");
    assert_eq!(sample(&text, "sscard_outbox_relay_lag_events"), Some(0.0), "{text}");
    assert_eq!(sample(&text, "sscard_remote_stops_waiting"), Some(0.0), "{text}");
    assert!(text.trim_end().ends_with("# EOF"), "{text}");
    for secret in [me.ssn.as_str(), holder.card_no.as_str(), holder.person_id.as_str(), me.name.as_str()] {
        assert!(!text.contains(secret), "{secret} in the metrics:\n{text}");
    }

    // Not an API route: the OpenAPI document does not list it (schemathesis never calls it).
    let doc = app.get(None, "/openapi.json").await;
    let paths = doc.expect(200).json["paths"].as_object().expect("paths").clone();
    assert!(paths.keys().all(|p| !p.ends_with("/metrics")), "{:?}", paths.keys());

    // The scrape itself is counted on the next one.
    let text = scrape(&app).await;
    let metrics = r#"sscard_http_requests_total{method="GET",route="/metrics",status="200"}"#;
    assert_eq!(sample(&text, metrics), Some(1.0), "{text}");
}

/// Batch progress is read from the store at each scrape: a batch another process is paying
/// (here written straight into the store, as `sscard benefits` or a resumed batch would) shows
/// as it stands, moves when the row moves, and leaves when the row goes.
#[tokio::test]
async fn metrics_read_batch_progress_from_the_store_at_each_scrape() {
    use sscard_domain::benefits::BatchStatus;
    use sscard_store::benefits::BatchRow;
    let app = TestApp::spawn().await;
    let (_pf, _tax) = payers(&app).await;
    let mut row = BatchRow {
        batch_no: 900_001,
        payer_code: "PF-XM".into(),
        batch_id: "ELSEWHERE-1".into(),
        program_code: "PENSION".into(),
        period: "2026-03".into(),
        declared_lines: 10,
        declared_total_fen: 1_000,
        content_hash: String::new(),
        status: BatchStatus::Processing,
        received_lines: 10,
        done_through: 3,
        submitted_by: "payer".into(),
        created_at_ms: 1,
        updated_at_ms: 1,
        finished_at_ms: None,
    };
    let mut tx = app.store.write().await.expect("write");
    tx.insert_batch(&row).await.expect("insert the batch");
    tx.commit().await.expect("commit");

    let text = scrape(&app).await;
    assert_eq!(sample(&text, r#"sscard_benefit_batch_lines_done{status="processing"}"#), Some(3.0), "{text}");
    assert_eq!(sample(&text, r#"sscard_benefit_batch_lines_declared{status="processing"}"#), Some(10.0), "{text}");

    row.status = BatchStatus::Done;
    row.done_through = 10;
    let mut tx = app.store.write().await.expect("write");
    tx.update_batch(&row).await.expect("update the batch");
    tx.commit().await.expect("commit");
    let text = scrape(&app).await;
    assert_eq!(sample(&text, r#"sscard_benefit_batch_lines_done{status="processing"}"#), None, "{text}");
    assert_eq!(sample(&text, r#"sscard_benefit_batch_lines_done{status="done"}"#), Some(10.0), "{text}");

    let mut tx = app.store.write().await.expect("write");
    tx.delete_batch(row.batch_no).await.expect("delete the batch");
    tx.commit().await.expect("commit");
    let text = scrape(&app).await;
    assert_eq!(sample(&text, r#"sscard_benefit_batch_lines_done{status="done"}"#), None, "{text}");
}
