//! Cases 4-6, 8 and 9: the application paths (branch, online, instant), replacement,
//! upgrade from the second generation, and the intake conflicts.

use super::fixtures::*;
use sscard_app::applications::ApplicationView;
use sscard_app::cards::ActionInput;
use sscard_app::import::{ImportRow, RowOutcome};
use sscard_app::{self};
use sscard_domain::application::{AppKind, AppStatus, AppStep, Channel, ReplacementReason};
use sscard_domain::card::{Card, CardAction, CardStatus};
use sscard_domain::error::ErrorKind;
use sscard_domain::ids::luhn_valid;
use sscard_domain::person::Person;
use sscard_store::Store;
use std::sync::Arc;
use time::macros::date;

/// The step table.
pub const STEP_TABLE: [(AppStatus, AppStep, AppStatus); 11] = [
    (AppStatus::Submitted, AppStep::Approve, AppStatus::Approved),
    (AppStatus::Submitted, AppStep::Reject, AppStatus::Rejected),
    (AppStatus::AwaitingRemoteStop, AppStep::Reject, AppStatus::Rejected),
    (AppStatus::AwaitingRemoteStop, AppStep::Withdraw, AppStatus::Withdrawn),
    (AppStatus::Approved, AppStep::Produce, AppStatus::InProduction),
    (AppStatus::InProduction, AppStep::Ready, AppStatus::ReadyForPickup),
    (AppStatus::InProduction, AppStep::Ship, AppStatus::Shipped),
    (AppStatus::Shipped, AppStep::Deliver, AppStatus::Delivered),
    (AppStatus::ReadyForPickup, AppStep::Collect, AppStatus::Collected),
    (AppStatus::Submitted, AppStep::Withdraw, AppStatus::Withdrawn),
    (AppStatus::Approved, AppStep::Withdraw, AppStatus::Withdrawn),
];

fn allowed(from: AppStatus, step: AppStep) -> Option<AppStatus> {
    STEP_TABLE.iter().find(|(f, s, _)| *f == from && *s == step).map(|(_, _, to)| *to)
}

fn statuses(view: &ApplicationView) -> Vec<AppStatus> {
    view.timeline.iter().map(|e| e.status).collect()
}

/// Asserts the shape of a freshly made third-generation card of `person` at ICBC.
#[track_caller]
fn assert_made_card(card: &Card, person: &Person, app_id: &str, channel: Channel) {
    let no = card.card_no.as_str();
    assert_eq!(no.len(), 9, "card number {no}");
    assert!(no.as_bytes()[0].is_ascii_uppercase(), "card number {no}");
    assert!(no[1..].bytes().all(|b| b.is_ascii_digit()), "card number {no}");
    assert_eq!(card.person_id, person.id);
    assert_eq!(card.generation, 3);
    assert!(!card.temporary);
    assert_eq!(card.bank_code.as_str(), BANK);
    let pan = card.pan.as_ref().map(|p| p.as_str().to_string()).unwrap_or_default();
    assert_eq!(pan.len(), 19, "PAN {pan}");
    assert!(pan.starts_with(BIN), "PAN {pan} starts with the bank's BIN");
    assert!(luhn_valid(&pan), "PAN {pan} has a Luhn check digit");
    let code = card.card_id_code.as_ref().map(|c| c.as_str().to_string()).unwrap_or_default();
    assert!(code.starts_with(&person.region.to_string()), "card id code {code} starts with the region");
    assert_eq!(card.region, person.region);
    assert_eq!(card.channel, Some(channel));
    assert_eq!(card.application_id.as_deref(), Some(app_id));
    assert_eq!(card.pin_hash, None);
    assert!(!card.destroyed);
}

