//! The CSV twins of the two ISO files, for banks that take spreadsheets: the credit file
//! (`end_to_end_id,creditor_name,creditor_account,amount,currency`, amounts as in pain.001) and
//! the status report (`end_to_end_id,status,reason`, status `ACSC` or `RJCT` and an ISO reason
//! code such as `AC04`). Read with the `csv` crate: quoted fields, CRLF and a UTF-8 BOM as
//! spreadsheets write them.

use std::io::{Read, Write};

use crate::amount::write_amount;
use crate::pain001::{CURRENCY, CreditTransfer, WriteError};
use crate::report::{
    Position, ReportError, ReportErrorKind, StatusRecord, end_to_end, proprietary, reason_code, status,
};
use crate::text::check;

/// The credit file's header.
pub const CREDIT_HEADER: [&str; 5] = ["end_to_end_id", "creditor_name", "creditor_account", "amount", "currency"];
/// The status report's header.
pub const STATUS_HEADER: [&str; 3] = ["end_to_end_id", "status", "reason"];

/// Writes a credit file row by row.
pub struct CreditCsvWriter<W: Write> {
    csv: csv::Writer<W>,
    written: u64,
    amount: String,
}

impl<W: Write> CreditCsvWriter<W> {
    /// Start a file with its header.
    pub fn start(out: W) -> Result<Self, WriteError> {
        let mut csv = csv::Writer::from_writer(out);
        csv.write_record(CREDIT_HEADER).map_err(csv_io)?;
        Ok(CreditCsvWriter { csv, written: 0, amount: String::with_capacity(24) })
    }

    /// One credit, its fields checked as for pain.001.
    pub fn push(&mut self, tx: &CreditTransfer<'_>) -> Result<(), WriteError> {
        let index = self.written + 1;
        let text = |source| WriteError::Text { index, source };
        check::<35>(tx.end_to_end_id, "end_to_end_id").map_err(text)?;
        check::<140>(tx.creditor_name, "creditor_name").map_err(text)?;
        check::<34>(tx.creditor_account, "creditor_account").map_err(text)?;
        self.amount.clear();
        write_amount(tx.amount, &mut self.amount).map_err(|source| WriteError::Amount { index, source })?;
        self.csv
            .write_record([tx.end_to_end_id, tx.creditor_name, tx.creditor_account, &self.amount, CURRENCY])
            .map_err(csv_io)?;
        self.written = index;
        Ok(())
    }

    /// Flush and give the sink back.
    pub fn finish(self) -> Result<W, WriteError> {
        self.csv.into_inner().map_err(|e| WriteError::Io(std::io::Error::other(e.to_string())))
    }
}

fn csv_io(e: csv::Error) -> WriteError {
    WriteError::Io(std::io::Error::other(e.to_string()))
}

/// Reads a status report CSV as records; the iterator ends after the first error.
pub struct StatusCsvReader<R: Read> {
    csv: csv::Reader<R>,
    row: csv::StringRecord,
    header_checked: bool,
    done: bool,
}

impl<R: Read> StatusCsvReader<R> {
    /// A reader over `input`.
    pub fn new(input: R) -> Self {
        let csv = csv::ReaderBuilder::new().has_headers(true).trim(csv::Trim::All).flexible(false).from_reader(input);
        StatusCsvReader { csv, row: csv::StringRecord::new(), header_checked: false, done: false }
    }

    fn fail(&mut self, line: u64, kind: ReportErrorKind) -> Option<Result<StatusRecord, ReportError>> {
        self.done = true;
        Some(Err(ReportError { position: Position::Line(line), kind }))
    }

    fn check_header(&mut self) -> Result<(), ReportErrorKind> {
        let header = self.csv.headers().map_err(|e| ReportErrorKind::Syntax(e.to_string()))?;
        if header.iter().ne(STATUS_HEADER) {
            return Err(ReportErrorKind::BadHeader(header.iter().collect::<Vec<_>>().join(",")));
        }
        Ok(())
    }
}

fn record(row: &csv::StringRecord) -> Result<StatusRecord, ReportErrorKind> {
    let field = |i: usize| row.get(i).unwrap_or("");
    let end_to_end_id = end_to_end(field(0)).map_err(|e| rename(e, "end_to_end_id"))?;
    let status = status(field(1)).map_err(|e| rename(e, "status"))?;
    let reason = match field(2) {
        "" => None,
        r if r.len() <= 4 => Some(reason_code(r).map_err(|e| rename(e, "reason"))?),
        r => Some(proprietary(r).map_err(|e| rename(e, "reason"))?),
    };
    Ok(StatusRecord { end_to_end_id, status, reason })
}

/// The same fault, named by its CSV column.
fn rename(kind: ReportErrorKind, column: &'static str) -> ReportErrorKind {
    match kind {
        ReportErrorKind::BadValue { reason, .. } => ReportErrorKind::BadValue { field: column, reason },
        other => other,
    }
}

impl<R: Read> Iterator for StatusCsvReader<R> {
    type Item = Result<StatusRecord, ReportError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        if !self.header_checked {
            self.header_checked = true;
            if let Err(kind) = self.check_header() {
                return self.fail(1, kind);
            }
        }
        match self.csv.read_record(&mut self.row) {
            Ok(false) => {
                self.done = true;
                None
            }
            Ok(true) => {
                let line = self.row.position().map_or(0, csv::Position::line);
                match record(&self.row) {
                    Ok(r) => Some(Ok(r)),
                    Err(kind) => self.fail(line, kind),
                }
            }
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line);
                self.fail(line, ReportErrorKind::Syntax(e.to_string()))
            }
        }
    }
}
