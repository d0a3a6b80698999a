//! Cases of "one card for everything": terminals and their refusals, the
//! ledger (idempotent transfers, balances that cannot go negative, the books check), medical
//! settlement and refund, transit top-ups, online taps and offline batches exactly once,
//! library loans, park entries, identity scopes and the usage records. Every money figure is
//! asserted to the fen, and every case ends with a clean books check.

use super::fixtures::*;
use sscard_app::Ctx;
use sscard_app::cards::ActionInput;
use sscard_app::onecard::ledger::{self, check};
use sscard_app::onecard::terminals::{self, CreatedTerminal, NewTerminal};
use sscard_app::onecard::transit::{self, ItemResult, OfflineItem};
use sscard_app::onecard::{self, Presentation, library, medical, parks, terminal_actor};
use sscard_domain::card::{CancelReason, CardAction};
use sscard_domain::error::ErrorKind;
use sscard_domain::ids::RegionCode;
use sscard_domain::library::LibraryPolicy;
use sscard_domain::park::ParkRule;
use sscard_domain::person::Person;
use sscard_domain::terminal::{Operator, OperatorKind, Terminal, UseResult};
use sscard_domain::transit::{Fare, LineStatus, TapStatus};
use sscard_store::onecard::ParkRow;
use sscard_store::onecard::TapRow;
use sscard_store::{Store, StoreError};
use std::sync::Arc;

/// A fare the edge would parse.
fn fare(full: i64, resident: Option<i64>) -> Fare {
    Fare::parse(full, resident).expect("a valid fare")
}

/// A library policy the edge would parse.
fn lib_policy(loan_limit: i64, loan_days: i64) -> LibraryPolicy {
    LibraryPolicy::new(loan_limit, loan_days).expect("a valid library policy")
}

/// The hospital, transit company, library network and park operator of the cases, all in Xiamen.
pub async fn operators(store: &dyn Store) {
    let c = ctx(admin());
    for (code, kind) in [
        ("XM-HOSP", OperatorKind::Hospital),
        ("BJ-HOSP", OperatorKind::Hospital),
        ("XM-BUS", OperatorKind::Transit),
        ("XM-LIB", OperatorKind::Library),
        ("XM-PARK", OperatorKind::Park),
        ("XM-GOV", OperatorKind::Agency),
    ] {
        let region = if code == "BJ-HOSP" { "110105" } else { REGION };
        let op = Operator {
            code: code.into(),
            name: format!("{code} operator"),
            kind,
            region: RegionCode::parse(region).expect("region"),
        };
        terminals::add_operator(store, &c, op).await.expect("operator");
    }
}

/// A terminal of `operator` for `scenario` in `region`.
pub async fn terminal(
    store: &dyn Store,
    operator: &str,
    scenario: &str,
    region: &str,
    scope: &[&str],
) -> CreatedTerminal {
    let req = NewTerminal::parse(operator, scenario, region, scope).expect("a well-formed terminal");
    terminals::add_terminal(store, &ctx(admin()), req).await.expect("terminal")
}

/// The context a terminal acts in.
pub fn tctx(t: &Terminal) -> Ctx {
    ctx(terminal_actor(t))
}

pub fn card(no: &str) -> Presentation {
    Presentation::CardNo(no.to_string())
}

/// A top-up command the edge would build from these fields.
fn topup(amount_fen: i64, source: &str, key: Option<&str>) -> transit::Topup {
    transit::Topup::parse(amount_fen, source, key).expect("a valid top-up")
}

/// A settlement command the edge would build from these fields.
fn settle(bill_id: &str, amount_fen: i64) -> medical::Settle {
    medical::Settle::parse(bill_id, amount_fen).expect("a valid settlement")
}

/// A deposit command the edge would build from these fields.
fn deposit(person_id: &str, amount_fen: i64, reference: &str) -> ledger::Deposit {
    ledger::Deposit::parse(person_id, amount_fen, reference).expect("a valid deposit")
}

/// Asserts a clean books check.
pub async fn books_clean(store: &dyn Store) {
    let report = check(store).await.expect("books check");
    assert!(report.clean(), "books check: {:?}", report.findings);
    assert_eq!(report.balance_sum_fen, 0);
}

async fn balance(store: &dyn Store, person: &Person, account: &str) -> i64 {
    let b = ledger::balances(store, &ctx(holder(person)), &person.id, 50).await.expect("balances");
    b.accounts.iter().find(|a| a.id == account).map_or(0, |a| a.balance_fen)
}

/// Terminals: secrets authenticate, disabled terminals and foreign scenarios are forbidden,
/// a card that is not active is refused with its reason and the refusal is recorded as a use.
pub async fn onecard_terminals_and_refusals(store: Arc<dyn Store>) {
    let store = &*store;
    seed(store).await;
    operators(store).await;
    let gate = gate_authenticates_by_its_secret(store).await;

    let person = register(store, 1).await;
    let active = active_card(store, &person).await;
    let no = active.card_no.as_str();
    sscard_app::onecard::transit::topup(
        store,
        &ctx(holder(&person)),
        None,
        &card(no),
        &topup(1000, "bank", Some("t1")),
    )
    .await
    .expect("top-up");
    let t = &gate.terminal;
    let ok = transit::tap(store, &tctx(t), t, &card(no), &fare(200, None)).await.expect("tap");
    assert_eq!((ok.fare_fen, ok.balance_fen), (200, 800));

    // A medical terminal cannot be used at a gate, nor a gate for a bill.
    let hosp = terminal(store, "XM-HOSP", "medical", REGION, &[]).await;
    let e = refusal(
        transit::tap(store, &tctx(&hosp.terminal), &hosp.terminal, &card(no), &fare(200, None)).await,
        ErrorKind::Forbidden,
        "wrong_scenario",
    );
    assert!(e.message.contains("medical"));
    refusal(
        medical::settle(store, &tctx(t), t, &card(no), &settle("B1", 100)).await,
        ErrorKind::Forbidden,
        "wrong_scenario",
    );

    // Suspended: refused with the reason, recorded as a refused use, no money moved.
    act(store, &ctx(holder(&person)), no, CardAction::Suspend, ActionInput::default()).await;
    refusal(transit::tap(store, &tctx(t), t, &card(no), &fare(200, None)).await, ErrorKind::Refused, "card_suspended");
    assert_eq!(balance(store, &person, &format!("ewallet:{no}")).await, 800);
    let uses = onecard::uses(store, &ctx(holder(&person)), &person.id, None, 50).await.expect("uses");
    // Terminals used for the wrong scenario are not uses of the card: the tap and the refusal.
    assert_eq!(uses.len(), 2, "{uses:?}");
    assert_eq!((uses[0].result.as_str(), uses[0].reason.as_deref()), ("refused", Some("card_suspended")));
    assert!(uses.iter().any(|u| u.result == UseResult::Ok && u.scenario == "transit" && u.presented == "card"));
    refusal(
        transit::tap(store, &tctx(t), t, &card("Z99999999"), &fare(200, None)).await,
        ErrorKind::Refused,
        "unknown_card",
    );

    // Disabled: forbidden, and enabled again it works.
    act(store, &ctx(holder(&person)), no, CardAction::Unsuspend, ActionInput::default()).await;
    terminals::set_disabled(store, &ctx(admin()), &t.id, true).await.expect("disable");
    refusal(
        transit::tap(store, &tctx(t), t, &card(no), &fare(200, None)).await,
        ErrorKind::Forbidden,
        "terminal_disabled",
    );
    terminals::set_disabled(store, &ctx(admin()), &t.id, false).await.expect("enable");
    let ok = transit::tap(store, &tctx(t), t, &card(no), &fare(200, None)).await.expect("tap");
    assert_eq!(ok.balance_fen, 600);

    identity_gives_only_the_scope(store, no).await;
    books_clean(store).await;
}

/// A gate's secret authenticates it and no other; an operator's terminal only for its
/// scenarios; a clerk may not disable a terminal.
async fn gate_authenticates_by_its_secret(store: &dyn Store) -> CreatedTerminal {
    let gate = terminal(store, "XM-BUS", "transit", REGION, &[]).await;
    assert!(gate.secret.starts_with("sst_"));
    let found = terminals::authenticate(store, &gate.secret).await.expect("auth").expect("known secret");
    assert_eq!(found.id, gate.terminal.id);
    assert!(terminals::authenticate(store, "sst_0000").await.expect("auth").is_none());
    refusal(
        terminals::add_terminal(
            store,
            &ctx(admin()),
            NewTerminal::parse("XM-BUS", "medical", REGION, &[] as &[&str]).expect("well formed"),
        )
        .await,
        ErrorKind::Refused,
        "scenario_not_allowed",
    );
    forbidden(terminals::set_disabled(store, &ctx(clerk()), &gate.terminal.id, true).await);
    gate
}