/// submit -> approve -> produce -> ready -> collect: the timeline, the card made at
/// `ready` and handed over at `collect`.
pub async fn branch_path(store: Arc<dyn Store>) {
    let store = &*store;
    seed(store).await;
    let person = register(store, 1).await;
    let desk = |days| ctx_at(teller(BANK), days_later_ms(days));
    let office = ctx_at(clerk(), days_later_ms(1));

    let view = apply(store, &desk(0), &person.id, branch_first()).await;
    let app = view.application.clone();
    assert_eq!(app.person_id, person.id);
    assert_eq!(app.kind, AppKind::First);
    assert_eq!(app.channel, Channel::Branch);
    assert_eq!(app.status, AppStatus::Submitted);
    assert_eq!(app.fee_fen.value(), 0, "a first card is free");
    assert_eq!(app.bank_code.as_str(), BANK);
    assert_eq!(app.branch_code.as_ref().map(|b| b.as_str()), Some(PLAIN_BRANCH));
    assert_eq!(app.card_no, None);
    assert_eq!(app.replaces_card_no, None);
    assert!(view.card.is_none());
    assert!(view.promise.is_none(), "only online applications carry a promise");

    let approved = step(store, &office, &app.id, AppStep::Approve).await;
    assert_eq!(approved.application.status, AppStatus::Approved);
    assert!(approved.card.is_none());
    let produced = step(store, &desk(2), &app.id, AppStep::Produce).await;
    assert_eq!(produced.application.status, AppStatus::InProduction);
    assert!(produced.card.is_none(), "no card before it is made");

    let ready = step(store, &desk(5), &app.id, AppStep::Ready).await;
    assert_eq!(ready.application.status, AppStatus::ReadyForPickup);
    let made = card_of(&ready);
    assert_made_card(&made, &person, &app.id, Channel::Branch);
    assert_eq!(made.status, CardStatus::Produced);
    assert_eq!(made.issued_on, None);
    assert_eq!(made.produced_at_ms, days_later_ms(5));
    assert_eq!(ready.application.card_no.as_deref(), Some(made.card_no.as_str()));
    assert_eq!(get_card(store, made.card_no.as_str()).await, made);

    let collected = step(store, &desk(7), &app.id, AppStep::Collect).await;
    assert_eq!(collected.application.status, AppStatus::Collected);
    let issued = card_of(&collected);
    assert_eq!(issued.card_no, made.card_no);
    assert_eq!(issued.status, CardStatus::Issued);
    assert_eq!(issued.issued_on, Some(today_plus(7)), "issued on the day of collection");
    assert_eq!(issued.expires_on, date!(2036 - 03 - 09), "valid ten years");
    assert_eq!(issued.pan, made.pan);
    assert_eq!(get_card(store, made.card_no.as_str()).await, issued);

    assert_branch_history(store, &app.id, made.card_no.as_str()).await;
}

/// A branch application's stored steps, actors, times and events, in order.
async fn assert_branch_history(store: &dyn Store, app_id: &str, card_no: &str) {
    let stored = application(store, app_id).await;
    assert_eq!(
        statuses(&stored),
        vec![
            AppStatus::Submitted,
            AppStatus::Approved,
            AppStatus::InProduction,
            AppStatus::ReadyForPickup,
            AppStatus::Collected,
        ]
    );
    let actors: Vec<&str> = stored.timeline.iter().map(|e| e.actor.as_str()).collect();
    assert_eq!(actors, vec!["teller.icbc", "clerk.xm", "teller.icbc", "teller.icbc", "teller.icbc"]);
    let times: Vec<i64> = stored.timeline.iter().map(|e| e.at_ms).collect();
    assert_eq!(times, [0, 1, 2, 5, 7].map(days_later_ms).to_vec(), "every step is stored with its time");
    assert_eq!(
        event_kinds_of(store, app_id).await,
        [
            "application.submitted",
            "application.approved",
            "application.in_production",
            "application.ready_for_pickup",
            "application.collected",
        ]
    );
    assert_eq!(event_kinds_of(store, card_no).await, ["card.produced", "card.issued"]);
}

