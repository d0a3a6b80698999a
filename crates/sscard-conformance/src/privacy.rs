//! Who sees what: full identity numbers and a person's money only for those with
//! business with the person.

use crate::fixtures::*;
use sscard_app::onecard::{ledger, uses};
use sscard_app::persons;
use sscard_domain::disclosure::Disclosure;
use sscard_store::Store;
use std::sync::Arc;

/// A teller of a bank with no card or application of the person sees the SSN masked and none
/// of their uses or balances; the serving bank's teller, the clerk, the holder see it all; a
/// teller who typed the person's own number sees that number.
pub async fn staff_see_full_numbers_and_money_only_with_business(store: Arc<dyn Store>) {
    let store = store.as_ref();
    seed(store).await;
    let person = register(store, 1).await;
    active_card(store, &person).await;
    let (mine, other) = (ctx(teller(BANK)), ctx(teller(OTHER_BANK)));

    for (who, c) in [("serving teller", &mine), ("clerk", &ctx(clerk())), ("holder", &ctx(holder(&person)))] {
        let seen = persons::get(store, c, &person.id).await.expect("visible");
        assert_eq!(seen.disclosure, Disclosure::Full, "{who}");
        uses(store, c, &person.id, None, 10).await.expect(who);
        ledger::balances(store, c, &person.id, 10).await.expect(who);
    }

    let seen = persons::get(store, &other, &person.id).await.expect("a teller may look a person up");
    assert_eq!(seen.disclosure, Disclosure::Masked, "a teller of a bank without business with the person");
    forbidden(uses(store, &other, &person.id, None, 10).await);
    forbidden(ledger::balances(store, &other, &person.id, 10).await);

    let typed = try_find_by_ssn(store, &other, person.ssn.as_str()).await.expect("found by the number");
    assert_eq!(typed.disclosure, Disclosure::Full, "the teller typed this very number");
    let by_doc = try_find_by_number(store, &other, &person.doc_number).await.expect("found by the number");
    assert_eq!(by_doc.disclosure, Disclosure::Full);
}

/// Who saw my data: every staff look at the unmasked numbers is recorded (who, role, bank,
/// what) and listed to the holder; the holder's own looks and masked looks are not.
pub async fn staff_looks_at_unmasked_data_are_listed_to_the_holder(store: Arc<dyn Store>) {
    let store = store.as_ref();
    seed(store).await;
    let person = register(store, 1).await;
    active_card(store, &person).await;
    let me = ctx(holder(&person));
    let before = persons::reads(store, &me, &person.id, 50).await.expect("the holder lists reads");

    persons::get(store, &ctx(teller(BANK)), &person.id).await.expect("the serving teller looks");
    persons::get(store, &ctx(teller(OTHER_BANK)), &person.id).await.expect("a masked look");
    persons::get(store, &me, &person.id).await.expect("the holder's own look");
    let ssn = sscard_domain::document::Ssn::parse(person.ssn.as_str()).expect("ssn");
    persons::find_by_ssn(store, &ctx(clerk()), &ssn).await.expect("the clerk types the number");

    let reads = persons::reads(store, &me, &person.id, 50).await.expect("listed");
    assert_eq!(reads.len(), before.len() + 2, "{reads:?}");
    let (newest, older) = (&reads[0], &reads[1]);
    assert_eq!((newest.role.as_str(), newest.what.as_str()), ("clerk", "person_by_number"));
    assert_eq!(
        (older.role.as_str(), older.bank_code.as_deref(), older.what.as_str()),
        ("teller", Some(BANK), "person")
    );
    forbidden(persons::reads(store, &ctx(teller(BANK)), &person.id, 50).await);
    persons::reads(store, &ctx(clerk()), &person.id, 50).await.expect("the office lists them");
}