/// Identity: only the scope.
async fn identity_gives_only_the_scope(store: &dyn Store, no: &str) {
    let id_term = terminal(store, "XM-GOV", "identity", REGION, &["region", "retired"]).await;
    let attrs =
        onecard::identify(store, &tctx(&id_term.terminal), &id_term.terminal, &card(no)).await.expect("identify");
    assert_eq!(serde_json::Value::Object(attrs), serde_json::json!({"region": REGION, "retired": false}));
    let usage = onecard::usage(store, &ctx(clerk())).await.expect("usage");
    assert!(usage.iter().any(|u| u.scenario == "identity" && u.presented == "card" && u.count == 1));
}

/// The ledger: a top-up key replays, a different body under the same key is a 409, a wallet
/// never goes negative, the holder sees balances and history, and the books balance.
pub async fn onecard_ledger_rules(store: Arc<dyn Store>) {
    let store = &*store;
    seed(store).await;
    operators(store).await;
    let person = register(store, 1).await;
    let other = register(store, 2).await;
    let no = active_card(store, &person).await.card_no.as_str().to_string();
    let me = ctx(holder(&person));
    let first = transit::topup(store, &me, None, &card(&no), &topup(5000, "bank", Some("k1"))).await.expect("top-up");
    assert_eq!((first.balance_fen, first.replayed), (5000, false));
    let again = transit::topup(store, &me, None, &card(&no), &topup(5000, "bank", Some("k1"))).await.expect("replay");
    assert_eq!(
        (again.transfer_id.as_str(), again.balance_fen, again.replayed),
        (first.transfer_id.as_str(), 5000, true)
    );
    refusal(
        transit::topup(store, &me, None, &card(&no), &topup(6000, "bank", Some("k1"))).await,
        ErrorKind::Conflict,
        "idempotency_mismatch",
    );
    forbidden(transit::topup(store, &ctx(holder(&other)), None, &card(&no), &topup(100, "bank", None)).await);
    refusal(
        transit::topup(store, &me, None, &card(&no), &topup(100_000, "bank", None)).await,
        ErrorKind::Refused,
        "wallet_limit",
    );
    // A bad amount or source never reaches the use case: the edge's parse refuses it by name.
    invalid(transit::Topup::parse(0, "bank", None).map_err(StoreError::from), "bad_amount", "amount_fen");
    invalid(transit::Topup::parse(10, "gold", None).map_err(StoreError::from), "bad_source", "source");
    let b = ledger::balances(store, &me, &person.id, 50).await.expect("balances");
    let get = |id: &str| b.accounts.iter().find(|a| a.id == id).map(|a| a.balance_fen);
    assert_eq!(get(&format!("ewallet:{no}")), Some(5000));
    assert_eq!(get(&format!("bank:{no}")), Some(-5000));
    assert_eq!(b.history.len(), 1);
    assert_eq!(b.history[0].amount_fen, 5000);
    forbidden(ledger::balances(store, &ctx(holder(&other)), &person.id, 50).await);

    // Deposits into the medical account: payer or admin, idempotent by key.
    let d =
        ledger::deposit_medical(store, &ctx(admin()), &deposit(&person.id, 30_000, "2026-03")).await.expect("deposit");
    let d2 =
        ledger::deposit_medical(store, &ctx(admin()), &deposit(&person.id, 30_000, "2026-03")).await.expect("replay");
    assert_eq!(d.id, d2.id);
    refusal(
        ledger::deposit_medical(store, &ctx(admin()), &deposit(&person.id, 1, "2026-03")).await,
        ErrorKind::Conflict,
        "idempotency_mismatch",
    );
    forbidden(ledger::deposit_medical(store, &me, &deposit(&person.id, 1, "x")).await);
    assert_eq!(balance(store, &person, &format!("medical:{}", person.id)).await, 30_000);
    let report = check(store).await.expect("check");
    assert_eq!((report.transfers, report.transfers_total_fen), (2, 35_000));
    books_clean(store).await;

    // Tampering is found.
    store.write().await.map(|_| ()).expect("tx");
    let mut tx = store.write().await.expect("tx");
    tx.execute_unchecked(&format!("UPDATE accounts SET balance = 4000 WHERE id = 'ewallet:{no}'"))
        .await
        .expect("tamper");
    tx.commit().await.expect("commit");
    let report = check(store).await.expect("check");
    assert!(!report.clean());
    assert_eq!(report.balance_sum_fen, -1000);
}

/// Medical settlement: the split to the fen (local, in-province, cross-province), replays by
/// bill id, the annual deductible carried between bills, refunds restoring every balance and
/// the policy year, and the personal account staying with the person across a replacement.
pub async fn onecard_medical_settlement(store: Arc<dyn Store>) {
    let store = &*store;
    seed(store).await;
    operators(store).await;
    let person = register(store, 1).await;
    let old = active_card(store, &person).await;
    let no = old.card_no.as_str().to_string();
    ledger::deposit_medical(store, &ctx(admin()), &deposit(&person.id, 50_000, "m1")).await.expect("deposit");
    let xm = terminal(store, "XM-HOSP", "medical", "350203", &[]).await.terminal;
    let bj = terminal(store, "BJ-HOSP", "medical", "110105", &[]).await.terminal;
    let c = tctx(&xm);
    // 2000 yuan: 800 deductible, 70% of 1200 = 840 pool, 500 account, 660 self-pay.
    let s = medical::settle(store, &c, &xm, &card(&no), &settle("INV-1", 200_000)).await.expect("settle");
    assert_eq!(
        (s.row.pool_fen, s.row.account_fen, s.row.self_pay_fen, s.row.locality.as_str()),
        (84_000, 50_000, 66_000, "local")
    );
    assert_eq!(s.row.pool_fen + s.row.account_fen + s.row.self_pay_fen, 200_000);
    let again = medical::settle(store, &c, &xm, &card(&no), &settle("INV-1", 200_000)).await.expect("replay");
    assert_eq!((again.row.id.as_str(), again.replayed), (s.row.id.as_str(), true));
    conflict(medical::settle(store, &c, &xm, &card(&no), &settle("INV-1", 200_001)).await, "bill_settled", "settled");
    invalid(medical::Settle::parse("INV-2", 0).map_err(StoreError::from), "bad_amount", "amount_fen");
    // Cross-province: deductible met, 60%, the account is empty.
    let s2 = medical::settle(store, &tctx(&bj), &bj, &card(&no), &settle("BJ-1", 10_001)).await.expect("settle");
    assert_eq!(
        (s2.row.pool_fen, s2.row.account_fen, s2.row.self_pay_fen, s2.row.locality.as_str()),
        (6_000, 0, 4_001, "cross_province")
    );
    assert_eq!(balance(store, &person, &format!("bank:{no}")).await, -70_001);
    assert_eq!(balance(store, &person, &format!("medical:{}", person.id)).await, 0);
    books_clean(store).await;

    // A refund from the same operator reverses exactly; once.
    not_found_err(medical::refund(store, &tctx(&bj), &bj, &s.row.id).await);
    let r = medical::refund(store, &c, &xm, &s.row.id).await.expect("refund");
    assert!(r.refunded_at_ms.is_some());
    conflict(medical::refund(store, &c, &xm, &s.row.id).await, "already_refunded", "refunded");
    assert_eq!(balance(store, &person, &format!("medical:{}", person.id)).await, 50_000);
    assert_eq!(balance(store, &person, &format!("bank:{no}")).await, -4_001);
    // The deductible is open again: the same bill settles to the same split.
    let s3 = medical::settle(store, &c, &xm, &card(&no), &settle("INV-3", 200_000)).await.expect("settle");
    assert_eq!((s3.row.pool_fen, s3.row.account_fen, s3.row.self_pay_fen), (84_000, 50_000, 66_000));

    // Replacement: the account stays with the person.
    ledger::deposit_medical(store, &ctx(admin()), &deposit(&person.id, 12_345, "m2")).await.expect("deposit");
    act(store, &ctx(holder(&person)), &no, CardAction::ReportLost, ActionInput::default()).await;
    refusal(medical::settle(store, &c, &xm, &card(&no), &settle("INV-4", 100)).await, ErrorKind::Refused, "card_lost");
    let new = replacement_card(store, &person).await;
    assert_ne!(new.card_no, old.card_no);
    let s4 =
        medical::settle(store, &c, &xm, &card(new.card_no.as_str()), &settle("INV-5", 10_000)).await.expect("settle");
    assert_eq!((s4.row.pool_fen, s4.row.account_fen, s4.row.self_pay_fen), (7_000, 3_000, 0));
    assert_eq!(balance(store, &person, &format!("medical:{}", person.id)).await, 9_345);
    books_clean(store).await;
}

