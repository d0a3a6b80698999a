//! sscard-server: the HTTP face of sscard.
//!
//! Handlers parse input into domain types, call one use case in `sscard_app`
//! and render the answer; they hold no business rule. Errors become RFC 9457
//! problem+json. Also here: login and sessions, the scheduler for jobs and audit
//! sealing.
#![forbid(unsafe_code)]

pub mod app;
pub mod auth;
pub mod client;
pub mod clock;
pub mod error;
pub mod extract;
pub mod hub_client;
pub mod keys;
pub mod limits;
pub mod login_limit;
pub mod medical_hops;
pub mod metrics;
pub mod openapi;
#[cfg(test)]
mod parser_props;
pub mod png;
pub mod routes;
pub mod scheduler;
pub mod security;
pub mod session_cache;
pub mod state;
pub mod terminal_auth;
pub mod trust;
pub mod ttl_cache;
pub mod views;
pub mod web;

pub use app::{ServeOptions, build_router, serve};
pub use state::AppState;
