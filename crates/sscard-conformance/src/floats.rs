//! Cash floats: a service point takes cash only against money it paid in. The card office
//! records a funding (once per key), each cash top-up draws the point's float, and cash the
//! float cannot cover is refused (`float_exhausted`) with nothing moved.

use super::fixtures::*;
use sscard_app::onecard::floats::{self, FundFloat};
use sscard_app::onecard::terminals::{self, NewTerminal};
use sscard_app::onecard::transit::{self, Topup};
use sscard_app::onecard::{Presentation, ledger, terminal_actor};
use sscard_domain::error::ErrorKind;
use sscard_domain::ids::RegionCode;
use sscard_domain::terminal::{Operator, OperatorKind};
use sscard_store::{Store, StoreError};
use std::sync::Arc;

/// An account's whole balance (row and slots), 0 when it does not exist.
async fn account_balance(store: &dyn Store, id: &str) -> i64 {
    let mut tx = store.read().await.expect("read");
    let row = tx.get_account(id, false).await.expect("account");
    tx.commit().await.expect("commit");
    row.map_or(0, |a| a.balance_fen)
}

fn cash(amount_fen: i64) -> Topup {
    Topup::parse(amount_fen, "cash", None).expect("a valid top-up")
}

fn funding(owner: &str, amount_fen: i64, key: &str) -> FundFloat {
    FundFloat::parse(owner, amount_fen, key).expect("a valid funding")
}

/// A bank's desk and a transit top-up point take cash only from their floats: funded once per
/// key (a replay moves nothing, the key with another amount is a conflict), drawn by each
/// cash top-up, refused with the balance and the amount when short, nothing written then;
/// only the card office records a funding, for a point that exists; the books stay clean.
pub async fn cash_floats_fund_and_draw(store: Arc<dyn Store>) {
    let store = &*store;
    seed(store).await;
    let bus = Operator {
        code: "XM-BUS".into(),
        name: "Xiamen bus".into(),
        kind: OperatorKind::Transit,
        region: RegionCode::parse(REGION).expect("region"),
    };
    terminals::add_operator(store, &ctx(admin()), bus).await.expect("operator");
    let person = register(store, 1).await;
    let no = active_card(store, &person).await.card_no.as_str().to_string();
    let card = Presentation::CardNo(no.clone());
    let desk = ctx(teller(BANK));
    let (float, source) = (format!("cash:CASH-{BANK}"), format!("clearing:FLOAT-CASH-{BANK}"));

    // No float yet: the desk's cash is refused and nothing is written.
    let before = row_counts(store).await;
    let e = refusal(transit::topup(store, &desk, None, &card, &cash(600)).await, ErrorKind::Refused, "float_exhausted");
    assert!(e.message.contains(&float) && e.message.contains("0.00") && e.message.contains("6.00"), "{}", e.message);
    assert_eq!(row_counts(store).await, before, "a refused cash top-up writes nothing");

    // Only the card office records a funding, and only for a point that exists.
    let owner = format!("CASH-{BANK}");
    for who in [teller(BANK), holder(&person)] {
        forbidden(floats::fund_float(store, &ctx(who), &funding(&owner, 1000, "f1")).await);
    }
    for unknown in ["CASH-NOBANK", "NO-SUCH-OPERATOR"] {
        let r = floats::fund_float(store, &ctx(clerk()), &funding(unknown, 1000, "f1")).await;
        assert!(matches!(r, Err(StoreError::NotFound { .. })), "{unknown}: {r:?}");
    }
    assert_eq!(row_counts(store).await, before, "refused fundings write nothing");
    invalid(FundFloat::parse(&owner, 0, "f1").map_err(StoreError::from), "bad_amount", "amount_fen");
    invalid(FundFloat::parse("a b", 1, "f1").map_err(StoreError::from), "bad_cash_point", "owner");

    // Funded once: the replay answers the first funding and moves nothing.
    let first = floats::fund_float(store, &ctx(clerk()), &funding(&owner, 1000, "f1")).await.expect("fund");
    assert_eq!((first.account.as_str(), first.source.as_str()), (float.as_str(), source.as_str()));
    assert_eq!((first.amount_fen, first.float_fen, first.replayed), (1000, 1000, false));
    let again = floats::fund_float(store, &ctx(clerk()), &funding(&owner, 1000, "f1")).await.expect("replay");
    assert_eq!((again.transfer_id.as_str(), again.float_fen, again.replayed), (first.transfer_id.as_str(), 1000, true));
    refusal(
        floats::fund_float(store, &ctx(clerk()), &funding(&owner, 2000, "f1")).await,
        ErrorKind::Conflict,
        "idempotency_mismatch",
    );
    assert_eq!(account_balance(store, &float).await, 1000);
    assert_eq!(account_balance(store, &source).await, -1000);

    // Each cash top-up draws the float; one it cannot cover is refused with nothing moved.
    let t = transit::topup(store, &desk, None, &card, &cash(600)).await.expect("cash top-up");
    assert_eq!(t.balance_fen, 600);
    assert_eq!(account_balance(store, &float).await, 400);
    let before = row_counts(store).await;
    let e = refusal(transit::topup(store, &desk, None, &card, &cash(500)).await, ErrorKind::Refused, "float_exhausted");
    assert!(e.message.contains("4.00") && e.message.contains("5.00"), "{}", e.message);
    assert_eq!(row_counts(store).await, before);
    assert_eq!(account_balance(store, &float).await, 400);
    transit::topup(store, &desk, None, &card, &cash(400)).await.expect("the last of the float");
    assert_eq!(account_balance(store, &float).await, 0);

    terminal_and_long_key_floats(store, &card, &no).await;

    let books = ledger::check(store).await.expect("books");
    assert!(books.clean(), "{books:?}");
}

/// A transit top-up terminal draws its operator's float; a long login and key record once.
async fn terminal_and_long_key_floats(store: &dyn Store, card: &Presentation, no: &str) {
    // A transit top-up terminal draws its operator's float the same way.
    let req = NewTerminal::parse::<&str>("XM-BUS", "transit", REGION, &[]).expect("terminal");
    let point = terminals::add_terminal(store, &ctx(admin()), req).await.expect("terminal").terminal;
    let at_point = ctx(terminal_actor(&point));
    refusal(
        transit::topup(store, &at_point, Some(&point), card, &cash(100)).await,
        ErrorKind::Refused,
        "float_exhausted",
    );
    floats::fund_float(store, &ctx(admin()), &funding("XM-BUS", 100, "bus-1")).await.expect("fund the bus company");
    transit::topup(store, &at_point, Some(&point), card, &cash(100)).await.expect("terminal cash top-up");
    assert_eq!(account_balance(store, "cash:XM-BUS").await, 0);
    assert_eq!(account_balance(store, &format!("ewallet:{no}")).await, 1100);

    // A long login name with the longest Idempotency-Key still records once.
    let long = ctx(sscard_domain::access::Actor { name: "c".repeat(64), ..clerk() });
    let key = "k".repeat(128);
    let one = floats::fund_float(store, &long, &funding("OFFICE", 50, &key)).await.expect("a long key");
    let two = floats::fund_float(store, &long, &funding("OFFICE", 50, &key)).await.expect("its replay");
    assert_eq!((one.float_fen, two.transfer_id.as_str(), two.replayed), (50, one.transfer_id.as_str(), true));
}