/// A replacement for the person's lost card, made at ICBC's plain branch and activated.
pub async fn replacement_card(store: &dyn Store, person: &Person) -> sscard_domain::card::Card {
    use sscard_domain::application::{AppKind, AppStep, Channel, ReplacementReason};
    let desk = ctx(teller(BANK));
    let input =
        app_input(AppKind::Replacement, Channel::Branch, BANK, Some(PLAIN_BRANCH), None, Some(ReplacementReason::Lost));
    let app = apply(store, &desk, &person.id, input).await.application;
    step(store, &ctx(clerk()), &app.id, AppStep::Approve).await;
    steps(store, &desk, &app.id, &[AppStep::Produce, AppStep::Ready]).await;
    pay_fee(store, &desk, &app.id).await;
    let ready = step(store, &desk, &app.id, AppStep::Collect).await;
    let new = card_of(&ready);
    act(store, &ctx(holder(person)), new.card_no.as_str(), CardAction::Activate, with_pin("240617")).await
}

#[track_caller]
fn not_found_err<T: std::fmt::Debug>(r: sscard_store::Result<T>) {
    assert!(matches!(r, Err(StoreError::NotFound { .. })), "expected not found, got {r:?}");
}

fn item(seq: i64, no: &str, fare: i64, at_ms: i64) -> OfflineItem {
    OfflineItem { seq, presentation: Ok(card(no)), fare_fen: fare, resident_fare_fen: None, at_ms }
}

fn statuses(r: &[ItemResult]) -> Vec<(i64, &str, Option<&str>)> {
    r.iter().map(|i| (i.seq, i.status.as_str(), i.reason.as_deref())).collect()
}

/// Transit: resident fares, online debits that never overdraw, and offline batches applied
/// exactly once: a card lost before the tap is refused, one lost after it is charged, an
/// overdraft is refused, and the same batch uploaded again changes nothing.
pub async fn onecard_transit(store: Arc<dyn Store>) {
    let store = &*store;
    seed(store).await;
    operators(store).await;
    let a = register(store, 1).await;
    let b = register(store, 2).await;
    let an = active_card(store, &a).await.card_no.as_str().to_string();
    let bn = active_card(store, &b).await.card_no.as_str().to_string();
    transit::topup(store, &ctx(holder(&a)), None, &card(&an), &topup(1000, "bank", None)).await.expect("top-up");
    fund_float(store, "OFFICE", 300).await;
    transit::topup(store, &ctx(admin()), None, &card(&bn), &topup(300, "cash", None)).await.expect("cash top-up");
    let gate = terminal(store, "XM-BUS", "transit", REGION, &[]).await.terminal;
    ferry_at_the_resident_fare(store, &gate, &an).await;

    // Offline: B lost the card at base + 10 min.
    let t0 = base_ms();
    let lost_at = t0 + 600_000;
    let later = ctx_at(holder(&b), lost_at);
    act(store, &later, &bn, CardAction::ReportLost, ActionInput::default()).await;
    let now = ctx_at(terminal_actor(&gate), t0 + 3_600_000);
    let items = vec![
        item(1, &an, 150, t0 + 60_000),
        item(2, &bn, 200, t0 + 120_000),
        item(3, &bn, 100, lost_at + 1),
        item(4, &an, 100, t0 + 180_000),
        item(5, "Z99999999", 100, t0 + 180_000),
        OfflineItem { seq: 6, presentation: Err("bad_signature"), fare_fen: 100, resident_fare_fen: None, at_ms: t0 },
    ];
    let r = transit::batch(store, &now, &gate, items.clone()).await.expect("batch");
    assert_eq!(
        statuses(&r),
        vec![
            (1, "applied", None),
            (2, "applied", None),
            (3, "refused", Some("card_lost")),
            (4, "refused", Some("insufficient_balance")),
            (5, "refused", Some("unknown_card")),
            (6, "refused", Some("bad_signature")),
        ]
    );
    let again = transit::batch(store, &now, &gate, items).await.expect("batch again");
    assert!(again.iter().all(|i| i.status == LineStatus::Duplicate), "{again:?}");
    assert_eq!(again[0].reason.as_deref(), Some("already_applied"));
    assert_eq!(again[2].reason.as_deref(), Some("already_refused:card_lost"));
    assert_eq!(balance(store, &a, &format!("ewallet:{an}")).await, 50);
    assert_eq!(balance(store, &b, &format!("ewallet:{bn}")).await, 100);
    invalid(
        transit::batch(store, &now, &gate, vec![item(7, &an, 1, t0), item(7, &an, 1, t0)]).await,
        "duplicate_seq",
        "seq",
    );
    let r = transit::batch(store, &now, &gate, vec![item(8, &an, 1, t0 + 7 * 86_400_000)]).await.expect("batch");
    assert_eq!(statuses(&r), vec![(8, "refused", Some("time_in_future"))]);
    refused_while_suspended(store, &gate, t0).await;
    let mut tx = store.read().await.expect("tx");
    let tap: Option<TapRow> = tx.get_tap(&gate.id, 3).await.expect("tap");
    drop(tx);
    assert_eq!(tap.map(|t| t.status), Some(TapStatus::Refused));
    books_clean(store).await;
    let report = check(store).await.expect("check");
    // The office's float 300, top-ups 1000 + 300, fares 800 + 150 + 200.
    assert_eq!(report.transfers_total_fen, 300 + 1000 + 300 + 800 + 150 + 200 + 500 + 100);
}

/// The ferry: 35 yuan, 8 for residents insured in Xiamen; never an overdraft.
async fn ferry_at_the_resident_fare(store: &dyn Store, gate: &Terminal, an: &str) {
    let c = tctx(gate);
    let r = transit::tap(store, &c, gate, &card(an), &fare(3500, Some(800))).await.expect("tap");
    assert_eq!((r.fare_fen, r.resident, r.balance_fen), (800, true, 200));
    refusal(
        transit::tap(store, &c, gate, &card(an), &fare(201, None)).await,
        ErrorKind::Refused,
        "insufficient_balance",
    );
    invalid(Fare::parse(100, Some(200)).map_err(StoreError::from), "bad_fare", "resident_fare_fen");
}

async fn refused_while_suspended(store: &dyn Store, gate: &Terminal, t0: i64) {
    // Suspended from t0 + 20 min to t0 + 30 min, active now: a tap in between was refused by
    // the card's history, one after the lift is charged.
    let c = register(store, 3).await;
    let cn = active_card(store, &c).await.card_no.as_str().to_string();
    transit::topup(store, &ctx(holder(&c)), None, &card(&cn), &topup(500, "bank", None)).await.expect("top-up");
    act(store, &ctx_at(holder(&c), t0 + 1_200_000), &cn, CardAction::Suspend, ActionInput::default()).await;
    act(store, &ctx_at(holder(&c), t0 + 1_800_000), &cn, CardAction::Unsuspend, ActionInput::default()).await;
    let later = ctx_at(terminal_actor(gate), t0 + 3_600_000);
    let r = transit::batch(
        store,
        &later,
        gate,
        vec![item(20, &cn, 100, t0 + 1_500_000), item(21, &cn, 100, t0 + 1_900_000)],
    )
    .await
    .expect("batch");
    assert_eq!(statuses(&r), vec![(20, "refused", Some("card_suspended")), (21, "applied", None)]);
    assert_eq!(balance(store, &c, &format!("ewallet:{cn}")).await, 400);
}

