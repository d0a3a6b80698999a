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

/// The name and SSN of the unknown person in [`paid_benefit_batch`] (never registered).
pub const GHOST_NAME: &str = "司马无名";

/// A tax refund batch paid by payer TAX-AR: line "1" to `person`'s card account, line "2" of an
/// unknown person ([`GHOST_NAME`], SSN `resident_number(97)`). Answers the paid account.
pub async fn paid_benefit_batch(store: &dyn Store, person: &sscard_domain::person::Person) -> String {
    use sscard_app::benefits::{self, NewPayer, NewProgram};
    use sscard_domain::benefits::{Envelope, RawLine};
    let admin = ctx(admin());
    let payer = NewPayer::parse("TAX-AR", "厦门税务局", "350200").expect("payer");
    benefits::add_payer(store, &admin, &payer).await.expect("add payer");
    let refund = NewProgram::parse("TAXAR", "个税退税", "tax_refund", false).expect("program");
    benefits::add_program(store, &admin, &refund).await.expect("add program");
    let card = active_card(store, person).await;
    let lines = [
        RawLine {
            line_id: "1".into(),
            ssn: person.ssn.to_string(),
            name: person.name.as_str().into(),
            amount_fen: "700".into(),
            file_line: None,
        },
        RawLine {
            line_id: "2".into(),
            ssn: resident_number(97),
            name: GHOST_NAME.into(),
            amount_fen: "300".into(),
            file_line: None,
        },
    ];
    let env = Envelope::parse("TAX-AR", "AR-1", "taxar", "2026-10", 2, 1000).expect("envelope");
    let payer_ctx = ctx(sscard_domain::access::Actor {
        name: "staff.tax-ar".into(),
        role: sscard_domain::access::Role::Payer,
        person_id: None,
        bank_code: Some("TAX-AR".into()),
    });
    benefits::submit_lines(store, &payer_ctx, env, &lines).await.expect("batch paid");
    card.pan.expect("an instant card has a bank account").as_str().to_string()
}

pub async fn benefit_lines_are_sealed_at_rest(store: Arc<dyn Store>) {
    let store = store.as_ref();
    seed(store).await;
    let person = register(store, 1).await;
    let pan = paid_benefit_batch(store, &person).await;
    let payer = ctx(sscard_domain::access::Actor {
        name: "staff.tax-ar".into(),
        role: sscard_domain::access::Role::Payer,
        person_id: None,
        bank_code: Some("TAX-AR".into()),
    });

    // Lines, the holder's benefits and the bank's credit rows read back whole.
    let lines = sscard_app::benefits::pay::lines(store, &payer, "TAX-AR", "AR-1", None, 0, 10).await.expect("lines");
    let got: Vec<_> = lines.iter().map(|l| (l.ssn.as_str(), l.name.as_str(), l.account_no.as_deref())).collect();
    let ghost_ssn = resident_number(97);
    assert_eq!(
        got,
        [(person.ssn.as_str(), person.name.as_str(), Some(pan.as_str())), (ghost_ssn.as_str(), GHOST_NAME, None)]
    );
    let mut tx = store.read().await.expect("read");
    let mine = tx.benefits_of_person(&person.id, 10).await.expect("benefits");
    assert_eq!(mine.iter().map(|b| b.payment.account_no.as_str()).collect::<Vec<_>>(), [pan.as_str()]);
    let credits = tx.bank_credits(lines[0].batch_no, None, 0, 10).await.expect("credits");
    assert_eq!((credits[0].name.as_str(), credits[0].account_no.as_str()), (person.name.as_str(), pan.as_str()));
    tx.commit().await.expect("commit");

    // None of it is in the tables in clear; every row names its key version.
    let line_cols = ["ssn", "name", "account_no"];
    for value in [person.ssn.as_str(), person.name.as_str(), pan.as_str(), ghost_ssn.as_str(), GHOST_NAME] {
        assert_eq!(rows_where(store, "benefit_lines", &any_holds(&line_cols, value)).await, 0, "{value} in clear");
    }
    assert_eq!(rows_where(store, "benefit_payments", &any_holds(&["account_no"], &pan)).await, 0);
    assert_eq!(rows_where(store, "benefit_lines", "key_version IS NULL OR name NOT LIKE 'v%.%'").await, 0);
    assert_eq!(rows_where(store, "benefit_payments", "key_version IS NULL OR account_no NOT LIKE 'v%.%'").await, 0);

    // A sealed name copied onto the other line does not open there.
    let sql = "UPDATE benefit_lines SET name = (SELECT name FROM benefit_lines WHERE seq = 1) WHERE seq = 2";
    let mut tx = store.write().await.expect("write");
    assert_eq!(tx.execute_unchecked(sql).await.expect("swap"), 1);
    tx.commit().await.expect("commit");
    let moved = sscard_app::benefits::pay::lines(store, &payer, "TAX-AR", "AR-1", None, 0, 10).await;
    assert!(moved.is_err(), "a moved ciphertext opened: {moved:?}");
}
