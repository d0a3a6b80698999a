//! sscard-store: where decisions are remembered.
//!
//! * [`Store`] / [`Tx`]: the repository trait every backend implements. All
//!   primitives run inside a transaction, so a state change, its outbox event and
//!   its audit record always commit together.
//! * [`sql`]: the implementation over sqlx shared by the SQLite and PostgreSQL
//!   backends (the SQL is portable; the few differences live in [`sql::Dialect`]).
//! * [`ops`]: the use cases (register, apply, step, card actions, jobs, audit):
//!   load, ask `sscard-domain` to decide, write, commit. No rule lives here.
//! * [`live`]: the in-memory live e-card set for online verification, kept
//!   current by commit notifications.
//! * [`conformance`]: the one suite both backends must pass.
#![forbid(unsafe_code)]

pub mod conformance;
pub mod error;
pub mod live;
pub mod migrate;
pub mod model;
pub mod onecard;
pub mod ops;
pub mod sql;
pub mod tx;

pub use error::StoreError;
pub use model::*;
pub use tx::{Store, Tx};

/// The result type of every store call.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
