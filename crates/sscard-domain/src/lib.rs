//! sscard-domain: the pure rules of the card business.
//!
//! Nothing here does I/O, awaits, or reads the clock: callers pass `today`/`now`
//! in, so every rule can be tested with any date. Values that must be valid
//! (document numbers, card numbers, PANs, region codes, money) are newtypes that
//! can only be built through their parsers.
#![forbid(unsafe_code)]

pub mod access;
pub mod application;
pub mod bank;
pub mod bank_report;
pub mod benefits;
pub mod card;
pub mod clock;
pub mod disclosure;
pub mod document;
pub mod ecard;
pub mod error;
pub mod handover;
pub mod ids;
pub mod ledger;
pub mod library;
pub mod medical;
pub mod money;
pub mod nation;
pub mod park;
pub mod person;
pub mod policy;
pub mod refusal;
pub mod terminal;
pub mod transit;
