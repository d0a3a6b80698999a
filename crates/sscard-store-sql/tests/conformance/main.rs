//! The conformance suite (crate `sscard-conformance`) on both backends: one module each.

mod postgres;
mod sqlite;
mod at_rest;
