//! Property tests of the request parsers the fuzz targets in `fuzz/` also run
//! (docs/FUZZING.md): the gates' offline batch body through the JSON extractor, and the
//! console's employer-batch CSV upload. No bytes make them panic, a body written from values
//! reads back as those values, and what the API refuses is named.

use crate::extract::JsonBody;
use crate::routes::onecard::BatchRequest;
use crate::web::console::{BatchFileError, MAX_BATCH_ROWS, batch_rows, parse_batch_row};
use proptest::prelude::*;
use serde_json::json;
use sscard_app::csv_rows::CsvFileError;
use sscard_domain::document::DocType;

fn config() -> ProptestConfig {
    ProptestConfig { cases: 128, ..ProptestConfig::default() }
}

type Line = (i64, Option<String>, Option<String>, i64, Option<i64>, i64);

fn line() -> impl Strategy<Value = Line> {
    (
        any::<i64>(),
        proptest::option::of("[A-Z][0-9]{8}"),
        proptest::option::of("SSC1\\.[A-Za-z0-9_-]{0,20}"),
        any::<i64>(),
        proptest::option::of(any::<i64>()),
        any::<i64>(),
    )
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn no_bytes_make_the_batch_body_parser_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        if let Err(e) = JsonBody::<BatchRequest>::parse(&bytes) {
            prop_assert_eq!(e.status, axum::http::StatusCode::BAD_REQUEST);
        }
    }

    #[test]
    fn a_written_batch_reads_back(lines in proptest::collection::vec(line(), 0..20)) {
        let body = json!({ "transactions": lines.iter().map(|(seq, card_no, token, fare, resident, at)| json!({
            "seq": seq, "card_no": card_no, "token": token, "fare_fen": fare,
            "resident_fare_fen": resident, "at": at,
        })).collect::<Vec<_>>() });
        let parsed = JsonBody::<BatchRequest>::parse(body.to_string().as_bytes()).expect("a written body parses");
        prop_assert_eq!(parsed.transactions.len(), lines.len());
        for (got, (seq, card_no, token, fare, resident, at)) in parsed.transactions.iter().zip(&lines) {
            prop_assert_eq!((got.seq, got.fare_fen, got.resident_fare_fen, got.at), (*seq, *fare, *resident, *at));
            prop_assert_eq!((&got.card_no, &got.token), (card_no, token));
        }
    }

    #[test]
    fn an_unknown_field_in_a_line_is_refused_by_name(name in "x_[a-z]{1,10}") {
        let body = json!({ "transactions": [{ "seq": 1, "fare_fen": 0, "at": 0, name.clone(): true }] });
        let refused = JsonBody::<BatchRequest>::parse(body.to_string().as_bytes()).err();
        let field = refused.and_then(|e| e.problem.field);
        prop_assert_eq!(field.as_deref(), Some(name.as_str()));
    }

    #[test]
    fn a_written_employer_row_reads_back(
        doc_type in proptest::sample::select(&DocType::ALL[..]),
        number in "[A-Z0-9]{5,18}",
        name in "[^\\s][^\\n\\r]{0,20}[^\\s]",
        region in 110_000u32..660_000,
        junk in "\\PC{0,80}",
    ) {
        // The name quoted as a spreadsheet writes it: commas and quotes inside are its own.
        let line = format!(" {doc_type} ,{number},\"{}\", {region:06} ", name.replace('"', "\"\""));
        let rows = batch_rows(&format!("doc_type,doc_number,name,region\r\n{line}\r\n\r\n{junk}")).expect("few rows");
        prop_assert_eq!(rows.first().map(|r| r.line), Some(2));
        let fields = rows.first().map(|r| r.fields.clone()).unwrap_or_default();
        if let Ok(input) = parse_batch_row(&fields) {
            prop_assert_eq!(input.doc_type, doc_type);
            prop_assert_eq!(&input.doc_number, &number);
            prop_assert_eq!(&input.name, name.trim());
            prop_assert_eq!(input.region.code(), region);
        } else {
            // Only the region can be refused: not every 6-digit number is a region code.
            prop_assert!(sscard_domain::ids::RegionCode::from_code(region).is_err());
        }
        let mut extra = fields.clone();
        extra.push("extra".into());
        prop_assert!(parse_batch_row(&extra).is_err());
        for row in &rows {
            let _ = parse_batch_row(&row.fields);
        }
    }
}

#[test]
fn an_upload_over_the_row_limit_is_refused() {
    let row = "passport,E12345678,Li Si,350200\n";
    let h = "doc_type,doc_number,name,region";
    assert_eq!(batch_rows(&format!("{h}\n{}", row.repeat(MAX_BATCH_ROWS))).map(|r| r.len()), Ok(MAX_BATCH_ROWS));
    let over = batch_rows(&format!("{h}\n{}", row.repeat(MAX_BATCH_ROWS + 1)));
    assert_eq!(over, Err(BatchFileError::File(CsvFileError::TooManyRows { max: MAX_BATCH_ROWS })));
    assert_eq!(batch_rows(&format!("{h}\n\n   \n")), Ok(Vec::new()));
}
