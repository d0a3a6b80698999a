//! The rules of sscard-domain tested from outside the crate, one test binary: documents and
//! SSNs (with property tests), identifiers, and money.
#![allow(clippy::too_many_lines)]

mod document;
mod document_props;
mod enums;
mod ids;
mod money;
mod parser_props;
mod row_ids;
