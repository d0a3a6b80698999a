//! ISO 20022 payment files for the benefits paid to the card's bank account, and their CSV
//! equivalents. This crate only turns typed records into bytes and bytes into typed records:
//! it opens no file and no connection, and it decides nothing about benefits (what a bank's
//! status means for a line is a rule of `sscard_domain::benefits`).
//!
//! - [`pain001::Pain001Writer`] writes a `pain.001.001.09` CustomerCreditTransferInitiation to any
//!   [`std::io::Write`], one credit transfer at a time, so a million lines need no big buffer.
//! - [`pain002::Pain002Reader`] reads a `pain.002` CustomerPaymentStatusReport one transaction
//!   status at a time and refuses a malformed file with the byte position of the fault.
//! - [`csv_files`] holds the same two files as CSV.

#![forbid(unsafe_code)]

pub mod amount;
pub mod csv_files;
pub mod pain001;
pub mod pain002;
pub mod report;
pub mod text;

pub use amount::{AmountError, format_amount};
pub use csv_files::{CreditCsvWriter, StatusCsvReader};
pub use pain001::{CreditTransfer, DebtorAgent, Pain001Header, Pain001Writer, WriteError};
pub use pain002::Pain002Reader;
pub use report::{Position, ReasonCode, ReportError, ReportErrorKind, StatusCode, StatusRecord};
pub use text::{IsoText, TextError};