/// Library: a patron with no deposit borrows within the network's limit at one library and
/// returns at another of the network; overdue loans are listed and block new loans. The limit
/// and loan period are the network's own (set by an admin, within bounds), 10 and 30 when unset.
pub async fn onecard_library(store: Arc<dyn Store>) {
    let store = &*store;
    seed(store).await;
    operators(store).await;
    assert_eq!(library::policy_of(store, "XM-LIB").await.expect("policy"), LibraryPolicy::default());
    forbidden(library::set_policy(store, &ctx(clerk()), "XM-LIB", lib_policy(2, 30)).await);
    refusal(LibraryPolicy::new(0, 30).map_err(StoreError::from), ErrorKind::Refused, "bad_library_policy");
    refusal(LibraryPolicy::new(2, 366).map_err(StoreError::from), ErrorKind::Refused, "bad_library_policy");
    refusal(
        library::set_policy(store, &ctx(admin()), "XM-BUS", lib_policy(2, 30)).await,
        ErrorKind::Refused,
        "not_a_library",
    );
    not_found_err(library::set_policy(store, &ctx(admin()), "NO-LIB", lib_policy(2, 30)).await);
    let set = library::set_policy(store, &ctx(admin()), "XM-LIB", lib_policy(2, 30)).await.expect("policy");
    assert_eq!((set.loan_limit, set.loan_days), (2, 30));
    assert_eq!(event_kinds_of(store, "XM-LIB").await, vec!["operator.created", "library_policy.set"]);
    let policy = LibraryPolicy { loan_limit: 2, loan_days: 30 };
    assert_eq!(library::policy_of(store, "XM-LIB").await.expect("policy"), policy);
    let person = register(store, 1).await;
    let no = active_card(store, &person).await.card_no.as_str().to_string();
    let main = terminal(store, "XM-LIB", "library", REGION, &[]).await.terminal;
    let branch = terminal(store, "XM-LIB", "library", "350206", &[]).await.terminal;
    let c = tctx(&main);
    refusal(library::borrow(store, &c, &main, &card(&no), "ISBN-1").await, ErrorKind::Refused, "not_patron");
    library::register(store, &c, &main, &card(&no)).await.expect("patron");
    conflict(library::register(store, &c, &main, &card(&no)).await, "already_patron", "registered");
    let l1 = library::borrow(store, &c, &main, &card(&no), "ISBN-1").await.expect("borrow");
    assert_eq!(l1.due_at_ms, sscard_domain::library::due_at(base_ms(), &policy));
    conflict(library::borrow(store, &c, &main, &card(&no), "ISBN-1").await, "item_on_loan", "on_loan");
    library::borrow(store, &c, &main, &card(&no), "ISBN-2").await.expect("borrow");
    refusal(library::borrow(store, &c, &main, &card(&no), "ISBN-3").await, ErrorKind::Refused, "loan_limit");
    let back = library::give_back(store, &tctx(&branch), &branch, "ISBN-1").await.expect("return");
    assert_eq!(back.returned_terminal_id.as_deref(), Some(branch.id.as_str()));
    refusal(library::give_back(store, &c, &main, "ISBN-1").await, ErrorKind::Conflict, "not_on_loan");
    let late = ctx_at(terminal_actor(&main), days_later_ms(31));
    let overdue = library::overdue(store, &late, &main, 100).await.expect("overdue");
    assert_eq!(overdue.iter().map(|l| l.item_id.as_str()).collect::<Vec<_>>(), vec!["ISBN-2"]);
    refusal(library::borrow(store, &late, &main, &card(&no), "ISBN-4").await, ErrorKind::Refused, "has_overdue");
    assert!(library::overdue(store, &c, &main, 100).await.expect("overdue").is_empty());

    // The network changes its rules: 3 items for 7 days. The open loan keeps its due date; a
    // new loan is due at the end of the 7th day, and the third item is one too many.
    library::give_back(store, &c, &main, "ISBN-2").await.expect("return");
    library::set_policy(store, &ctx(admin()), "XM-LIB", lib_policy(3, 7)).await.expect("policy");
    let week = LibraryPolicy { loan_limit: 3, loan_days: 7 };
    let mut due = Vec::new();
    for item in ["ISBN-5", "ISBN-6", "ISBN-7"] {
        due.push(library::borrow(store, &c, &main, &card(&no), item).await.expect("borrow").due_at_ms);
    }
    assert_eq!(due, vec![sscard_domain::library::due_at(base_ms(), &week); 3]);
    assert_eq!(
        sscard_domain::clock::china_date(due[0]),
        sscard_domain::clock::china_date(base_ms()) + time::Duration::days(7)
    );
    refusal(library::borrow(store, &c, &main, &card(&no), "ISBN-8").await, ErrorKind::Refused, "loan_limit");
    let eighth_day = ctx_at(terminal_actor(&main), days_later_ms(8));
    let overdue = library::overdue(store, &eighth_day, &main, 100).await.expect("overdue");
    assert_eq!(overdue.len(), 3);
    let seventh_day = ctx_at(terminal_actor(&main), days_later_ms(7));
    assert!(library::overdue(store, &seventh_day, &main, 100).await.expect("overdue").is_empty());

    another_network_lends_by_its_own_rules(store, &no, &main).await;
}

async fn another_network_lends_by_its_own_rules(store: &dyn Store, no: &str, main: &Terminal) {
    // Another network lends by its own rules: the loans of the first do not count there, not
    // even overdue ones.
    let other = Operator {
        code: "XM-LIB2".into(),
        name: "Second network".into(),
        kind: OperatorKind::Library,
        region: RegionCode::parse(REGION).expect("region"),
    };
    terminals::add_operator(store, &ctx(admin()), other).await.expect("operator");
    library::set_policy(store, &ctx(admin()), "XM-LIB2", lib_policy(1, 14)).await.expect("policy");
    let desk = terminal(store, "XM-LIB2", "library", REGION, &[]).await.terminal;
    let later = ctx_at(terminal_actor(&desk), days_later_ms(8));
    library::register(store, &later, &desk, &card(no)).await.expect("patron");
    library::borrow(store, &later, &desk, &card(no), "ISBN-1").await.expect("borrow elsewhere");
    refusal(library::borrow(store, &later, &desk, &card(no), "ISBN-2").await, ErrorKind::Refused, "loan_limit");
    let late_main = ctx_at(terminal_actor(main), days_later_ms(8));
    refusal(library::borrow(store, &late_main, main, &card(no), "ISBN-9").await, ErrorKind::Refused, "has_overdue");
}

/// Parks: retirees free, annual pass holders free, others pay from the e-wallet; a pass is
/// bought onto the card; an entry without enough money is not admitted and is recorded.
pub async fn onecard_parks(store: Arc<dyn Store>) {
    let store = &*store;
    seed(store).await;
    operators(store).await;
    let rule = ParkRule {
        code: "GULANGYU".into(),
        name: "鼓浪屿".into(),
        price_fen: 3500,
        free_for_retirees: true,
        accepts_annual_pass: true,
        annual_pass_fen: Some(10_000),
    };
    parks::put_park(store, &ctx(admin()), ParkRow { operator_code: "XM-PARK".into(), rule: rule.clone() })
        .await
        .expect("park");
    forbidden(parks::put_park(store, &ctx(clerk()), ParkRow { operator_code: "XM-PARK".into(), rule }).await);
    let young = register(store, 1).await;
    let mut old_input = adult_input(2);
    old_input.doc_number =
        resident_number_born(sscard_domain::clock::china_date(base_ms()) - time::Duration::days(365 * 70), 3);
    let old = register_input(store, old_input).await;
    let yn = active_card(store, &young).await.card_no.as_str().to_string();
    let on = active_card(store, &old).await.card_no.as_str().to_string();
    let gate = terminal(store, "XM-PARK", "park", REGION, &[]).await.terminal;
    let c = tctx(&gate);
    let e = parks::entry(store, &c, &gate, &card(&on), "GULANGYU").await.expect("entry");
    assert_eq!((e.admitted, e.price_fen, e.reason.as_str()), (true, 0, "retiree"));
    let e = parks::entry(store, &c, &gate, &card(&yn), "GULANGYU").await.expect("entry");
    assert_eq!((e.admitted, e.price_fen, e.reason.as_str()), (false, 3500, "insufficient_balance"));
    transit::topup(store, &ctx(holder(&young)), None, &card(&yn), &topup(20_000, "bank", None)).await.expect("top-up");
    let e = parks::entry(store, &c, &gate, &card(&yn), "GULANGYU").await.expect("entry");
    assert_eq!((e.admitted, e.price_fen, e.reason.as_str(), e.balance_fen), (true, 3500, "paid", Some(16_500)));
    let pass = parks::buy_pass(store, &c, &gate, &card(&yn), "GULANGYU").await.expect("pass");
    assert_eq!(pass.price_fen, 10_000);
    let e = parks::entry(store, &c, &gate, &card(&yn), "GULANGYU").await.expect("entry");
    assert_eq!((e.admitted, e.price_fen, e.reason.as_str()), (true, 0, "annual_pass"));
    assert_eq!(balance(store, &young, &format!("ewallet:{yn}")).await, 6_500);
    let other_park_gate = terminal(store, "XM-PARK", "park", REGION, &[]).await.terminal;
    not_found_err(parks::entry(store, &tctx(&other_park_gate), &other_park_gate, &card(&yn), "NOPARK").await);
    let uses = onecard::uses(store, &ctx(holder(&young)), &young.id, None, 50).await.expect("uses");
    assert_eq!(uses.iter().filter(|u| u.result == UseResult::Refused).count(), 1);
    assert_eq!(uses.len(), 4);
    books_clean(store).await;
}

