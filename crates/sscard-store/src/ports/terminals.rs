//! The port for one-card operators and terminals.

use crate::Result;
use async_trait::async_trait;
use sscard_domain::card::Card;
use sscard_domain::person::Person;
use sscard_domain::terminal::Operator;
use sscard_domain::terminal::Terminal;

/// One-card operators and their terminals.
#[async_trait]
pub trait Terminals: super::Cards + Send {
    async fn insert_operator(&mut self, op: &Operator, now_ms: i64) -> Result<()>;
    async fn get_operator(&mut self, code: &str) -> Result<Option<Operator>>;
    async fn insert_terminal(&mut self, t: &Terminal, secret_hash: &str) -> Result<()>;
    async fn get_terminal(&mut self, id: &str) -> Result<Option<Terminal>>;
    async fn terminal_by_secret(&mut self, secret_hash: &str) -> Result<Option<Terminal>>;
    /// Gives the terminal a new secret (its SM3 hash); the old one stops working.
    async fn set_terminal_secret(&mut self, id: &str, secret_hash: &str) -> Result<()>;
    async fn set_terminal_disabled(&mut self, id: &str, disabled: bool) -> Result<()>;
    async fn list_terminals(&mut self, limit: u32) -> Result<Vec<Terminal>>;
    /// A terminal and a card with its holder, in one read; either may be missing.
    /// `lock_person` holds the person's row until commit when both exist.
    async fn terminal_and_card(
        &mut self,
        terminal_id: &str,
        card_no: &str,
        lock_person: bool,
    ) -> Result<(Option<Terminal>, Option<(Card, Person)>)>;
}