/// Drives a new application of the `n`-th person to `target`.
async fn application_at(store: &dyn Store, n: u32, target: AppStatus) -> ApplicationView {
    let person = register(store, n).await;
    let c = ctx(admin());
    let online = matches!(target, AppStatus::Shipped | AppStatus::Delivered);
    let input = if online { online_first() } else { branch_first() };
    let view = apply(store, &c, &person.id, input).await;
    let path: &[AppStep] = match target {
        AppStatus::Submitted => &[],
        AppStatus::AwaitingRemoteStop => return super::nation::approve_waiting(store, &view.application.id).await,
        AppStatus::Approved => &[AppStep::Approve],
        AppStatus::Rejected => {
            let reason = sscard_domain::handover::StaffReason::parse("test: rejected", "reason").expect("reason");
            let input = sscard_app::applications::StepInput { reason: Some(reason), ..Default::default() };
            let r = sscard_app::applications::step_with(store, &c, &view.application.id, AppStep::Reject, &input).await;
            let view = r.expect("reject with a reason");
            assert_eq!(view.reasons.len(), 1, "the rejection's reason is kept");
            return view;
        }
        AppStatus::Withdrawn => &[AppStep::Withdraw],
        AppStatus::InProduction => &[AppStep::Approve, AppStep::Produce],
        AppStatus::ReadyForPickup => &[AppStep::Approve, AppStep::Produce, AppStep::Ready],
        AppStatus::Collected => &[AppStep::Approve, AppStep::Produce, AppStep::Ready, AppStep::Collect],
        AppStatus::Shipped => &[AppStep::Approve, AppStep::Produce, AppStep::Ship],
        AppStatus::Delivered => &[AppStep::Approve, AppStep::Produce, AppStep::Ship, AppStep::Deliver],
    };
    let view = if path.is_empty() { view } else { steps(store, &c, &view.application.id, path).await };
    assert_eq!(view.application.status, target);
    view
}

/// Every step the table does not allow, from every status: 409 with the current status,
/// and nothing changes.
pub async fn illegal_steps_change_nothing(store: Arc<dyn Store>) {
    let store = &*store;
    seed(store).await;
    let c = ctx(admin());
    let mut checked = 0;
    for (n, from) in AppStatus::ALL.iter().enumerate() {
        let view = application_at(store, n as u32 + 1, *from).await;
        let id = view.application.id.clone();
        let before = row_counts(store).await;
        for s in AppStep::ALL {
            if allowed(*from, *s).is_some() {
                continue;
            }
            conflict(sscard_app::applications::step(store, &c, &id, *s).await, "illegal_step", from.as_str());
            checked += 1;
            let after = application(store, &id).await;
            assert_eq!(after.application, view.application, "{from} {s}");
            assert_eq!(after.timeline, view.timeline, "{from} {s}");
            assert_eq!(after.card, view.card, "{from} {s}");
        }
        assert_eq!(row_counts(store).await, before, "refused steps from {from} write nothing");
    }
    assert_eq!(checked, AppStatus::ALL.len() * AppStep::ALL.len() - STEP_TABLE.len());

    // The allowed steps lead where the table says (those not on the paths above).
    let approved = application_at(store, 20, AppStatus::Approved).await;
    let withdrawn = step(store, &c, &approved.application.id, AppStep::Withdraw).await;
    assert_eq!(withdrawn.application.status, AppStatus::Withdrawn);
    // A closed application no longer blocks a new one.
    let again = apply(store, &c, &approved.application.person_id, branch_first()).await;
    assert_eq!(again.application.status, AppStatus::Submitted);
    match sscard_app::applications::step(store, &c, "no-such-application", AppStep::Approve).await {
        Err(sscard_store::StoreError::NotFound { what: "application", .. }) => {}
        other => panic!("an unknown application is not found, got {other:?}"),
    }
}

/// Online: approve, produce, ship, deliver; `ready` refused (no branch); the address is
/// required; the 15-working-day promise is met or not by the shipping date.
pub async fn online_path_and_promise(store: Arc<dyn Store>) {
    let store = &*store;
    seed(store).await;
    online_shipped_in_time(store).await;
    online_shipped_late(store).await;
    let third = register(store, 3).await;
    applications_refused_write_nothing(store, &third).await;

    // A pickup application without an address cannot be shipped.
    let c = ctx(admin());
    let branch = apply(store, &c, &third.id, branch_first()).await;
    let id = branch.application.id.clone();
    steps(store, &c, &id, &[AppStep::Approve, AppStep::Produce]).await;
    refusal(sscard_app::applications::step(store, &c, &id, AppStep::Ship).await, ErrorKind::Refused, "no_mail_address");
    assert_eq!(application(store, &id).await.application.status, AppStatus::InProduction);
}

/// The card office approving, a day after the start.
fn office() -> sscard_app::Ctx {
    ctx_at(clerk(), days_later_ms(1))
}

/// The card bureau (the bank's teller) `days` after the start.
fn bureau(days: i64) -> sscard_app::Ctx {
    ctx_at(teller(BANK), days_later_ms(days))
}

