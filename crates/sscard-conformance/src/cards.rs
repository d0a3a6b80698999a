//! Cases 7 and 10: the card state machine and concurrent activation.

use super::fixtures::*;
use sscard_app::cards::ActionInput;
use sscard_app::jobs::Job;
use sscard_app::{self};
use sscard_domain::application::{AppKind, AppStep, Channel, ReplacementReason};
use sscard_domain::card::{CancelReason, Card, CardAction, CardStatus};
use sscard_domain::error::ErrorKind;
use sscard_domain::person::Person;
use sscard_store::{Result, Store, StoreError};
use std::sync::Arc;

/// The card table: where `action` leads from `from`, if anywhere.
pub fn card_table(from: CardStatus, action: CardAction) -> Option<CardStatus> {
    use CardAction as A;
    use CardStatus as S;
    match (action, from) {
        (A::Activate, S::Issued) => Some(S::Active),
        (A::Suspend, S::Active) => Some(S::Suspended),
        (A::Unsuspend, S::Suspended) => Some(S::Active),
        (A::ReportLost, S::Active | S::Suspended) => Some(S::Lost),
        (A::Stop, S::Active | S::Suspended) => Some(S::Stopped),
        (A::Cancel, S::Produced | S::Issued | S::Active | S::Suspended | S::Lost | S::Dormant) => Some(S::Cancelled),
        _ => None,
    }
}

fn event_kind(action: CardAction) -> &'static str {
    match action {
        CardAction::Activate => "card.activated",
        CardAction::Suspend => "card.suspended",
        CardAction::Unsuspend => "card.unsuspended",
        CardAction::ReportLost => "card.lost",
        CardAction::Stop => "card.stopped",
        CardAction::Cancel => "card.cancelled",
    }
}

/// A card of a new person (`n`) in `state`, reached through the operations.
/// `Dormant` runs the dormant sweep six months on: call it before other produced cards exist.
async fn card_in(store: &dyn Store, n: u32, state: CardStatus) -> (Person, Card) {
    let person = register(store, n).await;
    let card = match state {
        CardStatus::Produced => produced_card(store, &person).await,
        CardStatus::Dormant => {
            let card = produced_card(store, &person).await;
            let report = sscard_app::jobs::run(
                store,
                &job_ctx(Job::DormantSweep, at_date_ms(time::macros::date!(2026 - 09 - 02))),
                Job::DormantSweep,
                &|_| {},
            )
            .await
            .expect("dormant sweep");
            assert_eq!(report.changed, 1);
            super::fixtures::get_card(store, card.card_no.as_str()).await
        }
        CardStatus::Issued => issued_card(store, &person).await,
        CardStatus::Active => active_card(store, &person).await,
        CardStatus::Suspended => admin_act(store, active_card(store, &person).await, CardAction::Suspend).await,
        CardStatus::Lost => admin_act(store, active_card(store, &person).await, CardAction::ReportLost).await,
        CardStatus::Stopped => admin_act(store, active_card(store, &person).await, CardAction::Stop).await,
        CardStatus::Cancelled => admin_act(store, issued_card(store, &person).await, CardAction::Cancel).await,
        CardStatus::Replaced => {
            let old = active_card(store, &person).await;
            let damaged = app_input(
                AppKind::Replacement,
                Channel::BranchInstant,
                BANK,
                Some(PRINTER_BRANCH),
                None,
                Some(ReplacementReason::Damaged),
            );
            let new = card_of(&apply(store, &ctx(admin()), &person.id, damaged).await);
            admin_act(store, new, CardAction::Activate).await;
            super::fixtures::get_card(store, old.card_no.as_str()).await
        }
    };
    assert_eq!(card.status, state, "fixture card in {state}");
    (person, card)
}

/// A card made at ICBC's plain branch and waiting there (`produced`).
pub async fn produced_card(store: &dyn Store, person: &Person) -> Card {
    let c = ctx(admin());
    let view = apply(store, &c, &person.id, branch_first()).await;
    let id = view.application.id;
    let view = steps(store, &c, &id, &[AppStep::Approve, AppStep::Produce, AppStep::Ready]).await;
    card_of(&view)
}

async fn admin_act(store: &dyn Store, card: Card, action: CardAction) -> Card {
    act(store, &ctx(admin()), card.card_no.as_str(), action, full_input()).await
}

