//! The port for cards.

use crate::Result;
use async_trait::async_trait;
use sscard_domain::card::Card;
use sscard_domain::person::Person;
use time::Date;

/// Cards, alone or with their holders.
#[async_trait]
pub trait Cards: Send {
    async fn insert_card(&mut self, card: &Card) -> Result<()>;
    async fn get_card(&mut self, card_no: &str, lock: bool) -> Result<Option<Card>>;
    async fn update_card(&mut self, card: &Card) -> Result<()>;
    async fn cards_of_person(&mut self, person_id: &str) -> Result<Vec<Card>>;
    /// The cards of each of `person_ids` (at most [`super::persons::MAX_PERSONS_PER_READ`]),
    /// each person's in the order of [`Cards::cards_of_person`], in one read where the backend can.
    async fn cards_of_persons(&mut self, person_ids: &[String]) -> Result<Vec<Card>> {
        let mut out = Vec::new();
        for id in person_ids.iter().take(super::persons::MAX_PERSONS_PER_READ) {
            out.extend(self.cards_of_person(id).await?);
        }
        Ok(out)
    }
    /// Cards in `status` whose status changed before `changed_before_ms`, oldest first (the
    /// jobs' sweeps of suspended, produced and dormant cards have an index; others scan).
    async fn cards_in_status(
        &mut self,
        status: sscard_domain::card::CardStatus,
        changed_before_ms: i64,
        limit: u32,
    ) -> Result<Vec<Card>>;
    /// Non-final temporary cards that expire before `date`.
    async fn temporary_cards_expiring_before(&mut self, date: Date, limit: u32) -> Result<Vec<Card>>;
    /// A card and its holder in one read; `lock_person` holds the person's row until commit.
    async fn card_with_person(&mut self, card_no: &str, lock_person: bool) -> Result<Option<(Card, Person)>>;
    /// The cards among `card_nos` (at most [`MAX_CARDS_PER_READ`]) with their holders.
    async fn cards_with_persons(&mut self, card_nos: &[String]) -> Result<Vec<(Card, Person)>>;
}