/// In time: shipped on Monday 23 March, the 15th working day after Monday 2 March; `ready`
/// refused (no branch) and writing nothing; delivered, the promise stays met.
async fn online_shipped_in_time(store: &dyn Store) {
    let office = office();
    let on_time = register(store, 1).await;
    let view = apply(store, &ctx(holder(&on_time)), &on_time.id, online_first()).await;
    let app_id = view.application.id.clone();
    assert_eq!(view.application.channel, Channel::Online);
    assert_eq!(view.application.mail_address.as_deref(), Some(MAIL_ADDRESS));
    assert_eq!(view.application.branch_code, None);
    let promise = view.promise.clone().expect("an online application carries a promise");
    assert_eq!((promise.working_days, promise.working_days_used, promise.met), (15, 0, None));
    step(store, &office, &app_id, AppStep::Approve).await;
    let in_production = step(store, &bureau(2), &app_id, AppStep::Produce).await;
    let before = row_counts(store).await;
    refusal(
        sscard_app::applications::step(store, &bureau(3), &app_id, AppStep::Ready).await,
        ErrorKind::Refused,
        "no_pickup_branch",
    );
    assert_eq!(row_counts(store).await, before, "a refused step writes nothing");
    let unchanged = application(store, &app_id).await;
    assert_eq!(unchanged.application, in_production.application);
    assert_eq!(unchanged.timeline, in_production.timeline);

    let waiting = sscard_app::applications::get(store, &bureau(21), &app_id).await.expect("readable");
    let promise = waiting.promise.expect("promise");
    assert_eq!((promise.working_days_used, promise.met), (15, None));

    let shipped = step(store, &bureau(21), &app_id, AppStep::Ship).await;
    assert_eq!(shipped.application.status, AppStatus::Shipped);
    let made = card_of(&shipped);
    assert_made_card(&made, &on_time, &app_id, Channel::Online);
    assert_eq!(made.status, CardStatus::Produced);
    let promise = shipped.promise.expect("promise");
    assert_eq!((promise.working_days, promise.working_days_used, promise.met), (15, 15, Some(true)));
    let delivered = step(store, &bureau(23), &app_id, AppStep::Deliver).await;
    assert_eq!(delivered.application.status, AppStatus::Delivered);
    let handed = card_of(&delivered);
    assert_eq!(handed.status, CardStatus::Issued);
    assert_eq!(handed.issued_on, Some(today_plus(23)));
    assert_eq!(handed.expires_on, date!(2036 - 03 - 25));
    assert_eq!(
        statuses(&delivered),
        vec![
            AppStatus::Submitted,
            AppStatus::Approved,
            AppStatus::InProduction,
            AppStatus::Shipped,
            AppStatus::Delivered,
        ]
    );
    assert_eq!(delivered.promise.map(|p| p.met), Some(Some(true)), "the promise stays met after delivery");
}

/// Late: shipped on Tuesday 24 March, the 16th working day.
async fn online_shipped_late(store: &dyn Store) {
    let office = office();
    let late = register(store, 2).await;
    let view = apply(store, &ctx(holder(&late)), &late.id, online_first()).await;
    let late_id = view.application.id.clone();
    step(store, &office, &late_id, AppStep::Approve).await;
    step(store, &bureau(2), &late_id, AppStep::Produce).await;
    let overdue = sscard_app::applications::get(store, &bureau(22), &late_id).await.expect("readable");
    let promise = overdue.promise.expect("promise");
    assert_eq!((promise.working_days_used, promise.met), (16, Some(false)), "overdue before shipping");
    let shipped = step(store, &bureau(22), &late_id, AppStep::Ship).await;
    let promise = shipped.promise.expect("promise");
    assert_eq!((promise.working_days_used, promise.met), (16, Some(false)));
}