/// Every action from every state: allowed moves end where the state machine says, refused ones
/// are 409 with the current state and change nothing.
pub async fn card_state_machine(store: Arc<dyn Store>) {
    let store = &*store;
    seed(store).await;
    let c = ctx(admin());
    // The dormant fixture first: its sweep must not meet the other produced cards.
    let mut states = vec![CardStatus::Dormant];
    states.extend(CardStatus::ALL.iter().filter(|s| **s != CardStatus::Dormant));
    let mut n = 0;
    let mut refused = 0;
    let mut moved = 0;
    for from in states {
        n += 1;
        let (_, fixture) = card_in(store, n, from).await;
        let before = row_counts(store).await;
        for action in CardAction::ALL {
            if card_table(from, *action).is_some() {
                continue;
            }
            let result = try_act(store, &c, fixture.card_no.as_str(), *action, full_input()).await;
            conflict(result, "illegal_transition", from.as_str());
            refused += 1;
            assert_eq!(get_card(store, fixture.card_no.as_str()).await, fixture, "{from} {action}");
        }
        assert_eq!(row_counts(store).await, before, "refused actions on {from} write nothing");

        let mut spare = Some(fixture);
        for action in CardAction::ALL {
            let Some(to) = card_table(from, *action) else {
                continue;
            };
            let target = match spare.take() {
                Some(card) => card,
                None => {
                    n += 1;
                    card_in(store, n, from).await.1
                }
            };
            let at = days_later_ms(200);
            let done = try_act(store, &ctx_at(admin(), at), target.card_no.as_str(), *action, full_input())
                .await
                .unwrap_or_else(|e| panic!("{action} from {from} is allowed: {e:?}"));
            moved += 1;
            assert_eq!(done.status, to, "{action} from {from}");
            let stored = get_card(store, target.card_no.as_str()).await;
            assert_eq!(stored, done, "{action} from {from} is stored");
            assert_eq!(stored.status_changed_at_ms, at);
            match action {
                CardAction::Activate => assert!(stored.pin_hash.is_some()),
                CardAction::Suspend => assert_eq!(stored.suspended_at_ms, Some(at)),
                CardAction::Unsuspend => assert_eq!(stored.suspended_at_ms, None),
                CardAction::Cancel => {
                    assert_eq!(stored.cancel_reason, Some(CancelReason::HolderRequest))
                }
                CardAction::ReportLost | CardAction::Stop => {}
            }
            let kinds = event_kinds_of(store, target.card_no.as_str()).await;
            assert_eq!(kinds.last().map(String::as_str), Some(event_kind(*action)));
        }
    }
    assert_eq!(refused + moved, CardStatus::ALL.len() * CardAction::ALL.len());
    assert_eq!(moved, 13, "the state machine allows 13 (state, action) pairs");
}

/// Activation needs a 6-digit PIN that is not trivial; a refused activation changes nothing.
pub async fn activation_needs_a_good_pin(store: Arc<dyn Store>) {
    let store = &*store;
    seed(store).await;
    let person = register(store, 1).await;
    let issued = issued_card(store, &person).await;
    let no = issued.card_no.as_str();
    let me = ctx(holder(&person));
    let before = row_counts(store).await;
    invalid(try_act(store, &me, no, CardAction::Activate, ActionInput::default()).await, "pin_required", "pin");
    // A trivial or malformed PIN is refused at the edge, where the PIN is parsed.
    for trivial in ["123456", "111111", "654321", "121212", "123123"] {
        let e = sscard_domain::card::Pin::parse(trivial).expect_err("a trivial PIN is refused");
        assert_eq!((e.kind, e.code), (ErrorKind::Refused, "trivial_pin"));
    }
    for malformed in ["12345", "1234567", "12a456", ""] {
        let e = sscard_domain::card::Pin::parse(malformed).expect_err("a malformed PIN is refused");
        assert_eq!((e.code, e.field), ("bad_pin", Some("pin")));
    }
    assert_eq!(row_counts(store).await, before);
    let unchanged = get_card(store, no).await;
    assert_eq!(unchanged, issued);
    assert_eq!(unchanged.pin_hash, None);
    let active = act(store, &me, no, CardAction::Activate, with_pin(GOOD_PIN)).await;
    assert_eq!(active.status, CardStatus::Active);
    let hash = active.pin_hash.clone().unwrap_or_default();
    assert!(!hash.is_empty() && !hash.contains(GOOD_PIN), "only a hash of the PIN is kept");
    match try_act(store, &me, "A99999999", CardAction::Activate, with_pin(GOOD_PIN)).await {
        Err(StoreError::NotFound { what: "card", .. }) => {}
        other => panic!("an unknown card is not found, got {other:?}"),
    }
}

/// A stop needs a reason (1-200 characters), a cancellation one of the reasons.
pub async fn stop_and_cancel_need_reasons(store: Arc<dyn Store>) {
    let store = &*store;
    seed(store).await;
    let person = register(store, 1).await;
    let active = active_card(store, &person).await;
    let no = active.card_no.as_str();
    let office = ctx(clerk());
    let before = row_counts(store).await;
    invalid(try_act(store, &office, no, CardAction::Stop, ActionInput::default()).await, "reason_required", "reason");
    // An empty or too long reason is refused at the edge, where the reason is parsed.
    for reason in [String::new(), "   ".to_string(), "x".repeat(201)] {
        let e = sscard_domain::card::StopReason::parse(&reason).expect_err("a bad reason is refused");
        assert_eq!((e.code, e.field), ("reason_required", Some("reason")));
    }
    let stop = |reason: &str| ActionInput { stop_reason: Some(stop_reason(reason)), ..Default::default() };
    invalid(try_act(store, &office, no, CardAction::Cancel, ActionInput::default()).await, "reason_required", "reason");
    assert_eq!(row_counts(store).await, before);
    assert_eq!(get_card(store, no).await, active);

    let stopped = act(store, &office, no, CardAction::Stop, stop("moved to region 440300")).await;
    assert_eq!(stopped.status, CardStatus::Stopped);
    let stop_event = all_events(store).await.into_iter().rfind(|e| e.entity_id == no).expect("the stop has an event");
    assert_eq!(stop_event.kind, "card.stopped");
    assert_eq!(stop_event.payload["reason"], "moved to region 440300");

    let other = register(store, 2).await;
    let card2 = active_card(store, &other).await;
    let cancelled = act(
        store,
        &office,
        card2.card_no.as_str(),
        CardAction::Cancel,
        ActionInput { cancel_reason: Some(CancelReason::Death), ..Default::default() },
    )
    .await;
    assert_eq!(cancelled.status, CardStatus::Cancelled);
    assert_eq!(cancelled.cancel_reason, Some(CancelReason::Death));
    assert_eq!(live_cards(store, &other.id).await, 0);
}