/// Concurrency: online taps from three gates and two offline batches race for one wallet of
/// 10 yuan; exactly five 2-yuan fares succeed, the wallet ends at zero, never below, and two
/// concurrent settlements of one bill settle it once.
pub async fn onecard_concurrent_debits_never_overdraw(store: Arc<dyn Store>) {
    seed(&*store).await;
    operators(&*store).await;
    let person = register(&*store, 1).await;
    let no = active_card(&*store, &person).await.card_no.as_str().to_string();
    transit::topup(&*store, &ctx(holder(&person)), None, &card(&no), &topup(1000, "bank", None)).await.expect("top-up");
    let mut gates = Vec::new();
    for _ in 0..3 {
        gates.push(terminal(&*store, "XM-BUS", "transit", REGION, &[]).await.terminal);
    }
    let mut tasks = Vec::new();
    for i in 0..9usize {
        let (store, gate, no) = (Arc::clone(&store), gates[i % 3].clone(), no.clone());
        tasks.push(tokio::spawn(async move {
            match transit::tap(&*store, &tctx(&gate), &gate, &card(&no), &fare(200, None)).await {
                Ok(_) => 1,
                Err(StoreError::Domain(e)) if e.code == "insufficient_balance" => 0,
                Err(e) => panic!("unexpected {e:?}"),
            }
        }));
    }
    for b in 0..2i64 {
        let (store, gate, no) = (Arc::clone(&store), gates[0].clone(), no.clone());
        tasks.push(tokio::spawn(async move {
            let items = (1..=3).map(|s| item(b * 10 + s, &no, 200, base_ms() - 1000)).collect();
            let r = transit::batch(&*store, &tctx(&gate), &gate, items).await.expect("batch");
            r.iter().filter(|i| i.status == LineStatus::Applied).count()
        }));
    }
    let mut applied = 0;
    for t in tasks {
        applied += t.await.expect("task");
    }
    assert_eq!(applied, 5);
    assert_eq!(balance(&*store, &person, &format!("ewallet:{no}")).await, 0);

    let hosp = terminal(&*store, "XM-HOSP", "medical", REGION, &[]).await.terminal;
    let mut settles = Vec::new();
    for _ in 0..4 {
        let (store, hosp, no) = (Arc::clone(&store), hosp.clone(), no.clone());
        settles.push(tokio::spawn(async move {
            medical::settle(&*store, &tctx(&hosp), &hosp, &card(&no), &settle("SAME-BILL", 90_000))
                .await
                .expect("settle")
        }));
    }
    let mut ids = std::collections::BTreeSet::new();
    let mut fresh = 0;
    for s in settles {
        let v = s.await.expect("task");
        ids.insert(v.row.id.clone());
        fresh += usize::from(!v.replayed);
    }
    assert_eq!((ids.len(), fresh), (1, 1));
    books_clean(&*store).await;
}

/// The e-wallet follows the card: topped up and partly spent on a card that is then lost, its
/// whole balance is on the replacement once that is activated (one `migration` transfer keyed
/// by the two card numbers, with its event), the old wallet is empty and the books balance.
/// A temporary card's wallet and the lost card's both move to the formal replacement; an empty
/// wallet moves nothing.
pub async fn onecard_wallet_follows_the_replacement(store: Arc<dyn Store>) {
    let store = &*store;
    seed(store).await;
    operators(store).await;
    let gate = terminal(store, "XM-BUS", "transit", REGION, &[]).await.terminal;
    lost_card_wallet_moves_to_the_replacement(store, &gate).await;
    temporary_and_lost_wallets_end_on_the_replacement(store, &gate).await;
    empty_wallet_moves_nothing(store, &gate).await;
}

/// A card topped up, partly spent and lost: its balance is on the replacement once that is
/// activated, in one `migration` transfer with its event; spendable there and only there.
async fn lost_card_wallet_moves_to_the_replacement(store: &dyn Store, gate: &Terminal) {
    let gate = gate.clone();
    let person = register(store, 1).await;
    let me = ctx(holder(&person));
    let old = active_card(store, &person).await.card_no.as_str().to_string();
    transit::topup(store, &me, None, &card(&old), &topup(5000, "bank", None)).await.expect("top-up");
    let r = transit::tap(store, &tctx(&gate), &gate, &card(&old), &fare(1234, None)).await.expect("tap");
    assert_eq!(r.balance_fen, 3766);
    act(store, &me, &old, CardAction::ReportLost, ActionInput::default()).await;
    let new = replacement_card(store, &person).await.card_no.as_str().to_string();
    assert_eq!(balance(store, &person, &format!("ewallet:{old}")).await, 0);
    assert_eq!(balance(store, &person, &format!("ewallet:{new}")).await, 3766);
    let b = ledger::balances(store, &me, &person.id, 50).await.expect("balances");
    let moved: Vec<_> = b.history.iter().filter(|t| t.kind == "migration").collect();
    assert_eq!(moved.len(), 1, "{:?}", b.history);
    assert_eq!(
        (moved[0].from_account.as_str(), moved[0].to_account.as_str(), moved[0].amount_fen),
        (format!("ewallet:{old}").as_str(), format!("ewallet:{new}").as_str(), 3766)
    );
    assert_eq!(moved[0].idem_key, format!("migrate:{old}:{new}"));
    assert!(event_kinds_of(store, &format!("ewallet:{new}")).await.contains(&"ewallet.migrated".to_string()));
    // The money is spendable on the new card, and only there.
    let r = transit::tap(store, &tctx(&gate), &gate, &card(&new), &fare(766, None)).await.expect("tap");
    assert_eq!(r.balance_fen, 3000);
    refusal(
        transit::tap(store, &tctx(&gate), &gate, &card(&old), &fare(1, None)).await,
        ErrorKind::Refused,
        "card_replaced",
    );
    books_clean(store).await;
    let report = check(store).await.expect("check");
    // The replacement's fee paid in cash: the desk's float funded with it, then the fee.
    assert_eq!((report.transfers, report.transfers_total_fen), (6, 5000 + 1234 + 3766 + 766 + 2000 + 2000));
}

/// A lost card with money, a temporary card bridging the wait, then the formal replacement:
/// both wallets end on the replacement.
async fn temporary_and_lost_wallets_end_on_the_replacement(store: &dyn Store, gate: &Terminal) {
    use sscard_domain::application::{AppKind, Channel, ReplacementReason};
    let gate = gate.clone();
    let p2 = register(store, 2).await;
    let me2 = ctx(holder(&p2));
    let formal = active_card(store, &p2).await.card_no.as_str().to_string();
    transit::topup(store, &me2, None, &card(&formal), &topup(2000, "bank", None)).await.expect("top-up");
    act(store, &me2, &formal, CardAction::ReportLost, ActionInput::default()).await;
    let desk = ctx(teller(BANK));
    let temp_input = app_input(AppKind::Temporary, Channel::BranchInstant, BANK, Some(PRINTER_BRANCH), None, None);
    let temp = card_of(&apply(store, &desk, &p2.id, temp_input).await);
    assert!(temp.temporary);
    let temp = temp.card_no.as_str().to_string();
    act(store, &me2, &temp, CardAction::Activate, with_pin("240617")).await;
    // A temporary card replaces nothing: the lost card keeps its money until the replacement.
    assert_eq!(balance(store, &p2, &format!("ewallet:{formal}")).await, 2000);
    // A holder's cash nobody took in is refused (money from nowhere); the teller takes it.
    let before = row_counts(store).await;
    let e = refusal(
        transit::topup(store, &me2, None, &card(&temp), &topup(500, "cash", None)).await,
        ErrorKind::Forbidden,
        "cash_at_a_service_point",
    );
    assert_eq!(e.field, Some("source"));
    assert_eq!(row_counts(store).await, before, "a refused top-up writes nothing");
    fund_float(store, &format!("CASH-{BANK}"), 500).await;
    transit::topup(store, &desk, None, &card(&temp), &topup(500, "cash", None)).await.expect("cash top-up");
    let r = transit::tap(store, &tctx(&gate), &gate, &card(&temp), &fare(120, None)).await.expect("tap");
    assert_eq!(r.balance_fen, 380);
    let repl_input = app_input(
        AppKind::Replacement,
        Channel::BranchInstant,
        BANK,
        Some(PRINTER_BRANCH),
        None,
        Some(ReplacementReason::Lost),
    );
    let repl = card_of(&apply(store, &desk, &p2.id, repl_input).await).card_no.as_str().to_string();
    act(store, &me2, &repl, CardAction::Activate, with_pin("240617")).await;
    assert_eq!(balance(store, &p2, &format!("ewallet:{formal}")).await, 0);
    assert_eq!(balance(store, &p2, &format!("ewallet:{temp}")).await, 0);
    assert_eq!(balance(store, &p2, &format!("ewallet:{repl}")).await, 2000 + 380);
    let b = ledger::balances(store, &me2, &p2.id, 50).await.expect("balances");
    let mut keys: Vec<&str> = b.history.iter().filter(|t| t.kind == "migration").map(|t| t.idem_key.as_str()).collect();
    keys.sort_unstable();
    let mut want = vec![format!("migrate:{formal}:{repl}"), format!("migrate:{temp}:{repl}")];
    want.sort_unstable();
    assert_eq!(keys, want);
}

