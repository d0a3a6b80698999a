//! The ISO 20022 files: every pain.001 written validates against the official schema, pain.002
//! reports and CSV reports read into records, malformed files refused with their position.

mod csv_files;
mod pain001;
mod pain002;
mod props;
