//! The CSV files people upload or import (the old-card import, the employer batch upload),
//! read with the `csv` crate from any reader, a row at a time: quoted fields (with commas or
//! line breaks inside), a UTF-8 byte-order mark, CRLF or LF line ends and blank lines, as
//! spreadsheets write them. Every row carries the 1-based line it starts on, and a row limit is
//! enforced while reading, so a caller can count a file (nothing kept) before reading it.

use std::io::Read;

/// One data row: the line it starts on (1-based) and its fields, trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvRow {
    pub line: u64,
    pub fields: Vec<String>,
}

/// Why a file cannot be read at all (a single row's content is the caller's business).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsvFileError {
    #[error("line {line}: {reason}")]
    Unreadable { line: u64, reason: String },
    #[error("the file has more than {max} rows; at most {max} are read")]
    TooManyRows { max: usize },
}

/// The rows of a CSV file, read one at a time.
pub struct CsvRows<R: Read> {
    reader: csv::Reader<std::io::Chain<R, &'static [u8]>>,
    record: csv::ByteRecord,
    /// Data rows read so far (the header not counted).
    rows: usize,
    max_rows: usize,
    /// Whether a row was read (a byte-order mark can only open the first).
    started: bool,
}

impl<R: Read> CsvRows<R> {
    /// A reader refusing more than `max_rows` data rows.
    pub fn new(input: R, max_rows: usize) -> Self {
        // Only '\n' ends a row, so every row consumes its own line end and the line it starts
        // on can be told from the reader's line count; the '\r' of CRLF is trimmed with the
        // last field. The '\n' added at the end does the same for a last line without one.
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .terminator(csv::Terminator::Any(b'\n'))
            .from_reader(input.chain(&b"\n"[..]));
        CsvRows { reader, record: csv::ByteRecord::new(), rows: 0, max_rows, started: false }
    }

    /// The next row that is not blank into `self.record`, checked to be UTF-8; its line.
    fn advance(&mut self) -> Result<Option<u64>, CsvFileError> {
        loop {
            let more = self
                .reader
                .read_byte_record(&mut self.record)
                .map_err(|e| CsvFileError::Unreadable { line: self.reader.position().line(), reason: e.to_string() })?;
            if !more {
                return Ok(None);
            }
            let inside: usize = self.record.iter().map(|f| f.iter().filter(|b| **b == b'\n').count()).sum();
            // The reader has counted the row's own line end and any line breaks inside quotes.
            let line = self.reader.position().line().saturating_sub(inside as u64 + 1).max(1);
            // Blank by the same measure a field is trimmed with, so a line of nothing but a
            // vertical tab or an ideographic space (U+3000) is skipped, not one empty column;
            // so is a row of cleared cells (",,,"), as a spreadsheet saves rows emptied but
            // not deleted.
            let blank = |f: &[u8]| std::str::from_utf8(f).is_ok_and(|s| s.trim().is_empty());
            if self.record.iter().all(blank) {
                continue;
            }
            if let Some(column) = self.record.iter().position(|f| std::str::from_utf8(f).is_err()) {
                let reason = format!("column {} is not UTF-8 text", column + 1);
                return Err(CsvFileError::Unreadable { line, reason });
            }
            return Ok(Some(line));
        }
    }

    fn fields(&mut self) -> Vec<String> {
        // `advance` checked every field is UTF-8, so nothing is replaced here.
        let mut fields: Vec<String> =
            self.record.iter().map(|f| String::from_utf8_lossy(f).trim().to_string()).collect();
        if !std::mem::replace(&mut self.started, true)
            && let Some(first) = fields.first_mut()
            && let Some(rest) = first.strip_prefix('\u{feff}')
        {
            *first = rest.trim_start().to_string();
        }
        fields
    }

    /// The first row that is not blank (a header), not counted against the limit; `None` for
    /// an empty file. Call it before [`CsvRows::next_row`].
    pub fn header(&mut self) -> Result<Option<Vec<String>>, CsvFileError> {
        Ok(self.advance()?.map(|_| self.fields()))
    }

