//! Banks: one BIN per bank, one card per bank account number (PAN).

use crate::fixtures::*;
use sscard_domain::error::ErrorKind;
use sscard_domain::ids::Bin;
use sscard_store::model::Bank;
use sscard_store::{Store, Tx};
use std::sync::Arc;

fn bank_with_bin(code: &str, bin: &str) -> Bank {
    Bank { code: bank_code(code), name: format!("{code} bank"), bin: Bin::parse(bin).expect("a well-formed BIN") }
}

async fn unchecked(store: &dyn Store, sql: &str) -> sscard_store::Result<u64> {
    let mut tx: Box<dyn Tx> = store.write().await.expect("a write transaction");
    let done = tx.execute_unchecked(sql).await?;
    tx.commit().await?;
    Ok(done)
}

/// A BIN equal to, extending or extended by a registered BIN is refused and writes nothing;
/// the database refuses a shared BIN or PAN written behind sscard's back.
pub async fn banks_have_their_own_bins_and_cards_their_own_pans(store: Arc<dyn Store>) {
    let store = store.as_ref();
    seed(store).await;
    let c = ctx(admin());
    let before = row_counts(store).await;
    for bin in [BIN, "62220201", OTHER_BIN, "62170012"] {
        let e = refusal(
            sscard_app::admin::add_bank(store, &c, bank_with_bin("ABC", bin)).await,
            ErrorKind::Conflict,
            "bin_taken",
        );
        assert_eq!(e.field, Some("bin"), "{bin}");
    }
    assert_eq!(row_counts(store).await, before, "a refused bank writes nothing");
    sscard_app::admin::add_bank(store, &c, bank_with_bin("ABC", "622848")).await.expect("a BIN of its own");

    let first = issued_card(store, &register(store, 1).await).await;
    let second = issued_card(store, &register(store, 2).await).await;
    let (Some(pan1), Some(pan2)) = (&first.pan, &second.pan) else { panic!("formal cards carry a PAN") };
    assert_ne!(pan1.as_str(), pan2.as_str());

    let shared_bin =
        unchecked(store, &format!("INSERT INTO banks (code, name, bin) VALUES ('DUP', 'dup', '{BIN}')")).await;
    assert!(shared_bin.is_err(), "the database takes a second bank with BIN {BIN}");
    // PANs are sealed at rest; the unique index is on their blind index (migration 0009).
    let shared_pan = unchecked(
        store,
        &format!(
            "UPDATE cards SET pan_index = (SELECT pan_index FROM cards WHERE card_no = '{}') WHERE card_no = '{}'",
            first.card_no.as_str(),
            second.card_no.as_str()
        ),
    )
    .await;
    assert!(shared_pan.is_err(), "the database takes a second card with PAN {}", pan1.as_str());
}
