//! The conformance suite (crate `sscard-conformance`) on both backends: one module each.

mod at_rest;
mod nation_medical;
mod pg_feed;
mod postgres;
mod sqlite;
