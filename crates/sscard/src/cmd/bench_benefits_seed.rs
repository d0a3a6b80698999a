//! The persons of `sscard bench benefits`, seeded in bulk: a few go through the use cases
//! (register, apply at a printing branch, activate) and serve as the model; the rest are
//! copies with their own SSN, name, card number, account and card identification code,
//! written through the store's own port (`insert_person`, `insert_card`), so their personal
//! data is sealed at rest and indexed exactly as the store always does, 10,000 a transaction.

use super::bench::{bench_name, setup};
use sscard_domain::card::Card;
use sscard_domain::document::{Ssn, make_resident_id};
use sscard_domain::ids::{Bin, CardIdCode, CardNo, Pan, RegionCode};
use sscard_domain::person::{Person, PersonName};
use sscard_store::Store;

/// Persons (and cards) written per transaction.
const SEED_TX: u32 = 10_000;
/// Serials of the copies' cards and accounts start here, far above the model cards'.
const FIRST_SERIAL: u64 = 10_000_000;

/// The SSN of the `i`-th bench payee: 1,000 a birth day from 1 January 1950 (so a million
/// stay within three years, apart from the persons of the other benchmarks).
pub(super) fn bench_ssn(i: u32) -> anyhow::Result<String> {
    let region = RegionCode::parse("350203")?;
    let birth =
        time::Date::from_calendar_date(1950, time::Month::January, 1)? + time::Duration::days(i64::from(i / 1000));
    Ok(make_resident_id(region, birth, (i % 1000) as u16))
}

/// A bank and `n` persons with an active card each, the `i`-th with SSN [`bench_ssn`]`(i)`.
pub(super) async fn seed(store: &dyn Store, n: u32) -> anyhow::Result<()> {
    let model_cards = setup(store, 2).await?;
    let (person, card) = model(store, &model_cards).await?;
    let bin = Bin::parse("623599")?;
    let mut i = 0u32;
    while i < n {
        let end = (i + SEED_TX).min(n);
        let mut tx = store.write().await?;
        for k in i..end {
            let (p, c) = copy(&person, &card, &bin, k)?;
            tx.insert_person(&p).await?;
            tx.insert_card(&c).await?;
        }
        tx.commit().await?;
        i = end;
    }
    Ok(())
}

/// The first model person and their active card.
async fn model(store: &dyn Store, cards: &[String]) -> anyhow::Result<(Person, Card)> {
    let card_no = cards.first().ok_or_else(|| anyhow::anyhow!("no model card"))?;
    let mut tx = store.read().await?;
    let card = tx.get_card(card_no, false).await?.ok_or_else(|| anyhow::anyhow!("model card {card_no} not found"))?;
    let person =
        tx.get_person(&card.person_id, false).await?.ok_or_else(|| anyhow::anyhow!("model person not found"))?;
    tx.commit().await?;
    Ok((person, card))
}

/// The `k`-th copy of the model person (their sex included) and card.
fn copy(person: &Person, card: &Card, bin: &Bin, k: u32) -> anyhow::Result<(Person, Card)> {
    let ssn = bench_ssn(k)?;
    let birth =
        time::Date::from_calendar_date(1950, time::Month::January, 1)? + time::Duration::days(i64::from(k / 1000));
    let mut p = person.clone();
    p.birth_date = birth;
    p.id = sscard_app::new_id();
    p.ssn = Ssn::parse(&ssn)?;
    p.doc_number = ssn;
    p.name = PersonName::parse(&bench_name(k))?;
    let serial = FIRST_SERIAL + u64::from(k);
    let mut c = card.clone();
    c.card_no = CardNo::from_serial(serial);
    c.person_id = p.id.clone();
    c.pan = Some(Pan::issue(bin, serial));
    c.card_id_code = Some(CardIdCode::issue(p.region, serial));
    c.application_id = None;
    Ok((p, c))
}
