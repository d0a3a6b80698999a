//! A batch's CSV (`line_id,ssn,name,amount_fen`) read a chunk of lines at a time from any
//! reader, so the server and the CLI never hold a whole file. The rows come from [`CsvRows`]
//! (the `csv` crate, as the card imports read theirs): quoted fields (with commas or line
//! breaks inside), a UTF-8 byte-order mark and CRLF line ends, as spreadsheets write them, each
//! row with the line of the file it starts on. A wrong header, a row with the wrong number of
//! fields or bytes that are not UTF-8 are refused naming the line.

use crate::csv_rows::{CsvFileError, CsvRows};
use sscard_domain::benefits::{CSV_HEADER, MAX_BATCH_LINES, RawLine, line_label};
use sscard_domain::error::DomainError;
use std::io::Read;

/// The lines of a batch CSV, read a chunk at a time.
pub struct CsvLines<R: Read> {
    rows: CsvRows<R>,
    /// Data lines read so far (the header not counted).
    lines: u64,
    header_read: bool,
}

fn bad(line: u64, file_line: Option<u64>, message: String) -> DomainError {
    DomainError::invalid("bad_line", "csv", format!("{}: {message}", line_label(line, file_line)))
}

impl<R: Read> CsvLines<R> {
    pub fn new(input: R) -> Self {
        let max = usize::try_from(MAX_BATCH_LINES).unwrap_or(usize::MAX);
        CsvLines { rows: CsvRows::new(input, max), lines: 0, header_read: false }
    }

    /// Data lines read so far.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    fn unreadable(&self, e: CsvFileError) -> DomainError {
        match e {
            CsvFileError::Unreadable { line, reason } => bad(self.lines + 1, Some(line), reason),
            CsvFileError::TooManyRows { .. } => DomainError::invalid(
                "bad_csv",
                "csv",
                format!("the file has more than {MAX_BATCH_LINES} lines; a batch has at most {MAX_BATCH_LINES}"),
            ),
        }
    }

    fn check_header(&mut self) -> Result<(), DomainError> {
        self.header_read = true;
        let Some(header) = self.rows.header().map_err(|e| self.unreadable(e))? else {
            return Err(DomainError::invalid(
                "bad_csv",
                "csv",
                "the file is empty; the header is line_id,ssn,name,amount_fen",
            ));
        };
        let got: Vec<String> = header.iter().map(|f| f.to_ascii_lowercase()).collect();
        if got != CSV_HEADER {
            return Err(DomainError::invalid(
                "bad_csv",
                "csv",
                format!("the header is {:?}; it must be line_id,ssn,name,amount_fen", got.join(",")),
            ));
        }
        Ok(())
    }

    /// Up to `max` more lines; empty at the end of the input. A row of cleared cells (",,,",
    /// as a spreadsheet saves a row emptied but not deleted) carries no line: it is skipped and
    /// not counted, like an empty line.
    pub fn next_chunk(&mut self, max: usize) -> Result<Vec<RawLine>, DomainError> {
        if !self.header_read {
            self.check_header()?;
        }
        let mut out = Vec::with_capacity(max.min(1024));
        while out.len() < max {
            let Some(row) = self.rows.next_row().map_err(|e| self.unreadable(e))? else { break };
            self.lines += 1;
            let file_line = Some(row.line);
            let [line_id, ssn, name, amount_fen] = match <[String; 4]>::try_from(row.fields) {
                Ok(fields) => fields,
                Err(fields) => {
                    let n = fields.len();
                    return Err(bad(
                        self.lines,
                        file_line,
                        format!("{n} fields; a line has 4: {}", CSV_HEADER.join(",")),
                    ));
                }
            };
            out.push(RawLine { line_id, ssn, name, amount_fen, file_line });
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
        assert!(e.message.starts_with("line 3 (file line 5):"), "{}", e.message);
    }

    #[test]
    fn each_row_knows_the_file_line_it_starts_on() {
        // The header is line 1; a skipped row and a line break inside quotes move the rows on.
        let text =
            "line_id,ssn,name,amount_fen\r\n\r\nL1,a,\"b\r\nc\",1\r\nL2,a,b,2\r\n\n\n,,,\r\nL3,a,b,\"3\"\r\nL4,a,b,4";
        let lines = all(text.as_bytes()).unwrap();
        let at: Vec<_> = lines.iter().map(|l| (l.line_id.as_str(), l.file_line)).collect();
        assert_eq!(at, [("L1", Some(3)), ("L2", Some(5)), ("L3", Some(9)), ("L4", Some(10))]);
        // A quoted last field before a CRLF, and the last line without one, read as written.
        assert_eq!((lines[1].name.as_str(), lines[2].amount_fen.trim(), lines[3].amount_fen.as_str()), ("b", "3", "4"));
        assert_eq!(lines[2].amount_fen, "3");
        assert_eq!(lines[0].name, "b\r\nc");
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
        assert!(e.message.starts_with("line 2 (file line 3):"), "{}", e.message);
        let e = all(b"line_id,ssn,name,amount_fen\nL1,a,\xff\xfe,1\n").unwrap_err();
        assert!(e.message.starts_with("line 1 (file line 2):") && e.message.contains("UTF-8"), "{}", e.message);
    }
}
