//! CSV imports: the card import file (`sscard import cards`) and the employer-batch upload of
//! the console, read by their real parsers, never panic; a parsed line keeps its fields.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sscard_app::import::{csv_lines, parse_csv_line};
use sscard_server::web::console::{batch_rows, parse_batch_row};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // The whole file as the CLI reads it, and also every line on its own (most fuzzed
    // inputs have no valid header, and the line parser should still be reached).
    if let Ok(lines) = csv_lines(text) {
        for (n, line) in lines {
            assert!(n >= 2, "data lines come after the header");
            let _ = parse_csv_line(line);
        }
    }
    for line in text.lines() {
        if let Ok(row) = parse_csv_line(line) {
            assert_eq!(line.split(',').count(), 10);
            assert!(!row.card_no.contains(','));
        }
        if let Ok(input) = parse_batch_row(line) {
            assert_eq!(input.doc_number, input.doc_number.trim());
        }
    }
    if let Ok(rows) = batch_rows(text) {
        for row in rows {
            let _ = parse_batch_row(&row);
        }
    }
});