/// No address, no online application; a branch application names a branch of its own bank;
/// none of the refused applications writes anything.
async fn applications_refused_write_nothing(store: &dyn Store, third: &Person) {
    // No address, no online application.
    let before = row_counts(store).await;
    for address in [None, Some(""), Some("   ")] {
        let input = app_input(AppKind::First, Channel::Online, BANK, None, address, None);
        invalid(
            sscard_app::applications::apply(store, &ctx(holder(third)), &third.id, input).await,
            "mail_address_required",
            "mail_address",
        );
    }
    let too_long = "路".repeat(201);
    let input = app_input(AppKind::First, Channel::Online, BANK, None, Some(&too_long), None);
    invalid(
        sscard_app::applications::apply(store, &ctx(holder(third)), &third.id, input).await,
        "bad_address",
        "mail_address",
    );
    // A branch application names a branch of its own bank.
    let c = ctx(admin());
    invalid(
        sscard_app::applications::apply(
            store,
            &c,
            &third.id,
            app_input(AppKind::First, Channel::Branch, BANK, None, None, None),
        )
        .await,
        "branch_required",
        "branch_code",
    );
    invalid(
        sscard_app::applications::apply(
            store,
            &c,
            &third.id,
            app_input(AppKind::First, Channel::Branch, BANK, Some(OTHER_BRANCH), None, None),
        )
        .await,
        "unknown_branch",
        "branch_code",
    );
    invalid(
        sscard_app::applications::apply(
            store,
            &c,
            &third.id,
            app_input(AppKind::First, Channel::Branch, "NOBANK", Some(PLAIN_BRANCH), None, None),
        )
        .await,
        "unknown_bank",
        "bank_code",
    );
    assert_eq!(row_counts(store).await, before, "refused applications write nothing");
}

/// branch_instant and kiosk run the whole path in one call at a printer branch, and are
/// refused without storing anything at a branch without one.
pub async fn instant_issuance(store: Arc<dyn Store>) {
    let store = &*store;
    seed(store).await;
    let desk = ctx(teller(BANK));
    let full_path = vec![
        AppStatus::Submitted,
        AppStatus::Approved,
        AppStatus::InProduction,
        AppStatus::ReadyForPickup,
        AppStatus::Collected,
    ];
    for (n, channel) in [(1, Channel::BranchInstant), (2, Channel::Kiosk)] {
        let person = register(store, n).await;
        let at_plain = app_input(AppKind::First, channel, BANK, Some(PLAIN_BRANCH), None, None);
        let before = row_counts(store).await;
        refusal(
            sscard_app::applications::apply(store, &desk, &person.id, at_plain).await,
            ErrorKind::Refused,
            "no_printer",
        );
        assert_eq!(row_counts(store).await, before, "{channel}: nothing stored");
        let stored = sscard_app::applications::list(
            store,
            &ctx(admin()),
            sscard_store::model::AppFilter {
                person_id: Some(person.id.clone()),
                page: sscard_store::model::Page::first(100),
                ..Default::default()
            },
        )
        .await
        .expect("list");
        assert!(stored.is_empty(), "{channel}: no application stored");

        let at_printer = app_input(AppKind::First, channel, BANK, Some(PRINTER_BRANCH), None, None);
        let view = apply(store, &desk, &person.id, at_printer).await;
        assert_eq!(view.application.status, AppStatus::Collected, "{channel}");
        assert_eq!(statuses(&view), full_path, "{channel}");
        assert!(view.timeline.iter().all(|e| e.actor == "teller.icbc" && e.at_ms == base_ms()));
        let issued = card_of(&view);
        assert_made_card(&issued, &person, &view.application.id, channel);
        assert_eq!(issued.status, CardStatus::Issued, "{channel}");
        assert_eq!(issued.issued_on, Some(TODAY));
        assert_eq!(issued.expires_on, date!(2036 - 03 - 02));
        assert_eq!(get_card(store, issued.card_no.as_str()).await, issued);
        assert_eq!(event_kinds_of(store, issued.card_no.as_str()).await, ["card.produced", "card.issued"]);
    }
    // Instant issuance through another bank's branch is not possible.
    let person = register(store, 3).await;
    invalid(
        sscard_app::applications::apply(
            store,
            &ctx(admin()),
            &person.id,
            app_input(AppKind::First, Channel::BranchInstant, OTHER_BANK, Some(PRINTER_BRANCH), None, None),
        )
        .await,
        "unknown_branch",
        "branch_code",
    );
    let o = overview(store).await;
    assert_eq!(count_of(&o.applications_by_status, "collected"), 2);
    assert_eq!(total(&o.applications_by_status), 2);
}