/// An empty wallet moves nothing (no transfer, no event).
async fn empty_wallet_moves_nothing(store: &dyn Store, gate: &Terminal) {
    let gate = gate.clone();
    let p3 = register(store, 3).await;
    let me3 = ctx(holder(&p3));
    let lonely = active_card(store, &p3).await.card_no.as_str().to_string();
    transit::topup(store, &me3, None, &card(&lonely), &topup(300, "bank", None)).await.expect("top-up");
    transit::tap(store, &tctx(&gate), &gate, &card(&lonely), &fare(300, None)).await.expect("tap");
    act(store, &me3, &lonely, CardAction::ReportLost, ActionInput::default()).await;
    let fresh = replacement_card(store, &p3).await.card_no.as_str().to_string();
    assert_eq!(balance(store, &p3, &format!("ewallet:{fresh}")).await, 0);
    assert!(event_kinds_of(store, &format!("ewallet:{fresh}")).await.is_empty());
    let b = ledger::balances(store, &me3, &p3.id, 50).await.expect("balances");
    assert!(b.history.iter().all(|t| t.kind != "migration"));
    books_clean(store).await;
    let report = check(store).await.expect("check");
    // Besides the uses: the desk's float for the cash top-up (500), and the three replacements'
    // fees paid in cash, each with the desk's float funded for it (3 x (2000 + 2000)).
    let fees = 3 * (2000 + 2000);
    let uses = 5000 + 1234 + 3766 + 766 + 2000 + 500 + 120 + 2000 + 380 + 300 + 300;
    assert_eq!(report.transfers_total_fen, uses + 500 + fees);
}

/// Uses matching `filter` (SQL over `card_uses`), counted by a no-op UPDATE rolled back.
async fn uses_where(store: &dyn Store, filter: &str) -> u64 {
    let mut tx = store.write().await.expect("tx");
    let n = tx.execute_unchecked(&format!("UPDATE card_uses SET region = region WHERE {filter}")).await.expect("count");
    drop(tx);
    n
}

/// Refusals before the card is known are uses too: a QR code that failed its check (no
/// person when its signature did not verify; the holder when it did, e.g. expired) and a card
/// number of no card are recorded as refused uses of the terminal with their reason, online
/// and in offline batches, and counted in the statistics; a forbidden terminal's attempt is
/// not a use, nor is a holder's own top-up attempt.
pub async fn onecard_refusals_before_the_card_is_known(store: Arc<dyn Store>) {
    let store = &*store;
    seed(store).await;
    operators(store).await;
    let person = register(store, 1).await;
    let me = ctx(holder(&person));
    let no = active_card(store, &person).await.card_no.as_str().to_string();
    let ecard = sscard_app::ecard::of_person(store, &me, &person.id).await.expect("e-card");
    transit::topup(store, &me, None, &card(&no), &topup(1000, "bank", None)).await.expect("top-up");
    let gate = terminal(store, "XM-BUS", "transit", REGION, &[]).await.terminal;
    let forged = Presentation::RefusedQr { reason: "bad_signature", ecard_id: None };
    let expired = Presentation::RefusedQr { reason: "expired", ecard_id: Some(ecard.id.clone()) };
    let (hosp, off) = online_refusals(store, &gate, &me, &forged, &expired).await;
    offline_identity_and_library_refusals(store, &gate, &no, &forged, &expired).await;
    refusals_are_uses(store, &person, &no, &hosp, &off).await;
}

/// Online: a forged or expired code, an unknown or malformed number are refused (uses); a
/// terminal of another scenario, a disabled one and the holder's own top-up are refused too
/// (not uses). Answers the two terminals whose attempts are no uses.
async fn online_refusals(
    store: &dyn Store,
    gate: &Terminal,
    me: &Ctx,
    forged: &Presentation,
    expired: &Presentation,
) -> (Terminal, Terminal) {
    let (c, gate, me) = (tctx(gate), gate.clone(), me.clone());
    let (forged, expired) = (forged.clone(), expired.clone());
    let e =
        refusal(transit::tap(store, &c, &gate, &forged, &fare(200, None)).await, ErrorKind::Refused, "bad_signature");
    assert_eq!(e.field, Some("token"));
    let e = refusal(transit::tap(store, &c, &gate, &expired, &fare(200, None)).await, ErrorKind::Refused, "expired");
    assert_eq!(e.field, Some("token"));
    let e = refusal(
        transit::tap(store, &c, &gate, &card("Z99999999"), &fare(200, None)).await,
        ErrorKind::Refused,
        "unknown_card",
    );
    assert_eq!(e.field, Some("card_no"));
    refusal(
        transit::tap(store, &c, &gate, &card("not a card"), &fare(200, None)).await,
        ErrorKind::Refused,
        "unknown_card",
    );
    // Not uses: a terminal of another scenario, a disabled one, the holder's own top-up.
    let hosp = terminal(store, "XM-HOSP", "medical", REGION, &[]).await.terminal;
    refusal(
        transit::tap(store, &tctx(&hosp), &hosp, &forged, &fare(200, None)).await,
        ErrorKind::Forbidden,
        "wrong_scenario",
    );
    let off = terminal(store, "XM-BUS", "transit", REGION, &[]).await.terminal;
    terminals::set_disabled(store, &ctx(admin()), &off.id, true).await.expect("disable");
    refusal(
        transit::tap(store, &tctx(&off), &off, &expired, &fare(200, None)).await,
        ErrorKind::Forbidden,
        "terminal_disabled",
    );
    refusal(transit::topup(store, &me, None, &expired, &topup(100, "bank", None)).await, ErrorKind::Refused, "expired");
    (hosp, off)
}

/// Offline: a refused QR line is a refused use as well; identity and library refuse them the
/// same way.
async fn offline_identity_and_library_refusals(
    store: &dyn Store,
    gate: &Terminal,
    no: &str,
    forged: &Presentation,
    expired: &Presentation,
) {
    let (gate, no) = (gate.clone(), no.to_string());
    let now = ctx_at(terminal_actor(&gate), base_ms() + 60_000);
    let items = vec![
        OfflineItem {
            seq: 1,
            presentation: Ok(expired.clone()),
            fare_fen: 100,
            resident_fare_fen: None,
            at_ms: base_ms(),
        },
        OfflineItem {
            seq: 2,
            presentation: Ok(forged.clone()),
            fare_fen: 100,
            resident_fare_fen: None,
            at_ms: base_ms(),
        },
        item(3, &no, 100, base_ms()),
    ];
    let r = transit::batch(store, &now, &gate, items).await.expect("batch");
    assert_eq!(
        statuses(&r),
        vec![(1, "refused", Some("expired")), (2, "refused", Some("bad_signature")), (3, "applied", None)]
    );
    // Identity and library refuse them the same way.
    let idt = terminal(store, "XM-GOV", "identity", REGION, &["region"]).await.terminal;
    refusal(onecard::identify(store, &tctx(&idt), &idt, forged).await, ErrorKind::Refused, "bad_signature");
    let lib = terminal(store, "XM-LIB", "library", REGION, &[]).await.terminal;
    refusal(library::register(store, &tctx(&lib), &lib, expired).await, ErrorKind::Refused, "expired");
}

/// The holder sees the refusals of their own e-card (known by its verified signature); the
/// others have no person; the statistics count them, refused ones apart.
async fn refusals_are_uses(store: &dyn Store, person: &Person, no: &str, hosp: &Terminal, off: &Terminal) {
    let me = ctx(holder(person));
    let no = no.to_string();
    // The holder sees the refusals of their own e-card (known by its verified signature).
    let uses = onecard::uses(store, &me, &person.id, None, 50).await.expect("uses");
    let mut mine: Vec<(&str, &str, Option<&str>, &str)> = uses
        .iter()
        .map(|u| (u.scenario.as_str(), u.presented.as_str(), u.reason.as_deref(), u.result.as_str()))
        .collect();
    mine.sort_unstable();
    assert_eq!(
        mine,
        vec![
            ("library", "qr", Some("expired"), "refused"),
            ("transit", "card", None, "ok"),
            ("transit", "qr", Some("expired"), "refused"),
            ("transit", "qr", Some("expired"), "refused"),
        ]
    );
    assert!(uses.iter().all(|u| u.card_no.as_deref() == Some(no.as_str())));
    // The others have no person: a forged code, an unknown card (by its number), a malformed number.
    assert_eq!(uses_where(store, "person_id IS NULL").await, 5);
    assert_eq!(uses_where(store, "person_id IS NULL AND reason = 'bad_signature' AND presented = 'qr'").await, 3);
    assert_eq!(uses_where(store, "person_id IS NULL AND card_no = 'Z99999999' AND reason = 'unknown_card'").await, 1);
    assert_eq!(uses_where(store, "person_id IS NULL AND card_no IS NULL AND presented = 'card'").await, 1);
    assert_eq!(uses_where(store, &format!("terminal_id IN ('{}', '{}')", hosp.id, off.id)).await, 0);
    // And the statistics count them, refused ones apart.
    let usage = onecard::usage(store, &ctx(clerk())).await.expect("usage");
    let of =
        |s: &str, p: &str| usage.iter().find(|u| u.scenario == s && u.presented == p).map(|u| (u.count, u.refused));
    assert_eq!(of("transit", "qr"), Some((4, 4)));
    assert_eq!(of("transit", "card"), Some((3, 2)));
    assert_eq!(of("identity", "qr"), Some((1, 1)));
    assert_eq!(of("library", "qr"), Some((1, 1)));
    assert_eq!(balance(store, person, &format!("ewallet:{no}")).await, 900);
    books_clean(store).await;
}

