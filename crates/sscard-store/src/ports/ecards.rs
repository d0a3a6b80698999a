//! The port for e-cards, authorizations and issuer keys.

use crate::Result;
use crate::model::{Event, IssuerKeyRow};
use async_trait::async_trait;
use sscard_domain::card::Card;
use sscard_domain::ecard::Authorization;
use sscard_domain::ecard::Ecard;
use sscard_domain::person::Person;

/// E-cards and the authorizations their holders grant.
#[async_trait]
pub trait Ecards: Send {
    async fn insert_ecard(&mut self, ecard: &Ecard) -> Result<()>;
    async fn update_ecard(&mut self, ecard: &Ecard) -> Result<()>;
    async fn get_ecard(&mut self, id: &str) -> Result<Option<Ecard>>;
    async fn ecard_of_person(&mut self, person_id: &str) -> Result<Option<Ecard>>;
    /// An e-card with its card and holder in one read (the online verification hot path).
    async fn ecard_with_card(&mut self, id: &str) -> Result<Option<(Ecard, Card, Person)>>;
    /// Ids of stopped e-cards after `after_id` in id order, at most `limit` (<= 10,000).
    async fn stopped_ecards(&mut self, after_id: Option<&str>, limit: u32) -> Result<Vec<String>>;
    /// Committed e-card events (entity `ecard`) after `seq` in order, at most `limit`.
    async fn ecard_events_after(&mut self, seq: i64, limit: u32) -> Result<Vec<Event>>;
    async fn insert_authorization(&mut self, auth: &Authorization) -> Result<()>;
    async fn get_authorization(&mut self, id: &str) -> Result<Option<Authorization>>;
    async fn update_authorization(&mut self, auth: &Authorization) -> Result<()>;
    /// Authorizations a person granted, newest first (at most 200).
    async fn authorizations_of_person(&mut self, person_id: &str) -> Result<Vec<Authorization>>;
    /// Live family authorizations granted to `grantee_person_id` (at most 200).
    async fn family_grants_to(&mut self, grantee_person_id: &str) -> Result<Vec<Authorization>>;
}

/// The e-card issuer keys (sealed private halves).
#[async_trait]
pub trait IssuerKeys: Send {
    async fn insert_issuer_key(&mut self, key: &IssuerKeyRow) -> Result<()>;
    /// All issuer keys by id (at most 1000).
    async fn issuer_keys(&mut self) -> Result<Vec<IssuerKeyRow>>;
    async fn set_issuer_key_not_after(&mut self, key_id: u32, not_after_ms: i64) -> Result<()>;
}
