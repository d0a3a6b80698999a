//! Handing a card over: only once its fee is paid (the ledger's fee transfer) or waived by the
//! card office with a reason, and, when the desk asks, only to the registered holder.

use super::fixtures::*;
use sscard_app::applications::{StepInput, step_with, waive_fee};
use sscard_domain::application::{AppKind, AppStatus, AppStep, Channel, ReplacementReason};
use sscard_domain::card::{CardAction, CardStatus};
use sscard_domain::error::ErrorKind;
use sscard_domain::handover::StaffReason;
use sscard_domain::person::Person;
use sscard_store::Store;
use std::sync::Arc;

/// The `n`-th person's active card reported lost and a replacement made, waiting at the branch.
async fn waiting_replacement(store: &dyn Store, n: u32, channel: Channel) -> (Person, String) {
    let person = register(store, n).await;
    let card = active_card(store, &person).await;
    let me = ctx(holder(&person));
    act(store, &me, card.card_no.as_str(), CardAction::ReportLost, Default::default()).await;
    let branch = if channel == Channel::Branch { PLAIN_BRANCH } else { PRINTER_BRANCH };
    let input = app_input(AppKind::Replacement, channel, BANK, Some(branch), None, Some(ReplacementReason::Lost));
    let view = sscard_app::applications::apply(store, &ctx(teller(BANK)), &person.id, input).await.expect("apply");
    let id = view.application.id.clone();
    if channel == Channel::Branch {
        step(store, &ctx(clerk()), &id, AppStep::Approve).await;
        steps(store, &ctx(teller(BANK)), &id, &[AppStep::Produce, AppStep::Ready]).await;
    }
    (person, id)
}

fn reason(text: &str) -> StaffReason {
    StaffReason::parse(text, "reason").expect("a reason")
}

fn checked(doc: &str) -> StepInput {
    StepInput { holder_doc_number: Some(doc.to_string()), require_holder_check: true, ..Default::default() }
}

pub async fn hand_over_waits_for_the_fee(store: Arc<dyn Store>) {
    let store = &*store;
    seed(store).await;
    let desk = ctx(teller(BANK));
    let (person, id) = waiting_replacement(store, 1, Channel::Branch).await;
    assert_eq!(application(store, &id).await.fee_state, "unpaid");
    let before = row_counts(store).await;
    refusal(
        step_with(store, &desk, &id, AppStep::Collect, &checked(&person.doc_number)).await,
        ErrorKind::Refused,
        "fee_unpaid",
    );
    assert_eq!(row_counts(store).await, before, "a refused hand-over writes nothing");

    // Only the card office waives, once, with a reason kept with who and when.
    refusal(waive_fee(store, &desk, &id, &reason("kind teller")).await, ErrorKind::Forbidden, "forbidden");
    refusal(waive_fee(store, &ctx(holder(&person)), &id, &reason("me")).await, ErrorKind::Forbidden, "forbidden");
    let waived = waive_fee(store, &ctx(clerk()), &id, &reason("低保户")).await.expect("waive");
    assert_eq!(waived.fee_state, "waived");
    assert_eq!((waived.reasons[0].kind.as_str(), waived.reasons[0].reason.as_str()), ("fee_waiver", "低保户"));
    assert_eq!(waived.reasons[0].actor, clerk().name);
    refusal(waive_fee(store, &ctx(clerk()), &id, &reason("again")).await, ErrorKind::Conflict, "fee_waived");

    // The desk's document check: another number is refused, the holder's (any case) passes.
    let mut other = person.doc_number.clone();
    other.replace_range(6..10, "1970");
    let before = row_counts(store).await;
    let e = refusal(
        step_with(store, &desk, &id, AppStep::Collect, &checked(&other)).await,
        ErrorKind::Refused,
        "holder_mismatch",
    );
    assert!(!e.message.contains(&person.doc_number));
    refusal(
        step_with(store, &desk, &id, AppStep::Collect, &checked("")).await,
        ErrorKind::Invalid,
        "holder_doc_number_required",
    );
    assert_eq!(row_counts(store).await, before);
    let done = step_with(store, &desk, &id, AppStep::Collect, &checked(&person.doc_number.to_ascii_lowercase())).await;
    let done = done.expect("collect");
    assert_eq!(done.application.status, AppStatus::Collected);
    assert_eq!(card_of(&done).status, CardStatus::Issued);

    // Paid in cash: handed over; a paid fee is not waived.
    let (_, paid_id) = waiting_replacement(store, 2, Channel::Branch).await;
    pay_fee(store, &desk, &paid_id).await;
    assert_eq!(application(store, &paid_id).await.fee_state, "paid");
    refusal(waive_fee(store, &ctx(clerk()), &paid_id, &reason("late")).await, ErrorKind::Conflict, "fee_paid");
    assert_eq!(step(store, &desk, &paid_id, AppStep::Collect).await.application.status, AppStatus::Collected);

    // Instant at a printer: printed at once, waiting at the counter for the fee.
    let (_, instant_id) = waiting_replacement(store, 3, Channel::BranchInstant).await;
    let view = application(store, &instant_id).await;
    assert_eq!((view.application.status, view.fee_state.as_str()), (AppStatus::ReadyForPickup, "unpaid"));
    assert_eq!(card_of(&view).status, CardStatus::Produced);
    let books = sscard_app::onecard::ledger::check(store).await.expect("books");
    assert!(books.clean(), "{books:?}");
}
