//! A batch's CSV (`line_id,ssn,name,amount_fen`) read with the `csv` crate, a chunk of lines at
//! a time from any reader, so the server and the CLI never hold a whole file: quoted fields
//! (with commas or line breaks inside), a UTF-8 byte-order mark and CRLF line ends, as
//! spreadsheets write them. A wrong header, a row with the wrong number of fields or bytes
//! that are not UTF-8 are refused naming the line.

use sscard_domain::benefits::{CSV_HEADER, RawLine};
use sscard_domain::error::DomainError;
use std::io::Read;

/// The lines of a batch CSV, read a chunk at a time.
pub struct CsvLines<R: Read> {
    reader: csv::Reader<R>,
    record: csv::StringRecord,
    /// Data lines read so far (the header not counted).
    lines: u64,
    header_read: bool,
}

fn bad(line: u64, message: String) -> DomainError {
    DomainError::invalid("bad_line", "csv", format!("line {line}: {message}"))
}

impl<R: Read> CsvLines<R> {
    pub fn new(input: R) -> Self {
        let reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(input);
        CsvLines { reader, record: csv::StringRecord::new(), lines: 0, header_read: false }
    }

    /// Data lines read so far.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    fn next_record(&mut self) -> Result<bool, DomainError> {
        self.reader.read_record(&mut self.record).map_err(|e| {
            let why = match e.kind() {
                csv::ErrorKind::Utf8 { .. } => "the bytes are not UTF-8".to_string(),
                _ => e.to_string(),
            };
            bad(self.lines + 1, why)
        })
    }

    fn check_header(&mut self) -> Result<(), DomainError> {
        self.header_read = true;
        if !self.next_record()? {
            return Err(DomainError::invalid(
                "bad_csv",
                "csv",
                "the file is empty; the header is line_id,ssn,name,amount_fen",
            ));
        }
        let got: Vec<String> =
            self.record.iter().map(|f| f.trim_start_matches('\u{feff}').trim().to_ascii_lowercase()).collect();
        if got != CSV_HEADER {
            return Err(DomainError::invalid(
                "bad_csv",
                "csv",
                format!("the header is {:?}; it must be line_id,ssn,name,amount_fen", got.join(",")),
            ));
        }
        Ok(())
    }

    /// Up to `max` more lines; empty at the end of the input.
    pub fn next_chunk(&mut self, max: usize) -> Result<Vec<RawLine>, DomainError> {
        if !self.header_read {
            self.check_header()?;
        }
        let mut out = Vec::with_capacity(max.min(1024));
        while out.len() < max && self.next_record()? {
            // A spreadsheet saves a row whose cells were cleared, but not deleted, as ",,,":
            // it carries no line, so it is skipped and not counted, like an empty line.
            if self.record.iter().all(|f| f.trim().is_empty()) {
                continue;
            }
            self.lines += 1;
            if self.record.len() != CSV_HEADER.len() {
                return Err(bad(
                    self.lines,
                    format!("{} fields; a line has 4: {}", self.record.len(), CSV_HEADER.join(",")),
                ));
            }
            out.push(RawLine {
                line_id: self.record[0].to_string(),
                ssn: self.record[1].to_string(),
                name: self.record[2].to_string(),
                amount_fen: self.record[3].to_string(),
            });
        }
        Ok(out)
    }
}

/// The header of a batch's lines as CSV.
pub const LINES_CSV_HEADER: [&str; 9] =
    ["seq", "line_id", "ssn", "name", "amount_fen", "outcome", "bank_code", "account_masked", "end_to_end_id"];

/// Rows of [`LINES_CSV_HEADER`] as CSV text (quoted where a field needs it, CRLF-free).
pub fn lines_csv(rows: &[[String; 9]]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    // Writing into memory cannot fail; a failure would only drop that row.
    let _ = w.write_record(LINES_CSV_HEADER);
    for r in rows {
        let _ = w.write_record(r);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &[u8]) -> Result<Vec<RawLine>, DomainError> {
        let mut r = CsvLines::new(text);
        let mut out = Vec::new();
        loop {
            let chunk = r.next_chunk(2)?;
            if chunk.is_empty() {
                return Ok(out);
            }
            out.extend(chunk);
        }
    }

    #[test]
    fn spreadsheet_csv_reads_as_written() {
        let text = "\u{feff}line_id,ssn,name,amount_fen\r\nL1,11010519491231002X,\"张三\",100\r\n\"L,2\",11010519491231002X,\"A \"\"B\"\"\",200\r\nL3,x,y,3\r\n";
        let lines = all(text.as_bytes()).unwrap();
        assert_eq!(lines.len(), 3);
        assert_eq!((lines[0].name.as_str(), lines[0].amount_fen.as_str()), ("张三", "100"));
        assert_eq!((lines[1].line_id.as_str(), lines[1].name.as_str()), ("L,2", "A \"B\""));
    }

    #[test]
    fn rows_of_cleared_cells_are_skipped_and_not_counted() {
        let text = "line_id,ssn,name,amount_fen\r\nL1,a,b,1\r\n,,,\r\n \r\nL2,a,b,2\r\n,,,\r\n,,,\r\n";
        let lines = all(text.as_bytes()).unwrap();
        assert_eq!(lines.iter().map(|l| l.line_id.as_str()).collect::<Vec<_>>(), ["L1", "L2"]);
        // A row with something in it is a line, and the lines after it are numbered past it.
        let e = all(b"line_id,ssn,name,amount_fen\n,,,\nL1,a,b,1\n,,x,\nL3,a,b\n").unwrap_err();
        assert!(e.message.starts_with("line 3:"), "{}", e.message);
    }

    #[test]
    fn lines_write_as_csv_and_read_back() {
        let row = ["1", "L,1", "11010519491231002X", "A \"B\"", "100", "paid", "ICBC", "622202*********1234", "SSB1L1"]
            .map(String::from);
        let text = lines_csv(&[row]);
        assert!(text.starts_with("seq,line_id,"));
        assert!(text.contains("\"L,1\"") && text.contains("\"A \"\"B\"\"\""), "{text}");
    }

    #[test]
    fn bad_headers_rows_and_bytes_name_the_line() {
        assert_eq!(all(b"").unwrap_err().code, "bad_csv");
        assert_eq!(all(b"id,ssn,name,amount\nL1,a,b,1\n").unwrap_err().code, "bad_csv");
        let e = all(b"line_id,ssn,name,amount_fen\nL1,a,b,1\nL2,a,b\n").unwrap_err();
        assert!(e.message.starts_with("line 2:"), "{}", e.message);
        let e = all(b"line_id,ssn,name,amount_fen\nL1,a,\xff\xfe,1\n").unwrap_err();
        assert!(e.message.starts_with("line 1:") && e.message.contains("UTF-8"), "{}", e.message);
    }
}
