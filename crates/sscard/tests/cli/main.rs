//! The `sscard` binary end to end, one test binary: each test runs the real binary against a
//! fresh database (see `helpers`).
#![allow(clippy::too_many_lines)]

mod helpers;

mod admin;
mod at_rest;
mod bench;
mod benefits;
mod hub;
mod nation;
mod onecard;
