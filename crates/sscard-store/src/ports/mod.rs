//! The ports: one trait per aggregate. A transaction ([`crate::Tx`]) implements them all;
//! a use case imports only the ports it uses, and its helpers name them in their bounds
//! (`tx: &mut (impl Persons + Cards + ?Sized)`).

mod access;
mod applications;
mod bank_returns;
mod benefits;
mod cards;
mod ecards;
mod hub;
mod hub_secrets;
mod ledger;
mod nation_medical;
mod office;
mod persons;
mod records;
mod relay;
mod scenarios;
mod stats;
mod terminals;

pub use access::{Idempotency, Users};
pub use applications::{AppReason, Applications};
pub use bank_returns::BankReturns;
pub use benefits::{Benefits, MAX_LINES_TO_PAY};
pub use cards::Cards;
pub use ecards::{Ecards, IssuerKeys};
pub use hub::{DeploymentRow, Hub, HubCommandRow, HubKeyRow, HubRevocationRow, MAX_HUB_ROWS, RemoteStop};
pub use hub_secrets::HubSecrets;
pub use ledger::Ledger;
pub use nation_medical::{ClearingRow, ClearingTotalRow, MAX_CLEARING_PAIRS, NationBillRow, NationMedical};
pub use office::Banks;
pub use persons::{MAX_PERSONS_PER_READ, Persons};
pub use records::{AuditLog, Outbox};
pub use relay::Inbox;
pub use scenarios::{Library, Medical, Parks, Transit, Uses};
pub use stats::Stats;
pub use terminals::Terminals;
