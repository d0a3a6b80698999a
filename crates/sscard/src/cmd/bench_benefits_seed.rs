//! Persons with an active card and an e-card, seeded in bulk for `sscard bench benefits` and
//! `sscard bench scale`: a few go through the use cases (register, apply at a printing branch,
//! activate, which issues the e-card) and serve as the model; the rest are copies with their
//! own SSN, name, card number, account, card identification code and e-card id, written with
//! multi-row inserts through `sscard_store_sql::bench::insert_holders`, which seals and indexes
//! them with the store's own row builders. Streamed: [`SEED_TX`] holders are made and written
//! a transaction at a time, at most two transactions in flight on PostgreSQL (the next chunk
//! is sealed while the database writes the last), so memory stays flat whatever the count.

use super::bench::{BenchDb, bench_name, setup};
use sscard_domain::card::Card;
use sscard_domain::document::{Ssn, make_resident_id};
use sscard_domain::ecard::Ecard;
use sscard_domain::ids::{Bin, CardIdCode, CardNo, Pan, RegionCode};
use sscard_domain::person::{Person, PersonName};
use sscard_store::Store;
use std::collections::VecDeque;

/// Persons (with their card and e-card) written per transaction.
const SEED_TX: u32 = 10_000;
/// Serials of the copies' cards and accounts start here, far above the model cards'.
const FIRST_SERIAL: u64 = 10_000_000;

/// The SSN of the `i`-th bench person: 1,000 a birth day from 1 January 1950 (so ten million
/// stay within 28 years, apart from the persons of the other benchmarks, born from 1960).
pub(super) fn bench_ssn(i: u32) -> anyhow::Result<String> {
    let region = RegionCode::parse("350203")?;
    Ok(make_resident_id(region, bench_birth(i)?, (i % 1000) as u16))
}

fn bench_birth(i: u32) -> anyhow::Result<time::Date> {
    Ok(time::Date::from_calendar_date(1950, time::Month::January, 1)? + time::Duration::days(i64::from(i / 1000)))
}

/// The card number of the `i`-th bench person.
pub(super) fn bench_card_no(i: u32) -> CardNo {
    CardNo::from_serial(FIRST_SERIAL + u64::from(i))
}

/// A bank and `n` persons with an active card and an e-card each, the `i`-th with SSN
/// [`bench_ssn`]`(i)` and card [`bench_card_no`]`(i)`. `progress` is told the persons
/// written so far after each transaction.
pub(super) async fn seed(db: &BenchDb, n: u32, progress: &mut (dyn FnMut(u32) + Send)) -> anyhow::Result<()> {
    let store = db.store.as_ref();
    let model_cards = setup(store, 2).await?;
    let model = model(store, &model_cards).await?;
    let bin = Bin::parse("623599")?;
    let in_flight = if store.backend() == "postgres" { 2 } else { 1 };
    let mut writing = VecDeque::new();
    let mut i = 0u32;
    while i < n {
        let end = (i + SEED_TX).min(n);
        let chunk = (i..end).map(|k| copy(&model, &bin, k)).collect::<anyhow::Result<Vec<_>>>()?;
        if writing.len() == in_flight {
            finish_one(&mut writing, progress).await?;
        }
        let sql = db.sql.clone();
        writing
            .push_back((end, tokio::spawn(async move { sscard_store_sql::bench::insert_holders(&sql, &chunk).await })));
        i = end;
    }
    while !writing.is_empty() {
        finish_one(&mut writing, progress).await?;
    }
    Ok(())
}

type Writing = VecDeque<(u32, tokio::task::JoinHandle<sscard_store::Result<()>>)>;

/// Waits for the oldest transaction in flight and reports how far the seed has come.
async fn finish_one(writing: &mut Writing, progress: &mut (dyn FnMut(u32) + Send)) -> anyhow::Result<()> {
    if let Some((done, task)) = writing.pop_front() {
        task.await??;
        progress(done);
    }
    Ok(())
}

/// The model: the first model person, their active card and their e-card.
struct Model {
    person: Person,
    card: Card,
    ecard: Ecard,
}

async fn model(store: &dyn Store, cards: &[String]) -> anyhow::Result<Model> {
    let card_no = cards.first().ok_or_else(|| anyhow::anyhow!("no model card"))?;
    let mut tx = store.read().await?;
    let card = tx.get_card(card_no, false).await?.ok_or_else(|| anyhow::anyhow!("model card {card_no} not found"))?;
    let person =
        tx.get_person(&card.person_id, false).await?.ok_or_else(|| anyhow::anyhow!("model person not found"))?;
    let ecard = tx.ecard_of_person(&person.id).await?.ok_or_else(|| anyhow::anyhow!("the model card has no e-card"))?;
    tx.commit().await?;
    Ok(Model { person, card, ecard })
}

/// The `k`-th copy of the model person (their sex included), card and e-card.
fn copy(m: &Model, bin: &Bin, k: u32) -> anyhow::Result<(Person, Card, Ecard)> {
    let ssn = bench_ssn(k)?;
    let mut p = m.person.clone();
    p.birth_date = bench_birth(k)?;
    p.id = sscard_app::new_id();
    p.ssn = Ssn::parse(&ssn)?;
    p.doc_number = ssn;
    p.name = PersonName::parse(&bench_name(k))?;
    let serial = FIRST_SERIAL + u64::from(k);
    let mut c = m.card.clone();
    c.card_no = bench_card_no(k);
    c.person_id = p.id.clone();
    c.pan = Some(Pan::issue(bin, serial));
    c.card_id_code = Some(CardIdCode::issue(p.region, serial));
    c.application_id = None;
    let mut e = m.ecard.clone();
    e.id = hex::encode(sscard_gm::rand::random_bytes::<16>());
    e.person_id = p.id.clone();
    e.card_no = c.card_no.clone();
    Ok((p, c, e))
}