/// A large offline batch is applied in chunks of [`transit::BATCH_CHUNK`] lines, each line once:
/// uploading it again, or a batch overlapping it, applies only the new lines.
pub async fn onecard_large_batches_apply_each_line_once(store: Arc<dyn Store>) {
    let store = &*store;
    seed(store).await;
    operators(store).await;
    let a = register(store, 1).await;
    let b = register(store, 2).await;
    let an = active_card(store, &a).await.card_no.as_str().to_string();
    let bn = active_card(store, &b).await.card_no.as_str().to_string();
    fund_float(store, "OFFICE", 200_000).await;
    for no in [&an, &bn] {
        transit::topup(store, &ctx(admin()), None, &card(no), &topup(100_000, "cash", None)).await.expect("top-up");
    }
    let gate = terminal(store, "XM-BUS", "transit", REGION, &[]).await.terminal;
    let t0 = base_ms();
    let now = ctx_at(terminal_actor(&gate), t0 + 3_600_000);
    let lines = |from: i64, to: i64| -> Vec<OfflineItem> {
        (from..=to).map(|seq| item(seq, if seq % 2 == 0 { &an } else { &bn }, 10, t0 + seq)).collect()
    };
    let n = 2 * transit::BATCH_CHUNK as i64 + 500;
    let r = transit::batch(store, &now, &gate, lines(1, n)).await.expect("large batch");
    assert_eq!(r.len() as i64, n);
    assert!(
        r.iter().all(|x| x.status == LineStatus::Applied),
        "{:?}",
        r.iter().find(|x| x.status != LineStatus::Applied)
    );
    // Again: every line a duplicate, nothing moves.
    let again = transit::batch(store, &now, &gate, lines(1, n)).await.expect("the same batch again");
    assert!(again.iter().all(|x| x.status == LineStatus::Duplicate));
    // Overlapping: only the new lines apply.
    let over = transit::batch(store, &now, &gate, lines(n - 99, n + 400)).await.expect("overlapping batch");
    assert_eq!(over.iter().filter(|x| x.status == LineStatus::Duplicate).count(), 100);
    assert_eq!(over.iter().filter(|x| x.status == LineStatus::Applied).count(), 400);
    let spent = 10 * (n + 400);
    let (wa, wb) =
        (balance(store, &a, &format!("ewallet:{an}")).await, balance(store, &b, &format!("ewallet:{bn}")).await);
    assert_eq!(wa + wb, 200_000 - spent, "exact to the fen");
    assert_eq!(wa, 100_000 - 10 * ((n + 400) / 2));
    books_clean(store).await;
}

/// A tap made offline while the card was active, uploaded after the card was lost and
/// replaced: the money moved to the replacement, so the tap is charged there.
pub async fn onecard_offline_tap_follows_the_money_to_the_replacement(store: Arc<dyn Store>) {
    use sscard_domain::application::{AppKind, Channel, ReplacementReason};
    let store = &*store;
    seed(store).await;
    operators(store).await;
    let gate = terminal(store, "XM-BUS", "transit", REGION, &[]).await.terminal;
    let person = register(store, 1).await;
    let t0 = base_ms();
    let old = active_card(store, &person).await.card_no.as_str().to_string();
    transit::topup(store, &ctx(holder(&person)), None, &card(&old), &topup(1000, "bank", None)).await.expect("top-up");
    // Lost ten minutes after the offline tap, replaced at a printer branch twenty minutes later.
    act(store, &ctx_at(holder(&person), t0 + 600_000), &old, CardAction::ReportLost, ActionInput::default()).await;
    let input = app_input(
        AppKind::Replacement,
        Channel::BranchInstant,
        BANK,
        Some(PRINTER_BRANCH),
        None,
        Some(ReplacementReason::Lost),
    );
    let new = card_of(&apply(store, &ctx_at(teller(BANK), t0 + 1_200_000), &person.id, input).await);
    let new = new.card_no.as_str().to_string();
    act(store, &ctx_at(holder(&person), t0 + 1_300_000), &new, CardAction::Activate, with_pin("240617")).await;
    assert_eq!(balance(store, &person, &format!("ewallet:{new}")).await, 1000);

    let now = ctx_at(terminal_actor(&gate), t0 + 3_600_000);
    let items = vec![item(1, &old, 150, t0 + 60_000), item(2, &old, 100, t0 + 900_000)];
    let r = transit::batch(store, &now, &gate, items).await.expect("batch");
    // Before the loss: charged to the wallet the money moved to. After the loss: refused.
    assert_eq!(statuses(&r), vec![(1, "applied", None), (2, "refused", Some("card_lost"))]);
    assert_eq!(balance(store, &person, &format!("ewallet:{old}")).await, 0);
    assert_eq!(balance(store, &person, &format!("ewallet:{new}")).await, 850);
    books_clean(store).await;
}

/// An organisation account's stored balance (its row and its slots).
async fn org_balance(store: &dyn Store, id: &str) -> i64 {
    let mut tx = store.read().await.expect("read");
    let found = tx.get_account(id, false).await.expect("account");
    tx.commit().await.expect("commit");
    found.map_or(0, |a| a.balance_fen)
}

/// Organisation accounts take concurrent writers: settlements of many holders at four
/// terminals of one hospital draw on one regional pool and pay into one clearing account
/// while gates of one transit company tap into theirs, all at once. Every fen arrives: the
/// pool is down by the sum of the pool parts, each clearing account up by what its terminals
/// took, and the books balance.
pub async fn onecard_organisation_accounts_take_concurrent_writers(store: Arc<dyn Store>) {
    seed(&*store).await;
    operators(&*store).await;
    let mut holders = Vec::new();
    for n in 1..=8 {
        let person = register(&*store, n).await;
        let no = active_card(&*store, &person).await.card_no.as_str().to_string();
        transit::topup(&*store, &ctx(holder(&person)), None, &card(&no), &topup(10_000, "bank", None))
            .await
            .expect("top-up");
        holders.push((person, no));
    }
    let pool = format!("pool:{}", holders[0].0.region);
    assert!(holders.iter().all(|(p, _)| format!("pool:{}", p.region) == pool), "one insured region");
    let pool_before = org_balance(&*store, &pool).await;
    let mut hospital = Vec::new();
    let mut gates = Vec::new();
    for _ in 0..4 {
        hospital.push(terminal(&*store, "XM-HOSP", "medical", REGION, &[]).await.terminal);
        gates.push(terminal(&*store, "XM-BUS", "transit", REGION, &[]).await.terminal);
    }
    let mut settles = Vec::new();
    let mut taps = Vec::new();
    for i in 0..24usize {
        let no = holders[i % holders.len()].1.clone();
        let hosp = hospital[i % 4].clone();
        let s = Arc::clone(&store);
        let bill = 50_000 + i as i64 * 1_001;
        settles.push(tokio::spawn(async move {
            medical::settle(&*s, &tctx(&hosp), &hosp, &card(&no), &settle(&format!("CONC-{i}"), bill))
                .await
                .expect("settle")
        }));
        let (gate, s, no) = (gates[i % 4].clone(), Arc::clone(&store), holders[(i + 3) % holders.len()].1.clone());
        taps.push(tokio::spawn(async move {
            transit::tap(&*s, &tctx(&gate), &gate, &card(&no), &fare(150 + i as i64, None)).await.expect("tap").fare_fen
        }));
    }
    let (mut pool_paid, mut billed) = (0i64, 0i64);
    for s in settles {
        let v = s.await.expect("task");
        assert!(!v.replayed);
        assert_eq!(v.row.pool_fen + v.row.account_fen + v.row.self_pay_fen, v.row.bill_fen);
        pool_paid += v.row.pool_fen;
        billed += v.row.bill_fen;
    }
    let mut fares = 0i64;
    for t in taps {
        fares += t.await.expect("task");
    }
    assert_eq!(billed, (0..24).map(|i| 50_000 + i * 1_001).sum::<i64>());
    assert_eq!(fares, (0..24).map(|i| 150 + i).sum::<i64>());
    assert!(pool_paid > 0);
    assert_eq!(org_balance(&*store, &pool).await, pool_before - pool_paid);
    assert_eq!(org_balance(&*store, "clearing:XM-HOSP").await, billed);
    assert_eq!(org_balance(&*store, "clearing:XM-BUS").await, fares);
    books_clean(&*store).await;
}

