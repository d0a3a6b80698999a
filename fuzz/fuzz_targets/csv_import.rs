//! CSV imports: the card import file (`sscard import cards`) and the employer-batch upload of
//! the console, read by their real parsers (the `csv` crate), never panic; a parsed row keeps
//! its fields, and rows come after the header with the lines they start on.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sscard_app::import::{csv_lines, parse_csv_line, parse_row};
use sscard_server::web::console::{MAX_BATCH_ROWS, batch_rows, parse_batch_row};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // The whole file as the CLI reads it, and also every line on its own (most fuzzed
    // inputs have no valid header, and the row parser should still be reached).
    if let Ok(rows) = csv_lines(text) {
        let mut last = 1;
        for row in rows {
            assert!(row.line > last, "rows come after the header, in order");
            last = row.line;
            assert!(row.fields.iter().all(|f| f.trim() == f), "fields are trimmed");
            let _ = parse_row(&row.fields);
        }
    }
    for line in text.lines() {
        if let Ok(row) = parse_csv_line(line) {
            assert_eq!(row.card_no, row.card_no.trim());
        }
    }
    if let Ok(rows) = batch_rows(text) {
        assert!(rows.len() <= MAX_BATCH_ROWS);
        for row in rows {
            assert!(row.line >= 2, "data lines come after the header");
            if let Ok(input) = parse_batch_row(&row.fields) {
                assert_eq!(input.doc_number, input.doc_number.trim());
            }
        }
    }
});
