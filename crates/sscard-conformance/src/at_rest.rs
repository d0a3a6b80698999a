//! Personal data at rest: the store keeps names, ID numbers, relationship proofs, mailing
//! addresses and PANs only sealed, gives them back whole, finds persons by SSN and document
//! number without them, and refuses a sealed value moved to another row.

use crate::fixtures::*;
use sscard_app::persons;
use sscard_domain::person::GuardianLink;
use sscard_domain::person::RegistrationInput;
use sscard_store::Store;
use std::sync::Arc;

/// Rows of `table` matching `filter` (counted by a no-op update, the one raw statement every
/// backend answers with a count).
async fn rows_where(store: &dyn Store, table: &str, filter: &str) -> u64 {
    let mut tx = store.write().await.expect("write");
    let n = tx.execute_unchecked(&format!("UPDATE {table} SET key_version = key_version WHERE {filter}")).await;
    tx.commit().await.expect("commit");
    n.unwrap_or_else(|e| panic!("count {table} where {filter}: {e}"))
}

/// `col = 'value' OR col LIKE '%value%'` for each column (values hold no quotes).
fn any_holds(cols: &[&str], value: &str) -> String {
    assert!(!value.contains('\''), "{value}");
    cols.iter().map(|c| format!("{c} = '{value}' OR {c} LIKE '%{value}%'")).collect::<Vec<_>>().join(" OR ")
}

pub async fn personal_data_is_sealed_at_rest(store: Arc<dyn Store>) {
    let store = store.as_ref();
    seed(store).await;
    let parent = register(store, 1).await;
    let child_input = RegistrationInput {
        guardian_id: Some(parent.id.clone()),
        relationship_proof: Some("HB3502031234".to_string()),
        ..resident_input(&resident_number_born(time::macros::date!(2016 - 01 - 10), 222), "小明")
    };
    let child = register_input(store, child_input).await;
    let mailed = apply(store, &ctx(clerk()), &parent.id, online_first()).await;
    let other = register(store, 2).await;
    let card = active_card(store, &other).await;
    let pan = card.pan.clone().expect("an instant card has a bank account").as_str().to_string();

    // Everything reads back whole, by id, by SSN and by document number (blind indexes).
    let c = ctx(clerk());
    let read = persons::get(store, &c, &child.id).await.expect("the child").person;
    assert_eq!((read.name.as_str(), read.ssn.as_str()), (child.name.as_str(), child.ssn.as_str()));
    let link = GuardianLink { guardian_id: parent.id.clone(), relationship_proof: "HB3502031234".into() };
    assert_eq!(read.guardian, Some(link));
    let by_ssn = try_find_by_ssn(store, &c, parent.ssn.as_str()).await.expect("found by SSN").person;
    assert_eq!((by_ssn.id.as_str(), by_ssn.name.as_str()), (parent.id.as_str(), parent.name.as_str()));
    let by_doc = try_find_by_number(store, &c, &other.doc_number).await.expect("found by document").person;
    assert_eq!(by_doc.id, other.id);
    assert!(try_find_by_ssn(store, &c, &resident_number(77)).await.is_err(), "an unknown SSN finds nobody");
    let app = application(store, &mailed.application.id).await;
    assert_eq!(app.application.mail_address.as_deref(), Some(MAIL_ADDRESS));
    assert_eq!(get_card(store, card.card_no.as_str()).await.pan.map(|p| p.as_str().to_string()), Some(pan.clone()));

    // No clear value is in the tables; every row names its key version.
    let person_cols = ["name", "ssn", "doc_number", "relationship_proof"];
    for p in [&parent, &child, &other] {
        for value in [p.name.as_str(), p.ssn.as_str(), p.doc_number.as_str()] {
            assert_eq!(rows_where(store, "persons", &any_holds(&person_cols, value)).await, 0, "{value} in clear");
        }
    }
    assert_eq!(rows_where(store, "persons", &any_holds(&person_cols, "HB3502031234")).await, 0);
    assert_eq!(rows_where(store, "applications", &any_holds(&["mail_address"], "展鸿路")).await, 0);
    assert_eq!(rows_where(store, "cards", &any_holds(&["pan"], &pan)).await, 0);
    assert_eq!(rows_where(store, "persons", "key_version IS NULL OR ssn NOT LIKE 'v%.%'").await, 0);
    assert_eq!(rows_where(store, "persons", "relationship_proof LIKE 'v%.%'").await, 1, "the child's proof");
    assert_eq!(rows_where(store, "cards", "key_version IS NULL").await, 0);

    // A second person with the same SSN or the same document is refused by the blind indexes.
    assert!(persons::register(store, &c, adult_input(1)).await.is_err(), "the same person twice");

    // A sealed name copied onto another person's row does not open there.
    let sql = format!(
        "UPDATE persons SET name = (SELECT name FROM persons WHERE id = '{}') WHERE id = '{}'",
        parent.id, other.id
    );
    let mut tx = store.write().await.expect("write");
    assert_eq!(tx.execute_unchecked(&sql).await.expect("swap"), 1);
    tx.commit().await.expect("commit");
    match persons::get(store, &c, &other.id).await {
        Ok(seen) => panic!("a moved ciphertext opened as {:?}", seen.person.name),
        Err(e) => assert!(!e.to_string().contains(parent.name.as_str()), "{e}"),
    }
}