/// Report lost -> replacement (fee 2000 fen) -> make, collect, activate: the new card is
/// active and the lost one replaced.
pub async fn replacement_after_loss(store: Arc<dyn Store>) {
    let store = &*store;
    seed(store).await;
    let person = register(store, 1).await;
    let me = ctx(holder(&person));
    let desk = ctx(teller(BANK));
    let old = active_card(store, &person).await;
    let old_no = old.card_no.as_str().to_string();
    let lost_reason = Some(ReplacementReason::Lost);
    let replacement = app_input(AppKind::Replacement, Channel::Branch, BANK, Some(PLAIN_BRANCH), None, lost_reason);
    refusal(
        sscard_app::applications::apply(store, &desk, &person.id, replacement.clone()).await,
        ErrorKind::Refused,
        "not_reported_lost",
    );
    let no_reason = app_input(AppKind::Replacement, Channel::Branch, BANK, Some(PLAIN_BRANCH), None, None);
    invalid(sscard_app::applications::apply(store, &desk, &person.id, no_reason).await, "reason_required", "reason");

    let lost = act(store, &me, &old_no, CardAction::ReportLost, ActionInput::default()).await;
    assert_eq!(lost.status, CardStatus::Lost);
    assert_eq!(live_cards(store, &person.id).await, 0);

    let view = apply(store, &desk, &person.id, replacement).await;
    let app = view.application.clone();
    assert_eq!(app.kind, AppKind::Replacement);
    assert_eq!(app.reason, lost_reason);
    assert_eq!(app.fee_fen.value(), 2000, "a replacement costs 20 yuan");
    assert_eq!(app.replaces_card_no.as_deref(), Some(old_no.as_str()));
    let office = ctx(clerk());
    step(store, &office, &app.id, AppStep::Approve).await;
    let ready = steps(store, &desk, &app.id, &[AppStep::Produce, AppStep::Ready]).await;
    let new = card_of(&ready);
    assert_ne!(new.card_no, old.card_no);
    assert_ne!(new.pan, old.pan);
    assert_made_card(&new, &person, &app.id, Channel::Branch);
    // Not handed over before the fee is paid.
    refusal(
        sscard_app::applications::step(store, &desk, &app.id, AppStep::Collect).await,
        ErrorKind::Refused,
        "fee_unpaid",
    );
    pay_fee(store, &desk, &app.id).await;
    let collected = step(store, &desk, &app.id, AppStep::Collect).await;
    assert_eq!(card_of(&collected).status, CardStatus::Issued);
    assert_eq!(get_card(store, &old_no).await.status, CardStatus::Lost);

    let active = act(store, &me, new.card_no.as_str(), CardAction::Activate, with_pin("240617")).await;
    assert_eq!(active.status, CardStatus::Active);
    assert!(active.pin_hash.is_some());
    assert_eq!(get_card(store, &old_no).await.status, CardStatus::Replaced);
    assert_eq!(live_cards(store, &person.id).await, 1);
    assert_eq!(
        event_kinds_of(store, &old_no).await,
        ["card.produced", "card.issued", "card.activated", "card.lost", "card.replaced"]
    );
    // A replaced card is final.
    conflict(try_act(store, &me, &old_no, CardAction::Cancel, full_input()).await, "illegal_transition", "replaced");
}

/// Fees and the intake conflicts: has_card, application_open, nothing_to_upgrade.
pub async fn intake_rules_and_fees(store: Arc<dyn Store>) {
    let store = &*store;
    seed(store).await;
    let c = ctx(teller(BANK));

    // No card yet: one open application at a time.
    let first = register(store, 1).await;
    let view = apply(store, &c, &first.id, branch_first()).await;
    assert_eq!(view.application.fee_fen.value(), 0);
    let before = row_counts(store).await;
    conflict(
        sscard_app::applications::apply(store, &c, &first.id, branch_first()).await,
        "application_open",
        "submitted",
    );
    conflict(
        sscard_app::applications::apply(store, &c, &first.id, instant_first()).await,
        "application_open",
        "submitted",
    );
    refusal(
        sscard_app::applications::apply(
            store,
            &c,
            &first.id,
            app_input(AppKind::Upgrade, Channel::Branch, BANK, Some(PLAIN_BRANCH), None, None),
        )
        .await,
        ErrorKind::Conflict,
        "application_open",
    );
    assert_eq!(row_counts(store).await, before);

    a_live_card_takes_only_a_replacement(store, &c).await;

    // Nothing to upgrade without a second-generation card.
    let none = register(store, 3).await;
    refusal(
        sscard_app::applications::apply(
            store,
            &c,
            &none.id,
            app_input(AppKind::Upgrade, Channel::Branch, BANK, Some(PLAIN_BRANCH), None, None),
        )
        .await,
        ErrorKind::Refused,
        "nothing_to_upgrade",
    );
    // A lost card still blocks a first application.
    let lost_person = register(store, 4).await;
    let lost = active_card(store, &lost_person).await;
    act(store, &ctx(admin()), lost.card_no.as_str(), CardAction::ReportLost, ActionInput::default()).await;
    conflict(sscard_app::applications::apply(store, &c, &lost_person.id, branch_first()).await, "has_card", "lost");
}