    /// The next data row (blank lines skipped); `None` at the end of the file.
    pub fn next_row(&mut self) -> Result<Option<CsvRow>, CsvFileError> {
        let Some(line) = self.advance()? else { return Ok(None) };
        self.count_one()?;
        Ok(Some(CsvRow { line, fields: self.fields() }))
    }

    fn count_one(&mut self) -> Result<(), CsvFileError> {
        self.rows += 1;
        if self.rows > self.max_rows {
            return Err(CsvFileError::TooManyRows { max: self.max_rows });
        }
        Ok(())
    }

    /// The number of data rows left, read to the end without keeping any.
    pub fn count(mut self) -> Result<usize, CsvFileError> {
        let before = self.rows;
        while self.advance()?.is_some() {
            self.count_one()?;
        }
        Ok(self.rows - before)
    }
}

/// The header and data rows of a text, counted before any row is kept, so an oversized file
/// is refused without copying it.
pub fn read_rows(text: &str, max_rows: usize) -> Result<(Option<Vec<String>>, Vec<CsvRow>), CsvFileError> {
    let mut counting = CsvRows::new(text.as_bytes(), max_rows);
    counting.header()?;
    let n = counting.count()?;
    let mut reader = CsvRows::new(text.as_bytes(), max_rows);
    let header = reader.header()?;
    let mut rows = Vec::with_capacity(n);
    while let Some(row) = reader.next_row()? {
        rows.push(row);
    }
    Ok((header, rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_and_fields(text: &str) -> Vec<(u64, Vec<String>)> {
        let (_, rows) = read_rows(text, 100).expect("readable");
        rows.into_iter().map(|r| (r.line, r.fields)).collect()
    }

    fn row(line: u64, fields: &[&str]) -> (u64, Vec<String>) {
        (line, fields.iter().map(|f| f.to_string()).collect())
    }

    #[test]
    fn spreadsheet_csv_reads_with_the_lines_it_starts_on() {
        let text = "\u{feff}h1,h2\r\n\r\n\"Li, Si\", a \r\n  \r\n\"two\r\nlines\",\"say \"\"hi\"\"\"\r\nlast,x";
        let (header, _) = read_rows(text, 100).expect("readable");
        assert_eq!(header, Some(vec!["h1".to_string(), "h2".to_string()]));
        assert_eq!(
            lines_and_fields(text),
            [row(3, &["Li, Si", "a"]), row(5, &["two\r\nlines", "say \"hi\""]), row(7, &["last", "x"])]
        );
        let text = "h\n\n\na,b\n\"x\ny\",z\nc\n";
        assert_eq!(lines_and_fields(text), [row(4, &["a", "b"]), row(5, &["x\ny", "z"]), row(7, &["c"])]);
        let text = "h\n\u{b}\n\u{3000}\r\na\n,,\r\n , \nb,\n";
        assert_eq!(lines_and_fields(text), [row(4, &["a"]), row(7, &["b", ""])]);
    }

    #[test]
    fn the_row_limit_is_enforced_while_counting() {
        let text = format!("h\n{}", "a,b\n".repeat(3));
        assert_eq!(read_rows(&text, 3).map(|(_, r)| r.len()), Ok(3));
        assert_eq!(read_rows(&text, 2).err(), Some(CsvFileError::TooManyRows { max: 2 }));
        let mut r = CsvRows::new(text.as_bytes(), 2);
        r.header().expect("header");
        assert_eq!(r.count(), Err(CsvFileError::TooManyRows { max: 2 }));
        assert_eq!(read_rows("", 2), Ok((None, Vec::new())));
        assert_eq!(read_rows("h\r\n\r\n  \r\n", 0), Ok((Some(vec!["h".into()]), Vec::new())));
    }

    #[test]
    fn bytes_that_are_not_utf8_name_their_line_and_column() {
        let mut r = CsvRows::new(&b"h\na,b\n\nc,\xff\xfe\n"[..], 10);
        r.header().expect("header");
        assert!(r.next_row().expect("row 2").is_some());
        let e = r.next_row().expect_err("not UTF-8");
        assert_eq!(e, CsvFileError::Unreadable { line: 4, reason: "column 2 is not UTF-8 text".into() });
    }
}
