//! The port for users, sessions and idempotency records.

use crate::Result;
use crate::model::{IdemRecord, Session, User};
use async_trait::async_trait;

/// Login accounts and their sessions.
#[async_trait]
pub trait Users: Send {
    async fn insert_user(&mut self, user: &User) -> Result<()>;
    async fn get_user(&mut self, username: &str) -> Result<Option<User>>;
    /// Login accounts linked to a person (at most 20).
    async fn users_of_person(&mut self, person_id: &str) -> Result<Vec<User>>;
    async fn insert_session(&mut self, session: &Session) -> Result<()>;
    async fn get_session(&mut self, token_hash: &str) -> Result<Option<Session>>;
    async fn delete_session(&mut self, token_hash: &str) -> Result<()>;
}

/// First answers kept under their Idempotency-Key.
#[async_trait]
pub trait Idempotency: Send {
    async fn get_idempotency(&mut self, scope: &str, key: &str) -> Result<Option<IdemRecord>>;
    async fn put_idempotency(&mut self, record: &IdemRecord) -> Result<()>;
}
