//! A bank's answer about each credit, whichever format it came in: the typed record both
//! readers give, and the typed error with the position of the fault.

use std::fmt;

/// Most characters of an end-to-end id (`Max35Text`).
pub const MAX_END_TO_END: usize = 35;
/// Most characters of a proprietary reason (`Max35Text`).
pub const MAX_PROPRIETARY: usize = 35;

/// A transaction status code (`ExternalPaymentTransactionStatus1Code`: 1 to 4 characters, such
/// as `ACSC` settled or `RJCT` rejected). What it means for a line is the domain's rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StatusCode([u8; 4], u8);

impl StatusCode {
    /// 1 to 4 ASCII letters or digits, kept uppercase.
    pub fn parse(raw: &str) -> Option<StatusCode> {
        let raw = raw.trim();
        if raw.is_empty() || raw.len() > 4 || !raw.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return None;
        }
        let mut code = [b' '; 4];
        for (slot, b) in code.iter_mut().zip(raw.bytes()) {
            *slot = b.to_ascii_uppercase();
        }
        // At most 4 bytes, so the length fits a u8.
        Some(StatusCode(code, raw.len() as u8))
    }

    /// The code, uppercase.
    pub fn as_str(&self) -> &str {
        // Only ASCII alphanumerics are stored.
        std::str::from_utf8(&self.0[..usize::from(self.1)]).unwrap_or("")
    }
}

impl fmt::Display for StatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why the bank gave that status (`StsRsnInf/Rsn`): an ISO code such as `AC04` (`Cd`), or the
/// bank's own text (`Prtry`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ReasonCode {
    /// `Rsn/Cd` (`ExternalStatusReason1Code`, 1 to 4 characters).
    Code(StatusCode),
    /// `Rsn/Prtry` (1 to 35 characters).
    Proprietary(String),
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReasonCode::Code(c) => f.write_str(c.as_str()),
            ReasonCode::Proprietary(p) => f.write_str(p),
        }
    }
}

/// The bank's answer about one credit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusRecord {
    /// The `EndToEndId` of the credit this answers (`OrgnlEndToEndId`).
    pub end_to_end_id: String,
    /// `TxSts`.
    pub status: StatusCode,
    /// The first `StsRsnInf/Rsn`, if any.
    pub reason: Option<ReasonCode>,
}

/// Where in the file a fault is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// Byte offset from the start of an XML file.
    Byte(u64),
    /// Line of a CSV file (1 = the header).
    Line(u64),
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Position::Byte(b) => write!(f, "at byte {b}"),
            Position::Line(l) => write!(f, "on line {l}"),
        }
    }
}

/// What is wrong with a report file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportErrorKind {
    /// Not well-formed XML, or not readable CSV.
    #[error("the file cannot be read: {0}")]
    Syntax(String),
    /// Well-formed, but not a pain.002 CustomerPaymentStatusReport.
    #[error("not a pain.002 CustomerPaymentStatusReport: {0}")]
    NotAReport(String),
    /// A transaction status without a required element.
    #[error("a transaction status has no {0}")]
    Missing(&'static str),
    /// An element or column whose value breaks its type.
    #[error("{field}: {reason}")]
    BadValue {
        /// The element or column.
        field: &'static str,
        /// The rule it broke.
        reason: String,
    },
    /// The file stops before its elements are closed.
    #[error("the file ends before its elements are closed")]
    EndsEarly,
    /// Elements nested deeper than any report needs.
    #[error("elements nested deeper than {0}")]
    TooDeep(usize),
    /// A CSV whose header is not `end_to_end_id,status,reason`.
    #[error("the header must be end_to_end_id,status,reason, got {0:?}")]
    BadHeader(String),
}

/// A report refused, with where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{position}: {kind}")]
pub struct ReportError {
    /// Where the fault is.
    pub position: Position,
    /// What it is.
    pub kind: ReportErrorKind,
}

/// Check an end-to-end id as read from a report.
pub(crate) fn end_to_end(raw: &str) -> Result<String, ReportErrorKind> {
    let raw = raw.trim();
    let n = raw.chars().count();
    if n == 0 || n > MAX_END_TO_END || raw.chars().any(char::is_control) {
        return Err(ReportErrorKind::BadValue {
            field: "OrgnlEndToEndId",
            reason: format!("1 to {MAX_END_TO_END} characters, got {n}"),
        });
    }
    Ok(raw.to_owned())
}

/// Check a status code as read from a report.
pub(crate) fn status(raw: &str) -> Result<StatusCode, ReportErrorKind> {
    StatusCode::parse(raw).ok_or_else(|| ReportErrorKind::BadValue {
        field: "TxSts",
        reason: format!("1 to 4 letters or digits, got {:?}", shorten(raw)),
    })
}

/// Check a reason code (`Cd`) as read from a report.
pub(crate) fn reason_code(raw: &str) -> Result<ReasonCode, ReportErrorKind> {
    StatusCode::parse(raw).map(ReasonCode::Code).ok_or_else(|| ReportErrorKind::BadValue {
        field: "StsRsnInf/Rsn/Cd",
        reason: format!("1 to 4 letters or digits, got {:?}", shorten(raw)),
    })
}

/// Check a proprietary reason (`Prtry`) as read from a report.
pub(crate) fn proprietary(raw: &str) -> Result<ReasonCode, ReportErrorKind> {
    let raw = raw.trim();
    let n = raw.chars().count();
    if n == 0 || n > MAX_PROPRIETARY || raw.chars().any(char::is_control) {
        return Err(ReportErrorKind::BadValue {
            field: "StsRsnInf/Rsn/Prtry",
            reason: format!("1 to {MAX_PROPRIETARY} characters, got {n}"),
        });
    }
    Ok(ReasonCode::Proprietary(raw.to_owned()))
}

/// A refused value as shown in an error: at most 40 characters.
pub(crate) fn shorten(raw: &str) -> String {
    raw.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes() {
        assert_eq!(StatusCode::parse("acsc").map(|c| c.to_string()).as_deref(), Some("ACSC"));
        assert_eq!(StatusCode::parse("AC4").map(|c| c.to_string()).as_deref(), Some("AC4"));
        assert_eq!(StatusCode::parse(""), None);
        assert_eq!(StatusCode::parse("ACSCX"), None);
        assert_eq!(StatusCode::parse("AC-4"), None);
    }
}
