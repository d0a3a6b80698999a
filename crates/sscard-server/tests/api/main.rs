//! The HTTP tests of sscard-server, one test binary (zero-to-production's `tests/api/`):
//! every test spawns the real router on 127.0.0.1:0 against a fresh database (SQLite, or
//! PostgreSQL with `SSCARD_TEST_DATABASE=postgres`) and talks to it over HTTP.
#![allow(clippy::too_many_lines)]

mod helpers;

mod at_rest;
mod bank_files;
mod benefit_pages;
mod benefits;
mod concurrency;
mod console_batch;
mod ecard_auth;
mod ecard_keys;
mod ecard_lifecycle;
mod export;
mod fields;
mod floats;
mod handover;
mod hub;
mod idempotency;
mod jobs;
mod lifecycle;
mod metrics;
mod nation_ecard;
mod nation_medical;
mod national;
mod national_pages;
mod onecard;
mod openapi;
mod persons;
mod roles;
mod security;