/// A live card: no second first card, no upgrade; a replacement is taken, then blocks.
async fn a_live_card_takes_only_a_replacement(store: &dyn Store, c: &sscard_app::Ctx) {
    let c = c.clone();
    // A live card: no second first card, no upgrade; a replacement is taken, then blocks.
    let holder_person = register(store, 2).await;
    let live = active_card(store, &holder_person).await;
    let before = row_counts(store).await;
    conflict(sscard_app::applications::apply(store, &c, &holder_person.id, branch_first()).await, "has_card", "active");
    conflict(
        sscard_app::applications::apply(
            store,
            &c,
            &holder_person.id,
            app_input(AppKind::Upgrade, Channel::Branch, BANK, Some(PLAIN_BRANCH), None, None),
        )
        .await,
        "has_card",
        "active",
    );
    conflict(
        sscard_app::applications::apply(
            store,
            &c,
            &holder_person.id,
            app_input(AppKind::Temporary, Channel::Branch, BANK, Some(PLAIN_BRANCH), None, None),
        )
        .await,
        "has_card",
        "active",
    );
    assert_eq!(row_counts(store).await, before);
    let damaged = app_input(
        AppKind::Replacement,
        Channel::Branch,
        BANK,
        Some(PLAIN_BRANCH),
        None,
        Some(ReplacementReason::Damaged),
    );
    let view = apply(store, &c, &holder_person.id, damaged.clone()).await;
    assert_eq!(view.application.fee_fen.value(), 2000);
    assert_eq!(view.application.replaces_card_no.as_deref(), Some(live.card_no.as_str()));
    conflict(
        sscard_app::applications::apply(store, &c, &holder_person.id, damaged).await,
        "application_open",
        "submitted",
    );
}

/// The import row of a second-generation card.
pub fn second_generation_row(n: u32, card_no: &str, bank: &str) -> ImportRow {
    ImportRow {
        person: adult_input(n),
        card_no: card_no.to_string(),
        bank_code: bank.to_string(),
        issued_on: date!(2018 - 05 - 01),
        expires_on: date!(2028 - 05 - 01),
    }
}

