//! sscard-store: the ports, what the use cases may ask of storage (docs/ARCHITECTURE.md).
//!
//! * [`Store`] opens transactions; [`Tx`] is one transaction, made of one trait per
//!   aggregate (see [`tx`]), so a state change, its outbox event and its audit record
//!   always commit together.
//! * [`model`] and [`onecard`]: the rows the ports take and give.
//! * [`CommitObserver`]: told after each write commits which persons it touched.
//!
//! No SQL and no use case lives here: the SQL is in `sscard-store-sql`, the use cases in
//! `sscard-app`.
#![forbid(unsafe_code)]

pub mod bank_returns;
pub mod benefits;
pub mod error;
pub mod model;
pub mod onecard;
pub mod ports;
pub mod tx;

pub use error::StoreError;
pub use model::*;
pub use tx::{Store, Tx};

/// The result type of every store call.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Told, after each write transaction commits, the persons its events named.
pub trait CommitObserver: Send + Sync {
    fn committed(&self, person_ids: &[String]);
}
