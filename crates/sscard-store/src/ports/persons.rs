//! The port for persons.

use crate::Result;
use crate::model::Page;
use crate::model::PersonRead;
use async_trait::async_trait;
use sscard_domain::person::Person;

/// Most SSNs (or person ids) one [`Persons::find_persons_by_ssns`] or
/// [`super::Cards::cards_of_persons`] call reads.
pub const MAX_PERSONS_PER_READ: usize = 1000;

/// Persons and their documents; named counters for numbers the platform assigns.
#[async_trait]
pub trait Persons: super::Cards + Send {
    /// Next value of a named counter (card serials, assigned SSNs): 1, 2, 3, ...
    async fn next_serial(&mut self, name: &str) -> Result<u64>;
    async fn insert_person(&mut self, person: &Person) -> Result<()>;
    /// `lock`: hold the row until commit (serialises actions on one person's cards).
    async fn get_person(&mut self, id: &str, lock: bool) -> Result<Option<Person>>;
    async fn find_person_by_ssn(&mut self, ssn: &str) -> Result<Option<Person>>;
    /// The persons among `ssns` (at most [`MAX_PERSONS_PER_READ`]) that exist, in no order:
    /// a chunk of a batch resolved in one read where the backend can.
    async fn find_persons_by_ssns(&mut self, ssns: &[String]) -> Result<Vec<Person>> {
        let mut out = Vec::new();
        for ssn in ssns.iter().take(MAX_PERSONS_PER_READ) {
            out.extend(self.find_person_by_ssn(ssn).await?);
        }
        Ok(out)
    }
    /// Persons whose document (of any type) has this number; at most a few.
    async fn find_persons_by_doc_number(&mut self, doc_number: &str) -> Result<Vec<Person>>;
    /// The holder of a card, optionally locked, in one step where the backend can.
    async fn get_person_of_card(&mut self, card_no: &str, lock: bool) -> Result<Option<Person>> {
        let Some(card) = self.get_card(card_no, false).await? else { return Ok(None) };
        self.get_person(&card.person_id, lock).await
    }
    async fn list_persons(&mut self, page: &Page) -> Result<Vec<Person>>;
    /// Records that staff saw the person's unmasked data.
    async fn insert_read(&mut self, read: &PersonRead) -> Result<()>;
    /// The staff reads of a person, newest first, at most `limit` (<= 500).
    async fn reads_of_person(&mut self, person_id: &str, limit: u32) -> Result<Vec<PersonRead>>;
    /// Codes of the banks holding a card or an application of the person (at most 50).
    async fn banks_serving(&mut self, person_id: &str) -> Result<Vec<String>>;
}