/// A card that ends for good (cancelled or stopped) gives its e-wallet back: the whole balance
/// moves to the card's bank account in the card's own transaction, once, with its event; the
/// card is then refused at the gate. A card that never had a wallet ends without a transfer.
pub async fn onecard_wallet_goes_back_when_the_card_ends(store: Arc<dyn Store>) {
    let store = &*store;
    seed(store).await;
    operators(store).await;
    let gate = terminal(store, "XM-BUS", "transit", REGION, &[]).await.terminal;
    let cancel = ActionInput { cancel_reason: Some(CancelReason::HolderRequest), ..Default::default() };
    let stop = ActionInput { stop_reason: Some(stop_reason("moved to 110105")), ..Default::default() };
    for (n, action, input, reason) in
        [(1, CardAction::Cancel, cancel.clone(), "card_cancelled"), (2, CardAction::Stop, stop, "card_stopped")]
    {
        let person = register(store, n).await;
        let no = active_card(store, &person).await.card_no.as_str().to_string();
        transit::topup(store, &ctx(holder(&person)), None, &card(&no), &topup(3_000, "bank", None))
            .await
            .expect("top-up");
        transit::tap(store, &tctx(&gate), &gate, &card(&no), &fare(250, None)).await.expect("tap");
        assert_eq!(balance(store, &person, &format!("ewallet:{no}")).await, 2_750);
        assert_eq!(balance(store, &person, &format!("bank:{no}")).await, -3_000);
        act(store, &ctx(clerk()), &no, action, input).await;
        assert_eq!(balance(store, &person, &format!("ewallet:{no}")).await, 0);
        assert_eq!(balance(store, &person, &format!("bank:{no}")).await, -250);
        let kinds = event_kinds_of(store, &format!("ewallet:{no}")).await;
        assert_eq!(kinds.iter().filter(|k| *k == "ewallet.refunded").count(), 1, "{kinds:?}");
        refusal(
            transit::tap(store, &tctx(&gate), &gate, &card(&no), &fare(250, None)).await,
            ErrorKind::Refused,
            reason,
        );
    }
    let person = register(store, 3).await;
    let no = active_card(store, &person).await.card_no.as_str().to_string();
    let before = check(store).await.expect("books").transfers;
    act(store, &ctx(clerk()), &no, CardAction::Cancel, cancel).await;
    assert_eq!(check(store).await.expect("books").transfers, before);
    books_clean(store).await;
}

/// A visitor of another deployment of the nation, as the server makes one of a QR code the
/// issuer said is usable.
fn visitor(ecard_byte: &str, retired: bool, temporary: bool) -> Presentation {
    Presentation::Visitor(sscard_domain::nation::visitor::Visitor {
        deployment: "FZ".into(),
        ecard_id: ecard_byte.repeat(16),
        attributes: sscard_domain::ecard::Attributes {
            name: Some("张*".into()),
            region: "350102".into(),
            retired,
            temporary,
            ..Default::default()
        },
    })
}

/// Visitors (docs/NATION.md): a holder of another deployment borrows without registering,
/// within the network's limit counted per e-card, and returns as anyone; enters a free park and,
/// as a retiree, one free for retirees, but never pays; a temporary card of another region is
/// refused. Loans, entries and uses keep the deployment and the e-card and no person, and a row
/// with both a person and a visitor is refused by the database.
pub async fn onecard_visitors_by_deployment_and_ecard(store: Arc<dyn Store>) {
    let store = &*store;
    seed(store).await;
    operators(store).await;
    library::set_policy(store, &ctx(admin()), "XM-LIB", lib_policy(2, 30)).await.expect("policy");
    let desk = terminal(store, "XM-LIB", "library", REGION, &[]).await.terminal;
    let c = tctx(&desk);
    let loan = library::borrow(store, &c, &desk, &visitor("ab", false, false), "V-1").await.expect("borrow");
    assert_eq!((loan.person_id.as_deref(), loan.card_no.as_deref()), (None, None));
    assert_eq!((loan.deployment.as_deref(), loan.ecard_id), (Some("FZ"), Some("ab".repeat(16))));
    conflict(library::borrow(store, &c, &desk, &visitor("cd", false, false), "V-1").await, "item_on_loan", "on_loan");
    library::borrow(store, &c, &desk, &visitor("ab", false, false), "V-2").await.expect("borrow");
    let over = library::borrow(store, &c, &desk, &visitor("ab", false, false), "V-3").await;
    refusal(over, ErrorKind::Refused, "loan_limit");
    // Another e-card has loans of its own.
    library::borrow(store, &c, &desk, &visitor("cd", false, false), "V-3").await.expect("borrow");
    let back = library::give_back(store, &c, &desk, "V-1").await.expect("return");
    assert_eq!((back.deployment.as_deref(), back.person_id), (Some("FZ"), None));
    let late = ctx_at(terminal_actor(&desk), days_later_ms(31));
    let overdue = library::overdue(store, &late, &desk, 100).await.expect("overdue");
    let listed: Vec<(&str, Option<&str>)> =
        overdue.iter().map(|l| (l.item_id.as_str(), l.ecard_id.as_deref())).collect();
    let (ab, cd) = ("ab".repeat(16), "cd".repeat(16));
    assert_eq!(listed, vec![("V-2", Some(ab.as_str())), ("V-3", Some(cd.as_str()))]);
    refusal(
        library::borrow(store, &late, &desk, &visitor("ab", false, false), "V-4").await,
        ErrorKind::Refused,
        "has_overdue",
    );
    // Registering keeps a person: a visitor is refused there.
    let r = library::register(store, &c, &desk, &visitor("ab", false, false)).await;
    refusal(r, ErrorKind::Refused, "foreign_card_local_only");

    for (code, price) in [("FREE", 0), ("PAID", 500)] {
        let rule = ParkRule::parse(code, code, price, true, true, Some(10_000)).expect("rule");
        parks::put_park(store, &ctx(admin()), ParkRow { operator_code: "XM-PARK".into(), rule }).await.expect("park");
    }
    let gate = terminal(store, "XM-PARK", "park", REGION, &[]).await.terminal;
    let g = tctx(&gate);
    let e = parks::entry(store, &g, &gate, &visitor("ab", false, false), "FREE").await.expect("entry");
    assert_eq!((e.admitted, e.price_fen, e.reason.as_str(), e.balance_fen), (true, 0, "free", None));
    let e = parks::entry(store, &g, &gate, &visitor("ab", true, false), "PAID").await.expect("entry");
    assert_eq!((e.admitted, e.reason.as_str()), (true, "retiree"));
    let paid = parks::entry(store, &g, &gate, &visitor("ab", false, false), "PAID").await;
    refusal(paid, ErrorKind::Refused, "foreign_card_not_payable");
    let pass = parks::buy_pass(store, &g, &gate, &visitor("ab", false, false), "PAID").await;
    refusal(pass, ErrorKind::Refused, "foreign_card_local_only");
    let temporary = parks::entry(store, &g, &gate, &visitor("ab", false, true), "FREE").await;
    refusal(temporary, ErrorKind::Refused, "temporary_card_other_region");

    // Uses: 3 loans, the item on loan, the limit, has_overdue, the patron; 2 entries, the paid
    // one, the pass, the temporary card. All of e-card ab or cd of FZ, none of a person.
    let of_visitors = "deployment = 'FZ' AND ecard_id IS NOT NULL AND person_id IS NULL AND card_no IS NULL";
    assert_eq!(uses_where(store, of_visitors).await, 12);
    assert_eq!(uses_where(store, "deployment IS NULL").await, 0);
    assert_eq!(uses_where(store, "result = 'refused'").await, 7);
    let mut tx = store.write().await.expect("tx");
    let both = "INSERT INTO park_entries (id, park_code, terminal_id, person_id, card_no, deployment, ecard_id, \
        admitted, price_fen, reason, at_ms) VALUES ('x', 'FREE', 't', 'p', 'A00000001', 'FZ', 'e', 1, 0, 'free', 0)";
    assert!(tx.execute_unchecked(both).await.is_err(), "a person and a visitor at once");
    drop(tx);
    books_clean(store).await;
}