async fn activate_owned(store: Arc<dyn Store>, person: Person, card_no: String) -> Result<Card> {
    try_act(&*store, &ctx(holder(&person)), &card_no, CardAction::Activate, with_pin(GOOD_PIN)).await
}

/// One issued card activated by 8 tasks at once: one wins, 7 get 409, one live card.
pub async fn concurrent_activation_has_one_winner(store: Arc<dyn Store>) {
    seed(&*store).await;
    let person = register(&*store, 1).await;
    let issued = issued_card(&*store, &person).await;
    let no = issued.card_no.as_str().to_string();
    let barrier = Arc::new(tokio::sync::Barrier::new(8));
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (store, person, no, barrier) = (store.clone(), person.clone(), no.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            activate_owned(store, person, no).await
        }));
    }
    let mut wins = 0;
    let mut conflicts = 0;
    for task in tasks {
        match task.await.expect("the task ran to the end") {
            Ok(card) => {
                wins += 1;
                assert_eq!(card.status, CardStatus::Active);
            }
            Err(e) => {
                conflict(Err::<(), _>(e), "illegal_transition", "active");
                conflicts += 1;
            }
        }
    }
    assert_eq!((wins, conflicts), (1, 7));
    let store = &*store;
    assert_eq!(get_card(store, &no).await.status, CardStatus::Active);
    assert_eq!(live_cards(store, &person.id).await, 1);
    let activations = event_kinds_of(store, &no).await.into_iter().filter(|k| k == "card.activated").count();
    assert_eq!(activations, 1, "one activation event");
}

/// A temporary card and a replacement card of one person activated at once: the
/// replacement always wins in the end, and there are never two live cards.
pub async fn concurrent_temporary_and_replacement(store: Arc<dyn Store>) {
    seed(&*store).await;
    let desk = ctx(teller(BANK));
    for n in 1..=6 {
        let s = &*store;
        let person = register(s, n).await;
        let formal = active_card(s, &person).await;
        act(s, &ctx(holder(&person)), formal.card_no.as_str(), CardAction::ReportLost, ActionInput::default()).await;
        let replacement_input = app_input(
            AppKind::Replacement,
            Channel::BranchInstant,
            BANK,
            Some(PRINTER_BRANCH),
            None,
            Some(ReplacementReason::Lost),
        );
        let replacement = card_of(&apply(s, &desk, &person.id, replacement_input).await);
        let temporary_input =
            app_input(AppKind::Temporary, Channel::BranchInstant, BANK, Some(PRINTER_BRANCH), None, None);
        let temporary = card_of(&apply(s, &desk, &person.id, temporary_input).await);
        assert!(temporary.temporary);
        assert_eq!(temporary.pan, None, "a temporary card has no financial function");
        assert_eq!(replacement.status, CardStatus::Issued);
        assert_eq!(temporary.status, CardStatus::Issued);

        let barrier = Arc::new(tokio::sync::Barrier::new(2));
        let spawn = |card: &Card| {
            let (store, person, no, barrier) =
                (store.clone(), person.clone(), card.card_no.as_str().to_string(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                activate_owned(store, person, no).await
            })
        };
        let r_task = spawn(&replacement);
        let t_task = spawn(&temporary);
        let r = r_task.await.expect("task");
        let t = t_task.await.expect("task");
        assert!(r.is_ok(), "the replacement card always activates: {r:?}");
        let temporary_won_first = match t {
            Ok(_) => true,
            Err(e) => {
                conflict(Err::<(), _>(e), "has_active_card", "active");
                false
            }
        };
        let cards = cards_of(s, &person.id).await;
        let live: Vec<&Card> = cards.iter().filter(|c| c.status.is_live()).collect();
        assert_eq!(live.len(), 1, "never two live cards: {cards:?}");
        assert_eq!(live[0].card_no, replacement.card_no);
        let status_of = |no: &sscard_domain::ids::CardNo| cards.iter().find(|c| &c.card_no == no).map(|c| c.status);
        assert_eq!(status_of(&formal.card_no), Some(CardStatus::Replaced));
        let expected_temporary = if temporary_won_first { CardStatus::Replaced } else { CardStatus::Issued };
        assert_eq!(status_of(&temporary.card_no), Some(expected_temporary));
    }
}
