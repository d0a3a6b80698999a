//! The live e-card set: e-cards with their card and holder, kept in memory so online QR
//! verification needs no database read once an e-card has been seen.
//!
//! Correctness rests on two rules:
//! * Every change that can alter an e-card's verdict writes an outbox event naming the person
//!   (a state change commits with its event). The store tells [`LiveEcards`] the persons
//!   of the events of each write transaction right after it commits ([`CommitObserver`]), so a
//!   card suspended through this process is refused at once. Changes made by another process
//!   (another server instance, the CLI) reach it through [`LiveEcards::evict_persons`] fed by the
//!   server's outbox tail, within its polling period.
//! * A fill races with evictions: a reader that read the database before a change committed must
//!   not put the old state back after the change evicted it. Every eviction bumps a generation;
//!   a fill taken at an older generation is dropped ([`LiveEcards::put`]).
//!
//! Bounded: at most `capacity` entries; when full, an arbitrary tenth is dropped. A set of
//! capacity 0 ([`LiveEcards::read_through`]) holds nothing.

use sscard_domain::card::Card;
use sscard_domain::ecard::Ecard;
use sscard_domain::ids::{EcardId, PersonId};
use sscard_domain::person::Person;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// What online verification needs of one e-card.
pub type LiveEntry = Arc<(Ecard, Card, Person)>;

pub use sscard_store::CommitObserver;

/// Default capacity: about 1 KiB an entry, so about 200 MiB at most.
pub const DEFAULT_CAPACITY: usize = 200_000;

#[derive(Default)]
struct Inner {
    by_ecard: HashMap<EcardId, LiveEntry>,
    ecard_of_person: HashMap<PersonId, EcardId>,
    generation: u64,
}

/// See the module documentation.
pub struct LiveEcards {
    inner: Mutex<Inner>,
    capacity: usize,
}

impl std::fmt::Debug for LiveEcards {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveEcards").field("len", &self.len()).field("capacity", &self.capacity).finish()
    }
}

impl Default for LiveEcards {
    fn default() -> Self {
        Self::with_capacity(DEFAULT_CAPACITY)
    }
}

impl LiveEcards {
    pub fn with_capacity(capacity: usize) -> Self {
        LiveEcards { inner: Mutex::new(Inner::default()), capacity: capacity.max(1) }
    }

    /// A set that holds nothing, so every lookup reads the database: for a store that cannot
    /// report its commits.
    pub fn read_through() -> Self {
        LiveEcards { inner: Mutex::new(Inner::default()), capacity: 0 }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The entry of an e-card, if held.
    pub fn get(&self, ecard_id: &str) -> Option<LiveEntry> {
        self.lock().by_ecard.get(ecard_id).cloned()
    }

    /// The generation to pass to [`Self::put`]: take it before reading the database.
    pub fn generation(&self) -> u64 {
        self.lock().generation
    }

    /// Holds an entry read from the database at `generation`, unless something was evicted
    /// since (the read may predate that change). Answers whether it was kept.
    pub fn put(&self, generation: u64, entry: LiveEntry) -> bool {
        let mut inner = self.lock();
        if self.capacity == 0 || inner.generation != generation {
            return false;
        }
        if inner.by_ecard.len() >= self.capacity {
            let drop_n = (self.capacity / 10).max(1);
            let victims: Vec<EcardId> = inner.by_ecard.keys().take(drop_n).cloned().collect();
            for id in victims {
                if let Some(e) = inner.by_ecard.remove(&id) {
                    inner.ecard_of_person.remove(e.0.person_id.as_str());
                }
            }
        }
        let ecard_id = EcardId::from_stored(entry.0.id.as_str());
        let person_id = PersonId::from_stored(entry.0.person_id.as_str());
        inner.ecard_of_person.insert(person_id, ecard_id.clone());
        inner.by_ecard.insert(ecard_id, entry);
        true
    }

    /// Forgets the e-cards of these persons (their state changed).
    pub fn evict_persons<S: AsRef<str>>(&self, person_ids: &[S]) {
        let mut inner = self.lock();
        inner.generation = inner.generation.wrapping_add(1);
        for p in person_ids {
            if let Some(ecard_id) = inner.ecard_of_person.remove(p.as_ref()) {
                inner.by_ecard.remove(&ecard_id);
            }
        }
    }

    /// Forgets everything (e.g. the outbox tail lost its place).
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.generation = inner.generation.wrapping_add(1);
        inner.by_ecard.clear();
        inner.ecard_of_person.clear();
    }

    pub fn len(&self) -> usize {
        self.lock().by_ecard.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl CommitObserver for LiveEcards {
    fn committed(&self, person_ids: &[String]) {
        self.evict_persons(person_ids);
    }
}