/// Imported 2nd-generation card -> upgrade -> make, collect, activate: the old card is
/// replaced, and the person never has two live cards.
pub async fn upgrade_from_second_generation(store: Arc<dyn Store>) {
    let store = &*store;
    seed(store).await;
    let c = ctx(admin());
    let row = second_generation_row(1, "Z12345678", BANK);
    let outcome = sscard_app::import::import_row(store, &c, &row).await.expect("import");
    assert_eq!(outcome, RowOutcome::Imported);
    let person =
        try_find_by_ssn(store, &c, &resident_number(1)).await.expect("the import registered the person").person;
    let cards = cards_of(store, &person.id).await;
    assert_eq!(cards.len(), 1);
    let old = cards[0].clone();
    assert_eq!(old.card_no.as_str(), "Z12345678");
    assert_eq!(old.generation, 2);
    assert_eq!(old.status, CardStatus::Active);
    assert_eq!(old.issued_on, Some(date!(2018 - 05 - 01)));
    assert_eq!(old.expires_on, date!(2028 - 05 - 01));
    assert_eq!(live_cards(store, &person.id).await, 1);
    match sscard_app::import::import_row(store, &c, &row).await {
        Ok(RowOutcome::Skipped(_)) => {}
        other => panic!("the same row again is skipped, got {other:?}"),
    }
    match sscard_app::import::import_row(store, &c, &second_generation_row(1, "Z12345679", BANK)).await {
        Ok(RowOutcome::Skipped(_)) => {}
        other => panic!("a second live card is not imported, got {other:?}"),
    }
    assert_eq!(cards_of(store, &person.id).await.len(), 1);

    let desk = ctx(teller(BANK));
    let upgrade = app_input(AppKind::Upgrade, Channel::Branch, BANK, Some(PLAIN_BRANCH), None, None);
    let view = apply(store, &desk, &person.id, upgrade).await;
    let app_id = view.application.id.clone();
    assert_eq!(view.application.kind, AppKind::Upgrade);
    assert_eq!(view.application.fee_fen.value(), 0, "an upgrade is free");
    assert_eq!(view.application.replaces_card_no.as_deref(), Some("Z12345678"));
    step(store, &ctx(clerk()), &app_id, AppStep::Approve).await;
    let ready = steps(store, &desk, &app_id, &[AppStep::Produce, AppStep::Ready]).await;
    assert_eq!(live_cards(store, &person.id).await, 1);
    let collected = step(store, &desk, &app_id, AppStep::Collect).await;
    let new = card_of(&collected);
    assert_eq!(new.card_no, card_of(&ready).card_no);
    assert_made_card(&new, &person, &app_id, Channel::Branch);
    assert_eq!(new.status, CardStatus::Issued);
    assert_eq!(
        get_card(store, "Z12345678").await.status,
        CardStatus::Active,
        "the old card works until the new one is activated"
    );
    assert_eq!(live_cards(store, &person.id).await, 1);

    let active =
        act(store, &ctx(holder(&person)), new.card_no.as_str(), CardAction::Activate, with_pin(GOOD_PIN)).await;
    assert_eq!(active.status, CardStatus::Active);
    assert_eq!(get_card(store, "Z12345678").await.status, CardStatus::Replaced);
    assert_eq!(live_cards(store, &person.id).await, 1);
    let o = overview(store).await;
    assert_eq!(count_of(&o.cards_by_generation, "2"), 1);
    assert_eq!(count_of(&o.cards_by_generation, "3"), 1);
    conflict(sscard_app::applications::apply(store, &desk, &person.id, branch_first()).await, "has_card", "active");
}

/// The replacement fee is collected once at the desk: cash desk to fee account, the books stay
/// balanced; a free application has no fee; another bank's teller may not collect it.
pub async fn replacement_fee_collected_once(store: Arc<dyn Store>) {
    let store = &*store;
    seed(store).await;
    let person = register(store, 1).await;
    let desk = ctx(teller(BANK));
    let old = active_card(store, &person).await;
    act(store, &ctx(holder(&person)), old.card_no.as_str(), CardAction::ReportLost, ActionInput::default()).await;
    let lost_reason = Some(ReplacementReason::Lost);
    let replacement = app_input(AppKind::Replacement, Channel::Branch, BANK, Some(PLAIN_BRANCH), None, lost_reason);
    let app = apply(store, &desk, &person.id, replacement).await.application;

    refusal(
        sscard_app::onecard::ledger::collect_fee(store, &ctx(teller(OTHER_BANK)), &app.id).await,
        ErrorKind::Forbidden,
        "forbidden",
    );
    assert!(!sscard_app::onecard::ledger::fee_paid(store, &app.id).await.expect("fee_paid"));
    fund_float(store, &format!("CASH-{BANK}"), 2000).await;
    let first = sscard_app::onecard::ledger::collect_fee(store, &desk, &app.id).await.expect("collect");
    assert_eq!(first.amount_fen, 2000);
    assert_eq!(first.kind, "fee");
    let again = sscard_app::onecard::ledger::collect_fee(store, &desk, &app.id).await.expect("collect again");
    assert_eq!(again.id, first.id, "a second collection moves nothing");
    assert!(sscard_app::onecard::ledger::fee_paid(store, &app.id).await.expect("fee_paid"));
    let books = sscard_app::onecard::ledger::check(store).await.expect("books");
    assert!(books.clean(), "{books:?}");
    assert_eq!(books.transfers, 2, "the float funding and the fee");

    let other = register(store, 2).await;
    let free = apply(store, &desk, &other.id, branch_first()).await.application;
    refusal(sscard_app::onecard::ledger::collect_fee(store, &desk, &free.id).await, ErrorKind::Refused, "no_fee");
}
